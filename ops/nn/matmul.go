package nn

import "stride/internal/gemm"

// The one float32 matrix multiply every product in this package uses.

// matmul computes C = alpha*op(A)*op(B) + beta*C for row-major matrices,
// with BLAS sgemm conventions: op(A) is m x k (A is k x m when transA), op(B)
// is k x n (n x k when transB), and lda/ldb/ldc are row strides. When beta
// is 0, C is only written, never read (it may hold garbage). run spreads
// the work; pass serial to stay on the calling goroutine.
//
// It runs on the packed SIMD kernels of stride/internal/gemm; matmulGo
// below is the portable reference it was checked against.
func matmul(run runner, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	if k <= 0 || alpha == 0 {
		scaleRows(c, m, n, ldc, beta)
		return
	}
	gemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil, gemm.Runner(run))
}

// Tile sizes of the pure-Go kernel: a task computes a tileM x tileN block of
// C, walking K in slices of tileK so the A and B rows it reuses stay in
// cache.
const (
	tileM = 32
	tileN = 64
	tileK = 256
	// parallelWork is the multiply-add count below which a product runs
	// on the calling goroutine: splitting smaller ones costs more than it
	// saves.
	parallelWork = 1 << 17
)

// matmulGo is matmul in plain Go: 2x4 register-blocked dot products over
// tiles of C, after transposing operands so both run along K.
func matmulGo(run runner, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	scaleRows(c, m, n, ldc, beta)
	if k <= 0 || alpha == 0 {
		return
	}
	if m*n*k < parallelWork {
		run = serial
	}
	if transA {
		a, lda = transpose(a, lda, k, m), k
	}
	if !transB && m < 4 {
		// Matrix-vector shapes: stream B's rows, no packing.
		axpyRows(run, m, n, k, alpha, a, lda, b, ldb, c, ldc)
		return
	}
	if !transB {
		b, ldb = transpose(b, ldb, k, n), k
	}
	tilesM := (m + tileM - 1) / tileM
	tilesN := (n + tileN - 1) / tileN
	run(tilesM*tilesN, func(t int) {
		i0 := (t / tilesN) * tileM
		j0 := (t % tilesN) * tileN
		i1, j1 := min(i0+tileM, m), min(j0+tileN, n)
		for p0 := 0; p0 < k; p0 += tileK {
			p1 := min(p0+tileK, k)
			dotTile(i0, i1, j0, j1, p0, p1, alpha, a, lda, b, ldb, c, ldc)
		}
	})
}

// scaleRows multiplies the m x n block of c by beta (0 clears it).
func scaleRows(c []float32, m, n, ldc int, beta float32) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// transpose returns the cols x rows transpose of the rows x cols matrix x
// (row stride ld) as a new contiguous slice.
func transpose(x []float32, ld, rows, cols int) []float32 {
	out := make([]float32, rows*cols)
	const blk = 32
	for i0 := 0; i0 < rows; i0 += blk {
		for j0 := 0; j0 < cols; j0 += blk {
			for i := i0; i < min(i0+blk, rows); i++ {
				src := x[i*ld:]
				for j := j0; j < min(j0+blk, cols); j++ {
					out[j*rows+i] = src[j]
				}
			}
		}
	}
	return out
}

// dotTile adds alpha * A[i0:i1, p0:p1] * Bt[j0:j1, p0:p1]^T to C, where both
// A and Bt hold their K dimension contiguously. It works on 2x4 register
// blocks so every loaded element is used several times.
func dotTile(i0, i1, j0, j1, p0, p1 int, alpha float32, a []float32, lda int, bt []float32, ldb int, c []float32, ldc int) {
	i := i0
	for ; i+2 <= i1; i += 2 {
		a0 := a[i*lda+p0 : i*lda+p1]
		a1 := a[(i+1)*lda+p0 : (i+1)*lda+p1]
		a1 = a1[:len(a0)]
		c0 := c[i*ldc : i*ldc+j1]
		c1 := c[(i+1)*ldc : (i+1)*ldc+j1]
		j := j0
		for ; j+4 <= j1; j += 4 {
			b0 := bt[j*ldb+p0 : j*ldb+p1]
			b1 := bt[(j+1)*ldb+p0 : (j+1)*ldb+p1]
			b2 := bt[(j+2)*ldb+p0 : (j+2)*ldb+p1]
			b3 := bt[(j+3)*ldb+p0 : (j+3)*ldb+p1]
			b0, b1, b2, b3 = b0[:len(a0)], b1[:len(a0)], b2[:len(a0)], b3[:len(a0)]
			var s00, s01, s02, s03, s10, s11, s12, s13 float32
			for p, x0 := range a0 {
				x1 := a1[p]
				y := b0[p]
				s00 += x0 * y
				s10 += x1 * y
				y = b1[p]
				s01 += x0 * y
				s11 += x1 * y
				y = b2[p]
				s02 += x0 * y
				s12 += x1 * y
				y = b3[p]
				s03 += x0 * y
				s13 += x1 * y
			}
			c0[j] += alpha * s00
			c0[j+1] += alpha * s01
			c0[j+2] += alpha * s02
			c0[j+3] += alpha * s03
			c1[j] += alpha * s10
			c1[j+1] += alpha * s11
			c1[j+2] += alpha * s12
			c1[j+3] += alpha * s13
		}
		for ; j < j1; j++ {
			b0 := bt[j*ldb+p0 : j*ldb+p1]
			b0 = b0[:len(a0)]
			var s0, s1 float32
			for p, x0 := range a0 {
				s0 += x0 * b0[p]
				s1 += a1[p] * b0[p]
			}
			c0[j] += alpha * s0
			c1[j] += alpha * s1
		}
	}
	if i < i1 {
		a0 := a[i*lda+p0 : i*lda+p1]
		c0 := c[i*ldc : i*ldc+j1]
		for j := j0; j < j1; j++ {
			c0[j] += alpha * dot(a0, bt[j*ldb+p0:j*ldb+p1])
		}
	}
}

// dot returns the inner product of x and y[:len(x)].
func dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpyRows computes C += alpha*A*B for a few rows of A by adding scaled rows
// of B, split over column blocks.
func axpyRows(run runner, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	const blk = 256
	run((n+blk-1)/blk, func(t int) {
		j0 := t * blk
		j1 := min(j0+blk, n)
		for i := 0; i < m; i++ {
			ci := c[i*ldc+j0 : i*ldc+j1]
			for p := 0; p < k; p++ {
				axpy(ci, b[p*ldb+j0:p*ldb+j1], alpha*a[i*lda+p])
			}
		}
	})
}

// axpy computes y += s*x.
func axpy(y, x []float32, s float32) {
	x = x[:len(y)]
	for j, v := range x {
		y[j] += s * v
	}
}
