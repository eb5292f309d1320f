package gemm

// Matrix-vector shapes (a single output row or column) are memory bound
// and would waste most of a register tile, so they bypass the blocked
// driver: when the matrix is traversed along its contiguous rows the
// outputs are dot products (dotRows); the other orientation is the
// one-row GEMM, which reads the matrix rows in place.

// gemvDispatch computes j with the matrix-vector code when its shape
// allows and reports whether it did.
func gemvDispatch(j *job, run Runner) bool {
	if j.k == 0 {
		return false
	}
	switch {
	case j.n == 1 && !j.transA:
		// C[:,0] = A * x with x the single column of op(B).
		ws := getWorkspace()
		x := j.b[:j.k]
		if !j.transB && j.ldb != 1 {
			x = gather(ws.bufB(j.k), j.b, j.ldb, j.k)
		}
		out := ws.bufA(j.m)
		dotRowsParallel(out, j.a, j.lda, x, j.k, run)
		j.finishVec(out, j.ldc, true)
		putWorkspace(ws)
	case j.m == 1 && j.transB:
		// C[0,:] = B_stored * a with a the single row of op(A).
		ws := getWorkspace()
		x := j.a[:j.k]
		if j.transA && j.lda != 1 {
			x = gather(ws.bufB(j.k), j.a, j.lda, j.k)
		}
		out := ws.bufA(j.n)
		dotRowsParallel(out, j.b, j.ldb, x, j.k, run)
		j.finishVec(out, 1, false)
		putWorkspace(ws)
	case j.n == 1 && j.transA:
		// C[:,0]^T = x^T * A_stored: the one-row GEMM on the transposed
		// problem, into a scratch row that finishVec scatters.
		ws := getWorkspace()
		x := j.b[:j.k]
		if !j.transB && j.ldb != 1 {
			x = gather(ws.bufB(j.k), j.b, j.ldb, j.k)
		}
		out := ws.bufA(j.m)
		sub := job{ks: j.ks, m: 1, n: j.m, k: j.k, alpha: 1, c: out, ldc: j.m,
			pa: x, b: j.a, ldb: j.lda}
		sub.kc = blockK(sub.k, sub.ks)
		sub.run(run)
		j.finishVec(out, j.ldc, true)
		putWorkspace(ws)
	default:
		return false
	}
	return true
}

// gather copies the strided vector x[0], x[inc], ... (n elements) to dst.
func gather(dst, x []float32, inc, n int) []float32 {
	dst = dst[:n]
	for i := range dst {
		dst[i] = x[i*inc]
	}
	return dst
}

// finishVec applies alpha, beta and the epilogue to the raw sums out and
// stores them in C. Output e is C[e*cs]; it runs down C's only column
// when column is set (so Residual[e*LdR] and a per-row bias apply), else
// along its only row.
func (j *job) finishVec(out []float32, cs int, column bool) {
	ep := j.ep
	var bias, res []float32
	var act Act
	var lo, hi, leak float32
	rs := 1
	perElem := false
	if ep != nil {
		bias, res, act = ep.Bias, ep.Residual, ep.Act
		lo, hi, leak = ep.Min, ep.Max, ep.Alpha
		perElem = ep.BiasPerRow == column
		if column {
			rs = ep.ldr(j.n)
		}
	}
	for e, v := range out {
		v *= j.alpha
		ci := e * cs
		if j.beta == 1 {
			v += j.c[ci]
		} else if j.beta != 0 {
			v += j.beta * j.c[ci]
		}
		if bias != nil {
			if perElem {
				v += bias[e]
			} else {
				v += bias[0]
			}
		}
		if res != nil {
			v += res[e*rs]
		}
		j.c[ci] = activate(v, act, lo, hi, leak)
	}
}

// minDotParallel is the matrix size (elements) from which dotRowsParallel
// uses the Runner. A smaller product is bound by cache bandwidth and over
// in tens of microseconds, about what waking a parked worker can cost.
const minDotParallel = 1 << 20

// dotRowsParallel is dotRows split by rows across run's workers.
func dotRowsParallel(out, a []float32, lda int, x []float32, k int, run Runner) {
	rows := len(out)
	T := 1
	if run != nil && rows*k >= minDotParallel {
		T = min(maxThreads(), rows/4)
	}
	if T <= 1 {
		dotRows(out, a, lda, x, k)
		return
	}
	px := getParallel()
	px.isDot = true
	px.dot = dotArgs{out: out, a: a, lda: lda, x: x, k: k}
	px.bounds = splitRange(px.bounds[:0], rows, T, 4)
	run(T, px.fn)
	putParallel(px)
}

// dotArgs are the operands of a parallel dotRows.
type dotArgs struct {
	out, a, x []float32
	lda, k    int
}

func (d *dotArgs) run(i0, i1 int) {
	dotRows(d.out[i0:i1], d.a[i0*d.lda:], d.lda, d.x, d.k)
}

// dotRows sets out[i] = dot(a[i*lda:i*lda+k], x) for every i.
func dotRows(out, a []float32, lda int, x []float32, k int) {
	x = x[:k]
	rows := len(out)
	if rows == 0 {
		return
	}
	_ = a[(rows-1)*lda+k-1]
	if dot4 := dot4Kernel; dot4 != nil {
		var y [4]float32
		for i := 0; i < rows; i += 4 {
			// Missing rows repeat row i; their sums are dropped.
			r0 := &a[i*lda]
			r1, r2, r3 := r0, r0, r0
			if i+1 < rows {
				r1 = &a[(i+1)*lda]
			}
			if i+2 < rows {
				r2 = &a[(i+2)*lda]
			}
			if i+3 < rows {
				r3 = &a[(i+3)*lda]
			}
			dot4(r0, r1, r2, r3, &x[0], k, &y)
			copy(out[i:min(i+4, rows)], y[:])
		}
		return
	}
	for i := range out {
		row := a[i*lda : i*lda+k]
		var s0, s1, s2, s3 float32
		l := 0
		for ; l+4 <= k; l += 4 {
			s0 += row[l] * x[l]
			s1 += row[l+1] * x[l+1]
			s2 += row[l+2] * x[l+2]
			s3 += row[l+3] * x[l+3]
		}
		for ; l < k; l++ {
			s0 += row[l] * x[l]
		}
		out[i] = (s0 + s1) + (s2 + s3)
	}
}
