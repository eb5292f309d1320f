package imageio

import (
	"fmt"
	"sort"
)

// Norm says how a pixel value p (0 to 255) of model channel c becomes an
// input value:
//
//	x = (p*PixelScale - Mean[c]) / Std[c] * Scale
//
// torchvision models use PixelScale 1/255 with ImageNet's mean and std;
// Caffe models use PixelScale 1, mean values in 0-255 units, BGR order and
// sometimes a Scale such as 1/256.
type Norm struct {
	PixelScale float32
	// Mean and Std are per model channel (B, G, R order when BGR), or one
	// value for all channels; empty means 0 and 1.
	Mean, Std []float32
	// Scale multiplies the result; 0 means 1.
	Scale float32
	// BGR feeds channels in blue, green, red order.
	BGR bool
}

// Check reports whether the norm fits a model with the given number of
// channels.
func (n Norm) Check(channels int) error {
	if l := len(n.Mean); l > 1 && l != channels {
		return fmt.Errorf("%d mean values for a model with %d channels", l, channels)
	}
	if l := len(n.Std); l > 1 && l != channels {
		return fmt.Errorf("%d std values for a model with %d channels", l, channels)
	}
	for _, s := range n.Std {
		if s == 0 {
			return fmt.Errorf("a std value is 0")
		}
	}
	return nil
}

// ForChannels adapts a 3-channel norm to a grayscale model by averaging its
// per-channel mean and std.
func (n Norm) ForChannels(channels int) Norm {
	if channels != 1 {
		return n
	}
	avg := func(v []float32) []float32 {
		if len(v) <= 1 {
			return v
		}
		var s float32
		for _, x := range v {
			s += x
		}
		return []float32{s / float32(len(v))}
	}
	n.Mean, n.Std, n.BGR = avg(n.Mean), avg(n.Std), false
	return n
}

// coeffs returns per-channel a, b such that x = p*a + b.
func (n Norm) coeffs(channels int) (a, b []float32) {
	at := func(v []float32, c int, def float32) float32 {
		switch len(v) {
		case 0:
			return def
		case 1:
			return v[0]
		}
		return v[c]
	}
	scale := n.Scale
	if scale == 0 {
		scale = 1
	}
	a, b = make([]float32, channels), make([]float32, channels)
	for c := range channels {
		mean, std := at(n.Mean, c, 0), at(n.Std, c, 1)
		a[c] = n.PixelScale / std * scale
		b[c] = -mean / std * scale
	}
	return a, b
}

// Preset is a named preprocessing convention.
type Preset struct {
	Name string
	Doc  string
	Norm Norm
	// CropRatio is the model's input size over the shorter side the image
	// is resized to before the center crop: 0.875 crops 224 from 256.
	CropRatio float64
}

// Presets are the conventions --preset names.
var Presets = map[string]Preset{
	"imagenet-torch": {
		Name: "imagenet-torch",
		Doc:  "torchvision: RGB scaled to 0-1, ImageNet mean 0.485,0.456,0.406 and std 0.229,0.224,0.225, resize to 256 and crop 224",
		Norm: Norm{PixelScale: 1.0 / 255, Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}},
		// 224/256
		CropRatio: 0.875,
	},
	"caffe": {
		Name:      "caffe",
		Doc:       "Caffe: BGR in 0-255, ImageNet mean values 104,117,123 subtracted, resize to 256 and crop 224 (or 227)",
		Norm:      Norm{PixelScale: 1, Mean: []float32{104, 117, 123}, BGR: true},
		CropRatio: 0.875,
	},
	"none": {
		Name:      "none",
		Doc:       "RGB (or gray) scaled to 0-1, no mean or std, resize to the input size and crop",
		Norm:      Norm{PixelScale: 1.0 / 255},
		CropRatio: 1,
	},
}

// PresetNames returns the preset names, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(Presets))
	for k := range Presets {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
