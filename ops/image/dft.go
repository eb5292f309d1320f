package imageops

import (
	"fmt"

	"stride/ops"
	"stride/tensor"
)

func init() {
	ops.Register(
		&ops.Def{Op: "DFT", Build: buildDFT, Float64: true},
		&ops.Def{Op: "STFT", Build: buildSTFT, Float64: true},
	)
}

// Signals are real ([..., 1]) or complex ([..., 2]) in their last axis; all
// transforms run in float64. A one-sided forward transform of a complex
// signal (which the spec leaves undefined) returns the first n/2+1 bins of
// the full transform, as the reference implementation does.

type dftKernel struct {
	inverse, onesided bool
	axis              int64 // used when the axis input (opset 20) is absent
}

func buildDFT(b *ops.Build) (ops.Kernel, error) {
	a := &attrReader{n: b.Node}
	// Opset 17 has axis as an attribute defaulting to 1; opset 20 moved it
	// to an input defaulting to -2 (the last signal axis).
	def := int64(-2)
	if b.Opset > 0 && b.Opset < 20 {
		def = 1
	}
	k := &dftKernel{
		inverse:  a.bool("inverse", false),
		onesided: a.bool("onesided", false),
		axis:     a.int("axis", def),
	}
	return k, a.err
}

// dftGeom describes one DFT call: the signal is viewed as
// [outer, m, inner, comp] and the result as [outer, outLen, inner, outComp].
type dftGeom struct {
	outer, m, inner, comp int
	n                     int  // transform length
	outLen, outComp       int  // output length along the axis, 1 or 2
	hermitian             bool // input is the one-sided half of a real signal's spectrum (IRFFT)
	inverse               bool
}

func (k *dftKernel) Run(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if err := need(in, 1); err != nil {
		return nil, err
	}
	x := in[0]
	if err := needFloat(x, "input"); err != nil {
		return nil, err
	}
	r := x.Rank()
	if r < 2 || (x.Shape[r-1] != 1 && x.Shape[r-1] != 2) {
		return nil, fmt.Errorf("input shape %v must end in 1 (real) or 2 (complex)", x.Shape)
	}
	axis := k.axis
	if len(in) > 2 && in[2] != nil {
		var err error
		if axis, err = scalarInt(in[2], "axis"); err != nil {
			return nil, err
		}
	}
	ax := int(axis)
	if axis < 0 {
		ax = int(axis + int64(r))
	}
	if axis < int64(-r) || ax < 0 || ax > r-2 {
		return nil, fmt.Errorf("axis %d out of range for input shape %v (the last axis holds the complex parts)", axis, x.Shape)
	}
	g := &dftGeom{
		outer:     tensor.Size(x.Shape[:ax]),
		m:         x.Shape[ax],
		inner:     tensor.Size(x.Shape[ax+1 : r-1]),
		comp:      x.Shape[r-1],
		hermitian: k.inverse && k.onesided,
		inverse:   k.inverse,
	}
	g.n = g.m
	if g.hermitian {
		g.n = 2 * (g.m - 1)
	}
	if t := optional(in, 1); t != nil {
		n, err := scalarInt(t, "dft_length")
		if err != nil {
			return nil, err
		}
		if n > tensor.MaxElements {
			return nil, fmt.Errorf("dft_length %d too large", n)
		}
		g.n = int(n)
	}
	if g.n < 1 {
		return nil, fmt.Errorf("DFT length %d must be positive", g.n)
	}
	g.outLen, g.outComp = g.n, 2
	switch {
	case g.hermitian:
		g.outComp = 1 // IRFFT: the full real signal
	case k.onesided:
		g.outLen = g.n/2 + 1 // RFFT: the non-redundant half
	}
	outShape := append([]int{}, x.Shape...)
	outShape[ax], outShape[r-1] = g.outLen, g.outComp
	y, err := c.Alloc(x.DType, outShape...)
	if err != nil {
		return nil, err
	}
	if x.DType == tensor.Float32 {
		dftLines(c, g, x.F32(), y.F32())
	} else {
		dftLines(c, g, floatsOf[float64](x), floatsOf[float64](y))
	}
	return ops.Outs(y)
}

// dftLines transforms every line along the axis, in parallel.
func dftLines[T float](c *ops.Ctx, g *dftGeom, x, y []T) {
	plan := newFFT(g.n)
	lines := g.outer * g.inner
	c.For(lines, max(1, 4096/g.n), func(lo, hi int) {
		w := plan.newWork()
		re, im := make([]float64, g.n), make([]float64, g.n)
		for line := lo; line < hi; line++ {
			o, i := line/g.inner, line%g.inner
			clear(re)
			clear(im)
			// Samples past the transform length are dropped; missing ones are
			// zero. A one-sided spectrum fills only bins 0..n/2.
			use := min(g.m, g.n)
			if g.hermitian {
				use = min(g.m, g.n/2+1)
			}
			for j := range use {
				at := ((o*g.m+j)*g.inner + i) * g.comp
				re[j] = float64(x[at])
				if g.comp == 2 {
					im[j] = float64(x[at+1])
				}
			}
			if g.hermitian {
				// Rebuild the mirrored half: X[n-k] = conj(X[k]).
				for j := 1; j < g.n-j; j++ {
					re[g.n-j], im[g.n-j] = re[j], -im[j]
				}
			}
			plan.transform(re, im, g.inverse, w)
			for j := range g.outLen {
				at := ((o*g.outLen+j)*g.inner + i) * g.outComp
				y[at] = T(re[j])
				if g.outComp == 2 {
					y[at+1] = T(im[j])
				}
			}
		}
	})
}

type stftKernel struct{ onesided bool }

func buildSTFT(b *ops.Build) (ops.Kernel, error) {
	onesided, err := boolAttr(b.Node, "onesided", true)
	return &stftKernel{onesided: onesided}, err
}

// Run frames the signal [batch, length, 1|2] every frame_step samples,
// multiplies each frame by the window and transforms it, giving
// [batch, frames, bins, 2].
func (k *stftKernel) Run(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if err := need(in, 2); err != nil {
		return nil, err
	}
	x := in[0]
	if err := needFloat(x, "signal"); err != nil {
		return nil, err
	}
	if x.Rank() != 3 || (x.Shape[2] != 1 && x.Shape[2] != 2) {
		return nil, fmt.Errorf("signal must have shape [batch, length, 1 or 2], got %v", x.Shape)
	}
	length := x.Shape[1]
	step, err := scalarInt(in[1], "frame_step")
	if err != nil {
		return nil, err
	}
	var window []float64
	flen := int64(length)
	if t := optional(in, 2); t != nil {
		if t.Rank() != 1 {
			return nil, fmt.Errorf("window must be 1-D, got shape %v", t.Shape)
		}
		if window, err = numbers(t, "window"); err != nil {
			return nil, err
		}
		flen = int64(len(window))
	}
	if t := optional(in, 3); t != nil {
		if flen, err = scalarInt(t, "frame_length"); err != nil {
			return nil, err
		}
		if window != nil && int64(len(window)) != flen {
			return nil, fmt.Errorf("window length %d differs from frame_length %d", len(window), flen)
		}
	}
	if step < 1 || flen < 1 || flen > int64(length) {
		return nil, fmt.Errorf("frame_step %d and frame_length %d must be positive, the frame no longer than the signal (%d)", step, flen, length)
	}
	n := int(flen)
	frames := 1 + (length-n)/int(step)
	bins := n
	if k.onesided {
		bins = n/2 + 1
	}
	y, err := c.Alloc(x.DType, x.Shape[0], frames, bins, 2)
	if err != nil {
		return nil, err
	}
	f := &stftGeom{frames: frames, step: int(step), n: n, bins: bins, length: length, comp: x.Shape[2], window: window}
	if x.DType == tensor.Float32 {
		stftFrames(c, f, x.F32(), y.F32())
	} else {
		stftFrames(c, f, floatsOf[float64](x), floatsOf[float64](y))
	}
	return ops.Outs(y)
}

type stftGeom struct {
	frames, step, n, bins, length, comp int
	window                              []float64 // nil: rectangular
}

func stftFrames[T float](c *ops.Ctx, g *stftGeom, x, y []T) {
	plan := newFFT(g.n)
	total := len(y) / (g.bins * 2)
	c.For(total, max(1, 4096/g.n), func(lo, hi int) {
		w := plan.newWork()
		re, im := make([]float64, g.n), make([]float64, g.n)
		for t := lo; t < hi; t++ {
			b, f := t/g.frames, t%g.frames
			src := x[(b*g.length+f*g.step)*g.comp:]
			for j := range g.n {
				win := 1.0
				if g.window != nil {
					win = g.window[j]
				}
				re[j] = float64(src[j*g.comp]) * win
				im[j] = 0
				if g.comp == 2 {
					im[j] = float64(src[j*g.comp+1]) * win
				}
			}
			plan.transform(re, im, false, w)
			dst := y[t*g.bins*2:]
			for j := range g.bins {
				dst[2*j], dst[2*j+1] = T(re[j]), T(im[j])
			}
		}
	})
}
