package imageio

import (
	"fmt"
	"image"
	"math"

	"golang.org/x/image/draw"
)

// Preprocessor turns decoded images into one model input each: resize of
// the shorter side to Resize (Catmull-Rom, which low-pass filters when
// shrinking), center crop to the input's height and width, transparent
// pixels composited over white, conversion to gray for one-channel models,
// then Norm. It is safe for concurrent use.
type Preprocessor struct {
	In   *Input
	Norm Norm
	// Resize is the shorter side before the crop; it is raised where needed
	// so the resized image covers the crop. 0 resizes to just cover it.
	Resize int

	a, b []float32
}

// NewPreprocessor checks norm against the input and returns a Preprocessor.
func NewPreprocessor(in *Input, norm Norm, resize int) (*Preprocessor, error) {
	if err := norm.Check(in.Channels); err != nil {
		return nil, err
	}
	if resize < 0 || resize > 1<<15 {
		return nil, fmt.Errorf("resize %d is out of range", resize)
	}
	p := &Preprocessor{In: in, Norm: norm, Resize: resize}
	p.a, p.b = norm.coeffs(in.Channels)
	return p, nil
}

// ResizeFor returns the shorter side an image is resized to before cropping
// the input size, for a preset's crop ratio (224 and 0.875 give 256).
func ResizeFor(in *Input, cropRatio float64) int {
	if cropRatio <= 0 || cropRatio > 1 {
		cropRatio = 1
	}
	return int(math.Round(float64(min(in.Height, in.Width)) / cropRatio))
}

// Crop resizes and center-crops img to the input's size, over white: the
// picture the network sees, before normalisation.
func (p *Preprocessor) Crop(img image.Image) *image.RGBA {
	w, h := p.In.Width, p.In.Height
	sb := img.Bounds()
	sw, sh := float64(sb.Dx()), float64(sb.Dy())
	s := float64(p.Resize) / math.Min(sw, sh)
	s = math.Max(s, math.Max(float64(w)/sw, float64(h)/sh))
	rw, rh := max(w, int(math.Round(sw*s))), max(h, int(math.Round(sh*s)))
	ox, oy := (rw-w)/2, (rh-h)/2
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if rw == sb.Dx() && rh == sb.Dy() {
		draw.Draw(dst, dst.Bounds(), img, sb.Min.Add(image.Pt(ox, oy)), draw.Src)
	} else {
		// Only the crop is computed: the scaled rectangle reaches outside dst.
		draw.CatmullRom.Scale(dst, image.Rect(-ox, -oy, rw-ox, rh-oy), img, sb, draw.Src, nil)
	}
	overWhite(dst)
	return dst
}

// overWhite composites premultiplied pixels over an opaque white background.
func overWhite(m *image.RGBA) {
	pix := m.Pix
	for i := 0; i+3 < len(pix); i += 4 {
		if a := pix[i+3]; a != 0xff {
			t := 0xff - a
			pix[i] += t
			pix[i+1] += t
			pix[i+2] += t
			pix[i+3] = 0xff
		}
	}
}

// Fill writes one preprocessed image into dst, which holds In.Len() values
// in the input's layout.
func (p *Preprocessor) Fill(img image.Image, dst []float32) error {
	if len(dst) != p.In.Len() {
		return fmt.Errorf("imageio: Fill into %d values, want %d", len(dst), p.In.Len())
	}
	p.FillCropped(p.Crop(img), dst)
	return nil
}

// FillCropped is Fill for an image Crop returned.
func (p *Preprocessor) FillCropped(m *image.RGBA, dst []float32) {
	w, h, nc := p.In.Width, p.In.Height, p.In.Channels
	plane := w * h
	var order [3]int // model channel -> RGB index
	if p.Norm.BGR {
		order = [3]int{2, 1, 0}
	} else {
		order = [3]int{0, 1, 2}
	}
	for y := range h {
		row := m.Pix[y*m.Stride : y*m.Stride+4*w]
		for x := range w {
			px := row[4*x : 4*x+3]
			i := y*w + x
			if nc == 1 {
				// ITU-R 601 luma with the rounding of Go's color.GrayModel
				// and Pillow's convert("L").
				g := (19595*uint32(px[0]) + 38470*uint32(px[1]) + 7471*uint32(px[2]) + 1<<15) >> 16
				dst[i] = float32(g)*p.a[0] + p.b[0]
				continue
			}
			for c := range 3 {
				v := float32(px[order[c]])*p.a[c] + p.b[c]
				if p.In.Layout == NHWC {
					dst[i*3+c] = v
				} else {
					dst[c*plane+i] = v
				}
			}
		}
	}
}
