package tensorops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"stride/graph"
	"stride/tensor"
)

// TestNoPanicOnBadInput throws random small tensors and attributes at every
// op: errors are fine, panics are not.
func TestNoPanicOnBadInput(t *testing.T) {
	opsUnder := []struct {
		op   string
		nIn  int
		nOut int
	}{
		{"Reshape", 2, 1}, {"Flatten", 1, 1}, {"Squeeze", 2, 1}, {"Unsqueeze", 2, 1},
		{"Transpose", 1, 1}, {"Concat", 3, 1}, {"Split", 2, 2}, {"Slice", 5, 1},
		{"Gather", 2, 1}, {"GatherElements", 2, 1}, {"GatherND", 2, 1},
		{"ScatterElements", 3, 1}, {"ScatterND", 3, 1}, {"Expand", 2, 1}, {"Tile", 2, 1},
		{"Pad", 4, 1}, {"Shape", 1, 1}, {"Size", 1, 1}, {"ConstantOfShape", 1, 1},
		{"Range", 3, 1}, {"NonZero", 1, 1}, {"TopK", 2, 2}, {"OneHot", 3, 1},
		{"EyeLike", 1, 1}, {"Trilu", 2, 1}, {"DepthToSpace", 1, 1}, {"SpaceToDepth", 1, 1},
		{"Compress", 2, 1}, {"ReverseSequence", 2, 1}, {"Unique", 1, 4}, {"CumSum", 2, 1},
		{"Bernoulli", 1, 1}, {"Multinomial", 1, 1}, {"RandomUniformLike", 1, 1},
	}
	rng := rand.New(rand.NewPCG(7, 8))
	smallInt := func() int64 {
		switch rng.IntN(8) {
		case 0:
			return math.MaxInt64
		case 1:
			return math.MinInt64
		case 2:
			return 1 << 40
		}
		return int64(rng.IntN(9)) - 4
	}
	randTensor := func() *tensor.Tensor {
		if rng.IntN(10) == 0 {
			return nil
		}
		r := rng.IntN(4)
		shape := make([]int, r)
		for i := range shape {
			shape[i] = rng.IntN(4)
		}
		n := tensor.Size(shape)
		switch rng.IntN(5) {
		case 0:
			v := make([]int64, n)
			for i := range v {
				v[i] = smallInt()
			}
			return tensor.From(shape, v)
		case 1:
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			return tensor.From(shape, v)
		case 2:
			v := make([]string, n)
			for i := range v {
				v[i] = fmt.Sprint(rng.IntN(3))
			}
			return tensor.From(shape, v)
		case 3:
			v := make([]uint16, n)
			for i := range v {
				v[i] = uint16(rng.Uint32())
			}
			return tensor.FromBits(tensor.Float16, shape, v)
		}
		v := make([]int64, rng.IntN(5))
		for i := range v {
			v[i] = smallInt()
		}
		return ints(v...)
	}
	attrNames := []string{"axis", "k", "batch_dims", "allowzero", "num_outputs", "blocksize", "start", "end",
		"batch_axis", "time_axis", "upper", "largest", "exclusive", "reverse", "sample_size", "dtype"}
	for i := 0; i < 20000; i++ {
		o := opsUnder[rng.IntN(len(opsUnder))]
		in := make([]*tensor.Tensor, 1+rng.IntN(o.nIn))
		for j := range in {
			in[j] = randTensor()
		}
		a := map[string]*graph.Attr{}
		for range rng.IntN(3) {
			a[attrNames[rng.IntN(len(attrNames))]] = graph.IntAttr(smallInt())
		}
		if rng.IntN(4) == 0 {
			a["perm"] = graph.IntsAttr(smallInt(), smallInt())
		}
		if rng.IntN(4) == 0 {
			a["mode"] = graph.StringAttr([]string{"reflect", "edge", "wrap", "DCR", "CRD"}[rng.IntN(5)])
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("%s panicked on inputs %v, attrs %v: %v", o.op, in, a, r)
				}
			}()
			_, _ = call(o.op, a, o.nOut, in...)
		}()
	}
}
