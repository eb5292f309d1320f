package viz

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"

	"stride/importers/onnx"
	"stride/tensor"
)

// FilterGrid draws the filters of a convolution weight blob (M x C x kh x
// kw) as a grid of tiles, each filter scaled to its own value range and
// enlarged so a tile is about 32 pixels wide. Three-channel filters are
// drawn in colour, others as the mean over their channels in gray.
func FilterGrid(w *tensor.Tensor) (image.Image, error) {
	if len(w.Shape) != 4 {
		return nil, fmt.Errorf("filters must be M x C x kh x kw, got %v", w.Shape)
	}
	m, c, kh, kw := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	d := w.F32()
	zoom := max(1, 32/max(kh, kw))
	cols := int(math.Ceil(math.Sqrt(float64(m))))
	rows := (m + cols - 1) / cols
	pad := 2
	tw, th := kw*zoom, kh*zoom
	img := image.NewRGBA(image.Rect(0, 0, cols*(tw+pad)+pad, rows*(th+pad)+pad))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for f := 0; f < m; f++ {
		fd := d[f*c*kh*kw : (f+1)*c*kh*kw]
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, v := range fd {
			lo, hi = min(lo, v), max(hi, v)
		}
		span := hi - lo
		if span == 0 {
			span = 1
		}
		val := func(ch, y, x int) uint8 {
			return uint8(255 * (fd[(ch*kh+y)*kw+x] - lo) / span)
		}
		ox, oy := pad+(f%cols)*(tw+pad), pad+(f/cols)*(th+pad)
		for y := 0; y < kh; y++ {
			for x := 0; x < kw; x++ {
				var col color.RGBA
				if c == 3 {
					col = color.RGBA{val(0, y, x), val(1, y, x), val(2, y, x), 255}
				} else {
					var s float32
					for ch := 0; ch < c; ch++ {
						s += fd[(ch*kh+y)*kw+x]
					}
					g := uint8(255 * (s/float32(c) - lo) / span)
					if c == 1 {
						g = val(0, y, x)
					}
					col = color.RGBA{g, g, g, 255}
				}
				for dy := 0; dy < zoom; dy++ {
					for dx := 0; dx < zoom; dx++ {
						img.Set(ox+x*zoom+dx, oy+y*zoom+dy, col)
					}
				}
			}
		}
	}
	return img, nil
}

// WriteFilterGrid writes FilterGrid(w) as a PNG, atomically.
func WriteFilterGrid(path string, w *tensor.Tensor) error {
	img, err := FilterGrid(w)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return onnx.WriteFileAtomic(path, buf.Bytes())
}
