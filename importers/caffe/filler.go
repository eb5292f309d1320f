package caffe

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"stride/proto/caffepb"
	"stride/tensor"
)

// FillerRNG returns the random source used to fill parameter blob `blob`
// of layer `layer` under seed. Each blob has its own stream, so a blob's
// initial value depends only on the seed, the layer's name and the blob's
// index: adding, removing or loading other layers does not change it.
func FillerRNG(seed int64, layer string, blob int) *rand.Rand {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%d", layer, blob)
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// Fill sets t (a float32 tensor in Caffe's blob shape) as Caffe's filler f
// would: constant, uniform, gaussian (with optional sparsity),
// positive_unitball, xavier, msra or bilinear. A nil f fills zeros. The
// values follow Caffe's distributions, not its random number sequence.
func Fill(t *tensor.Tensor, f *caffepb.FillerParameter, rng *rand.Rand) error {
	data, ok := t.Data.([]float32)
	if !ok {
		return fmt.Errorf("filler: float32 blob expected, got %v", t.DType)
	}
	typ := f.GetType()
	if f.GetSparse() >= 0 && typ != "gaussian" {
		return fmt.Errorf("filler %q does not support sparse", typ)
	}
	n := len(data)
	shape := t.Shape
	switch typ {
	case "constant":
		v := f.GetValue()
		for i := range data {
			data[i] = v
		}
	case "uniform":
		lo, hi := float64(f.GetMin()), float64(f.GetMax())
		if hi < lo {
			return fmt.Errorf("uniform filler: max %g is below min %g", hi, lo)
		}
		uniform(data, lo, hi, rng)
	case "gaussian":
		mean, std := float64(f.GetMean()), float64(f.GetStd())
		if std < 0 {
			return fmt.Errorf("gaussian filler: negative std %g", std)
		}
		for i := range data {
			data[i] = float32(mean + std*rng.NormFloat64())
		}
		if sparse := f.GetSparse(); sparse >= 0 {
			if len(shape) < 1 || shape[0] == 0 {
				return fmt.Errorf("gaussian filler: sparse needs a blob with at least one non-empty axis, got %v", shape)
			}
			p := float64(sparse) / float64(shape[0])
			for i := range data {
				if rng.Float64() >= p {
					data[i] = 0
				}
			}
		}
	case "positive_unitball":
		if n == 0 {
			return nil
		}
		if len(shape) < 1 || shape[0] == 0 {
			return fmt.Errorf("positive_unitball filler: blob shape %v has no rows", shape)
		}
		uniform(data, 0, 1, rng)
		dim := n / shape[0]
		for r := 0; r < shape[0]; r++ {
			row := data[r*dim : (r+1)*dim]
			var sum float32
			for _, v := range row {
				sum += v
			}
			for i := range row {
				row[i] /= sum
			}
		}
	case "xavier", "msra":
		if n == 0 {
			return nil
		}
		fanIn, fanOut, err := fans(shape, n)
		if err != nil {
			return fmt.Errorf("%s filler: %w", typ, err)
		}
		var scale float64
		switch f.GetVarianceNorm() {
		case caffepb.FillerParameter_FAN_IN:
			scale = fanIn
		case caffepb.FillerParameter_FAN_OUT:
			scale = fanOut
		case caffepb.FillerParameter_AVERAGE:
			scale = (fanIn + fanOut) / 2
		}
		if typ == "xavier" {
			b := math.Sqrt(3 / scale)
			uniform(data, -b, b, rng)
		} else {
			std := math.Sqrt(2 / scale)
			for i := range data {
				data[i] = float32(std * rng.NormFloat64())
			}
		}
	case "bilinear":
		if len(shape) != 4 || shape[2] != shape[3] {
			return fmt.Errorf("bilinear filler: needs a 4-axis blob with a square kernel, got %v", shape)
		}
		w := shape[3]
		fc := math.Ceil(float64(w) / 2)
		c := (2*fc - 1 - float64(int(fc)%2)) / (2 * fc)
		for i := range data {
			x := float64(i % w)
			y := float64((i / w) % w)
			data[i] = float32((1 - math.Abs(x/fc-c)) * (1 - math.Abs(y/fc-c)))
		}
	default:
		return fmt.Errorf("unknown filler type %q (Caffe has constant, uniform, gaussian, positive_unitball, xavier, msra and bilinear)", typ)
	}
	return nil
}

func uniform(data []float32, lo, hi float64, rng *rand.Rand) {
	for i := range data {
		data[i] = float32(lo + (hi-lo)*rng.Float64())
	}
}

// fans returns Caffe's fan-in (count / shape[0]) and fan-out (count /
// shape[1], or count for a one-axis blob).
func fans(shape []int, n int) (float64, float64, error) {
	if len(shape) < 1 || shape[0] == 0 {
		return 0, 0, fmt.Errorf("blob shape %v has no fan-in", shape)
	}
	fanIn := float64(n / shape[0])
	fanOut := float64(n)
	if len(shape) > 1 {
		if shape[1] == 0 {
			return 0, 0, fmt.Errorf("blob shape %v has no fan-out", shape)
		}
		fanOut = float64(n / shape[1])
	}
	return fanIn, fanOut, nil
}

// constFiller returns a constant filler (a layer's default).
func constFiller(v float32) *caffepb.FillerParameter {
	t := "constant"
	return &caffepb.FillerParameter{Type: &t, Value: &v}
}
