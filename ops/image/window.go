package imageops

import (
	"fmt"
	"math"

	"stride/ops"
	"stride/tensor"
)

// windows are the generalised cosine windows, as functions of the phase
// 2πn/N (N is the size for periodic windows, size-1 for symmetric ones).
var windows = map[string]func(phase float64) float64{
	"HannWindow":     func(p float64) float64 { return 0.5 - 0.5*math.Cos(p) },
	"HammingWindow":  func(p float64) float64 { return 25.0/46 - 21.0/46*math.Cos(p) },
	"BlackmanWindow": func(p float64) float64 { return 0.42 - 0.5*math.Cos(p) + 0.08*math.Cos(2*p) },
}

func init() {
	for name, fn := range windows {
		ops.Register(&ops.Def{Op: name, Build: windowBuilder(fn), Native16: true, Float64: true})
	}
	ops.Register(&ops.Def{Op: "MelWeightMatrix", Build: buildMel, Native16: true, Float64: true})
}

func windowBuilder(fn func(float64) float64) func(b *ops.Build) (ops.Kernel, error) {
	return func(b *ops.Build) (ops.Kernel, error) {
		dt, err := outputDType(b.Node)
		if err != nil {
			return nil, err
		}
		periodic, err := boolAttr(b.Node, "periodic", true)
		if err != nil {
			return nil, err
		}
		return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			if err := need(in, 1); err != nil {
				return nil, err
			}
			size, err := scalarInt(in[0], "size")
			if err != nil {
				return nil, err
			}
			if size < 0 || size > tensor.MaxElements {
				return nil, fmt.Errorf("window size %d out of range", size)
			}
			period := float64(size)
			if !periodic {
				period--
			}
			v := make([]float64, size)
			for i := range v {
				v[i] = 1 // a one-point symmetric window
				if period > 0 {
					v[i] = fn(2 * math.Pi * float64(i) / period)
				}
			}
			y, err := c.Alloc(dt, int(size))
			if err != nil {
				return nil, err
			}
			return result(y, storeFloat64s(y, v))
		}), nil
	}
}

func buildMel(b *ops.Build) (ops.Kernel, error) {
	dt, err := outputDType(b.Node)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := need(in, 5); err != nil {
			return nil, err
		}
		var ints [3]int64
		for i, what := range []string{"num_mel_bins", "dft_length", "sample_rate"} {
			if ints[i], err = scalarInt(in[i], what); err != nil {
				return nil, err
			}
		}
		lower, err := scalarFloat(in[3], "lower_edge_hertz")
		if err != nil {
			return nil, err
		}
		upper, err := scalarFloat(in[4], "upper_edge_hertz")
		if err != nil {
			return nil, err
		}
		bins, dftLen, rate := ints[0], ints[1], ints[2]
		if bins < 0 || dftLen < 1 || rate < 1 || bins > tensor.MaxElements || dftLen > tensor.MaxElements {
			return nil, fmt.Errorf("invalid mel matrix parameters: %d bins, dft_length %d, sample_rate %d", bins, dftLen, rate)
		}
		if !(lower >= 0 && lower <= upper) || math.IsInf(upper, 0) {
			return nil, fmt.Errorf("edge frequencies must satisfy 0 <= lower (%g) <= upper (%g)", lower, upper)
		}
		rows := int(dftLen/2 + 1)
		if _, err := tensor.NumElements([]int{rows, int(bins)}); err != nil {
			return nil, err
		}
		w := melWeights(int(bins), int(dftLen), rows, float64(rate), lower, upper)
		y, err := c.Alloc(dt, rows, int(bins))
		if err != nil {
			return nil, err
		}
		return result(y, storeFloat64s(y, w))
	}), nil
}

// melWeights builds the [rows, bins] matrix of triangular filters. The
// filter edges are spread evenly on the mel scale (mel = 2595 log10(1 +
// hz/700)) and snapped down to spectrogram bins, as the reference
// implementation does (including its step of (high-low)/(bins+2)).
func melWeights(bins, dftLen, rows int, rate, lower, upper float64) []float64 {
	toMel := func(hz float64) float64 { return 2595 * math.Log10(1+hz/700) }
	lowMel, highMel := toMel(lower), toMel(upper)
	step := (highMel - lowMel) / float64(bins+2)
	edge := make([]int, bins+2)
	for i := range edge {
		hz := 700 * (math.Pow(10, (float64(i)*step+lowMel)/2595) - 1)
		edge[i] = int(math.Floor(float64(dftLen+1) * hz / rate))
	}
	w := make([]float64, rows*bins)
	set := func(j, i int, v float64) {
		if j >= 0 && j < rows {
			w[j*bins+i] = v
		}
	}
	for i := range bins {
		left, center, right := edge[i], edge[i+1], edge[i+2]
		if center == left {
			set(center, i, 1)
		} else {
			for j := left; j <= center; j++ {
				set(j, i, float64(j-left)/float64(center-left))
			}
		}
		for j := center; j < right; j++ {
			set(j, i, float64(right-j)/float64(right-center))
		}
	}
	return w
}
