package tensorops

import (
	"fmt"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// Pad in constant mode fills the output and copies the input into its
// interior. The other modes map each output coordinate to an input one
// independently per axis, so they pad one axis at a time with a gather.

func init() {
	register(opDef{op: "Pad", inputs: 2, build: buildPad, infer: inferPad})
}

// padIndex maps a coordinate i (possibly outside [0,n)) to the input
// coordinate it copies, for the non-constant modes.
var padIndex = map[string]func(i, n int) int{
	"reflect": func(i, n int) int {
		if n == 1 {
			return 0
		}
		m := 2 * (n - 1)
		i = (i%m + m) % m
		if i >= n {
			i = m - i
		}
		return i
	},
	"edge": func(i, n int) int { return min(max(i, 0), n-1) },
	"wrap": func(i, n int) int { return (i%n + n) % n },
}

// padAmounts resolves the pads (and optional axes) operands into per-axis
// begin and end amounts (negative ones crop) and the output shape.
func padAmounts(shape []int, pads, axes []int64, haveAxes bool) (begin, end, out []int, err error) {
	r := len(shape)
	var norm []int
	if haveAxes {
		if norm, err = ops.NormAxes(axes, r); err != nil {
			return nil, nil, nil, err
		}
	} else {
		norm = make([]int, r)
		for i := range norm {
			norm[i] = i
		}
	}
	if len(pads) != 2*len(norm) {
		return nil, nil, nil, fmt.Errorf("pads %v should have %d entries (2 per padded axis)", pads, 2*len(norm))
	}
	begin, end = make([]int, r), make([]int, r)
	out = append([]int{}, shape...)
	for i, a := range norm {
		b, e := pads[i], pads[i+len(norm)]
		if b > tensor.MaxElements || e > tensor.MaxElements || b < -tensor.MaxElements || e < -tensor.MaxElements {
			return nil, nil, nil, fmt.Errorf("pads %v: %w", pads, tensor.ErrTooLarge)
		}
		begin[a], end[a] = int(b), int(e)
		out[a] = shape[a] + begin[a] + end[a]
		if out[a] < 0 {
			return nil, nil, nil, fmt.Errorf("pads %v crop more than dim %d of shape %v", pads, a, shape)
		}
	}
	if _, err := tensor.NumElements(out); err != nil {
		return nil, nil, nil, err
	}
	return begin, end, out, nil
}

func buildPad(b *ops.Build) (ops.Kernel, error) {
	mode, err := b.Node.AttrString("mode", "constant")
	if err != nil {
		return nil, err
	}
	index, ok := padIndex[mode]
	if !ok && mode != "constant" {
		return nil, fmt.Errorf("unknown pad mode %q (want constant, reflect, edge or wrap)", mode)
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		pads, _, err := intsInput(in, 1, "pads")
		if err != nil {
			return nil, err
		}
		axes, haveAxes, err := intsInput(in, 3, "axes")
		if err != nil {
			return nil, err
		}
		begin, end, shape, err := padAmounts(x.Shape, pads, axes, haveAxes)
		if err != nil {
			return nil, err
		}
		var y *tensor.Tensor
		if mode == "constant" {
			y, err = padConstant(c, x, in, begin, end, shape)
		} else {
			y, err = padMapped(c, x, index, mode, begin, shape)
		}
		if err != nil {
			return nil, err
		}
		return ops.Outs(y)
	}), nil
}

func padConstant(c *ops.Ctx, x *tensor.Tensor, in []*tensor.Tensor, begin, end, shape []int) (*tensor.Tensor, error) {
	y, err := c.Alloc(x.DType, shape...)
	if err != nil {
		return nil, err
	}
	mv := moverOf(x.Data)
	n := y.Len()
	if len(in) > 2 && in[2] != nil {
		v := in[2]
		if v.Len() != 1 {
			return nil, fmt.Errorf("constant_value must have one element, got shape %v", v.Shape)
		}
		if v.DType != x.DType { // older models give a float for any input type
			if v, err = tensor.Convert(v, x.DType); err != nil {
				return nil, err
			}
		}
		c.For(n, 1<<15, func(lo, hi int) { mv.fill(y.Data, lo, hi, v.Data, 0) })
	} else {
		c.For(n, 1<<15, func(lo, hi int) { mv.zero(y.Data, lo, hi) })
	}
	region := make([]int, len(shape))
	xs, ys := tensor.Strides(x.Shape), tensor.Strides(shape)
	sOff, dOff := 0, 0
	for k, d := range x.Shape {
		cropB, cropE := max(0, -begin[k]), max(0, -end[k])
		region[k] = max(0, d-cropB-cropE)
		sOff += cropB * xs[k]
		dOff += max(0, begin[k]) * ys[k]
	}
	copyInto(c, y.Data, dOff, ys, x.Data, sOff, xs, region)
	return y, nil
}

// padMapped pads axis by axis, gathering along each padded axis through
// the mode's index map.
func padMapped(c *ops.Ctx, x *tensor.Tensor, index func(i, n int) int, mode string, begin, shape []int) (*tensor.Tensor, error) {
	cur := x
	for k, want := range shape {
		have := cur.Shape[k]
		if want == have && begin[k] == 0 {
			continue
		}
		if have == 0 && want > 0 {
			return nil, fmt.Errorf("cannot pad axis %d of size 0 in %s mode", k, mode)
		}
		next := append([]int{}, cur.Shape...)
		next[k] = want
		y, err := c.Alloc(x.DType, next...)
		if err != nil {
			return nil, err
		}
		src := make([]int, want)
		for j := range src {
			src[j] = index(j-begin[k], have)
		}
		takeAlong(c, y, cur, k, src)
		cur = y
	}
	if cur == x {
		return same(x), nil
	}
	return cur, nil
}

func inferPad(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	st, ok := in[0].Static()
	pads, okPads := constInts(b, 1)
	if !ok || !okPads {
		return nil, errNoInfer
	}
	var axes []int64
	if b.HasInput(3) {
		if axes, ok = constInts(b, 3); !ok {
			return nil, errNoInfer
		}
	}
	_, _, out, err := padAmounts(st, pads, axes, b.HasInput(3))
	if err != nil {
		return nil, err
	}
	return []graph.Type{staticType(in[0].DType, out)}, nil
}
