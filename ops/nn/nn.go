package nn

import (
	"fmt"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// float32In returns the float32 data of input i, or an error naming what is
// wrong. Float16/BFloat16/Float64 inputs have already been widened by the
// runtime for ops that do not set Native16/Float64.
func float32In(in []*tensor.Tensor, i int, what string) (*tensor.Tensor, []float32, error) {
	t, err := ops.NeedInput(in, i, what)
	if err != nil {
		return nil, nil, err
	}
	d, ok := t.Data.([]float32)
	if !ok {
		return nil, nil, fmt.Errorf("%s: unsupported element type %v", what, t.DType)
	}
	return t, d, nil
}

// wantOutput reports whether the node's output i is consumed (present and
// named), so kernels can skip optional outputs nobody reads.
func wantOutput(n *graph.Node, i int) bool {
	return i < len(n.Outputs) && n.Outputs[i] != ""
}

// product returns the product of v.
func product(v []int) int {
	p := 1
	for _, x := range v {
		p *= x
	}
	return p
}

// runner runs fn(t) for t in [0,tasks), possibly in parallel. It has the
// shape of ops.Ctx.Tasks (and of gemm.Runner).
type runner = func(tasks int, fn func(t int))

// serial is a runner that runs tasks one after the other.
func serial(n int, fn func(t int)) {
	for t := 0; t < n; t++ {
		fn(t)
	}
}

// threads is the size of the worker pool behind c.
func threads(c *ops.Ctx) int {
	if c == nil {
		return 1
	}
	return c.Pool.Threads()
}

// spread runs unit(u, run) for every u in [0, units). With at least as many
// units as threads, units run in parallel and each computes serially;
// otherwise they run one after the other, each spreading its own products
// over the pool.
func spread(c *ops.Ctx, units int, unit func(u int, run runner)) {
	if units >= threads(c) {
		c.Tasks(units, func(u int) { unit(u, serial) })
		return
	}
	for u := 0; u < units; u++ {
		unit(u, c.Tasks)
	}
}

// knownDims returns the sizes of dims, and false when any is not known.
func knownDims(dims []graph.Dim) ([]int, bool) {
	out := make([]int, len(dims))
	for i, d := range dims {
		if !d.Known() {
			return nil, false
		}
		out[i] = int(d.Size)
	}
	return out, true
}

// errNoShape is returned by shape rules when the inputs do not carry enough
// information; the runtime then leaves the output type unknown.
var errNoShape = fmt.Errorf("input shapes not known")
