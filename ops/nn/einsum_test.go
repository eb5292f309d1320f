package nn

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"stride/graph"
	"stride/tensor"
)

// refEinsum evaluates an explicit, letters-only equation by visiting every
// assignment of its labels. Size-1 operand dims broadcast.
func refEinsum(eq string, ins []*tensor.Tensor) ([]int, []float64) {
	lhs, out, _ := strings.Cut(eq, "->")
	terms := strings.Split(lhs, ",")
	size := map[rune]int{}
	var labels []rune
	for i, term := range terms {
		for d, l := range term {
			if !slices.Contains(labels, l) {
				labels = append(labels, l)
			}
			size[l] = max(size[l], ins[i].Shape[d])
		}
	}
	shape := make([]int, 0)
	for _, l := range out {
		shape = append(shape, size[l])
	}
	y := make([]float64, tensor.Size(shape))
	dims := make([]int, len(labels))
	for i, l := range labels {
		dims[i] = size[l]
	}
	pos := make([]int, len(labels))
	val := func(l rune) int { return pos[slices.Index(labels, l)] }
	for range tensor.Size(dims) {
		p := 1.0
		for i, term := range terms {
			off := 0
			for d, l := range term {
				v := val(l)
				if ins[i].Shape[d] == 1 {
					v = 0
				}
				off = off*ins[i].Shape[d] + v
			}
			p *= ins[i].Float64s()[off]
		}
		off := 0
		for d, l := range out {
			off = off*shape[d] + val(l)
		}
		y[off] += p
		advance(pos, dims)
	}
	return shape, y
}

func TestEinsum(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	cases := []struct {
		eq, ref string // ref: the same contraction, explicit and without ellipsis
		shapes  [][]int
	}{
		{"ij,jk->ik", "ij,jk->ik", [][]int{{3, 4}, {4, 5}}},
		{"ij,jk", "ij,jk->ik", [][]int{{3, 4}, {4, 5}}},
		{"ji", "ji->ij", [][]int{{3, 4}}},
		{"ii->i", "ii->i", [][]int{{4, 4}}},
		{"ii", "ii->", [][]int{{4, 4}}},
		{"i,i", "i,i->", [][]int{{6}, {6}}},
		{"i,j->ij", "i,j->ij", [][]int{{3}, {4}}},
		{"ij->", "ij->", [][]int{{3, 4}}},
		{"bij,bjk->bik", "bij,bjk->bik", [][]int{{2, 3, 4}, {2, 4, 5}}},
		{"...ij,...jk", "abij,bjk->abik", [][]int{{2, 1, 3, 4}, {5, 4, 2}}},
		{"...ii->...i", "abii->abi", [][]int{{2, 3, 4, 4}}},
		{"i...->...", "iab->ab", [][]int{{3, 2, 2}}},
		{"iij->j", "iij->j", [][]int{{3, 3, 4}}},
		{"ijk,ikl,lm->jm", "ijk,ikl,lm->jm", [][]int{{2, 3, 4}, {2, 4, 5}, {5, 3}}},
		{"Ba", "Ba->Ba", [][]int{{2, 3}}},
		{"ab,bc,cd", "ab,bc,cd->ad", [][]int{{2, 3}, {3, 4}, {4, 2}}},
		{"bn,anm,bm->ba", "bn,anm,bm->ba", [][]int{{2, 3}, {4, 3, 5}, {2, 5}}},
		{"i,i,i->i", "i,i,i->i", [][]int{{4}, {4}, {4}}},
		{"ij,ij->ij", "ij,ij->ij", [][]int{{3, 1}, {3, 4}}},
		{"ij,jk->ik", "ij,jk->ik", [][]int{{3, 0}, {0, 2}}},
		{"ij->j", "ij->j", [][]int{{0, 2}}},
	}
	for _, tc := range cases {
		var ins []*tensor.Tensor
		for _, s := range tc.shapes {
			ins = append(ins, randTensor(r, s...))
		}
		y := mustRun(t, "Einsum", map[string]*graph.Attr{"equation": graph.StringAttr(tc.eq)}, 1, ins...)[0]
		shape, want := refEinsum(tc.ref, ins)
		checkClose(t, tc.eq, y, shape, want, 1e-4)
	}
	// Integers stay exact.
	a := tensor.From([]int{2, 2}, []int64{1 << 30, 1, 2, 3})
	y := mustRun(t, "Einsum", map[string]*graph.Attr{"equation": graph.StringAttr("ij,jk->ik")}, 1, a, a)[0]
	if got := y.I64(); got[0] != 1<<60+2 {
		t.Errorf("int64 Einsum = %v", got)
	}
	for _, bad := range []string{"ij,jk->il", "ij->ii", "i.j", "ij,jk"} {
		ins := []*tensor.Tensor{randTensor(r, 2, 3)}
		if _, err := runOp("Einsum", map[string]*graph.Attr{"equation": graph.StringAttr(bad)}, 1, ins...); err == nil {
			t.Errorf("Einsum accepted %q", bad)
		}
	}
}
