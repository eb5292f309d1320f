package caffe

import (
	"fmt"
	"math"
	"slices"

	"stride/graph"
	"stride/proto/caffepb"
)

// geometry is the per-spatial-axis window of a convolution or pooling.
type geometry struct {
	kernel, stride, pad, dilation []int
}

// perAxis expands a Caffe repeated field (given once, or once per spatial
// axis, or absent) or its _h/_w pair (2-D only) into one value per axis.
func perAxis(what string, vals []uint32, h, w *uint32, ns, def int, positive bool) ([]int, error) {
	out := make([]int, ns)
	if def < 0 && len(vals) == 0 && h == nil && w == nil {
		return nil, fmt.Errorf("%s_size (or %s_h and %s_w) is required", what, what, what)
	}
	switch {
	case h != nil || w != nil:
		if ns != 2 {
			return nil, fmt.Errorf("%s_h/%s_w apply to 2 spatial axes, the input has %d", what, what, ns)
		}
		if len(vals) > 0 {
			return nil, fmt.Errorf("give either %s or %s_h and %s_w, not both", what, what, what)
		}
		if h == nil || w == nil {
			return nil, fmt.Errorf("%s_h and %s_w must be given together", what, what)
		}
		out[0], out[1] = int(*h), int(*w)
	case len(vals) == 0:
		for i := range out {
			out[i] = def
		}
	case len(vals) == 1 || len(vals) == ns:
		for i := range out {
			out[i] = int(vals[min(i, len(vals)-1)])
		}
	default:
		return nil, fmt.Errorf("%s has %d values; give one, or one per spatial axis (%d)", what, len(vals), ns)
	}
	for _, v := range out {
		if v < 0 || positive && v == 0 || v > 1<<24 {
			return nil, fmt.Errorf("%s %v is out of range", what, out)
		}
	}
	return out, nil
}

func convGeometry(cp *caffepb.ConvolutionParameter, ns int) (geometry, error) {
	var g geometry
	var err error
	if g.kernel, err = perAxis("kernel", cp.GetKernelSize(), cp.KernelH, cp.KernelW, ns, -1, true); err != nil {
		return g, err
	}
	if g.stride, err = perAxis("stride", cp.GetStride(), cp.StrideH, cp.StrideW, ns, 1, true); err != nil {
		return g, err
	}
	if g.pad, err = perAxis("pad", cp.GetPad(), cp.PadH, cp.PadW, ns, 0, false); err != nil {
		return g, err
	}
	if g.dilation, err = perAxis("dilation", cp.GetDilation(), nil, nil, ns, 1, true); err != nil {
		return g, err
	}
	return g, nil
}

func convolution(c *lctx) error   { return convLike(c, false) }
func deconvolution(c *lctx) error { return convLike(c, true) }

// convLike translates Convolution (Conv) and Deconvolution (ConvTranspose).
// Caffe's axis parameter is honoured by folding the axes before it into
// the batch axis. Several bottom/top pairs share the layer's parameters.
func convLike(c *lctx, transposed bool) error {
	if err := c.needBottoms(1, -1); err != nil {
		return err
	}
	if len(c.tops) != len(c.bottoms) {
		return c.errorf("needs one top per bottom, has %d bottoms and %d tops", len(c.bottoms), len(c.tops))
	}
	cp := c.lp.GetConvolutionParam()
	shape := c.shapes[0]
	axis, err := canonAxis(int(cp.GetAxis()), len(shape))
	if err != nil {
		return err
	}
	ns := len(shape) - axis - 1
	if ns < 1 {
		return c.errorf("input shape %v has no spatial axis after the channel axis %d", shape, axis)
	}
	ch := shape[axis]
	numOut := int(cp.GetNumOutput())
	group := int(cp.GetGroup())
	switch {
	case numOut <= 0:
		return c.errorf("num_output must be positive (it is %d)", numOut)
	case group <= 0:
		return c.errorf("group must be positive")
	case ch%group != 0:
		return c.errorf("the input's %d channels do not divide into %d groups", ch, group)
	case numOut%group != 0:
		return c.errorf("num_output %d does not divide into %d groups", numOut, group)
	}
	g, err := convGeometry(cp, ns)
	if err != nil {
		return err
	}
	spatial := shape[axis+1:]
	outSpatial := make([]int, ns)
	for i := range spatial {
		extent := g.dilation[i]*(g.kernel[i]-1) + 1
		if transposed {
			outSpatial[i] = g.stride[i]*(spatial[i]-1) + extent - 2*g.pad[i]
			if outSpatial[i] <= 0 {
				return c.errorf("output size %d on spatial axis %d (input %d, kernel %d, stride %d, pad %d) is not positive", outSpatial[i], i, spatial[i], g.kernel[i], g.stride[i], g.pad[i])
			}
			continue
		}
		if spatial[i]+2*g.pad[i] < extent {
			return c.errorf("kernel extent %d on spatial axis %d is larger than the padded input (%d + 2*%d); input shape %v", extent, i, spatial[i], g.pad[i], shape)
		}
		outSpatial[i] = (spatial[i]+2*g.pad[i]-extent)/g.stride[i] + 1
	}
	wShape := append([]int{numOut, ch / group}, g.kernel...)
	if transposed {
		wShape = append([]int{ch, numOut / group}, g.kernel...)
	}
	w, err := c.param(0, wShape, cp.GetWeightFiller(), nil)
	if err != nil {
		return err
	}
	inputs := []string{"", c.useParam(w, "weight", nil)}
	if cp.GetBiasTerm() {
		b, err := c.param(1, []int{numOut}, cp.GetBiasFiller(), nil)
		if err != nil {
			return err
		}
		inputs = append(inputs, c.useParam(b, "bias", nil))
	}
	pads := append(append([]int{}, g.pad...), g.pad...)
	a := attrs{
		"kernel_shape": graph.IntsAttr(ints64(g.kernel)...),
		"strides":      graph.IntsAttr(ints64(g.stride)...),
		"pads":         graph.IntsAttr(ints64(pads)...),
		"dilations":    graph.IntsAttr(ints64(g.dilation)...),
		"group":        graph.IntAttr(int64(group)),
	}
	op := "Conv"
	if transposed {
		op = "ConvTranspose"
	}
	lead := shape[:axis]
	folded := append([]int{prod(lead), ch}, spatial...)
	foldedOut := append([]int{prod(lead), numOut}, outSpatial...)
	outShape := append(append(append([]int{}, lead...), numOut), outSpatial...)
	for i, x := range c.bottoms {
		if !slices.Equal(c.shapes[i], shape) {
			return c.errorf("bottoms must have equal shapes, got %v and %v", shape, c.shapes[i])
		}
		in := append([]string{c.reshape(x, shape, folded)}, inputs[1:]...)
		y := c.emit(op, in, foldedOut, a)
		c.setTop(i, c.reshape(y, foldedOut, outShape), outShape)
	}
	return c.checkParamCount()
}

// poolSize is Caffe's pooled output size: rounded up by default, then one
// less when the last window would start in the padding.
func poolSize(in, k, s, p int, ceil bool) (int, error) {
	if in+2*p < k {
		return 0, fmt.Errorf("kernel %d is larger than the padded input (%d + 2*%d)", k, in, p)
	}
	var out int
	if ceil {
		out = (in+2*p-k+s-1)/s + 1
	} else {
		out = (in+2*p-k)/s + 1
	}
	if p > 0 && (out-1)*s >= in+p {
		out--
	}
	return out, nil
}

// pooling translates Caffe pooling on 4-D blobs. MAX pooling with Caffe's
// output size is MaxPool with explicit extra end pads (padding cells never
// win a max). AVE pooling divides by the window clipped to the padded
// image, counting padding but not the overhang of the rounded-up last
// window: with no overhang that is AveragePool counting pads; otherwise the
// input is zero-padded explicitly and AveragePool, not counting its own
// (overhang) pads, divides by exactly that.
func pooling(c *lctx) error {
	if err := c.needBottoms(1, 1); err != nil {
		return err
	}
	if err := c.needTops(1, 2); err != nil {
		return err
	}
	if len(c.tops) == 2 {
		return c.errorf("the second top (the argmax mask of MAX pooling) is not supported")
	}
	pp := c.lp.GetPoolingParam()
	shape := c.shapes[0]
	if len(shape) != 4 {
		return c.errorf("needs a 4-axis (N, C, H, W) bottom, got shape %v", shape)
	}
	method := pp.GetPool()
	if method == caffepb.PoolingParameter_STOCHASTIC {
		return c.errorf("STOCHASTIC pooling is not supported")
	}
	x := c.bottoms[0]
	if pp.GetGlobalPooling() {
		if pp.KernelSize != nil || pp.KernelH != nil || pp.KernelW != nil {
			return c.errorf("global_pooling takes the whole input; a kernel size cannot be given")
		}
		if pp.GetPad() != 0 || pp.GetPadH() != 0 || pp.GetPadW() != 0 || pp.GetStride() != 1 || pp.StrideH != nil && pp.GetStrideH() != 1 || pp.StrideW != nil && pp.GetStrideW() != 1 {
			return c.errorf("global_pooling needs pad 0 and stride 1")
		}
		out := []int{shape[0], shape[1], 1, 1}
		op := "GlobalMaxPool"
		if method == caffepb.PoolingParameter_AVE {
			op = "GlobalAveragePool"
		}
		c.setTop(0, c.emit(op, []string{x}, out, nil), out)
		return nil
	}
	opt := func(v *uint32) []uint32 {
		if v == nil {
			return nil
		}
		return []uint32{*v}
	}
	kernel, err := perAxis("kernel", opt(pp.KernelSize), pp.KernelH, pp.KernelW, 2, -1, true)
	if err != nil {
		return c.errorf("%v (unless global_pooling is set)", err)
	}
	stride, err := perAxis("stride", opt(pp.Stride), pp.StrideH, pp.StrideW, 2, 1, true)
	if err != nil {
		return err
	}
	var pad []int
	if pp.PadH != nil || pp.PadW != nil {
		if pp.Pad != nil {
			return c.errorf("give either pad or pad_h and pad_w, not both")
		}
		pad = []int{int(pp.GetPadH()), int(pp.GetPadW())}
	} else {
		pad = []int{int(pp.GetPad()), int(pp.GetPad())}
	}
	for i := range pad {
		if pad[i] >= kernel[i] {
			return c.errorf("pad %v must be smaller than the kernel %v", pad, kernel)
		}
	}
	ceil := pp.GetRoundMode() == caffepb.PoolingParameter_CEIL
	if pp.CeilMode != nil {
		ceil = pp.GetCeilMode()
	}
	out := []int{shape[0], shape[1], 0, 0}
	extra := make([]int, 2)
	for i := 0; i < 2; i++ {
		o, err := poolSize(shape[2+i], kernel[i], stride[i], pad[i], ceil)
		if err != nil {
			return c.errorf("spatial axis %d of input %v: %v", i, shape, err)
		}
		out[2+i] = o
		extra[i] = max(0, (o-1)*stride[i]+kernel[i]-(shape[2+i]+2*pad[i]))
	}
	a := attrs{
		"kernel_shape": graph.IntsAttr(ints64(kernel)...),
		"strides":      graph.IntsAttr(ints64(stride)...),
	}
	overhang := extra[0] > 0 || extra[1] > 0
	switch {
	case extra[0] >= kernel[0] || extra[1] >= kernel[1]:
		// Some windows lie wholly past the input (pad 0, stride above the
		// kernel); ONNX pads must stay below the kernel, so pad explicitly.
		c.setTop(0, c.poolPastInput(x, shape, out, kernel, stride, extra, method == caffepb.PoolingParameter_MAX), out)
	case method == caffepb.PoolingParameter_MAX:
		a["pads"] = graph.IntsAttr(int64(pad[0]), int64(pad[1]), int64(pad[0]+extra[0]), int64(pad[1]+extra[1]))
		c.setTop(0, c.emit("MaxPool", []string{x}, out, a), out)
	case !overhang:
		a["pads"] = graph.IntsAttr(int64(pad[0]), int64(pad[1]), int64(pad[0]), int64(pad[1]))
		a["count_include_pad"] = graph.IntAttr(1)
		c.setTop(0, c.emit("AveragePool", []string{x}, out, a), out)
	default:
		if pad[0] > 0 || pad[1] > 0 {
			padded := []int{shape[0], shape[1], shape[2] + 2*pad[0], shape[3] + 2*pad[1]}
			p := c.constI("pads", 0, 0, int64(pad[0]), int64(pad[1]), 0, 0, int64(pad[0]), int64(pad[1]))
			x = c.emit("Pad", []string{x, p}, padded, attrs{"mode": graph.StringAttr("constant")})
		}
		a["pads"] = graph.IntsAttr(0, 0, int64(extra[0]), int64(extra[1]))
		a["count_include_pad"] = graph.IntAttr(0)
		c.setTop(0, c.emit("AveragePool", []string{x}, out, a), out)
	}
	return nil
}

// poolPastInput pools when, without padding, the rounded-up output has
// windows wholly past the input. The input is padded at the end
// explicitly: MAX pads with -FLT_MAX, which is what Caffe leaves in an
// empty window; AVE pads with zeros, averages over whole windows and
// rescales each output by kernel area / Caffe's divisor (the window clipped
// to the input, which for an empty window is 0 or negative: Caffe then
// yields NaN or -0, and so does the rescaling, axis by axis).
func (c *lctx) poolPastInput(x string, shape, out, kernel, stride, extra []int, isMax bool) string {
	padded := []int{shape[0], shape[1], shape[2] + extra[0], shape[3] + extra[1]}
	pads := c.constI("pads", 0, 0, 0, 0, 0, 0, int64(extra[0]), int64(extra[1]))
	a := attrs{
		"kernel_shape": graph.IntsAttr(ints64(kernel)...),
		"strides":      graph.IntsAttr(ints64(stride)...),
	}
	if isMax {
		x = c.emit("Pad", []string{x, pads, c.constF("lowest", nil, -math.MaxFloat32)}, padded, attrs{"mode": graph.StringAttr("constant")})
		return c.emit("MaxPool", []string{x}, out, a)
	}
	x = c.emit("Pad", []string{x, pads}, padded, attrs{"mode": graph.StringAttr("constant")})
	y := c.emit("AveragePool", []string{x}, out, a)
	// The divisor is a product of per-axis counts, so the rescaling is two
	// broadcast products of size H_out and W_out.
	for axis := 0; axis < 2; axis++ {
		n := out[2+axis]
		scale := make([]float32, n)
		for p := range scale {
			start := p * stride[axis]
			count := min(start+kernel[axis], shape[2+axis]) - start
			scale[p] = float32(kernel[axis]) / float32(count)
		}
		view := []int{1, 1, 1, 1}
		view[2+axis] = n
		y = c.emit("Mul", []string{y, c.constF("divisor", view, scale...)}, out, nil)
	}
	return y
}
