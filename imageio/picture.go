package imageio

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"

	"golang.org/x/image/draw"
)

// normalise maps vals linearly so that their minimum becomes 0 and their
// maximum 255. A constant map becomes 0 (black) when it is 0, else gray.
func normalise(vals []float32) []uint8 {
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range vals {
		if v == v { // skip NaN
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	out := make([]uint8, len(vals))
	if !(hi > lo) {
		if hi == hi && hi != 0 && !math.IsInf(float64(hi), 0) {
			for i := range out {
				out[i] = 128
			}
		}
		return out
	}
	k := 255 / (hi - lo)
	for i, v := range vals {
		if v == v {
			out[i] = uint8((v-lo)*k + 0.5)
		}
	}
	return out
}

// GrayMap draws a w x h map of values (row-major) as a grayscale picture,
// normalised so its smallest value is black and its largest white.
func GrayMap(vals []float32, w, h int) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, w, h))
	copy(m.Pix, normalise(vals[:w*h]))
	return m
}

// ColorMap draws three w x h planes (red, green, blue) as a colour
// picture, normalised together so relative channel strengths survive.
func ColorMap(r, g, b []float32, w, h int) *image.RGBA {
	n := w * h
	all := make([]float32, 0, 3*n)
	all = append(append(append(all, r[:n]...), g[:n]...), b[:n]...)
	v := normalise(all)
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range n {
		m.Pix[4*i], m.Pix[4*i+1], m.Pix[4*i+2], m.Pix[4*i+3] = v[i], v[n+i], v[2*n+i], 0xff
	}
	return m
}

// Grid lays same-sized tiles out in rows of cols, each enlarged scale times
// with square pixels, with gap pixels of dark gray between and around them.
func Grid(tiles []image.Image, cols, scale, gap int) *image.RGBA {
	if len(tiles) == 0 {
		return image.NewRGBA(image.Rect(0, 0, 1, 1))
	}
	cols = max(1, min(cols, len(tiles)))
	scale = max(1, scale)
	tb := tiles[0].Bounds()
	tw, th := tb.Dx()*scale, tb.Dy()*scale
	rows := (len(tiles) + cols - 1) / cols
	m := image.NewRGBA(image.Rect(0, 0, gap+cols*(tw+gap), gap+rows*(th+gap)))
	draw.Draw(m, m.Bounds(), image.NewUniform(color.Gray{0x40}), image.Point{}, draw.Src)
	for i, t := range tiles {
		x, y := gap+(i%cols)*(tw+gap), gap+(i/cols)*(th+gap)
		draw.NearestNeighbor.Scale(m, image.Rect(x, y, x+tw, y+th), t, t.Bounds(), draw.Src, nil)
	}
	return m
}

// GridShape picks columns and an enlargement for n tiles of w x h pixels:
// a roughly square grid whose tiles are at least minTile pixels on their
// longer side, and whose width stays within maxWidth where possible.
func GridShape(n, w, h, minTile, maxWidth int) (cols, scale int) {
	cols = max(1, int(math.Ceil(math.Sqrt(float64(n)))))
	scale = max(1, (minTile+max(w, h)-1)/max(w, h))
	for scale > 1 && cols*(w*scale+1) > maxWidth {
		scale--
	}
	return cols, scale
}

// WritePNG writes img to path as a PNG file.
func WritePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := png.Encode(bw, img); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
