package mathops

import (
	"math/rand"
	"slices"
	"testing"

	"stride/graph"
	"stride/tensor"
)

// naiveOffset is the offset in a tensor of shape in of the element read
// for output multi-index idx under numpy broadcasting.
func naiveOffset(in, out []int, o int) int {
	idx := make([]int, len(out))
	for d := len(out) - 1; d >= 0; d-- {
		idx[d] = o % out[d]
		o /= out[d]
	}
	st := tensor.Strides(in)
	off := 0
	for i := range in {
		if in[i] != 1 {
			off += idx[len(out)-len(in)+i] * st[i]
		}
	}
	return off
}

func randShapes(r *rand.Rand) [][]int {
	rank := r.Intn(5)
	out := make([]int, rank)
	for i := range out {
		out[i] = 1 + r.Intn(4)
	}
	ins := make([][]int, 1+r.Intn(3))
	for k := range ins {
		s := slices.Clone(out[r.Intn(rank+1):])
		for i := range s {
			if r.Intn(3) == 0 {
				s[i] = 1
			}
		}
		ins[k] = s
	}
	return ins
}

// TestPlanWalk checks every output element's input offsets against the
// naive broadcasting rule, for random shapes and for walks starting and
// ending anywhere (as the parallel split does).
func TestPlanWalk(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for iter := 0; iter < 2000; iter++ {
		ins := randShapes(r)
		p, err := broadcast(ins...)
		if err != nil {
			t.Fatal(err)
		}
		chunk := 1 + r.Intn(p.n+1)
		seen := make([]int, p.n)
		for lo := 0; lo < p.n; lo += chunk {
			p.walk(lo, min(lo+chunk, p.n), func(o, n int, off, step []int) {
				for i := 0; i < n; i++ {
					seen[o+i]++
					for k, s := range ins {
						if got, want := off[k]+i*step[k], naiveOffset(s, p.shape, o+i); got != want {
							t.Fatalf("shapes %v -> %v (dims %v): output %d input %d offset %d, want %d",
								ins, p.shape, p.dims, o+i, k, got, want)
						}
					}
				}
			})
		}
		for o, c := range seen {
			if c != 1 {
				t.Fatalf("shapes %v: output %d visited %d times", ins, o, c)
			}
		}
	}
}

func TestPlanCollapse(t *testing.T) {
	for _, c := range []struct {
		ins  [][]int
		dims []int
	}{
		{[][]int{{2, 3, 4}, {2, 3, 4}}, []int{24}},   // same shape: one run
		{[][]int{{2, 3, 4}, {}}, []int{24}},          // scalar
		{[][]int{{2, 3, 4}, {1, 1, 1}}, []int{24}},   // ones
		{[][]int{{2, 3, 4}, {4}}, []int{6, 4}},       // trailing broadcast
		{[][]int{{2, 3, 4}, {3, 4}}, []int{2, 12}},   // trailing broadcast
		{[][]int{{2, 3, 4}, {3, 1}}, []int{2, 3, 4}}, // middle
		{[][]int{{5, 1}, {1, 6}}, []int{5, 6}},       // outer product
		{[][]int{{1, 8, 1, 1}, {8, 1, 1}}, []int{8}}, // size-1 dims dropped
		{[][]int{{4, 5, 6, 7}, {4, 1, 1, 7}}, []int{4, 30, 7}},
	} {
		p, err := broadcast(c.ins...)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p.dims, c.dims) {
			t.Errorf("%v: collapsed dims %v, want %v", c.ins, p.dims, c.dims)
		}
	}
	if _, err := broadcast([]int{2, 3}, []int{4}); err == nil {
		t.Error("[2,3] and [4] broadcast")
	}
	if _, err := planTo([]int{3}, []int{2, 3}); err == nil {
		t.Error("[2,3] planned to [3]")
	}
	if p, _ := broadcast([]int{0, 3}, []int{3}); p.n != 0 {
		t.Errorf("empty broadcast has %d elements", p.n)
	}
}

func TestBroadcastType(t *testing.T) {
	n, m := graph.Sym("N"), graph.Sym("M")
	one, three := graph.Fixed(1), graph.Fixed(3)
	for _, c := range []struct {
		a, b, want []graph.Dim
	}{
		{[]graph.Dim{n, three}, []graph.Dim{three}, []graph.Dim{n, three}},
		{[]graph.Dim{n, one}, []graph.Dim{n, three}, []graph.Dim{n, three}},
		{[]graph.Dim{n}, []graph.Dim{n}, []graph.Dim{n}},
		{[]graph.Dim{n}, []graph.Dim{m}, []graph.Dim{graph.Unknown}},
		{[]graph.Dim{n}, []graph.Dim{three}, []graph.Dim{three}},
		{[]graph.Dim{graph.Unknown}, []graph.Dim{one}, []graph.Dim{graph.Unknown}},
	} {
		a := graph.Type{DType: tensor.Float32, Shape: c.a, Ranked: true}
		b := graph.Type{DType: tensor.Float32, Shape: c.b, Ranked: true}
		got, err := broadcastType(tensor.Bool, a, b)
		if err != nil {
			t.Fatal(err)
		}
		if got.DType != tensor.Bool || !slices.Equal(got.Shape, c.want) {
			t.Errorf("%v, %v: got %v, want bool%v", a, b, got, c.want)
		}
	}
	if _, err := broadcastType(tensor.Float32, graph.TensorType(tensor.Float32, 2), graph.TensorType(tensor.Float32, 3)); err == nil {
		t.Error("[2] and [3] broadcast")
	}
	if _, err := broadcastType(tensor.Float32, graph.Type{DType: tensor.Float32}); err == nil {
		t.Error("unranked input gave a type")
	}
}
