package mathops

import (
	"stride/internal/kern"
	"stride/ops"
	"stride/tensor"
)

// Float32 fast paths. The generic engine converts every element to float64
// and calls the op's element function through a pointer; for float32
// tensors the ops below instead hand whole runs to the vector kernels of
// stride/internal/kern (one call per run). Their results are those of
// float32 arithmetic: bit-identical to the float64 route for + - * / and
// sqrt (float64 is wide enough that its double rounding is innocuous),
// within a few ulp for the transcendental functions. Integer and float64
// tensors keep the generic engine, which stays the reference.

// vecGrain is the smallest run worth a task of its own for the vector
// kernels (about 64 KiB of float32).
const vecGrain = 1 << 14

func vecOp(op kern.Op) *kern.Op { return &op }

// unaryF32 runs f over x into dst in parallel chunks.
func unaryF32(c *ops.Ctx, dst, x []float32, f func(dst, x []float32)) {
	c.For(len(x), vecGrain, func(lo, hi int) { f(dst[lo:hi], x[lo:hi]) })
}

// binaryF32 is the broadcasting loop of a vector op: same-shape runs, and
// runs where one operand is fixed (a scalar, a per-channel bias or scale),
// each go to one kernel call; any other pattern falls back to slow.
func binaryF32(dst, a, b []float32, op kern.Op, slow runFn) runFn {
	return func(o, n int, off, step []int) {
		d := dst[o : o+n]
		ia, ib := off[0], off[1]
		switch {
		case step[0] == 1 && step[1] == 1:
			kern.Apply(op, d, a[ia:ia+n], b[ib:ib+n])
		case step[0] == 1 && step[1] == 0:
			kern.ApplyVS(op, d, a[ia:ia+n], b[ib])
		case step[0] == 0 && step[1] == 1 && op != kern.PRelu:
			kern.ApplySV(op, d, a[ia], b[ib:ib+n])
		default:
			slow(o, n, off, step)
		}
	}
}

// sameShapeF32 is the broadcast-free case (residual adds, gating muls):
// one run, no plan to build.
func sameShapeF32(c *ops.Ctx, a, b *tensor.Tensor, op kern.Op) ([]*tensor.Tensor, error) {
	y, err := c.Alloc(tensor.Float32, a.Shape...)
	if err != nil {
		return nil, err
	}
	ad, bd, yd := a.F32(), b.F32(), y.F32()
	c.For(len(yd), vecGrain, func(lo, hi int) { kern.Apply(op, yd[lo:hi], ad[lo:hi], bd[lo:hi]) })
	return ops.Outs(y)
}
