package nn

import (
	"fmt"

	"stride/ops"
	"stride/tensor"
)

func init() {
	// Inference Dropout passes data through untouched in every type.
	ops.Register(&ops.Def{Op: "Dropout", Build: buildDropout, Native16: true, Float64: true})
}

// buildDropout implements Dropout for inference: the output is the input
// and the optional mask is all true. Training mode with a non-zero ratio
// would need random masks and is refused.
func buildDropout(b *ops.Build) (ops.Kernel, error) {
	wantMask := wantOutput(b.Node, 1)
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, err := ops.NeedInput(in, 0, "data")
		if err != nil {
			return nil, err
		}
		if len(in) > 2 && in[2] != nil && training(in[2]) {
			ratio := 0.5
			if in[1] != nil {
				r := in[1].Float64s()
				if len(r) != 1 {
					return nil, fmt.Errorf("ratio must be a scalar, got shape %v", in[1].Shape)
				}
				ratio = r[0]
			}
			if ratio != 0 {
				return nil, fmt.Errorf("training mode not supported (ratio %g)", ratio)
			}
		}
		y := &tensor.Tensor{DType: x.DType, Shape: x.Shape, Data: x.Data}
		if !wantMask {
			return ops.Outs(y)
		}
		mask, err := c.Alloc(tensor.Bool, x.Shape...)
		if err != nil {
			return nil, err
		}
		m := mask.Data.([]bool)
		for i := range m {
			m[i] = true
		}
		return ops.Outs(y, mask)
	}), nil
}

// training reads the training_mode input.
func training(t *tensor.Tensor) bool {
	v := t.Float64s()
	return len(v) > 0 && v[0] != 0
}
