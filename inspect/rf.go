package inspect

import (
	"math"

	"stride/graph"
	"stride/imageio"
)

// field tracks a value's receptive field on the image input: its size in
// input pixels and the distance in input pixels between neighbouring
// output pixels (the product of strides so far).
type field struct {
	h, w   float64
	jh, jw float64
	all    bool
}

func (f *field) public() *Field {
	if f.all {
		return &Field{All: true}
	}
	return &Field{W: int(math.Round(f.w)), H: int(math.Round(f.h))}
}

// Ops whose output pixel sees every input pixel. Others do when they
// collapse the spatial dims (Flatten, Gemm, reductions): see rescale.
var global = map[string]bool{
	"GlobalAveragePool": true, "GlobalMaxPool": true, "GlobalLpPool": true,
}

// propagate sets the receptive field and layout of n's outputs from its
// inputs'.
func (a *analysis) propagate(n *graph.Node) {
	layout := imageio.NCHW
	if !windowed[n.Op] {
		layout = a.layout[n.Input(0)]
		if n.Op == "Transpose" {
			p, _ := n.AttrInts("perm", nil)
			switch {
			case equal(p, 0, 3, 1, 2):
				layout = imageio.NCHW
			case equal(p, 0, 2, 3, 1):
				layout = imageio.NHWC
			}
		}
	}
	var out *field
	switch {
	case windowed[n.Op]:
		out = a.windowField(n, a.rf[n.Input(0)])
	case global[n.Op]:
		if a.merge(n) != nil {
			out = &field{all: true}
		}
	default:
		out = a.rescale(n, a.merge(n), layout)
	}
	for _, o := range n.Outputs {
		if o == "" {
			continue
		}
		a.rf[o] = out
		if len(a.shapes[o]) == 4 {
			a.layout[o] = layout
		}
	}
}

func equal(p []int64, want ...int64) bool {
	if len(p) != len(want) {
		return false
	}
	for i := range p {
		if p[i] != want[i] {
			return false
		}
	}
	return true
}

// merge combines the fields of n's inputs: an elementwise op sees what
// each of its inputs sees.
func (a *analysis) merge(n *graph.Node) *field {
	var out *field
	for _, name := range n.Inputs {
		f := a.rf[name]
		if f == nil {
			continue
		}
		if out == nil {
			c := *f
			out = &c
			continue
		}
		out.all = out.all || f.all
		out.h, out.w = math.Max(out.h, f.h), math.Max(out.w, f.w)
		out.jh, out.jw = math.Max(out.jh, f.jh), math.Max(out.jw, f.jw)
	}
	return out
}

// rescale handles ops that change the spatial size without a window by
// comparing input and output shapes: an output of rank 2 or less, or of
// 1x1 pixels from a larger input, sees everything (Flatten, Gemm,
// reductions over space); a Resize changes the jump.
func (a *analysis) rescale(n *graph.Node, f *field, outLayout imageio.Layout) *field {
	if f == nil || f.all {
		return f
	}
	in, out := a.shapes[n.Input(0)], a.shapes[first(n.Outputs)]
	if len(in) != 4 || len(out) != 4 {
		if len(in) >= 3 && len(out) > 0 && len(out) < 3 {
			return &field{all: true}
		}
		return f
	}
	hi, wi, ho, wo := 2, 3, 2, 3
	if a.layout[n.Input(0)] == imageio.NHWC {
		hi, wi = 1, 2
	}
	if outLayout == imageio.NHWC {
		ho, wo = 1, 2
	}
	if in[hi]*in[wi] > 1 && out[ho] == 1 && out[wo] == 1 {
		return &field{all: true}
	}
	c := *f
	if out[ho] > 0 && out[ho] != in[hi] {
		c.jh *= float64(in[hi]) / float64(out[ho])
	}
	if out[wo] > 0 && out[wo] != in[wi] {
		c.jw *= float64(in[wi]) / float64(out[wo])
	}
	return &c
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// windowField applies a convolution or pooling window: the field grows by
// (F-1) * dilation * jump and the jump multiplies by the stride.
func (a *analysis) windowField(n *graph.Node, in *field) *field {
	if in == nil {
		return nil
	}
	if in.all {
		return in
	}
	var l Layer
	a.window(n, &l)
	out := *in
	k, s := l.Kernel, l.Stride
	if len(k) == 0 || len(k) > 2 {
		return &out
	}
	dil := l.Dilation
	if dil == nil {
		dil = []int{1, 1}
	}
	// One spatial dim (Conv1d) is the width.
	hIdx, wIdx := 0, 1
	if len(k) == 1 {
		hIdx, wIdx = -1, 0
	}
	grow := func(size, jump *float64, i int) {
		if n.Op == "ConvTranspose" {
			*size += math.Ceil(float64(k[i])/float64(s[i])-1) * *jump
			*jump /= float64(s[i])
			return
		}
		*size += float64((k[i]-1)*dil[i]) * *jump
		*jump *= float64(s[i])
	}
	if hIdx >= 0 {
		grow(&out.h, &out.jh, hIdx)
	}
	grow(&out.w, &out.jw, wIdx)
	return &out
}
