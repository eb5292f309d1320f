package mathops

import (
	"fmt"

	"stride/ops"
	"stride/tensor"
)

// Where selects between X and Y, all three operands broadcast together.
// It moves elements without computing on them, so it works on every
// element type's storage directly (16-bit floats as their bit patterns).

func init() {
	ops.Register(&ops.Def{Op: "Where", Build: buildWhere, Infer: inferBroadcast(tensor.Undefined, 1, 0, 1, 2),
		Native16: true, Float64: true})
}

var whereKernels = map[tensor.DType]func(dst, cond, x, y any) runFn{
	tensor.Float32: whereOf[float32], tensor.Float64: whereOf[float64],
	tensor.Float16: whereOf[uint16], tensor.BFloat16: whereOf[uint16],
	tensor.Int8: whereOf[int8], tensor.Int16: whereOf[int16], tensor.Int32: whereOf[int32], tensor.Int64: whereOf[int64],
	tensor.Uint8: whereOf[uint8], tensor.Uint16: whereOf[uint16], tensor.Uint32: whereOf[uint32], tensor.Uint64: whereOf[uint64],
	tensor.Bool: whereOf[bool], tensor.String: whereOf[string],
}

func whereOf[T any](dst, cond, x, y any) runFn {
	d, cs, xs, ys := dst.([]T), cond.([]bool), x.([]T), y.([]T)
	return func(o, n int, off, step []int) {
		ic, ix, iy := off[0], off[1], off[2]
		for i := o; i < o+n; i++ {
			if cs[ic] {
				d[i] = xs[ix]
			} else {
				d[i] = ys[iy]
			}
			ic += step[0]
			ix += step[1]
			iy += step[2]
		}
	}
}

func buildWhere(b *ops.Build) (ops.Kernel, error) {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		cond, err := ops.NeedInput(in, 0, "condition")
		if err != nil {
			return nil, err
		}
		if cond.DType != tensor.Bool {
			return nil, fmt.Errorf("condition is %v, want bool", cond.DType)
		}
		x, y, err := sameTypeInputs(in[1:])
		if err != nil {
			return nil, err
		}
		mk := whereKernels[x.DType]
		if mk == nil {
			return nil, errType(x.DType)
		}
		p, err := broadcast(cond.Shape, x.Shape, y.Shape)
		if err != nil {
			return nil, err
		}
		out, err := c.Alloc(x.DType, p.shape...)
		if err != nil {
			return nil, err
		}
		p.run(c, mk(out.Data, cond.Data, x.Data, y.Data))
		return ops.Outs(out)
	}), nil
}
