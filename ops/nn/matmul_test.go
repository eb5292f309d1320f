package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

func randF32(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = r.Float32()*2 - 1
	}
	return out
}

// naiveGemm is the textbook triple loop, in float64.
func naiveGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			out[i*n+j] = float64(alpha) * s
			if beta != 0 {
				out[i*n+j] += float64(beta) * float64(c[i*ldc+j])
			}
		}
	}
	return out
}

func TestMatmul(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	sizes := [][3]int{{1, 1, 1}, {1, 70, 33}, {3, 5, 7}, {2, 300, 9}, {37, 65, 300}, {64, 64, 64}, {5, 1, 4}, {130, 3, 513}, {4, 4, 0}}
	for _, sz := range sizes {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for _, ab := range [][2]float32{{1, 0}, {0.5, 1}, {-2, 0.25}} {
				// Leading dims larger than the matrices exercise the strides.
				lda, ldb, ldc := k+3, n+1, n+2
				if tr[0] {
					lda = m + 3
				}
				if tr[1] {
					ldb = k + 1
				}
				a := randF32(r, max(m, k)*lda+8)
				b := randF32(r, max(k, n)*ldb+8)
				c := randF32(r, m*ldc+8)
				want := naiveGemm(tr[0], tr[1], m, n, k, ab[0], a, lda, b, ldb, ab[1], c, ldc)
				if ab[1] == 0 {
					for i := range c {
						c[i] = float32(math.NaN()) // beta 0 must not read C
					}
				}
				for _, impl := range []struct {
					mm  func(runner, bool, bool, int, int, int, float32, []float32, int, []float32, int, float32, []float32, int)
					run runner
				}{{matmul, serial}, {matmul, testCtx().Tasks}, {matmulGo, serial}, {matmulGo, testCtx().Tasks}} {
					cc := append([]float32{}, c...)
					impl.mm(impl.run, tr[0], tr[1], m, n, k, ab[0], a, lda, b, ldb, ab[1], cc, ldc)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							g, w := float64(cc[i*ldc+j]), want[i*n+j]
							if math.Abs(g-w) > 1e-4*(1+math.Abs(w)) || math.IsNaN(g) {
								t.Fatalf("m,n,k=%d,%d,%d trans=%v alpha,beta=%v: C[%d,%d] = %v, want %v", m, n, k, tr, ab, i, j, g, w)
							}
						}
						for j := n; j < ldc && i*ldc+j < len(cc); j++ {
							if cc[i*ldc+j] != c[i*ldc+j] && !math.IsNaN(float64(c[i*ldc+j])) {
								t.Fatalf("matmul wrote outside the C block at [%d,%d]", i, j)
							}
						}
					}
				}
			}
		}
	}
}

func TestGemmOp(t *testing.T) {
	a := tensor.From([]int{3, 2}, []float32{1, 2, 3, 4, 5, 6}) // transA: A^T is 2x3
	b := tensor.From([]int{2, 3}, []float32{1, 0, 1, 0, 1, 1}) // transB: B^T is 3x2
	// A^T = [[1,3,5],[2,4,6]], B^T = [[1,0],[0,1],[1,1]]: A^T*B^T = [[6,8],[8,10]].
	attrs := map[string]*graph.Attr{"transA": graph.IntAttr(1), "transB": graph.IntAttr(1), "alpha": graph.FloatAttr(0.5), "beta": graph.FloatAttr(2)}
	cases := []struct {
		c    *tensor.Tensor
		want []float64
	}{
		{nil, []float64{3, 4, 4, 5}},
		{tensor.From([]int{}, []float32{1}), []float64{5, 6, 6, 7}},
		{tensor.From([]int{2}, []float32{1, -1}), []float64{5, 2, 6, 3}},
		{tensor.From([]int{2, 1}, []float32{1, -1}), []float64{5, 6, 2, 3}},
		{tensor.From([]int{2, 2}, []float32{1, 2, 3, 4}), []float64{5, 8, 10, 13}},
	}
	for _, tc := range cases {
		y := mustRun(t, "Gemm", attrs, 1, a, b, tc.c)[0]
		checkClose(t, "Gemm", y, []int{2, 2}, tc.want, 1e-6)
	}
	if _, err := runOp("Gemm", attrs, 1, a, b, tensor.From([]int{3}, []float32{1, 2, 3})); err == nil {
		t.Error("Gemm accepted a C that does not broadcast")
	}
	if _, err := runOp("Gemm", nil, 1, a, a); err == nil {
		t.Error("Gemm accepted mismatched inner dims")
	}
}

func TestMatMulOp(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	cases := []struct{ a, b, out []int }{
		{[]int{3, 4}, []int{4, 5}, []int{3, 5}},
		{[]int{4}, []int{4, 5}, []int{5}},
		{[]int{3, 4}, []int{4}, []int{3}},
		{[]int{4}, []int{4}, []int{}},
		{[]int{2, 3, 4}, []int{4, 5}, []int{2, 3, 5}},
		{[]int{2, 1, 3, 4}, []int{5, 4, 2}, []int{2, 5, 3, 2}},
		{[]int{4}, []int{6, 4, 2}, []int{6, 2}},
		{[]int{6, 3, 4}, []int{4}, []int{6, 3}},
		{[]int{1, 3, 4}, []int{7, 4, 2}, []int{7, 3, 2}},
	}
	for _, tc := range cases {
		a, b := randTensor(r, tc.a...), randTensor(r, tc.b...)
		y := mustRun(t, "MatMul", nil, 1, a, b)[0]
		// Reference: pad the operands to matrices and broadcast by index.
		as, bs := tc.a, tc.b
		if len(as) == 1 {
			as = []int{1, as[0]}
		}
		if len(bs) == 1 {
			bs = []int{bs[0], 1}
		}
		m, k, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
		batch, _ := ops.BroadcastShapes(as[:len(as)-2], bs[:len(bs)-2])
		aOff := matrixOffsets(batch, padOnes(as[:len(as)-2], len(batch)), m*k)
		bOff := matrixOffsets(batch, padOnes(bs[:len(bs)-2], len(batch)), k*n)
		var want []float64
		for t := range aOff {
			want = append(want, naiveGemm(false, false, m, n, k, 1, a.F32()[aOff[t]:], k, b.F32()[bOff[t]:], n, 0, nil, n)...)
		}
		checkClose(t, "MatMul", y, tc.out, want, 1e-5)
	}
	ia := tensor.From([]int{2, 2}, []int64{1 << 40, 2, 3, 4})
	ib := tensor.From([]int{2, 1}, []int64{1, 1 << 20})
	y := mustRun(t, "MatMul", nil, 1, ia, ib)[0]
	if got := y.I64(); got[0] != 1<<40+2<<20 || got[1] != 3+4<<20 {
		t.Errorf("int64 MatMul = %v", got)
	}
	if _, err := runOp("MatMul", nil, 1, randTensor(r, 2, 3), randTensor(r, 4, 2)); err == nil {
		t.Error("MatMul accepted mismatched inner dims")
	}
}

func BenchmarkMatmul512(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 512
	a, bb, c := randF32(r, n*n), randF32(r, n*n), make([]float32, n*n)
	for _, tb := range []bool{false, true} {
		b.Run(map[bool]string{false: "NN", true: "NT"}[tb], func(b *testing.B) {
			for b.Loop() {
				matmul(testCtx().Tasks, false, tb, n, n, n, 1, a, n, bb, n, 0, c, n)
			}
			b.ReportMetric(float64(2*n*n*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
		b.Run(map[bool]string{false: "GoNN", true: "GoNT"}[tb], func(b *testing.B) {
			for b.Loop() {
				matmulGo(testCtx().Tasks, false, tb, n, n, n, 1, a, n, bb, n, 0, c, n)
			}
			b.ReportMetric(float64(2*n*n*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}
