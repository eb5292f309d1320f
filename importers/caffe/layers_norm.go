package caffe

import (
	"slices"
	"stride/graph"
	"stride/proto/caffepb"
	"stride/tensor"
)

// lrn translates local response normalisation. ACROSS_CHANNELS is ONNX LRN
// (same window and formula, bias = k). WITHIN_CHANNEL is
// x / (1 + alpha * avgpool(x^2))^beta over an n x n window padded with
// zeros, the average always dividing by n^2, as Caffe computes it.
func lrn(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	p := c.lp.GetLrnParam()
	n := int(p.GetLocalSize())
	if n%2 == 0 {
		return c.errorf("local_size must be odd (it is %d)", n)
	}
	shape := c.shapes[0]
	if len(shape) != 4 {
		return c.errorf("needs a 4-axis (N, C, H, W) bottom, got shape %v", shape)
	}
	x := c.bottoms[0]
	alpha, beta := p.GetAlpha(), p.GetBeta()
	if p.GetNormRegion() == caffepb.LRNParameter_ACROSS_CHANNELS {
		a := attrs{
			"size":  graph.IntAttr(int64(n)),
			"alpha": graph.FloatAttr(alpha),
			"beta":  graph.FloatAttr(beta),
			"bias":  graph.FloatAttr(p.GetK()),
		}
		c.setTop(0, c.emit("LRN", []string{x}, shape, a), shape)
		return nil
	}
	pad := int64((n - 1) / 2)
	sq := c.emit("Mul", []string{x, x}, shape, nil)
	avg := c.emit("AveragePool", []string{sq}, shape, attrs{
		"kernel_shape":      graph.IntsAttr(int64(n), int64(n)),
		"strides":           graph.IntsAttr(1, 1),
		"pads":              graph.IntsAttr(pad, pad, pad, pad),
		"count_include_pad": graph.IntAttr(1),
	})
	d := c.affine(avg, shape, alpha, 1)
	d = c.emit("Pow", []string{d, c.constF("beta", nil, beta)}, shape, nil)
	c.setTop(0, c.emit("Div", []string{x, d}, shape, nil), shape)
	return nil
}

// batchNorm normalises each channel (axis 1). With global statistics (the
// default in TEST) it is BatchNormalization with scale 1 and bias 0, the
// stored mean and variance divided at import by the scale-factor blob.
// Otherwise (use_global_stats false) the batch's own statistics are
// computed: (x - mean) / sqrt(var + eps) over all axes but 1.
func batchNorm(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	bp := c.lp.GetBatchNormParam()
	shape := c.shapes[0]
	if len(shape) < 2 {
		return c.errorf("needs a bottom with a channel axis, got shape %v", shape)
	}
	ch := shape[1]
	var ps [3]*Param
	for i, s := range [][]int{{ch}, {ch}, {1}} {
		p, err := c.param(i, s, nil, nil)
		if err != nil {
			return err
		}
		ps[i] = p
	}
	if err := c.checkParamCount(); err != nil {
		return err
	}
	global := c.b.opts.Phase == Test
	if bp != nil && bp.UseGlobalStats != nil {
		global = bp.GetUseGlobalStats()
	}
	eps := bp.GetEps()
	x := c.bottoms[0]
	if global {
		factor := ps[2].Data.F32()[0]
		if factor != 0 {
			factor = 1 / factor
		}
		mean, variance := make([]float32, ch), make([]float32, ch)
		one, zero := make([]float32, ch), make([]float32, ch)
		for i := 0; i < ch; i++ {
			mean[i] = ps[0].Data.F32()[i] * factor
			variance[i] = ps[1].Data.F32()[i] * factor
			one[i] = 1
		}
		ins := []string{x, c.constF("scale", []int{ch}, one...), c.constF("bias", []int{ch}, zero...),
			c.constF("mean", []int{ch}, mean...), c.constF("var", []int{ch}, variance...)}
		c.setTop(0, c.emit("BatchNormalization", ins, shape, attrs{"epsilon": graph.FloatAttr(eps)}), shape)
		return nil
	}
	axes := []int64{0}
	for i := 2; i < len(shape); i++ {
		axes = append(axes, int64(i))
	}
	stat := append([]int{1, ch}, ones(len(shape)-2)...)
	inv := float32(1) / float32(tensor.Size(shape)/ch)
	mean := c.emit("ReduceSum", []string{x, c.constI("axes", axes...)}, stat, attrs{"keepdims": graph.IntAttr(1)})
	mean = c.affine(mean, stat, inv, 0)
	d := c.emit("Sub", []string{x, mean}, shape, nil)
	sq := c.emit("Mul", []string{d, d}, shape, nil)
	v := c.emit("ReduceSum", []string{sq, c.constI("axes", axes...)}, stat, attrs{"keepdims": graph.IntAttr(1)})
	v = c.affine(v, stat, inv, eps)
	v = c.emit("Sqrt", []string{v}, stat, nil)
	c.setTop(0, c.emit("Div", []string{d, v}, shape, nil), shape)
	return nil
}

// broadcastSpan checks that the axes [axis, axis+len(pshape)) of shape
// equal pshape and returns pshape padded with trailing 1s, so that numpy
// broadcasting lines it up with those axes.
func (c *lctx) broadcastSpan(shape []int, axis int, pshape []int) ([]int, error) {
	if axis+len(pshape) > len(shape) || !slices.Equal(shape[axis:axis+len(pshape)], pshape) {
		return nil, c.errorf("parameter shape %v does not match the bottom's shape %v from axis %d", pshape, shape, axis)
	}
	if len(pshape) == 0 {
		return []int{}, nil
	}
	return append(append([]int{}, pshape...), ones(len(shape)-axis-len(pshape))...), nil
}

// spanShape returns the shape of a learned Scale/Bias parameter:
// num_axes axes of the bottom from axis (-1: all remaining).
func (c *lctx) spanShape(shape []int, axis, numAxes int) ([]int, error) {
	if numAxes < -1 {
		return nil, c.errorf("num_axes must be -1 or more (it is %d)", numAxes)
	}
	end := axis + numAxes
	if numAxes == -1 {
		end = len(shape)
	}
	if end > len(shape) {
		return nil, c.errorf("axis %d with num_axes %d goes beyond the bottom's %d axes", axis, numAxes, len(shape))
	}
	return append([]int{}, shape[axis:end]...), nil
}

// scale multiplies by a learned parameter or a second bottom spanning axes
// from `axis`, then optionally adds a learned bias.
func scale(c *lctx) error {
	if err := c.needBottoms(1, 2); err != nil {
		return err
	}
	if err := c.needTops(1, 1); err != nil {
		return err
	}
	sp := c.lp.GetScaleParam()
	shape := c.shapes[0]
	axis, err := canonAxis(int(sp.GetAxis()), len(shape))
	if err != nil && !(len(c.bottoms) == 2 && len(c.shapes[1]) == 0) {
		return err
	}
	var factor string
	var pshape []int
	next := 0
	if len(c.bottoms) == 2 {
		pshape = c.shapes[1]
		view, err := c.broadcastSpan(shape, axis, pshape)
		if err != nil {
			return err
		}
		factor = c.reshape(c.bottoms[1], pshape, view)
	} else {
		if pshape, err = c.spanShape(shape, axis, int(sp.GetNumAxes())); err != nil {
			return err
		}
		p, err := c.param(0, pshape, sp.GetFiller(), constFiller(1))
		if err != nil {
			return err
		}
		view, _ := c.broadcastSpan(shape, axis, pshape)
		factor = c.useParam(p, "scale", view)
		next = 1
	}
	y := c.emit("Mul", []string{c.bottoms[0], factor}, shape, nil)
	if sp.GetBiasTerm() {
		p, err := c.param(next, pshape, sp.GetBiasFiller(), nil)
		if err != nil {
			return err
		}
		view, _ := c.broadcastSpan(shape, axis, pshape)
		y = c.emit("Add", []string{y, c.useParam(p, "bias", view)}, shape, nil)
	}
	c.setTop(0, y, shape)
	return c.checkParamCount()
}

// bias adds a learned parameter or a second bottom spanning axes from
// `axis`.
func bias(c *lctx) error {
	if err := c.needBottoms(1, 2); err != nil {
		return err
	}
	if err := c.needTops(1, 1); err != nil {
		return err
	}
	bp := c.lp.GetBiasParam()
	shape := c.shapes[0]
	axis, err := canonAxis(int(bp.GetAxis()), len(shape))
	if err != nil && !(len(c.bottoms) == 2 && len(c.shapes[1]) == 0) {
		return err
	}
	var term string
	if len(c.bottoms) == 2 {
		view, err := c.broadcastSpan(shape, axis, c.shapes[1])
		if err != nil {
			return err
		}
		term = c.reshape(c.bottoms[1], c.shapes[1], view)
	} else {
		pshape, err := c.spanShape(shape, axis, int(bp.GetNumAxes()))
		if err != nil {
			return err
		}
		p, err := c.param(0, pshape, bp.GetFiller(), nil)
		if err != nil {
			return err
		}
		view, _ := c.broadcastSpan(shape, axis, pshape)
		term = c.useParam(p, "bias", view)
	}
	c.setTop(0, c.emit("Add", []string{c.bottoms[0], term}, shape, nil), shape)
	return c.checkParamCount()
}

// mvn: mean-variance normalisation per sample (across_channels) or per
// sample and channel: (x - mean) / (std + eps), eps outside the root.
func mvn(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	mp := c.lp.GetMvnParam()
	shape := c.shapes[0]
	first := 2
	if mp.GetAcrossChannels() {
		first = 1
	}
	if len(shape) <= first {
		return c.errorf("needs a bottom with more than %d axes, got shape %v", first, shape)
	}
	var axes []int64
	stat := append([]int{}, shape[:first]...)
	for i := first; i < len(shape); i++ {
		axes = append(axes, int64(i))
		stat = append(stat, 1)
	}
	inv := float32(1) / float32(prod(shape[first:]))
	x := c.bottoms[0]
	mean := c.emit("ReduceSum", []string{x, c.constI("axes", axes...)}, stat, attrs{"keepdims": graph.IntAttr(1)})
	mean = c.affine(mean, stat, inv, 0)
	y := c.emit("Sub", []string{x, mean}, shape, nil)
	if mp.GetNormalizeVariance() {
		sq := c.emit("Mul", []string{y, y}, shape, nil)
		v := c.emit("ReduceSum", []string{sq, c.constI("axes", axes...)}, stat, attrs{"keepdims": graph.IntAttr(1)})
		v = c.affine(v, stat, inv, 0)
		v = c.emit("Sqrt", []string{v}, stat, nil)
		v = c.affine(v, stat, 1, mp.GetEps())
		y = c.emit("Div", []string{y, v}, shape, nil)
	}
	c.setTop(0, y, shape)
	return nil
}
