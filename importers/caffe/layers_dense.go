package caffe

import (
	"stride/graph"
	"stride/tensor"
)

// innerProduct translates InnerProduct: the axes from `axis` on are
// flattened (C order) into K, and Gemm multiplies by W (num_output x K, or
// K x num_output with transpose) and adds the bias. Leading axes are kept.
func innerProduct(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	ip := c.lp.GetInnerProductParam()
	shape := c.shapes[0]
	axis, err := canonAxis(int(ip.GetAxis()), len(shape))
	if err != nil {
		return err
	}
	n := int(ip.GetNumOutput())
	if n <= 0 {
		return c.errorf("num_output must be positive (it is %d)", n)
	}
	m, k := prod(shape[:axis]), prod(shape[axis:])
	wShape := []int{n, k}
	if ip.GetTranspose() {
		wShape = []int{k, n}
	}
	w, err := c.param(0, wShape, ip.GetWeightFiller(), nil)
	if err != nil {
		return err
	}
	inputs := []string{c.bottoms[0], c.useParam(w, "weight", nil)}
	if len(shape) != 2 || axis != 1 {
		inputs[0] = c.emit("Flatten", []string{c.bottoms[0]}, []int{m, k}, attrs{"axis": graph.IntAttr(int64(axis))})
	}
	if ip.GetBiasTerm() {
		b, err := c.param(1, []int{n}, ip.GetBiasFiller(), nil)
		if err != nil {
			return err
		}
		inputs = append(inputs, c.useParam(b, "bias", nil))
	}
	transB := int64(1)
	if ip.GetTranspose() {
		transB = 0
	}
	y := c.emit("Gemm", inputs, []int{m, n}, attrs{"transB": graph.IntAttr(transB)})
	out := append(append([]int{}, shape[:axis]...), n)
	c.setTop(0, c.reshape(y, []int{m, n}, out), out)
	return c.checkParamCount()
}

// embed translates Embed: the bottom holds indices (as floats) into the
// rows of W (input_dim x num_output); the top appends num_output to the
// bottom's shape.
func embed(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	ep := c.lp.GetEmbedParam()
	n, vocab := int(ep.GetNumOutput()), int(ep.GetInputDim())
	if n <= 0 || vocab <= 0 {
		return c.errorf("num_output and input_dim must be positive (they are %d and %d)", n, vocab)
	}
	w, err := c.param(0, []int{vocab, n}, ep.GetWeightFiller(), nil)
	if err != nil {
		return err
	}
	shape := c.shapes[0]
	out := append(append([]int{}, shape...), n)
	idx := c.emitT("Cast", []string{c.bottoms[0]}, tensor.Int64, shape, attrs{"to": graph.IntAttr(7)})
	y := c.emit("Gather", []string{c.useParam(w, "weight", nil), idx}, out, attrs{"axis": graph.IntAttr(0)})
	if ep.GetBiasTerm() {
		b, err := c.param(1, []int{n}, ep.GetBiasFiller(), nil)
		if err != nil {
			return err
		}
		y = c.emit("Add", []string{y, c.useParam(b, "bias", nil)}, out, nil)
	}
	c.setTop(0, y, out)
	return c.checkParamCount()
}
