package caffe

import (
	"slices"
	"stride/graph"
	"stride/proto/caffepb"
	"stride/tensor"
)

// eltwise combines bottoms of equal shape: PROD (Mul), MAX (Max) or SUM
// with optional coefficients, summed left to right as Caffe does.
func eltwise(c *lctx) error {
	if err := c.needBottoms(2, -1); err != nil {
		return err
	}
	if err := c.needTops(1, 1); err != nil {
		return err
	}
	ep := c.lp.GetEltwiseParam()
	shape := c.shapes[0]
	for i, s := range c.shapes[1:] {
		if !slices.Equal(s, shape) {
			return c.errorf("bottoms must have equal shapes: %q is %v, %q is %v", c.lp.Bottom[0], shape, c.lp.Bottom[i+1], s)
		}
	}
	op := ep.GetOperation()
	coeff := ep.GetCoeff()
	if len(coeff) > 0 && op != caffepb.EltwiseParameter_SUM {
		return c.errorf("coeff applies to the SUM operation only")
	}
	if len(coeff) > 0 && len(coeff) != len(c.bottoms) {
		return c.errorf("has %d coeff values for %d bottoms", len(coeff), len(c.bottoms))
	}
	var y string
	switch op {
	case caffepb.EltwiseParameter_MAX:
		y = c.emit("Max", append([]string{}, c.bottoms...), shape, nil)
	case caffepb.EltwiseParameter_PROD:
		y = c.bottoms[0]
		for _, b := range c.bottoms[1:] {
			y = c.emit("Mul", []string{y, b}, shape, nil)
		}
	default:
		for i, b := range c.bottoms {
			if len(coeff) > 0 {
				b = c.affine(b, shape, coeff[i], 0)
			}
			if i == 0 {
				y = b
				continue
			}
			y = c.emit("Add", []string{y, b}, shape, nil)
		}
	}
	c.setTop(0, y, shape)
	return nil
}

// softmax over one axis, the others independent (ONNX Softmax, opset 13).
func softmax(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	shape := c.shapes[0]
	axis, err := canonAxis(int(c.lp.GetSoftmaxParam().GetAxis()), len(shape))
	if err != nil {
		return err
	}
	c.setTop(0, c.emit("Softmax", []string{c.bottoms[0]}, shape, attrs{"axis": graph.IntAttr(int64(axis))}), shape)
	return nil
}

// argMax is TopK. With an axis, the top holds the indices (or, with
// out_max_val, the values) along it. Without, each sample is flattened and
// the top is N x 1 x top_k indices, or N x 2 x top_k indices then values
// with out_max_val (padded with 1s to the bottom's rank). Indices are
// floats, as in Caffe. Ties may order differently: Caffe lists the higher
// index first, ONNX the lower.
func argMax(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	ap := c.lp.GetArgmaxParam()
	shape := c.shapes[0]
	k := int(ap.GetTopK())
	if k < 1 {
		return c.errorf("top_k must be at least 1")
	}
	x := c.bottoms[0]
	topk := func(x string, shape []int, axis int) (vals, idx string, err error) {
		if k > shape[axis] {
			return "", "", c.errorf("top_k %d is more than the %d values along the axis", k, shape[axis])
		}
		out := append([]int{}, shape...)
		out[axis] = k
		outs := c.emitN("TopK", []string{x, c.constI("k", int64(k))}, [][]int{out, out},
			attrs{"axis": graph.IntAttr(int64(axis)), "largest": graph.IntAttr(1), "sorted": graph.IntAttr(1)})
		c.b.vals[outs[1]].dtype = tensor.Int64
		return outs[0], outs[1], nil
	}
	toFloat := func(idx string, shape []int) string {
		return c.emit("Cast", []string{idx}, shape, attrs{"to": graph.IntAttr(onnxFloat)})
	}
	if ap.Axis != nil {
		axis, err := canonAxis(int(ap.GetAxis()), len(shape))
		if err != nil {
			return err
		}
		vals, idx, err := topk(x, shape, axis)
		if err != nil {
			return err
		}
		out := append([]int{}, shape...)
		out[axis] = k
		if ap.GetOutMaxVal() {
			c.setTop(0, vals, out)
		} else {
			c.setTop(0, toFloat(idx, out), out)
		}
		return nil
	}
	n := shape[0]
	flat := []int{n, tensor.Size(shape) / max(n, 1)}
	vals, idx, err := topk(c.reshape(x, shape, flat), flat, 1)
	if err != nil {
		return err
	}
	out := ones(max(len(shape), 3))
	out[0], out[2] = n, k
	rows := []int{n, 1, k}
	y := c.reshape(toFloat(idx, []int{n, k}), []int{n, k}, rows)
	if ap.GetOutMaxVal() {
		out[1] = 2
		v := c.reshape(vals, []int{n, k}, rows)
		y = c.emit("Concat", []string{y, v}, []int{n, 2, k}, attrs{"axis": graph.IntAttr(1)})
		rows = []int{n, 2, k}
	}
	c.setTop(0, c.reshape(y, rows, out), out)
	return nil
}

// reduction reduces all axes from `axis` on (SUM, ASUM, SUMSQ or MEAN),
// scaled by coeff; the top has the bottom's leading axes.
func reduction(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	rp := c.lp.GetReductionParam()
	shape := c.shapes[0]
	axis, err := canonAxis(int(rp.GetAxis()), len(shape))
	if err != nil {
		return err
	}
	x := c.bottoms[0]
	switch rp.GetOperation() {
	case caffepb.ReductionParameter_ASUM:
		x = c.emit("Abs", []string{x}, shape, nil)
	case caffepb.ReductionParameter_SUMSQ:
		x = c.emit("Mul", []string{x, x}, shape, nil)
	}
	var axes []int64
	for i := axis; i < len(shape); i++ {
		axes = append(axes, int64(i))
	}
	out := append([]int{}, shape[:axis]...)
	y := c.emit("ReduceSum", []string{x, c.constI("axes", axes...)}, out, attrs{"keepdims": graph.IntAttr(0)})
	coeff := rp.GetCoeff()
	if rp.GetOperation() == caffepb.ReductionParameter_MEAN {
		coeff /= float32(prod(shape[axis:]))
	}
	c.setTop(0, c.affine(y, out, coeff, 0), out)
	return nil
}
