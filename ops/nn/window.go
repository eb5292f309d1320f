package nn

import (
	"fmt"

	"stride/graph"
)

// Sliding-window geometry shared by convolution and pooling: attribute
// parsing, output sizes and padding (auto_pad, ceil_mode), and tap tables
// that map a window position to the elements its kernel touches.

// autoPad is the ONNX auto_pad attribute.
type autoPad uint8

const (
	padNotSet autoPad = iota
	padSameUpper
	padSameLower
	padValid
)

var autoPadNames = map[string]autoPad{
	"":           padNotSet,
	"NOTSET":     padNotSet,
	"SAME_UPPER": padSameUpper,
	"SAME_LOWER": padSameLower,
	"VALID":      padValid,
}

func (p autoPad) same() bool { return p == padSameUpper || p == padSameLower }

// window holds the spatial attributes of a sliding-window op as given;
// nil slices were absent and take their defaults once the rank is known.
type window struct {
	autoPad   autoPad
	kernel    []int
	strides   []int
	dilations []int
	pads      []int // begins then ends
	ceil      bool
}

// parseWindow reads auto_pad, kernel_shape, strides, dilations, pads and
// ceil_mode, checking each value's sign.
func parseWindow(n *graph.Node) (window, error) {
	var w window
	ap, err := n.AttrString("auto_pad", "NOTSET")
	if err != nil {
		return w, err
	}
	var ok bool
	if w.autoPad, ok = autoPadNames[ap]; !ok {
		return w, fmt.Errorf("unknown auto_pad %q", ap)
	}
	fields := []struct {
		name string
		dst  *[]int
		min  int
	}{
		{"kernel_shape", &w.kernel, 1},
		{"strides", &w.strides, 1},
		{"dilations", &w.dilations, 1},
		{"pads", &w.pads, 0},
	}
	for _, f := range fields {
		v, err := n.AttrInts(f.name, nil)
		if err != nil {
			return w, err
		}
		if len(v) == 0 {
			continue // some exporters write empty lists for defaults
		}
		*f.dst = make([]int, len(v))
		for i, x := range v {
			if x < int64(f.min) || x > 1<<31 {
				return w, fmt.Errorf("%s %v: value %d out of range", f.name, v, x)
			}
			(*f.dst)[i] = int(x)
		}
	}
	c, err := n.AttrInt("ceil_mode", 0)
	if err != nil {
		return w, err
	}
	w.ceil = c != 0
	return w, nil
}

// axis is the resolved geometry of one spatial axis.
type axis struct {
	in, out, k, stride, dil int
	padB, padE              int
}

// span is the extent of the dilated kernel.
func (a axis) span() int { return (a.k-1)*a.dil + 1 }

// resolve validates the attribute lengths against r spatial dims and returns
// the per-axis strides, dilations and pads with defaults filled in.
func (w window) resolve(r int, kernel []int) (strides, dils, padB, padE []int, err error) {
	if len(kernel) != r {
		return nil, nil, nil, nil, fmt.Errorf("kernel_shape %v does not match %d spatial dims", kernel, r)
	}
	get := func(name string, v []int, n, def int) ([]int, error) {
		if v == nil {
			out := make([]int, n)
			for i := range out {
				out[i] = def
			}
			return out, nil
		}
		if len(v) != n {
			return nil, fmt.Errorf("%s %v: want %d values for %d spatial dims", name, v, n, r)
		}
		return v, nil
	}
	if strides, err = get("strides", w.strides, r, 1); err != nil {
		return
	}
	if dils, err = get("dilations", w.dilations, r, 1); err != nil {
		return
	}
	pads, err := get("pads", w.pads, 2*r, 0)
	if err != nil {
		return
	}
	return strides, dils, pads[:r], pads[r:], nil
}

// axes resolves the forward (convolution / pooling) geometry of input
// spatial shape in: output sizes and begin/end padding per axis. An input
// size < 0 marks an unknown dim (shape rules); its axis gets out = -1.
func (w window) axes(in, kernel []int) ([]axis, error) {
	strides, dils, pb, pe, err := w.resolve(len(in), kernel)
	if err != nil {
		return nil, err
	}
	out := make([]axis, len(in))
	for i := range out {
		a := axis{in: in[i], k: kernel[i], stride: strides[i], dil: dils[i]}
		if w.autoPad == padNotSet {
			a.padB, a.padE = pb[i], pe[i]
		}
		if a.in < 0 {
			a.out = -1
		} else if err := w.size(&a); err != nil {
			return nil, fmt.Errorf("kernel %v (dilations %v) is larger than the padded input %v", kernel, dils, in)
		}
		out[i] = a
	}
	return out, nil
}

// size sets the output size of one axis (and its padding under auto_pad).
func (w window) size(a *axis) error {
	if w.autoPad.same() {
		a.out = (a.in + a.stride - 1) / a.stride
		total := max(0, (a.out-1)*a.stride+a.span()-a.in)
		a.padB = total / 2
		if w.autoPad == padSameLower {
			a.padB = total - total/2
		}
		a.padE = total - a.padB
		return nil
	}
	room := a.in + a.padB + a.padE - a.span()
	if room < 0 {
		return fmt.Errorf("window does not fit")
	}
	a.out = room/a.stride + 1
	if w.ceil {
		a.out = (room+a.stride-1)/a.stride + 1
		// The last window must start inside the input or its leading
		// padding, not in the trailing padding.
		if (a.out-1)*a.stride >= a.in+a.padB {
			a.out--
		}
	}
	return nil
}

// taps maps positions of one grid to the elements of another that a kernel
// touches (ConvTranspose uses it for input positions and the output
// elements they write). Position p of axis a with tap t addresses element
// p*stride - padB + t*dil, or nothing when that falls outside the target.
type taps struct {
	k      []int   // taps per axis
	tab    [][]int // per axis: tab[p*k+t] = target index, or -1
	stride []int   // row-major strides of the target grid
	count  int     // product of k
}

// newTaps builds the tables for source grid sizes src over target sizes dst.
func newTaps(axes []axis, src, dst []int) *taps {
	t := &taps{k: make([]int, len(axes)), tab: make([][]int, len(axes)), count: 1}
	t.stride = make([]int, len(dst))
	acc := 1
	for a := len(dst) - 1; a >= 0; a-- {
		t.stride[a] = acc
		acc *= dst[a]
	}
	for a, ax := range axes {
		k := ax.k
		t.k[a] = k
		t.count *= k
		tab := make([]int, src[a]*k)
		for p := 0; p < src[a]; p++ {
			for q := 0; q < k; q++ {
				x := p*ax.stride - ax.padB + q*ax.dil
				if x < 0 || x >= dst[a] {
					x = -1
				}
				tab[p*k+q] = x
			}
		}
		t.tab[a] = tab
	}
	return t
}

// offsets fills dst[:t.count] with the target offsets (row-major in the
// target grid) of the taps of source position pos, in kernel row-major
// order, -1 for taps that fall outside.
func (t *taps) offsets(pos []int, dst []int) {
	n := 1
	dst[0] = 0
	for a, k := range t.k {
		row := t.tab[a][pos[a]*k : pos[a]*k+k]
		st := t.stride[a]
		// Expand in place from the back: entry i becomes entries
		// i*k..i*k+k-1, and i*k >= i, so unread entries are never
		// overwritten.
		for i := n - 1; i >= 0; i-- {
			base := dst[i]
			for q := k - 1; q >= 0; q-- {
				v := -1
				if base >= 0 && row[q] >= 0 {
					v = base + row[q]*st
				}
				dst[i*k+q] = v
			}
		}
		n *= k
	}
}

// unflatten writes the row-major multi-index of flat index j in shape.
func unflatten(j int, shape, pos []int) {
	for a := len(shape) - 1; a >= 0; a-- {
		pos[a] = j % shape[a]
		j /= shape[a]
	}
}

// advance steps a row-major multi-index to the next position.
func advance(pos, shape []int) {
	for a := len(pos) - 1; a >= 0; a-- {
		pos[a]++
		if pos[a] < shape[a] {
			return
		}
		pos[a] = 0
	}
}

// outSizes returns the output sizes of resolved axes.
func outSizes(axes []axis) []int {
	out := make([]int, len(axes))
	for i, a := range axes {
		out[i] = a.out
	}
	return out
}

// inferDims computes the output spatial dims for shape rules: known where
// the input dim is known, unknown otherwise.
func (w window) inferDims(in []graph.Dim, kernel []int) ([]graph.Dim, error) {
	sizes := make([]int, len(in))
	for i, d := range in {
		sizes[i] = -1
		if d.Known() {
			sizes[i] = int(d.Size)
		}
	}
	axes, err := w.axes(sizes, kernel)
	if err != nil {
		return nil, err
	}
	out := make([]graph.Dim, len(in))
	for i, a := range axes {
		out[i] = graph.Unknown
		if a.out >= 0 {
			out[i] = graph.Fixed(a.out)
		}
	}
	return out, nil
}
