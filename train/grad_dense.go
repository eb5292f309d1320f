package train

import (
	"fmt"

	"stride/internal/gemm"
	"stride/tensor"
)

// Gradients of the matrix products, through the same packed GEMM as the
// forward pass.

// gemmBack: Y = alpha*op(A)*op(B) + beta*C gives dA = alpha*dY*op(B)^T
// (transposed back when transA), dB = alpha*op(A)^T*dY (likewise) and dC =
// beta*dY summed over C's broadcast axes. InnerProduct is the transB case:
// dW = dY^T * X.
func gemmBack(b *Bwd) error {
	ta, err := b.Node.AttrInt("transA", 0)
	if err != nil {
		return err
	}
	tb, err := b.Node.AttrInt("transB", 0)
	if err != nil {
		return err
	}
	alpha, err := b.Node.AttrFloat("alpha", 1)
	if err != nil {
		return err
	}
	beta, err := b.Node.AttrFloat("beta", 1)
	if err != nil {
		return err
	}
	A, B := b.In[0], b.In[1]
	if len(A.Shape) != 2 || len(B.Shape) != 2 {
		return fmt.Errorf("A %v and B %v must be matrices", A.Shape, B.Shape)
	}
	transA, transB := ta != 0, tb != 0
	m, k := A.Shape[0], A.Shape[1]
	if transA {
		m, k = k, m
	}
	n := B.Shape[1]
	if transB {
		n = B.Shape[0]
	}
	dy := b.DY(0)
	lda, ldb := A.Shape[1], B.Shape[1]
	run := b.Run()
	if b.Need(0) {
		dA := b.Grad(0)
		if !transA {
			gemm.Sgemm(false, !transB, m, k, n, alpha, dy, n, B.F32(), ldb, 1, dA, k, nil, run)
		} else {
			gemm.Sgemm(transB, true, k, m, n, alpha, B.F32(), ldb, dy, n, 1, dA, m, nil, run)
		}
	}
	if b.Need(1) {
		dB := b.Grad(1)
		if !transB {
			gemm.Sgemm(!transA, false, k, n, m, alpha, A.F32(), lda, dy, n, 1, dB, n, nil, run)
		} else {
			gemm.Sgemm(true, transA, n, k, m, alpha, dy, n, A.F32(), lda, 1, dB, k, nil, run)
		}
	}
	if len(b.In) > 2 && b.In[2] != nil && b.Need(2) {
		return reduceInto(b.Grad(2), b.In[2].Shape, dy, []int{m, n}, beta)
	}
	return nil
}

// matmulBack handles A (..., M, K) times B (K, N), or both with the same
// leading (batch) dims.
func matmulBack(b *Bwd) error {
	A, B := b.In[0], b.In[1]
	ra, rb := len(A.Shape), len(B.Shape)
	if ra < 2 || rb < 2 {
		return fmt.Errorf("the gradient of MatMul needs operands of rank 2 or more, got %v and %v", A.Shape, B.Shape)
	}
	m, k, n := A.Shape[ra-2], A.Shape[ra-1], B.Shape[rb-1]
	dy := b.DY(0)
	run := b.Run()
	switch {
	case rb == 2:
		rows := tensor.Size(A.Shape[:ra-1])
		if b.Need(0) {
			gemm.Sgemm(false, true, rows, k, n, 1, dy, n, B.F32(), n, 1, b.Grad(0), k, nil, run)
		}
		if b.Need(1) {
			gemm.Sgemm(true, false, k, n, rows, 1, A.F32(), k, dy, n, 1, b.Grad(1), n, nil, run)
		}
	case tensor.SameShape(A.Shape[:ra-2], B.Shape[:rb-2]):
		batch := tensor.Size(A.Shape[:ra-2])
		ad, bd := A.F32(), B.F32()
		for t := 0; t < batch; t++ {
			dyt := dy[t*m*n:]
			if b.Need(0) {
				gemm.Sgemm(false, true, m, k, n, 1, dyt, n, bd[t*k*n:], n, 1, b.Grad(0)[t*m*k:], k, nil, run)
			}
			if b.Need(1) {
				gemm.Sgemm(true, false, k, n, m, 1, ad[t*m*k:], k, dyt, n, 1, b.Grad(1)[t*k*n:], n, nil, run)
			}
		}
	default:
		return fmt.Errorf("the gradient of MatMul with broadcast batch dims %v and %v is not supported", A.Shape, B.Shape)
	}
	return nil
}
