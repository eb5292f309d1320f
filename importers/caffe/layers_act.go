package caffe

import (
	"math"

	"stride/graph"
	"stride/tensor"
)

// ONNX element type codes used by Cast.
const (
	onnxFloat = 1
	onnxInt64 = 7
)

// unary translates a parameterless element-wise layer to one ONNX op
// (Sigmoid, TanH -> Tanh, AbsVal -> Abs, BNLL -> Softplus).
func unary(op string) translateFunc {
	return func(c *lctx) error {
		if err := c.io(); err != nil {
			return err
		}
		c.setTop(0, c.emit(op, []string{c.bottoms[0]}, c.shapes[0], nil), c.shapes[0])
		return nil
	}
}

// relu: max(x, 0) + negative_slope * min(x, 0).
func relu(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	slope := c.lp.GetReluParam().GetNegativeSlope()
	x, shape := c.bottoms[0], c.shapes[0]
	if slope == 0 {
		c.setTop(0, c.emit("Relu", []string{x}, shape, nil), shape)
	} else {
		c.setTop(0, c.emit("LeakyRelu", []string{x}, shape, attrs{"alpha": graph.FloatAttr(slope)}), shape)
	}
	return nil
}

// prelu: learned slopes per channel (axis 1), or one shared slope.
func prelu(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	pp := c.lp.GetPreluParam()
	shape := c.shapes[0]
	var slopeShape, view []int
	if pp.GetChannelShared() {
		slopeShape, view = []int{}, []int{1}
	} else {
		if len(shape) < 2 {
			return c.errorf("needs a bottom with a channel axis, got shape %v", shape)
		}
		slopeShape = []int{shape[1]}
		view = append([]int{shape[1]}, ones(len(shape)-2)...)
	}
	s, err := c.param(0, slopeShape, pp.GetFiller(), constFiller(0.25))
	if err != nil {
		return err
	}
	y := c.emit("PRelu", []string{c.bottoms[0], c.useParam(s, "slope", view)}, shape, nil)
	c.setTop(0, y, shape)
	return c.checkParamCount()
}

func ones(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = 1
	}
	return out
}

func elu(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	alpha := c.lp.GetEluParam().GetAlpha()
	c.setTop(0, c.emit("Elu", []string{c.bottoms[0]}, c.shapes[0], attrs{"alpha": graph.FloatAttr(alpha)}), c.shapes[0])
	return nil
}

// affine emits scale*x + shift, skipping the identity parts.
func (c *lctx) affine(x string, shape []int, scale, shift float32) string {
	if scale != 1 {
		x = c.emit("Mul", []string{x, c.constF("scale", nil, scale)}, shape, nil)
	}
	if shift != 0 {
		x = c.emit("Add", []string{x, c.constF("shift", nil, shift)}, shape, nil)
	}
	return x
}

// power: (shift + scale * x) ^ power. With scale 0 the output is the
// constant shift^power, as in Caffe.
func power(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	pp := c.lp.GetPowerParam()
	x, shape := c.bottoms[0], c.shapes[0]
	p, sc, sh := pp.GetPower(), pp.GetScale(), pp.GetShift()
	if sc == 0 {
		v := float32(1)
		if p != 0 {
			v = float32(math.Pow(float64(sh), float64(p)))
		}
		y := c.emit("Expand", []string{c.constF("value", nil, v), c.constI("shape", ints64(shape)...)}, shape, nil)
		c.setTop(0, y, shape)
		return nil
	}
	y := c.affine(x, shape, sc, sh)
	if p != 1 {
		y = c.emit("Pow", []string{y, c.constF("power", nil, p)}, shape, nil)
	}
	c.setTop(0, y, shape)
	return nil
}

// exp: base ^ (shift + scale * x), computed as Caffe does:
// base^shift * exp(ln(base) * scale * x).
func exp(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	ep := c.lp.GetExpParam()
	base, sc, sh := float64(ep.GetBase()), ep.GetScale(), float64(ep.GetShift())
	logBase := 1.0
	if base != -1 {
		if !(base > 0) {
			return c.errorf("base must be positive, or -1 for e (it is %g)", base)
		}
		logBase = math.Log(base)
	}
	inner := float32(logBase) * sc
	outer := float32(1)
	if sh != 0 {
		if base == -1 {
			outer = float32(math.Exp(sh))
		} else {
			outer = float32(math.Pow(base, sh))
		}
	}
	x, shape := c.bottoms[0], c.shapes[0]
	y := c.affine(x, shape, inner, 0)
	y = c.emit("Exp", []string{y}, shape, nil)
	c.setTop(0, c.affine(y, shape, outer, 0), shape)
	return nil
}

// logLayer: log_base(shift + scale * x).
func logLayer(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	lp := c.lp.GetLogParam()
	base := float64(lp.GetBase())
	baseScale := float32(1)
	if base != -1 {
		if !(base > 0) {
			return c.errorf("base must be positive, or -1 for e (it is %g)", base)
		}
		baseScale = float32(1 / math.Log(base))
	}
	x, shape := c.bottoms[0], c.shapes[0]
	y := c.affine(x, shape, lp.GetScale(), lp.GetShift())
	y = c.emit("Log", []string{y}, shape, nil)
	c.setTop(0, c.affine(y, shape, baseScale, 0), shape)
	return nil
}

// threshold: 1 where x > threshold, else 0.
func threshold(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	t := c.lp.GetThresholdParam().GetThreshold()
	x, shape := c.bottoms[0], c.shapes[0]
	gt := c.emitT("Greater", []string{x, c.constF("threshold", nil, t)}, tensor.Bool, shape, nil)
	c.setTop(0, c.emit("Cast", []string{gt}, shape, attrs{"to": graph.IntAttr(onnxFloat)}), shape)
	return nil
}

func clip(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	cp := c.lp.GetClipParam()
	if cp == nil {
		return c.errorf("clip_param with min and max is required")
	}
	if cp.GetMin() > cp.GetMax() {
		return c.errorf("min %g is above max %g", cp.GetMin(), cp.GetMax())
	}
	ins := []string{c.bottoms[0], c.constF("min", nil, cp.GetMin()), c.constF("max", nil, cp.GetMax())}
	c.setTop(0, c.emit("Clip", ins, c.shapes[0], nil), c.shapes[0])
	return nil
}

// swish: x * sigmoid(beta * x).
func swish(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	x, shape := c.bottoms[0], c.shapes[0]
	s := c.affine(x, shape, c.lp.GetSwishParam().GetBeta(), 0)
	s = c.emit("Sigmoid", []string{s}, shape, nil)
	c.setTop(0, c.emit("Mul", []string{x, s}, shape, nil), shape)
	return nil
}
