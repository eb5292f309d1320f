package runtime

import (
	"fmt"
	"time"

	"stride/ops"
	"stride/tensor"
)

func (s *plan) exec(c *ops.Ctx, st *state, prof *Profile) ([]*tensor.Tensor, error) {
	for i, t := range s.consts {
		if t != nil {
			st.vals[i] = t
		}
	}
	vals := make([]*tensor.Tensor, 0, 8)
	for i := range s.steps {
		if err := c.Err(); err != nil {
			return nil, err
		}
		sp := &s.steps[i]
		vals = vals[:0]
		for _, in := range sp.in {
			if in < 0 {
				vals = append(vals, nil)
			} else {
				vals = append(vals, st.vals[in])
			}
		}
		var t0 time.Time
		if prof != nil {
			t0 = time.Now()
		}
		outs, err := runKernel(c, sp, vals)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sp.node.Label(), err)
		}
		if prof != nil {
			prof.add(i, sp.node.Name, sp.node.Op, time.Since(t0))
		}
		for j, o := range sp.out {
			if o < 0 {
				continue
			}
			if j >= len(outs) || outs[j] == nil {
				return nil, fmt.Errorf("%s: produced no value for output %q", sp.node.Label(), sp.node.Outputs[j])
			}
			st.vals[o] = outs[j]
			st.retain(outs[j])
		}
		for _, r := range sp.release {
			st.release(st.vals[r])
			st.vals[r] = nil
		}
	}
	res := make([]*tensor.Tensor, len(s.outputs))
	for i, o := range s.outputs {
		t := st.vals[o]
		if t == nil {
			return nil, fmt.Errorf("output %q was not computed", s.graph.Outputs[i].Name)
		}
		st.detach(t)
		// The caller gets its own header: arena headers are reused.
		res[i] = &tensor.Tensor{DType: t.DType, Shape: append([]int(nil), t.Shape...), Data: t.Data}
	}
	return res, nil
}

// runKernel runs one step, adapting 16-bit and 64-bit float inputs for
// kernels that only compute in float32, and turning a kernel panic into an
// error so a hostile model cannot crash the process.
func runKernel(c *ops.Ctx, sp *step, in []*tensor.Tensor) (outs []*tensor.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error in %s kernel: %v", sp.node.Op, r)
		}
	}()
	narrow := tensor.Undefined
	hasF32 := false
	for _, t := range in {
		if t == nil {
			continue
		}
		if t.DType == tensor.Float32 {
			hasF32 = true
		}
		if narrow == tensor.Undefined && ((t.DType == tensor.Float16 || t.DType == tensor.BFloat16) && !sp.def.Native16 ||
			t.DType == tensor.Float64 && !sp.def.Float64) {
			narrow = t.DType
		}
	}
	if narrow == tensor.Undefined {
		return sp.kernel.Run(c, in)
	}
	wide := make([]*tensor.Tensor, len(in))
	for i, t := range in {
		if t != nil && t.DType == narrow {
			wide[i] = tensor.ToFloat32(t)
		} else {
			wide[i] = t
		}
	}
	outs, err = sp.kernel.Run(c, wide)
	if err != nil {
		return nil, err
	}
	// Results come back in the caller's type, unless float32 was already
	// among the inputs: then a float32 output may be meant as such.
	if hasF32 {
		return outs, nil
	}
	for i, t := range outs {
		if t != nil && t.DType == tensor.Float32 {
			if outs[i], err = tensor.Convert(t, narrow); err != nil {
				return nil, err
			}
		}
	}
	return outs, nil
}
