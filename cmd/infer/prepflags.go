package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"stride/graph"
	"stride/imageio"
)

// prepFlags are the preprocessing flags of classify and visualize.
type prepFlags struct {
	preset    string
	mean, std string
	scale     float32
	order     string
	resize    int
	size      int
	meanFile  string
	maxMpx    float64
}

func (p *prepFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&p.preset, "preset", "", "preprocessing convention: "+strings.Join(imageio.PresetNames(), ", ")+
		" (default: caffe for Caffe nets, else imagenet-torch for colour models and none for grayscale ones)")
	fs.StringVar(&p.mean, "mean", "", "per-channel mean to subtract, in the model's channel order and the preset's pixel units (e.g. 0.485,0.456,0.406 or 104,117,123)")
	fs.StringVar(&p.std, "std", "", "per-channel standard deviation to divide by (e.g. 0.229,0.224,0.225)")
	fs.Float32Var(&p.scale, "scale", 0, "multiply the normalised values by this (Caffe's transform_param scale, e.g. 0.00390625)")
	fs.StringVar(&p.order, "channel-order", "", "rgb or bgr (default: the preset's; bgr for caffe)")
	fs.IntVar(&p.resize, "resize", 0, "resize the shorter side to this before the center crop (default: the preset's, 256 for a 224 input)")
	fs.IntVar(&p.size, "size", 224, "input height and width for a model that leaves them open")
	fs.StringVar(&p.meanFile, "mean-file", "", "Caffe mean image (mean.binaryproto); its per-channel mean is subtracted")
	fs.Float64Var(&p.maxMpx, "max-pixels", float64(imageio.DefaultMaxPixels)/1e6, "refuse images larger than this many megapixels (checked before decoding)")
}

func (p *prepFlags) maxPixels() int64 { return int64(p.maxMpx * 1e6) }

// build finds the model's image input and makes its preprocessor. It
// returns usage errors for flags that do not fit the model.
func (p *prepFlags) build(g *graph.Graph, model string, caffe bool) (*imageio.Input, *imageio.Preprocessor, string, error) {
	if p.size < 1 {
		return nil, nil, "", usagef("--size %d: want a positive size", p.size)
	}
	if p.maxMpx <= 0 {
		return nil, nil, "", usagef("--max-pixels %g: want a positive number of megapixels", p.maxMpx)
	}
	in, err := imageio.FindInput(g, p.size)
	if errors.Is(err, imageio.ErrNoImageInput) {
		return nil, nil, "", usagef("%s: %v", model, err)
	} else if err != nil {
		return nil, nil, "", err
	}
	name := p.preset
	if name == "" {
		switch {
		case caffe:
			name = "caffe"
		case in.Channels == 3:
			name = "imagenet-torch"
		default:
			name = "none"
		}
	}
	preset, ok := imageio.Presets[name]
	if !ok {
		return nil, nil, "", usagef("--preset %q: want one of %s", name, strings.Join(imageio.PresetNames(), ", "))
	}
	norm := preset.Norm
	if p.mean != "" {
		if norm.Mean, err = floats(p.mean); err != nil {
			return nil, nil, "", usagef("--mean: %v", err)
		}
	}
	if p.std != "" {
		if norm.Std, err = floats(p.std); err != nil {
			return nil, nil, "", usagef("--std: %v", err)
		}
	}
	if p.meanFile != "" {
		if p.mean != "" {
			return nil, nil, "", usagef("--mean and --mean-file both give a mean; choose one")
		}
		if !fileExists(p.meanFile) {
			return nil, nil, "", usagef("--mean-file %s: no such file", p.meanFile)
		}
		m, err := imageio.ReadMeanFile(p.meanFile)
		if err != nil {
			return nil, nil, "", usageError{err}
		}
		for i := range m {
			m[i] *= norm.PixelScale // the file is in 0-255 pixel units
		}
		norm.Mean = m
	}
	if p.scale != 0 {
		norm.Scale = p.scale
	}
	switch strings.ToLower(p.order) {
	case "":
	case "rgb":
		norm.BGR = false
	case "bgr":
		norm.BGR = true
	default:
		return nil, nil, "", usagef("--channel-order %q: want rgb or bgr", p.order)
	}
	if p.mean == "" && p.std == "" && p.meanFile == "" {
		norm = norm.ForChannels(in.Channels) // preset values for a grayscale model
	}
	resize := p.resize
	if resize == 0 {
		resize = imageio.ResizeFor(in, preset.CropRatio)
	}
	prep, err := imageio.NewPreprocessor(in, norm, resize)
	if err != nil {
		return nil, nil, "", usagef("%s: %v", model, err)
	}
	desc := fmt.Sprintf("input %v; preset %s: resize shorter side to %d, crop %dx%d, %s", in, name, resize, in.Width, in.Height, describeNorm(norm, in.Channels))
	return in, prep, desc, nil
}

func describeNorm(n imageio.Norm, channels int) string {
	order := "RGB"
	switch {
	case channels == 1:
		order = "gray"
	case n.BGR:
		order = "BGR"
	}
	s := fmt.Sprintf("%s x %g", order, n.PixelScale)
	if len(n.Mean) > 0 {
		s += fmt.Sprintf(", mean %v", n.Mean)
	}
	if len(n.Std) > 0 {
		s += fmt.Sprintf(", std %v", n.Std)
	}
	if n.Scale != 0 && n.Scale != 1 {
		s += fmt.Sprintf(", scale %g", n.Scale)
	}
	return s
}

func floats(s string) ([]float32, error) {
	var out []float32
	for _, part := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 32)
		if err != nil {
			return nil, fmt.Errorf("%q is not a comma-separated list of numbers", s)
		}
		out = append(out, float32(v))
	}
	return out, nil
}
