package nn

import (
	"math/rand/v2"
	"testing"

	"stride/graph"
	"stride/tensor"
)

// convCase describes a convolution with explicit pads, for the direct-loop
// references below.
type convCase struct {
	name                string
	x, w                []int
	group               int
	strides, dils, pads []int // nil: defaults
	outPad              []int // ConvTranspose
	bias                bool
}

func (c convCase) defaults() (strides, dils, pads []int) {
	r := len(c.x) - 2
	strides, dils, pads = c.strides, c.dils, c.pads
	if strides == nil {
		strides = repeat(1, r)
	}
	if dils == nil {
		dils = repeat(1, r)
	}
	if pads == nil {
		pads = repeat(0, 2*r)
	}
	return
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func toI64(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

func (c convCase) attrs() map[string]*graph.Attr {
	a := map[string]*graph.Attr{}
	if c.group > 1 {
		a["group"] = graph.IntAttr(int64(c.group))
	}
	for name, v := range map[string][]int{"strides": c.strides, "dilations": c.dils, "pads": c.pads, "output_padding": c.outPad} {
		if v != nil {
			a[name] = ints(toI64(v)...)
		}
	}
	return a
}

// refConv is the definition of convolution, loop by loop.
func refConv(c convCase, x, w, b []float32) ([]int, []float64) {
	strides, dils, pads := c.defaults()
	r := len(c.x) - 2
	g := max(c.group, 1)
	n, ch, m := c.x[0], c.x[1], c.w[0]
	in, k := c.x[2:], c.w[2:]
	out := make([]int, r)
	for i := range out {
		out[i] = (in[i]+pads[i]+pads[i+r]-(k[i]-1)*dils[i]-1)/strides[i] + 1
	}
	shape := append([]int{n, m}, out...)
	y := make([]float64, tensor.Size(shape))
	cg, mg := ch/g, m/g
	opos, kpos := make([]int, r), make([]int, r)
	for img := 0; img < n; img++ {
		for oc := 0; oc < m; oc++ {
			grp := oc / mg
			for oi := 0; oi < tensor.Size(out); oi++ {
				unflatten(oi, out, opos)
				s := 0.0
				if b != nil {
					s = float64(b[oc])
				}
				for ic := 0; ic < cg; ic++ {
					for ki := 0; ki < tensor.Size(k); ki++ {
						unflatten(ki, k, kpos)
						xi, inside := 0, true
						for a := 0; a < r; a++ {
							p := opos[a]*strides[a] - pads[a] + kpos[a]*dils[a]
							inside = inside && p >= 0 && p < in[a]
							xi = xi*in[a] + p
						}
						if !inside {
							continue
						}
						xv := x[(img*ch+grp*cg+ic)*tensor.Size(in)+xi]
						wv := w[(oc*cg+ic)*tensor.Size(k)+ki]
						s += float64(xv) * float64(wv)
					}
				}
				y[(img*m+oc)*tensor.Size(out)+oi] = s
			}
		}
	}
	return shape, y
}

// refConvTranspose scatters every input element through the kernel.
func refConvTranspose(c convCase, x, w, b []float32) ([]int, []float64) {
	strides, dils, pads := c.defaults()
	r := len(c.x) - 2
	g := max(c.group, 1)
	n, ch, mg := c.x[0], c.x[1], c.w[1]
	m, cg := mg*g, ch/g
	in, k := c.x[2:], c.w[2:]
	outPad := c.outPad
	if outPad == nil {
		outPad = repeat(0, r)
	}
	out := make([]int, r)
	for i := range out {
		out[i] = strides[i]*(in[i]-1) + outPad[i] + (k[i]-1)*dils[i] + 1 - pads[i] - pads[i+r]
	}
	shape := append([]int{n, m}, out...)
	y := make([]float64, tensor.Size(shape))
	plane := tensor.Size(out)
	for img := 0; img < n; img++ {
		for oc := 0; oc < m; oc++ {
			for i := 0; i < plane; i++ {
				if b != nil {
					y[(img*m+oc)*plane+i] = float64(b[oc])
				}
			}
		}
	}
	ipos, kpos := make([]int, r), make([]int, r)
	for img := 0; img < n; img++ {
		for ic := 0; ic < ch; ic++ {
			grp := ic / cg
			for ii := 0; ii < tensor.Size(in); ii++ {
				unflatten(ii, in, ipos)
				xv := float64(x[(img*ch+ic)*tensor.Size(in)+ii])
				for om := 0; om < mg; om++ {
					for ki := 0; ki < tensor.Size(k); ki++ {
						unflatten(ki, k, kpos)
						oi, inside := 0, true
						for a := 0; a < r; a++ {
							p := ipos[a]*strides[a] - pads[a] + kpos[a]*dils[a]
							inside = inside && p >= 0 && p < out[a]
							oi = oi*out[a] + p
						}
						if inside {
							wv := float64(w[(ic*mg+om)*tensor.Size(k)+ki])
							y[(img*m+grp*mg+om)*plane+oi] += xv * wv
						}
					}
				}
			}
		}
	}
	return shape, y
}

func TestConvAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	cases := []convCase{
		{name: "1d", x: []int{2, 3, 11}, w: []int{4, 3, 3}, strides: []int{2}, dils: []int{2}, pads: []int{1, 2}, bias: true},
		{name: "2d groups", x: []int{1, 4, 7, 9}, w: []int{6, 2, 3, 2}, group: 2, strides: []int{2, 1}, dils: []int{1, 2}, pads: []int{1, 0, 2, 1}, bias: true},
		{name: "depthwise", x: []int{2, 6, 8, 8}, w: []int{6, 1, 3, 3}, group: 6, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}},
		{name: "depthwise multiplier", x: []int{1, 3, 5, 5}, w: []int{6, 1, 3, 3}, group: 3, pads: []int{1, 1, 1, 1}, bias: true},
		{name: "3d", x: []int{1, 2, 5, 6, 4}, w: []int{3, 2, 2, 3, 2}, strides: []int{1, 2, 1}, dils: []int{2, 1, 1}, pads: []int{0, 1, 1, 1, 0, 1}, bias: true},
		{name: "pointwise", x: []int{2, 8, 5, 5}, w: []int{4, 8, 1, 1}, bias: true},
		{name: "pointwise strided", x: []int{1, 3, 6, 6}, w: []int{2, 3, 1, 1}, strides: []int{2, 2}},
		{name: "chunked", x: []int{1, 8, 70, 70}, w: []int{4, 8, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true},
		{name: "batch of many", x: []int{9, 2, 4, 4}, w: []int{3, 2, 2, 2}},
		{name: "kernel as large as input", x: []int{1, 2, 3, 3}, w: []int{2, 2, 3, 3}},
	}
	for _, c := range cases {
		x, w := randTensor(r, c.x...), randTensor(r, c.w...)
		in := []*tensor.Tensor{x, w}
		var bias []float32
		if c.bias {
			bt := randTensor(r, c.w[0])
			bias = bt.F32()
			in = append(in, bt)
		}
		y := mustRun(t, "Conv", c.attrs(), 1, in...)[0]
		shape, want := refConv(c, x.F32(), w.F32(), bias)
		checkClose(t, c.name, y, shape, want, 1e-4)
	}
}

func TestConvAutoPad(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	x, w := randTensor(r, 1, 2, 6, 7), randTensor(r, 3, 2, 3, 3)
	// 6 and 7 with stride 2 give 3 and 4 outputs: total padding 1 and 2.
	cases := []struct {
		autoPad string
		pads    []int
	}{
		{"SAME_UPPER", []int{0, 1, 1, 1}},
		{"SAME_LOWER", []int{1, 1, 0, 1}},
		{"VALID", []int{0, 0, 0, 0}},
	}
	for _, tc := range cases {
		a := map[string]*graph.Attr{"auto_pad": graph.StringAttr(tc.autoPad), "strides": ints(2, 2)}
		y := mustRun(t, "Conv", a, 1, x, w)[0]
		shape, want := refConv(convCase{x: x.Shape, w: w.Shape, strides: []int{2, 2}, pads: tc.pads}, x.F32(), w.F32(), nil)
		checkClose(t, tc.autoPad, y, shape, want, 1e-4)
	}
}

func TestConvErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	bad := []struct {
		name  string
		x, w  []int
		attrs map[string]*graph.Attr
	}{
		{"channels", []int{1, 3, 5, 5}, []int{2, 2, 3, 3}, nil},
		{"group", []int{1, 4, 5, 5}, []int{3, 2, 3, 3}, map[string]*graph.Attr{"group": graph.IntAttr(2)}},
		{"rank", []int{1, 3, 5}, []int{2, 3, 3, 3}, nil},
		{"kernel too big", []int{1, 1, 2, 2}, []int{1, 1, 3, 3}, nil},
		{"kernel_shape", []int{1, 1, 5, 5}, []int{1, 1, 3, 3}, map[string]*graph.Attr{"kernel_shape": ints(2, 2)}},
		{"pads length", []int{1, 1, 5, 5}, []int{1, 1, 3, 3}, map[string]*graph.Attr{"pads": ints(1, 1)}},
	}
	for _, b := range bad {
		if _, err := runOp("Conv", b.attrs, 1, randTensor(r, b.x...), randTensor(r, b.w...)); err == nil {
			t.Errorf("%s: Conv accepted bad input", b.name)
		}
	}
	if _, err := runOp("Conv", map[string]*graph.Attr{"strides": ints(0, 1)}, 1, randTensor(r, 1, 1, 3, 3), randTensor(r, 1, 1, 1, 1)); err == nil {
		t.Error("Conv accepted stride 0")
	}
}

func TestConvTransposeAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	cases := []convCase{
		{name: "2d groups", x: []int{1, 4, 3, 4}, w: []int{4, 3, 3, 2}, group: 2, strides: []int{2, 3}, dils: []int{1, 2}, pads: []int{1, 0, 0, 1}, outPad: []int{1, 2}, bias: true},
		{name: "1d", x: []int{2, 2, 5}, w: []int{2, 3, 3}, strides: []int{2}, pads: []int{1, 1}},
		{name: "3d", x: []int{1, 2, 2, 3, 2}, w: []int{2, 2, 2, 2, 3}, strides: []int{2, 1, 2}, pads: []int{0, 1, 0, 1, 0, 1}, bias: true},
		{name: "chunked", x: []int{1, 4, 40, 40}, w: []int{4, 64, 5, 5}, strides: []int{2, 2}, pads: []int{2, 2, 2, 2}},
		{name: "depthwise batch", x: []int{5, 3, 4, 4}, w: []int{3, 1, 3, 3}, group: 3, strides: []int{2, 2}, bias: true},
	}
	for _, c := range cases {
		x, w := randTensor(r, c.x...), randTensor(r, c.w...)
		in := []*tensor.Tensor{x, w}
		var bias []float32
		if c.bias {
			bt := randTensor(r, c.w[1]*max(c.group, 1))
			bias = bt.F32()
			in = append(in, bt)
		}
		y := mustRun(t, "ConvTranspose", c.attrs(), 1, in...)[0]
		shape, want := refConvTranspose(c, x.F32(), w.F32(), bias)
		checkClose(t, c.name, y, shape, want, 1e-4)
	}
}

func TestConvTransposeOutputShape(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	x, w := randTensor(r, 1, 1, 3, 3), randTensor(r, 1, 2, 3, 3)
	// Full output is 2*(3-1)+3 = 7; asking for 6 leaves one unit of
	// padding: at the start (NOTSET, SAME_LOWER) or the end (SAME_UPPER).
	cases := []struct {
		attrs map[string]*graph.Attr
		pads  []int
	}{
		{map[string]*graph.Attr{"output_shape": ints(6, 6)}, []int{1, 1, 0, 0}},
		{map[string]*graph.Attr{"output_shape": ints(1, 2, 6, 6)}, []int{1, 1, 0, 0}},
		{map[string]*graph.Attr{"output_shape": ints(6, 6), "auto_pad": graph.StringAttr("SAME_UPPER")}, []int{0, 0, 1, 1}},
		{map[string]*graph.Attr{"auto_pad": graph.StringAttr("SAME_UPPER")}, []int{0, 0, 1, 1}},
		{map[string]*graph.Attr{"auto_pad": graph.StringAttr("SAME_LOWER")}, []int{1, 1, 0, 0}},
	}
	for i, tc := range cases {
		tc.attrs["strides"] = ints(2, 2)
		y := mustRun(t, "ConvTranspose", tc.attrs, 1, x, w)[0]
		shape, want := refConvTranspose(convCase{x: x.Shape, w: w.Shape, strides: []int{2, 2}, pads: tc.pads}, x.F32(), w.F32(), nil)
		checkClose(t, "output_shape case "+string(rune('0'+i)), y, shape, want, 1e-5)
	}
}

func BenchmarkConvTranspose(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x, w := randTensor(r, 1, 64, 32, 32), randTensor(r, 64, 32, 4, 4)
	attrs := map[string]*graph.Attr{"pads": ints(1, 1, 1, 1), "strides": ints(2, 2)}
	for b.Loop() {
		if _, err := runOp("ConvTranspose", attrs, 1, x, w); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(2*64*32*16*32*32)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
}
