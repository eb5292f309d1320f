package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// TestGemmPaths checks Gemm and FusedGemm, with B constant (packed at
// build) or not, over transposes, alpha/beta, every shape of C and every
// activation, against the float64 triple loop.
func TestGemmPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	type cshape struct {
		name  string
		shape func(m, n int) []int
	}
	cshapes := []cshape{
		{"none", nil},
		{"row", func(m, n int) []int { return []int{n} }},
		{"1xN", func(m, n int) []int { return []int{1, n} }},
		{"Mx1", func(m, n int) []int { return []int{m, 1} }},
		{"MxN", func(m, n int) []int { return []int{m, n} }},
		{"scalar", func(m, n int) []int { return []int{} }},
	}
	acts := []struct {
		name  string
		attrs map[string]*graph.Attr
	}{
		{"", nil},
		{"Relu", nil},
		{"LeakyRelu", map[string]*graph.Attr{"activation_alpha": graph.FloatAttr(0.3)}},
		{"Clip", map[string]*graph.Attr{"min": graph.FloatAttr(-0.2), "max": graph.FloatAttr(0.3)}},
	}
	for _, sz := range [][3]int{{1, 1000, 512}, {8, 40, 33}, {3, 1, 17}, {17, 65, 70}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tr := range [][2]bool{{false, true}, {false, false}, {true, true}, {true, false}} {
			for ci, cs := range cshapes {
				for ai, act := range acts {
					alpha, beta := float32(1), float32(1)
					if (ci+ai)%3 == 1 {
						alpha, beta = 0.5, -2
					}
					ashape, bshape := []int{m, k}, []int{k, n}
					if tr[0] {
						ashape = []int{k, m}
					}
					if tr[1] {
						bshape = []int{n, k}
					}
					a, b := randTensor(r, ashape...), randTensor(r, bshape...)
					var c *tensor.Tensor
					cfull := make([]float32, m*n)
					if cs.shape != nil {
						c = randTensor(r, cs.shape(m, n)...)
						if err := broadcastInto(cfull, m, n, c.F32(), c.Shape, 1); err != nil {
							t.Fatal(err)
						}
					}
					want := naiveGemm(tr[0], tr[1], m, n, k, alpha, a.F32(), ashape[1], b.F32(), bshape[1], beta, cfull, n)
					if c == nil {
						want = naiveGemm(tr[0], tr[1], m, n, k, alpha, a.F32(), ashape[1], b.F32(), bshape[1], 0, cfull, n)
					}
					epilogueRef(want, nil, act.name, 0.3, -0.2, 0.3)
					attrs := map[string]*graph.Attr{
						"transA": graph.IntAttr(b2i(tr[0])), "transB": graph.IntAttr(b2i(tr[1])),
						"alpha": graph.FloatAttr(alpha), "beta": graph.FloatAttr(beta),
						"activation": graph.StringAttr(act.name),
					}
					for k, v := range act.attrs {
						attrs[k] = v
					}
					for _, constB := range []bool{false, true} {
						kern := buildNode(t, Domain, "FusedGemm", attrs, []bool{false, constB, constB}, a, b, c)
						for _, ctx := range []*ops.Ctx{serialCtx(), testCtx()} {
							y := runKernel(t, kern, ctx, a, b, c)
							checkClose(t, fmt.Sprintf("%v trans %v C %s act %q const %v", sz, tr, cs.name, act.name, constB), y, []int{m, n}, want, 1e-4)
						}
					}
				}
			}
		}
	}
}

func TestMatMulConstB(t *testing.T) {
	r := rand.New(rand.NewPCG(63, 64))
	for _, s := range [][2][]int{{{2, 3, 5, 7}, {7, 9}}, {{7}, {7, 4}}, {{1, 64}, {64, 100}}, {{3, 1, 6}, {6, 2}}} {
		a, b := randTensor(r, s[0]...), randTensor(r, s[1]...)
		want := runKernel(t, buildNode(t, "", "MatMul", nil, nil, a, b), testCtx(), a, b)
		for _, ctx := range []*ops.Ctx{serialCtx(), testCtx()} {
			got := runKernel(t, buildNode(t, "", "MatMul", nil, []bool{false, true}, a, b), ctx, a, b)
			checkClose(t, fmt.Sprint(s), got, want.Shape, want.Float64s(), 1e-5)
		}
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// TestFusedGemmLeakySlope: the LeakyRelu slope is activation_alpha; Gemm's
// own alpha still scales the product.
func TestFusedGemmLeakySlope(t *testing.T) {
	a := tensor.From([]int{1, 2}, []float32{1, -3})
	b := tensor.From([]int{2, 2}, []float32{1, 0, 0, 1})
	attrs := map[string]*graph.Attr{"activation": graph.StringAttr("LeakyRelu"), "activation_alpha": graph.FloatAttr(0.5), "alpha": graph.FloatAttr(2)}
	y := runKernel(t, buildNode(t, Domain, "FusedGemm", attrs, nil, a, b), testCtx(), a, b)
	checkClose(t, "slope", y, []int{1, 2}, []float64{2, -3}, 0)
}
