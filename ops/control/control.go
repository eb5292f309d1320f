// Package control owns the control-flow ops If, Loop and Scan: they run
// compiled subgraphs (bodies) through ops.Subgraph and move tensors in and
// out of them.
package control

import (
	"fmt"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

func init() {
	ops.Register(
		&ops.Def{Op: "If", Build: buildIf, Native16: true, Float64: true},
		&ops.Def{Op: "Loop", Build: buildLoop, Native16: true, Float64: true},
		&ops.Def{Op: "Scan", Build: buildScan, Native16: true, Float64: true},
	)
}

// outerValues maps the implicit inputs (after the node's own n inputs) to
// their names.
func outerValues(b *ops.Build, in []*tensor.Tensor, n int) map[string]*tensor.Tensor {
	m := make(map[string]*tensor.Tensor, len(b.Implicit))
	for i, name := range b.Implicit {
		if n+i < len(in) {
			m[name] = in[n+i]
		}
	}
	return m
}

func body(b *ops.Build, name string) (ops.Subgraph, *graph.Graph, error) {
	g, err := b.Node.AttrGraph(name)
	if err != nil {
		return nil, nil, err
	}
	if g == nil {
		return nil, nil, fmt.Errorf("missing graph attribute %q", name)
	}
	sg, err := b.Compile(g)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return sg, g, nil
}

func buildIf(b *ops.Build) (ops.Kernel, error) {
	thenG, _, err := body(b, "then_branch")
	if err != nil {
		return nil, err
	}
	elseG, _, err := body(b, "else_branch")
	if err != nil {
		return nil, err
	}
	nIn := len(b.Node.Inputs)
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		cond, err := ops.NeedInput(in, 0, "cond")
		if err != nil {
			return nil, err
		}
		v, err := truth(cond)
		if err != nil {
			return nil, err
		}
		br := elseG
		if v {
			br = thenG
		}
		return br.Run(c, nil, outerValues(b, in, nIn))
	}), nil
}

func truth(t *tensor.Tensor) (bool, error) {
	if t.Len() != 1 {
		return false, fmt.Errorf("condition must have one element, has shape %v", t.Shape)
	}
	return t.Float64s()[0] != 0, nil
}

// maxLoopIterations guards against a hostile trip count; cancellation
// through ctx still stops a long loop earlier.
const maxLoopIterations = 1 << 31

func buildLoop(b *ops.Build) (ops.Kernel, error) {
	sg, g, err := body(b, "body")
	if err != nil {
		return nil, err
	}
	nIn := len(b.Node.Inputs)
	nCarried := nIn - 2
	if nCarried < 0 {
		return nil, fmt.Errorf("Loop needs at least the M and cond inputs (possibly empty)")
	}
	if len(g.Inputs) != nCarried+2 {
		return nil, fmt.Errorf("Loop body takes %d inputs, want %d (iteration, condition, %d carried)", len(g.Inputs), nCarried+2, nCarried)
	}
	nScan := len(g.Outputs) - 1 - nCarried
	if nScan < 0 {
		return nil, fmt.Errorf("Loop body has %d outputs, want at least %d", len(g.Outputs), 1+nCarried)
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		outer := outerValues(b, in, nIn)
		trip := int64(maxLoopIterations)
		if in[0] != nil {
			v, err := in[0].Ints()
			if err != nil || len(v) != 1 {
				return nil, fmt.Errorf("trip count M must be one integer")
			}
			trip = v[0]
		}
		cond := true
		if in[1] != nil {
			if cond, err = truth(in[1]); err != nil {
				return nil, err
			}
		}
		carried := append([]*tensor.Tensor{}, in[2:nIn]...)
		scans := make([][]*tensor.Tensor, nScan)
		for i := int64(0); i < trip && cond; i++ {
			if err := c.Err(); err != nil {
				return nil, err
			}
			args := append([]*tensor.Tensor{tensor.Scalar(i), tensor.Scalar(cond)}, carried...)
			outs, err := sg.Run(c, args, outer)
			if err != nil {
				return nil, fmt.Errorf("iteration %d: %w", i, err)
			}
			if cond, err = truth(outs[0]); err != nil {
				return nil, err
			}
			carried = outs[1 : 1+nCarried]
			for k := range scans {
				scans[k] = append(scans[k], outs[1+nCarried+k])
			}
		}
		res := append([]*tensor.Tensor{}, carried...)
		for k, parts := range scans {
			st, err := stack(parts, 0)
			if err != nil {
				return nil, fmt.Errorf("scan output %d: %w", k, err)
			}
			if st == nil { // no iteration ran: an empty tensor
				st = &tensor.Tensor{DType: bodyOutType(g, 1+nCarried+k), Shape: []int{0}}
				st.Data = tensor.MakeSlice(st.DType, 0)
			}
			res = append(res, st)
		}
		return res, nil
	}), nil
}

func bodyOutType(g *graph.Graph, i int) tensor.DType {
	if dt := g.Outputs[i].Type.DType; dt != tensor.Undefined {
		return dt
	}
	return tensor.Float32
}

// stack joins equally shaped tensors along a new axis.
func stack(parts []*tensor.Tensor, axis int) (*tensor.Tensor, error) {
	if len(parts) == 0 {
		return nil, nil
	}
	first := parts[0]
	for _, p := range parts[1:] {
		if p.DType != first.DType || !tensor.SameShape(p.Shape, first.Shape) {
			return nil, fmt.Errorf("iterations produced %v%v and %v%v", first.DType, first.Shape, p.DType, p.Shape)
		}
	}
	shape := append(append(append([]int{}, first.Shape[:axis]...), len(parts)), first.Shape[axis:]...)
	out, err := tensor.New(first.DType, shape...)
	if err != nil {
		return nil, err
	}
	outer := tensor.Size(first.Shape[:axis])
	inner := tensor.Size(first.Shape[axis:])
	for k, p := range parts {
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				tensor.CopyElem(out.Data, (o*len(parts)+k)*inner+i, p.Data, o*inner+i)
			}
		}
	}
	return out, nil
}

// slice takes index k along axis, dropping that axis.
func slice(t *tensor.Tensor, axis, k int) *tensor.Tensor {
	shape := append(append([]int{}, t.Shape[:axis]...), t.Shape[axis+1:]...)
	out := tensor.Zeros(t.DType, shape...)
	outer := tensor.Size(t.Shape[:axis])
	inner := tensor.Size(t.Shape[axis+1:])
	n := t.Shape[axis]
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			tensor.CopyElem(out.Data, o*inner+i, t.Data, (o*n+k)*inner+i)
		}
	}
	return out
}

func buildScan(b *ops.Build) (ops.Kernel, error) {
	sg, g, err := body(b, "body")
	if err != nil {
		return nil, err
	}
	n := b.Node
	nScanIn, err := n.AttrInt("num_scan_inputs", -1)
	if err != nil {
		return nil, err
	}
	nIn := len(n.Inputs)
	if nScanIn < 1 || int(nScanIn) > nIn {
		return nil, fmt.Errorf("num_scan_inputs %d does not fit %d inputs", nScanIn, nIn)
	}
	nState := nIn - int(nScanIn)
	nScanOut := len(g.Outputs) - nState
	if nScanOut < 0 || len(g.Inputs) != nIn {
		return nil, fmt.Errorf("Scan body has %d inputs and %d outputs for %d state values", len(g.Inputs), len(g.Outputs), nState)
	}
	inAxes, _ := n.AttrInts("scan_input_axes", make([]int64, nScanIn))
	inDirs, _ := n.AttrInts("scan_input_directions", make([]int64, nScanIn))
	outAxes, _ := n.AttrInts("scan_output_axes", make([]int64, nScanOut))
	outDirs, _ := n.AttrInts("scan_output_directions", make([]int64, nScanOut))
	if len(inAxes) != int(nScanIn) || len(inDirs) != int(nScanIn) || len(outAxes) != nScanOut || len(outDirs) != nScanOut {
		return nil, fmt.Errorf("scan axes/directions attributes do not match the number of scan inputs and outputs")
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		outer := outerValues(b, in, nIn)
		state := append([]*tensor.Tensor{}, in[:nState]...)
		scanIn := in[nState:nIn]
		axes := make([]int, len(scanIn))
		steps := -1
		for j, t := range scanIn {
			a, err := ops.NormAxis(inAxes[j], t.Rank())
			if err != nil {
				return nil, fmt.Errorf("scan input %d: %w", j, err)
			}
			axes[j] = a
			if steps >= 0 && t.Shape[a] != steps {
				return nil, fmt.Errorf("scan inputs have different lengths %d and %d", steps, t.Shape[a])
			}
			steps = t.Shape[a]
		}
		outs := make([][]*tensor.Tensor, nScanOut)
		for i := 0; i < steps; i++ {
			if err := c.Err(); err != nil {
				return nil, err
			}
			args := append([]*tensor.Tensor{}, state...)
			for j, t := range scanIn {
				k := i
				if inDirs[j] == 1 {
					k = steps - 1 - i
				}
				args = append(args, slice(t, axes[j], k))
			}
			res, err := sg.Run(c, args, outer)
			if err != nil {
				return nil, fmt.Errorf("iteration %d: %w", i, err)
			}
			state = res[:nState]
			for k := range outs {
				outs[k] = append(outs[k], res[nState+k])
			}
		}
		result := append([]*tensor.Tensor{}, state...)
		for k, parts := range outs {
			if outDirs[k] == 1 {
				for l, r := 0, len(parts)-1; l < r; l, r = l+1, r-1 {
					parts[l], parts[r] = parts[r], parts[l]
				}
			}
			if len(parts) == 0 {
				return nil, fmt.Errorf("scan over zero steps has no output shape")
			}
			a, err := ops.NormAxis(outAxes[k], parts[0].Rank()+1)
			if err != nil {
				return nil, err
			}
			st, err := stack(parts, a)
			if err != nil {
				return nil, err
			}
			result = append(result, st)
		}
		return result, nil
	}), nil
}
