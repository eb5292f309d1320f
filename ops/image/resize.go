package imageops

import (
	"fmt"
	"math"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

func init() {
	// Nearest mode moves elements of any type unchanged; linear and cubic
	// compute in float64 and store into the input's type (16-bit floats
	// included), so no type needs the runtime's float32 round trip.
	ops.Register(&ops.Def{Op: "Resize", Build: buildResize, Infer: inferResize, Native16: true, Float64: true})
}

type interpMode uint8

const (
	modeNearest interpMode = iota
	modeLinear
	modeCubic
)

var interpModes = map[string]interpMode{"nearest": modeNearest, "linear": modeLinear, "cubic": modeCubic}

// axisGeom is one axis of a resize.
type axisGeom struct {
	in, out    int
	scale      float64 // the output/input ratio the coordinate transforms use
	outF       float64 // in*scale: the output length before flooring
	roi0, roi1 float64 // crop window of tf_crop_and_resize, in units of the input length
}

// coordModes maps coordinate_transformation_mode to the input coordinate
// sampled by output index x. The formulas are those of the ONNX spec; where
// the spec and the reference implementation disagree on the output length
// used (align_corners with scales that do not divide evenly), the reference
// implementation, which produced the conformance data, wins.
var coordModes = map[string]func(x float64, g *axisGeom) float64{
	"half_pixel": func(x float64, g *axisGeom) float64 { return (x+0.5)/g.scale - 0.5 },
	"half_pixel_symmetric": func(x float64, g *axisGeom) float64 {
		// Keeps the centre of the input on the centre of the output when
		// flooring made the output shorter than in*scale.
		adj := float64(g.out) / g.outF
		return float64(g.in)/2*(1-adj) + (x+0.5)/g.scale - 0.5
	},
	"pytorch_half_pixel": func(x float64, g *axisGeom) float64 {
		if g.out <= 1 {
			return 0
		}
		return (x+0.5)/g.scale - 0.5
	},
	"align_corners": func(x float64, g *axisGeom) float64 {
		if g.out <= 1 || g.outF == 1 {
			return 0
		}
		return x * float64(g.in-1) / (g.outF - 1)
	},
	"asymmetric": func(x float64, g *axisGeom) float64 { return x / g.scale },
	// Removed in opset 13 but still found in older models.
	"tf_half_pixel_for_nn": func(x float64, g *axisGeom) float64 { return (x + 0.5) / g.scale },
	"tf_crop_and_resize": func(x float64, g *axisGeom) float64 {
		span := float64(g.in - 1)
		if g.out <= 1 {
			return (g.roi0 + g.roi1) / 2 * span
		}
		return g.roi0*span + x*(g.roi1-g.roi0)*span/float64(g.out-1)
	},
}

// nearestModes says, for a source coordinate with fractional part
// frac in (0,1), whether nearest mode takes the right-hand neighbour.
var nearestModes = map[string]func(frac float64) bool{
	"round_prefer_floor": func(f float64) bool { return f > 0.5 },
	"round_prefer_ceil":  func(f float64) bool { return f >= 0.5 },
	"floor":              func(float64) bool { return false },
	"ceil":               func(float64) bool { return true },
}

// aspectPolicies maps keep_aspect_ratio_policy to how the per-axis ratios
// out/in of "sizes" become one common scale (nil: each axis keeps its own).
var aspectPolicies = map[string]func(ratios []float64) float64{
	"stretch":     nil,
	"not_larger":  func(r []float64) float64 { return minMax(r, -1) },
	"not_smaller": func(r []float64) float64 { return minMax(r, 1) },
}

func minMax(v []float64, sign float64) float64 {
	best := v[0]
	for _, x := range v[1:] {
		if (x-best)*sign > 0 {
			best = x
		}
	}
	return best
}

type resizeKernel struct {
	mode          interpMode
	coord         func(x float64, g *axisGeom) float64
	crop          bool // tf_crop_and_resize: roi is used, samples outside get extrapolation
	pickRight     func(frac float64) bool
	cubicA        float64
	extrapolation float64
	exclude       bool // exclude_outside
	antialias     bool
	axes          []int64
	policy        func([]float64) float64
}

func buildResize(b *ops.Build) (ops.Kernel, error) { return newResize(b.Node) }

func newResize(n *graph.Node) (*resizeKernel, error) {
	a := &attrReader{n: n}
	k := &resizeKernel{
		mode:          enumOf(a, "mode", "nearest", interpModes),
		coord:         enumOf(a, "coordinate_transformation_mode", "half_pixel", coordModes),
		pickRight:     enumOf(a, "nearest_mode", "round_prefer_floor", nearestModes),
		cubicA:        a.float("cubic_coeff_a", -0.75),
		extrapolation: a.float("extrapolation_value", 0),
		exclude:       a.bool("exclude_outside", false),
		antialias:     a.bool("antialias", false),
		axes:          a.ints("axes", nil),
		policy:        enumOf(a, "keep_aspect_ratio_policy", "stretch", aspectPolicies),
	}
	if a.err != nil {
		return nil, a.err
	}
	ctm, _ := n.AttrString("coordinate_transformation_mode", "half_pixel")
	k.crop = ctm == "tf_crop_and_resize"
	return k, nil
}

// geometry works out every axis of the resize from the operands.
func (k *resizeKernel) geometry(inShape []int, roi, scales, sizes *tensor.Tensor) ([]axisGeom, error) {
	r := len(inShape)
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if k.axes != nil {
		var err error
		if axes, err = ops.NormAxes(k.axes, r); err != nil {
			return nil, err
		}
	}
	geo := make([]axisGeom, r)
	for i, d := range inShape {
		geo[i] = axisGeom{in: d, out: d, scale: 1, outF: float64(d), roi0: 0, roi1: 1}
	}
	if k.crop && roi != nil {
		v, err := numbers(roi, "roi")
		if err != nil {
			return nil, err
		}
		if len(v) != 2*len(axes) {
			return nil, fmt.Errorf("roi has %d values, want %d (start and end for %d axes)", len(v), 2*len(axes), len(axes))
		}
		for j, a := range axes {
			geo[a].roi0, geo[a].roi1 = v[j], v[len(axes)+j]
		}
	}
	switch {
	case scales != nil && sizes != nil:
		return nil, fmt.Errorf("only one of scales and sizes may be given")
	case scales != nil:
		v, err := numbers(scales, "scales")
		if err != nil {
			return nil, err
		}
		if len(v) != len(axes) {
			return nil, fmt.Errorf("scales has %d values for %d axes", len(v), len(axes))
		}
		for j, a := range axes {
			g := &geo[a]
			if !(v[j] > 0) || math.IsInf(v[j], 0) {
				return nil, fmt.Errorf("scale %g for axis %d is not a positive number", v[j], a)
			}
			g.scale = v[j]
			g.outF = float64(g.in) * v[j]
			if k.crop {
				g.outF *= g.roi1 - g.roi0
			}
			if !(g.outF >= 0 && g.outF < tensor.MaxElements) {
				return nil, fmt.Errorf("axis %d: output length %g out of range", a, g.outF)
			}
			g.out = int(math.Floor(g.outF))
		}
	case sizes != nil:
		v, err := sizes.Ints()
		if err != nil {
			return nil, fmt.Errorf("sizes: %w", err)
		}
		if len(v) != len(axes) {
			return nil, fmt.Errorf("sizes has %d values for %d axes", len(v), len(axes))
		}
		ratios := make([]float64, len(axes))
		for j, a := range axes {
			if v[j] < 0 || v[j] > tensor.MaxElements {
				return nil, fmt.Errorf("size %d for axis %d out of range", v[j], a)
			}
			if geo[a].in == 0 && v[j] != 0 {
				return nil, fmt.Errorf("cannot resize empty axis %d to %d", a, v[j])
			}
			ratios[j] = 1
			if geo[a].in > 0 {
				ratios[j] = float64(v[j]) / float64(geo[a].in)
			}
		}
		for j, a := range axes {
			g := &geo[a]
			g.scale, g.out = ratios[j], int(v[j])
			if k.policy != nil {
				// One scale for all axes; the sizes become bounds.
				g.scale = k.policy(ratios)
				g.out = int(g.scale*float64(g.in) + 0.5)
			}
			g.outF = g.scale * float64(g.in)
			if g.scale == 0 {
				g.scale = 1 // the axis is empty; keep the transforms finite
			}
		}
	default:
		return nil, fmt.Errorf("one of scales and sizes must be given")
	}
	return geo, nil
}

// source returns the input coordinate sampled by output index o, and false
// when tf_crop_and_resize samples outside the input. It is clamped a few
// pixels beyond the edges so that integer conversions stay in range.
func (k *resizeKernel) source(o int, g *axisGeom) (float64, bool) {
	x := k.coord(float64(o), g)
	if k.crop && !(x >= 0 && x <= float64(g.in-1)) {
		return 0, false
	}
	return math.Max(-8, math.Min(x, float64(g.in+8))), true
}

func clampIndex(i, n int) int {
	return max(0, min(i, n-1))
}

// nearestMap is the input index read by each output index of one axis (-1
// for samples outside the crop window).
func (k *resizeKernel) nearestMap(g *axisGeom) []int {
	m := make([]int, g.out)
	for o := range m {
		x, ok := k.source(o, g)
		if !ok {
			m[o] = -1
			continue
		}
		i := math.Floor(x)
		if f := x - i; f > 0 && k.pickRight(f) {
			i++
		}
		m[o] = clampIndex(int(i), g.in)
	}
	return m
}

// taps lists, for each output index of one axis, the input indices it
// blends and their weights.
type taps struct {
	first   []int // the taps of output o are idx[first[o]:first[o+1]]
	idx     []int
	w       []float64
	outside []bool // samples outside the crop window (tf_crop_and_resize)
}

// linearWeight and cubicWeight are the interpolation kernels at distance d.
func linearWeight(d float64) float64 { return max(0, 1-math.Abs(d)) }

func cubicWeight(a, d float64) float64 {
	d = math.Abs(d)
	switch {
	case d <= 1:
		return ((a+2)*d-(a+3))*d*d + 1
	case d < 2:
		return ((a*d-5*a)*d+8*a)*d - 4*a
	}
	return 0
}

// axisTaps computes the taps of one axis. Following the reference
// formulation, a source coordinate x is split into a base index and a
// fraction in (0,1] (an integral x counts as base x-1, fraction 1), and taps
// run over base+k for k in [first, 1-first]. Without antialiasing first is
// 0 for linear and -1 for cubic; when downscaling with antialias the kernel
// is stretched by 1/scale, which widens the window.
func (k *resizeKernel) axisTaps(g *axisGeom) *taps {
	support := 1.0
	weight := linearWeight
	if k.mode == modeCubic {
		support = 2
		weight = func(d float64) float64 { return cubicWeight(k.cubicA, d) }
	}
	stretch := 1.0
	if k.antialias && g.scale < 1 {
		stretch = g.scale
	}
	first := int(math.Floor(-support/stretch)) + 1
	t := &taps{first: make([]int, 0, g.out+1)}
	if k.crop {
		t.outside = make([]bool, g.out)
	}
	ws := make([]float64, 2-2*first)
	for o := 0; o < g.out; o++ {
		t.first = append(t.first, len(t.idx))
		x, ok := k.source(o, g)
		if !ok {
			t.outside[o] = true
			continue
		}
		base := math.Floor(x)
		frac := x - base
		if frac == 0 {
			base, frac = base-1, 1
		}
		b := int(base)
		sum := 0.0
		for j := range ws {
			ws[j] = weight((float64(first+j) - frac) * stretch)
			if k.exclude && (b+first+j < 0 || b+first+j >= g.in) {
				ws[j] = 0
			}
			sum += ws[j]
		}
		// The antialiased kernel is normalised; exclude_outside renormalises
		// what is left inside. The plain kernels already sum to one.
		norm := 1.0
		if (k.antialias && stretch < 1) || k.exclude {
			norm = 1 / sum
		}
		for j, w := range ws {
			if w != 0 {
				t.idx = append(t.idx, clampIndex(b+first+j, g.in))
				t.w = append(t.w, w*norm)
			}
		}
	}
	t.first = append(t.first, len(t.idx))
	return t
}

// identity reports whether the taps copy an axis of length n unchanged.
func (t *taps) identity(n int) bool {
	if len(t.first)-1 != n || len(t.idx) != n {
		return false
	}
	for o := 0; o < n; o++ {
		if t.first[o] != o || t.idx[o] != o || t.w[o] != 1 || t.outside != nil && t.outside[o] {
			return false
		}
	}
	return true
}

func (k *resizeKernel) Run(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if err := need(in, 1); err != nil {
		return nil, err
	}
	x := in[0]
	geo, err := k.geometry(x.Shape, optional(in, 1), optional(in, 2), optional(in, 3))
	if err != nil {
		return nil, err
	}
	outShape := make([]int, len(geo))
	for i, g := range geo {
		outShape[i] = g.out
	}
	y, err := c.Alloc(x.DType, outShape...)
	if err != nil {
		return nil, err
	}
	if y.Len() == 0 {
		return ops.Outs(y)
	}
	if k.mode == modeNearest {
		g := &axisMaps{inShape: x.Shape, maps: make([][]int, len(geo))}
		for a := range geo {
			g.maps[a] = k.nearestMap(&geo[a])
		}
		if err := g.gather(c, y, x, k.extrapolation); err != nil {
			return nil, err
		}
		return ops.Outs(y)
	}
	if x.DType == tensor.String || x.DType == tensor.Bool {
		return nil, fmt.Errorf("linear and cubic modes need numbers, got %v", x.DType)
	}
	tp := make([]*taps, len(geo))
	for a := range geo {
		tp[a] = k.axisTaps(&geo[a])
	}
	if ok := bilinearFast(c, x, y, tp); ok {
		return ops.Outs(y)
	}
	// Reference path: one separable pass per resized axis, innermost first,
	// in float64.
	data := x.Float64s()
	shape := append([]int{}, x.Shape...)
	for a := len(geo) - 1; a >= 0; a-- {
		if tp[a].identity(geo[a].in) {
			continue
		}
		data = resampleAxis(c, data, shape, a, tp[a], k.extrapolation)
		shape[a] = geo[a].out
	}
	if err := storeFloat64s(y, data); err != nil {
		return nil, err
	}
	return ops.Outs(y)
}

// resampleAxis applies the taps t along one axis of src (of the given shape).
func resampleAxis(c *ops.Ctx, src []float64, shape []int, axis int, t *taps, fill float64) []float64 {
	outer := tensor.Size(shape[:axis])
	n := shape[axis]
	inner := tensor.Size(shape[axis+1:])
	m := len(t.first) - 1
	dst := make([]float64, outer*m*inner)
	c.For(outer*m, 4096/(inner*(len(t.idx)/max(m, 1)+1))+1, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			o, j := row/m, row%m
			d := dst[row*inner : (row+1)*inner]
			if t.outside != nil && t.outside[j] {
				for i := range d {
					d[i] = fill
				}
				continue
			}
			clear(d)
			for q := t.first[j]; q < t.first[j+1]; q++ {
				s := src[(o*n+t.idx[q])*inner:][:inner]
				w := t.w[q]
				for i := range d {
					d[i] += w * s[i]
				}
			}
		}
	})
	return dst
}

// pair is a two-tap interpolation step of the bilinear fast path.
type pair struct {
	i0, i1 int
	w0, w1 float32
}

func pairsOf(t *taps) ([]pair, bool) {
	m := len(t.first) - 1
	p := make([]pair, m)
	for o := range p {
		if t.outside != nil && t.outside[o] {
			return nil, false
		}
		lo, hi := t.first[o], t.first[o+1]
		switch hi - lo {
		case 1:
			p[o] = pair{t.idx[lo], t.idx[lo], float32(t.w[lo]), 0}
		case 2:
			p[o] = pair{t.idx[lo], t.idx[lo+1], float32(t.w[lo]), float32(t.w[lo+1])}
		default:
			return nil, false
		}
	}
	return p, true
}

// bilinearFast handles the common case of CNN upsampling: a float32 NCHW
// tensor whose H and W are resized with at most two taps per output (linear
// without antialias widening, no crop extrapolation). It reports false when
// the case does not apply.
func bilinearFast(c *ops.Ctx, x, y *tensor.Tensor, tp []*taps) bool {
	if x.DType != tensor.Float32 || x.Rank() != 4 || !tp[0].identity(x.Shape[0]) || !tp[1].identity(x.Shape[1]) {
		return false
	}
	ys, ok1 := pairsOf(tp[2])
	xs, ok2 := pairsOf(tp[3])
	if !ok1 || !ok2 {
		return false
	}
	src, dst := x.F32(), y.F32()
	ih, iw := x.Shape[2], x.Shape[3]
	oh, ow := len(ys), len(xs)
	c.For(x.Shape[0]*x.Shape[1]*oh, 1024/ow+1, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			plane, oy := row/oh, row%oh
			py := ys[oy]
			r0 := src[(plane*ih+py.i0)*iw:][:iw]
			r1 := src[(plane*ih+py.i1)*iw:][:iw]
			d := dst[row*ow : (row+1)*ow]
			for ox, px := range xs {
				d[ox] = py.w0*(px.w0*r0[px.i0]+px.w1*r0[px.i1]) + py.w1*(px.w0*r1[px.i0]+px.w1*r1[px.i1])
			}
		}
	})
	return true
}

// inferResize computes the output shape when X's shape and the scales or
// sizes operand are known at load time.
func inferResize(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	xt := in[0]
	if !xt.Ranked {
		return nil, fmt.Errorf("unknown rank")
	}
	k, err := newResize(b.Node)
	if err != nil {
		return nil, err
	}
	unknown := []graph.Type{unknownOfRank(xt.DType, len(xt.Shape))}
	constOrAbsent := func(i int) (*tensor.Tensor, bool) {
		if !b.HasInput(i) {
			return nil, true
		}
		t := b.Const(i)
		if t != nil && t.Len() == 0 {
			t = nil
		}
		return t, b.Const(i) != nil
	}
	roi, ok1 := constOrAbsent(1)
	scales, ok2 := constOrAbsent(2)
	sizes, ok3 := constOrAbsent(3)
	shape, static := xt.Static()
	if !ok2 || !ok3 || (k.crop && !ok1) || !static {
		return unknown, nil
	}
	geo, err := k.geometry(shape, roi, scales, sizes)
	if err != nil {
		return nil, err
	}
	dims := make([]int, len(geo))
	for i, g := range geo {
		dims[i] = g.out
	}
	return []graph.Type{graph.TensorType(xt.DType, dims...)}, nil
}
