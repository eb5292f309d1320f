package nn

import (
	"fmt"

	"stride/graph"
	"stride/internal/gemm"
	"stride/ops"
	"stride/tensor"
)

func init() {
	ops.Register(
		&ops.Def{Op: "Gemm", Build: buildGemm, Infer: inferGemm},
		&ops.Def{Op: "MatMul", Build: buildMatMul, Infer: inferMatMul},
	)
}

// number is the element types the integer fallbacks of the products handle.
type number interface {
	~float32 | ~float64 | ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// matmulNaive computes C = A*B for contiguous row-major m x k and k x n
// matrices of any numeric type. It is the exact (integer) path; float32
// products go through matmul.
func matmulNaive[T number](m, n, k int, a, b, c []T) {
	for i := 0; i < m; i++ {
		ci := c[i*n : i*n+n]
		clear(ci)
		for p := 0; p < k; p++ {
			s := a[i*k+p]
			bp := b[p*n : p*n+n]
			for j, v := range bp {
				ci[j] += s * v
			}
		}
	}
}

type gemmAttrs struct {
	transA, transB bool
	alpha, beta    float32
}

func parseGemm(n *graph.Node) (gemmAttrs, error) {
	var g gemmAttrs
	ta, err := n.AttrInt("transA", 0)
	if err != nil {
		return g, err
	}
	tb, err := n.AttrInt("transB", 0)
	if err != nil {
		return g, err
	}
	if g.alpha, err = n.AttrFloat("alpha", 1); err != nil {
		return g, err
	}
	if g.beta, err = n.AttrFloat("beta", 1); err != nil {
		return g, err
	}
	g.transA, g.transB = ta != 0, tb != 0
	return g, nil
}

// dims returns M, K of op(A) and K, N of op(B).
func (g gemmAttrs) dims(a, b []int) (m, ka, kb, n int, err error) {
	if len(a) != 2 || len(b) != 2 {
		return 0, 0, 0, 0, fmt.Errorf("Gemm needs 2-D A and B, got shapes %v and %v", a, b)
	}
	m, ka = a[0], a[1]
	if g.transA {
		m, ka = ka, m
	}
	kb, n = b[0], b[1]
	if g.transB {
		kb, n = n, kb
	}
	return m, ka, kb, n, nil
}

func buildGemm(b *ops.Build) (ops.Kernel, error) { return newGemmKernel(b, false) }

func buildFusedGemm(b *ops.Build) (ops.Kernel, error) { return newGemmKernel(b, true) }

// gemmKernel is a prepared Gemm or FusedGemm node.
type gemmKernel struct {
	gemmAttrs
	act fusedAct
	// pb is op(B) packed at load when B is a float32 constant (a fully
	// connected layer's weights), so runs only pack the activations.
	pb *gemm.PackedB
}

func newGemmKernel(b *ops.Build, fused bool) (*gemmKernel, error) {
	g, err := parseGemm(b.Node)
	if err != nil {
		return nil, err
	}
	k := &gemmKernel{gemmAttrs: g}
	if fused {
		if k.act, err = parseFusedAct(b.Node); err != nil {
			return nil, err
		}
	}
	if w := b.Const(1); w != nil && w.DType == tensor.Float32 && len(w.Shape) == 2 && w.Len() > 0 {
		kb, n := w.Shape[0], w.Shape[1]
		if g.transB {
			kb, n = n, kb
		}
		k.pb = gemm.PackB(g.transB, kb, n, w.F32(), w.Shape[1])
	}
	return k, nil
}

func (k *gemmKernel) Run(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	a, ad, err := float32In(in, 0, "A")
	if err != nil {
		return nil, err
	}
	bt, bd, err := float32In(in, 1, "B")
	if err != nil {
		return nil, err
	}
	m, ka, kb, n, err := k.dims(a.Shape, bt.Shape)
	if err != nil {
		return nil, err
	}
	if ka != kb {
		return nil, fmt.Errorf("Gemm inner dimensions differ: A %v (transA=%v), B %v (transB=%v)", a.Shape, k.transA, bt.Shape, k.transB)
	}
	y, err := c.Alloc(tensor.Float32, m, n)
	if err != nil {
		return nil, err
	}
	yd := y.F32()
	if m == 0 || n == 0 {
		return ops.Outs(y)
	}
	// C becomes the epilogue's bias (a row or column vector) or residual
	// (a full matrix) when that needs no scaling, else it is broadcast
	// into Y and accumulated onto (beta 1).
	var ep gemm.Epilogue
	var bias, res []float32
	perRow, beta := false, float32(0)
	if len(in) > 2 && in[2] != nil && k.beta != 0 {
		ct, cd, err := float32In(in, 2, "C")
		if err != nil {
			return nil, err
		}
		switch rows, cols, ok := matrixShape(ct.Shape); {
		case !ok:
			return nil, fmt.Errorf("Gemm bias C %v does not broadcast to [%d, %d]", ct.Shape, m, n)
		case k.beta == 1 && rows == 1 && cols == n:
			bias = cd
		case k.beta == 1 && rows == m && cols == 1:
			bias, perRow = cd, true
		case k.beta == 1 && rows == m && cols == n:
			res = cd
		default:
			if err := broadcastInto(yd, m, n, cd, ct.Shape, k.beta); err != nil {
				return nil, fmt.Errorf("Gemm bias C: %w", err)
			}
			beta = 1
		}
	}
	e := k.act.epilogue(&ep, bias, perRow, res, n)
	run := gemmRunner(c)
	if k.pb != nil && k.pb.K() == ka && k.pb.N() == n {
		gemm.SgemmPackedB(k.transA, m, k.alpha, ad, a.Shape[1], k.pb, beta, yd, n, e, run)
		return ops.Outs(y)
	}
	if ka == 0 || k.alpha == 0 {
		// No product: C (already in Y or in the epilogue) and the activation.
		if beta == 0 {
			clear(yd)
		}
		gemm.Sgemm(false, false, m, n, 0, 1, nil, 1, nil, n, 1, yd, n, e, nil)
		return ops.Outs(y)
	}
	gemm.Sgemm(k.transA, k.transB, m, n, ka, k.alpha, ad, a.Shape[1], bd, bt.Shape[1], beta, yd, n, e, run)
	return ops.Outs(y)
}

// matrixShape returns the rows and columns of a Gemm C of rank <= 2 (a
// vector is a row).
func matrixShape(s []int) (rows, cols int, ok bool) {
	switch len(s) {
	case 0:
		return 1, 1, true
	case 1:
		return 1, s[0], true
	case 2:
		return s[0], s[1], true
	}
	return 0, 0, false
}

// gemmRunner is the Runner that spreads a GEMM over c's pool, nil when the
// pool has one thread (so the GEMM does not split into tasks at all).
func gemmRunner(c *ops.Ctx) gemm.Runner {
	if threads(c) <= 1 {
		return nil
	}
	return c.Tasks
}

// broadcastInto writes scale*C into the m x n matrix dst, C being
// unidirectionally broadcast: a scalar, [n], [1, n], [m, 1] or [m, n].
func broadcastInto(dst []float32, m, n int, src []float32, shape []int, scale float32) error {
	rows, cols := 1, 1
	switch len(shape) {
	case 0:
	case 1:
		cols = shape[0]
	case 2:
		rows, cols = shape[0], shape[1]
	default:
		return fmt.Errorf("shape %v does not broadcast to [%d, %d]", shape, m, n)
	}
	if rows != 1 && rows != m || cols != 1 && cols != n {
		return fmt.Errorf("shape %v does not broadcast to [%d, %d]", shape, m, n)
	}
	// Strides, 0 along broadcast dims.
	rs, cs := cols, 1
	if rows == 1 {
		rs = 0
	}
	if cols == 1 {
		cs = 0
	}
	for i := 0; i < m; i++ {
		row := dst[i*n : (i+1)*n]
		for j := range row {
			row[j] = scale * src[i*rs+j*cs]
		}
	}
	return nil
}

func inferGemm(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	g, err := parseGemm(b.Node)
	if err != nil {
		return nil, err
	}
	if len(in) < 2 || !in[0].Ranked || !in[1].Ranked || len(in[0].Shape) != 2 || len(in[1].Shape) != 2 {
		return nil, errNoShape
	}
	m, n := in[0].Shape[0], in[1].Shape[1]
	if g.transA {
		m = in[0].Shape[1]
	}
	if g.transB {
		n = in[1].Shape[0]
	}
	return []graph.Type{{DType: in[0].DType, Shape: []graph.Dim{m, n}, Ranked: true}}, nil
}

// matmulShapes resolves numpy matmul shapes: the broadcast batch shape, M,
// K, N, and the output shape (1-D operands drop their added dim).
type matmulShape struct {
	batch      []int
	m, k, n    int
	aBatch     []int // A's batch dims, left-padded with 1s to len(batch)
	bBatch     []int
	out        []int
	aMat, bMat int // elements per matrix of A and B
}

func resolveMatMul(as, bs []int) (*matmulShape, error) {
	if len(as) == 0 || len(bs) == 0 {
		return nil, fmt.Errorf("MatMul operands must have rank >= 1, got shapes %v and %v", as, bs)
	}
	a, b := as, bs
	if len(a) == 1 {
		a = []int{1, a[0]}
	}
	if len(b) == 1 {
		b = []int{b[0], 1}
	}
	s := &matmulShape{m: a[len(a)-2], k: a[len(a)-1], n: b[len(b)-1]}
	if kb := b[len(b)-2]; kb != s.k {
		return nil, fmt.Errorf("MatMul inner dimensions differ: shapes %v and %v", as, bs)
	}
	batch, err := ops.BroadcastShapes(a[:len(a)-2], b[:len(b)-2])
	if err != nil {
		return nil, fmt.Errorf("MatMul batch dimensions: %w", err)
	}
	s.batch = batch
	s.aBatch = padOnes(a[:len(a)-2], len(batch))
	s.bBatch = padOnes(b[:len(b)-2], len(batch))
	s.aMat, s.bMat = s.m*s.k, s.k*s.n
	s.out = append([]int{}, batch...)
	if len(as) > 1 {
		s.out = append(s.out, s.m)
	}
	if len(bs) > 1 {
		s.out = append(s.out, s.n)
	}
	if _, err := tensor.NumElements(s.out); err != nil {
		return nil, err
	}
	return s, nil
}

func padOnes(s []int, rank int) []int {
	out := make([]int, rank)
	for i := range out {
		out[i] = 1
	}
	copy(out[rank-len(s):], s)
	return out
}

// matrixOffsets returns, for each output batch index, the offset of the
// matrix of an operand with batch shape ob (broadcast to batch).
func matrixOffsets(batch, ob []int, mat int) []int {
	nb := product(batch)
	offs := make([]int, nb)
	st := ops.BroadcastStrides(ob, batch)
	idx := make([]int, len(batch))
	for t := 0; t < nb; t++ {
		o := 0
		for d, i := range idx {
			o += i * st[d]
		}
		offs[t] = o * mat
		advance(idx, batch)
	}
	return offs
}

func buildMatMul(b *ops.Build) (ops.Kernel, error) {
	// A constant 2-D float32 B (a linear layer's weights) is packed once.
	var pb *gemm.PackedB
	if w := b.Const(1); w != nil && w.DType == tensor.Float32 && len(w.Shape) == 2 && w.Len() > 0 {
		pb = gemm.PackB(false, w.Shape[0], w.Shape[1], w.F32(), w.Shape[1])
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		a, err := ops.NeedInput(in, 0, "A")
		if err != nil {
			return nil, err
		}
		bt, err := ops.NeedInput(in, 1, "B")
		if err != nil {
			return nil, err
		}
		if a.DType != bt.DType {
			return nil, fmt.Errorf("MatMul operands have different types %v and %v", a.DType, bt.DType)
		}
		s, err := resolveMatMul(a.Shape, bt.Shape)
		if err != nil {
			return nil, err
		}
		y, err := c.Alloc(a.DType, s.out...)
		if err != nil {
			return nil, err
		}
		switch ad := a.Data.(type) {
		case []float32:
			if pb != nil && len(bt.Shape) == 2 && product(s.aBatch) == product(s.batch) {
				// B is shared by every batch: A's batch folds into M.
				gemm.SgemmPackedB(false, product(s.batch)*s.m, 1, ad, s.k, pb, 0, y.F32(), s.n, nil, gemmRunner(c))
				break
			}
			matmulF32(c, s, ad, bt.F32(), y.F32())
		case []int32:
			batchedNaive(s, ad, bt.Data.([]int32), y.Data.([]int32))
		case []int64:
			batchedNaive(s, ad, bt.Data.([]int64), y.Data.([]int64))
		case []uint32:
			batchedNaive(s, ad, bt.Data.([]uint32), y.Data.([]uint32))
		case []uint64:
			batchedNaive(s, ad, bt.Data.([]uint64), y.Data.([]uint64))
		default:
			return nil, fmt.Errorf("MatMul does not support element type %v", a.DType)
		}
		return ops.Outs(y)
	}), nil
}

// matmulF32 runs a broadcast batched float32 product.
func matmulF32(c *ops.Ctx, s *matmulShape, a, b, y []float32) {
	nb := product(s.batch)
	if product(s.bBatch) == 1 && product(s.aBatch) == nb {
		// B is shared by every batch: A's batch folds into M, one product.
		matmul(c.Tasks, false, false, nb*s.m, s.n, s.k, 1, a, s.k, b, s.n, 0, y, s.n)
		return
	}
	aOffs := matrixOffsets(s.batch, s.aBatch, s.aMat)
	bOffs := matrixOffsets(s.batch, s.bBatch, s.bMat)
	spread(c, nb, func(t int, run runner) {
		matmul(run, false, false, s.m, s.n, s.k, 1, a[aOffs[t]:], s.k, b[bOffs[t]:], s.n, 0, y[t*s.m*s.n:], s.n)
	})
}

func batchedNaive[T number](s *matmulShape, a, b, y []T) {
	aOffs := matrixOffsets(s.batch, s.aBatch, s.aMat)
	bOffs := matrixOffsets(s.batch, s.bBatch, s.bMat)
	for t := range aOffs {
		matmulNaive(s.m, s.n, s.k, a[aOffs[t]:aOffs[t]+s.aMat], b[bOffs[t]:bOffs[t]+s.bMat], y[t*s.m*s.n:(t+1)*s.m*s.n])
	}
}

// broadcastDims is the numpy broadcast of two symbolic shapes, as far as
// it can be known.
func broadcastDims(a, b []graph.Dim) []graph.Dim {
	if len(a) < len(b) {
		a, b = b, a
	}
	out := append([]graph.Dim{}, a...)
	off := len(a) - len(b)
	for i, d := range b {
		o := out[off+i]
		switch {
		case o.Known() && o.Size == 1:
			out[off+i] = d
		case d.Known() && d.Size == 1, d == o:
		case !o.Known() && d.Known():
			out[off+i] = d
		}
	}
	return out
}

func inferMatMul(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	if len(in) < 2 || !in[0].Ranked || !in[1].Ranked || len(in[0].Shape) == 0 || len(in[1].Shape) == 0 {
		return nil, errNoShape
	}
	a, bs := in[0].Shape, in[1].Shape
	var out []graph.Dim
	switch {
	case len(a) == 1 && len(bs) == 1:
	case len(a) == 1:
		out = append(append(out, bs[:len(bs)-2]...), bs[len(bs)-1])
	case len(bs) == 1:
		out = append(out, a[:len(a)-1]...)
	default:
		out = broadcastDims(a[:len(a)-2], bs[:len(bs)-2])
		out = append(out, a[len(a)-2], bs[len(bs)-1])
	}
	return []graph.Type{{DType: in[0].DType, Shape: out, Ranked: true}}, nil
}
