package data

import (
	"fmt"
	"math/rand/v2"
)

// Transform is Caffe's TransformationParameter plus random shifts:
// out = (pixel - mean) * Scale, after a crop (random while training,
// centred at test time), a mirror (a coin flip per image, as Caffe does in
// both phases when mirror is set) and, while training, a random shift of
// up to Shift pixels each way (the CIFAR-10 augmentation of ConvNetJS);
// pixels shifted in from outside the image are 0.
type Transform struct {
	Scale float32
	// MeanValues (one per channel, or one for all) or MeanImage (C x H x
	// W, the source image size) is subtracted before scaling.
	MeanValues []float32
	MeanImage  []float32
	CropSize   int
	Mirror     bool
	Shift      int
}

// outSize returns the transformed image's height and width.
func (t *Transform) outSize(h, w int) (int, int) {
	if t.CropSize > 0 {
		return t.CropSize, t.CropSize
	}
	return h, w
}

func (t *Transform) check(d *Dataset) error {
	if t.CropSize > 0 && (t.CropSize > d.H || t.CropSize > d.W) {
		return fmt.Errorf("crop_size %d is larger than the %dx%d images of %s", t.CropSize, d.H, d.W, d.Name)
	}
	if n := len(t.MeanValues); n > 1 && n != d.C {
		return fmt.Errorf("%d mean values for %d channels", n, d.C)
	}
	if t.MeanImage != nil && len(t.MeanImage) != d.ImageSize() {
		return fmt.Errorf("the mean image has %d values, the images %d (%dx%dx%d)", len(t.MeanImage), d.ImageSize(), d.C, d.H, d.W)
	}
	if t.Shift < 0 {
		return fmt.Errorf("shift must not be negative")
	}
	return nil
}

// apply transforms one image (c x h x w pixels) into dst. rng drives the
// random choices (nil: none, as at test time with no mirror).
func (t *Transform) apply(src []uint8, c, h, w int, dst []float32, train bool, rng *rand.Rand) {
	oh, ow := t.outSize(h, w)
	hoff, woff := (h-oh)/2, (w-ow)/2
	if train && t.CropSize > 0 && rng != nil {
		hoff, woff = rng.IntN(h-oh+1), rng.IntN(w-ow+1)
	}
	mirror := t.Mirror && rng != nil && rng.IntN(2) == 1
	dy, dx := 0, 0
	if train && t.Shift > 0 && rng != nil {
		dy, dx = rng.IntN(2*t.Shift+1)-t.Shift, rng.IntN(2*t.Shift+1)-t.Shift
	}
	scale := t.Scale
	for ch := 0; ch < c; ch++ {
		var mean float32
		switch len(t.MeanValues) {
		case 0:
		case 1:
			mean = t.MeanValues[0]
		default:
			mean = t.MeanValues[ch]
		}
		for y := 0; y < oh; y++ {
			sy := y + hoff + dy
			row := dst[(ch*oh+y)*ow:][:ow]
			for x := 0; x < ow; x++ {
				sx := x + woff + dx
				var v float32
				k := -1
				if sy >= 0 && sy < h && sx >= 0 && sx < w {
					k = (ch*h+sy)*w + sx
					v = float32(src[k])
				}
				m := mean
				if t.MeanImage != nil {
					if k < 0 {
						k = (ch*h+clampi(sy, h-1))*w + clampi(sx, w-1)
					}
					m = t.MeanImage[k]
				}
				out := (v - m) * scale
				if mirror {
					row[ow-1-x] = out
				} else {
					row[x] = out
				}
			}
		}
	}
}
