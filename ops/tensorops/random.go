package tensorops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// The random generators are Volatile (never folded). With a seed attribute
// every Run starts a fresh generator from that seed, so results are
// reproducible (kernels keep no state between runs); without one each Run
// draws a new stream. The streams cannot match other runtimes'.

func init() {
	register(
		opDef{op: "RandomUniform", build: buildRandom(false, false), volatile: true},
		opDef{op: "RandomNormal", build: buildRandom(true, false), volatile: true},
		opDef{op: "RandomUniformLike", inputs: 1, build: buildRandom(false, true), volatile: true},
		opDef{op: "RandomNormalLike", inputs: 1, build: buildRandom(true, true), volatile: true},
		opDef{op: "Bernoulli", inputs: 1, build: buildBernoulli, volatile: true},
		opDef{op: "Multinomial", inputs: 1, build: buildMultinomial, volatile: true},
	)
}

// rngFor returns the generator for one Run.
func rngFor(n *graph.Node) (func() *rand.Rand, error) {
	if !n.Has("seed") {
		return func() *rand.Rand { return rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())) }, nil
	}
	seed, err := n.AttrFloat("seed", 0)
	if err != nil {
		return nil, err
	}
	bits := uint64(math.Float32bits(seed))
	return func() *rand.Rand { return rand.New(rand.NewPCG(bits, 0x5eed5eed5eed5eed)) }, nil
}

// floatsAs returns values as a tensor of the given type and shape.
func floatsAs(shape []int, vals []float64, dt tensor.DType) (*tensor.Tensor, error) {
	return tensor.Convert(tensor.From(shape, vals), dt)
}

func buildRandom(normal, like bool) func(b *ops.Build) (ops.Kernel, error) {
	return func(b *ops.Build) (ops.Kernel, error) {
		n := b.Node
		newRNG, err := rngFor(n)
		if err != nil {
			return nil, err
		}
		p1, p2 := "low", "high"
		d1, d2 := float32(0), float32(1)
		if normal {
			p1, p2 = "mean", "scale"
		}
		a, err := n.AttrFloat(p1, d1)
		if err != nil {
			return nil, err
		}
		bb, err := n.AttrFloat(p2, d2)
		if err != nil {
			return nil, err
		}
		var shape []int
		if !like {
			s, err := n.AttrInts("shape", nil)
			if err != nil {
				return nil, err
			}
			if !n.Has("shape") {
				return nil, fmt.Errorf("missing shape attribute")
			}
			shape = ops.ToInts(s)
			if _, err := tensor.NumElements(shape); err != nil {
				return nil, err
			}
		}
		return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			def, shp := tensor.Float32, shape
			if like {
				def, shp = in[0].DType, in[0].Shape
			}
			dt, err := dtypeAttr(n, "dtype", def)
			if err != nil {
				return nil, err
			}
			if !dt.IsFloat() {
				return nil, fmt.Errorf("output type must be a float type, got %v", dt)
			}
			rng := newRNG()
			vals := make([]float64, tensor.Size(shp))
			for i := range vals {
				if normal {
					vals[i] = float64(a) + float64(bb)*rng.NormFloat64()
				} else {
					vals[i] = float64(a) + float64(bb-a)*rng.Float64()
				}
			}
			y, err := floatsAs(shp, vals, dt)
			if err != nil {
				return nil, err
			}
			return ops.Outs(y)
		}), nil
	}
}

func buildBernoulli(b *ops.Build) (ops.Kernel, error) {
	newRNG, err := rngFor(b.Node)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		dt, err := dtypeAttr(b.Node, "dtype", x.DType)
		if err != nil {
			return nil, err
		}
		if dt == tensor.String {
			return nil, fmt.Errorf("output type cannot be string")
		}
		p := x.Float64s()
		if p == nil {
			return nil, fmt.Errorf("input must hold probabilities, got %v", x.DType)
		}
		rng := newRNG()
		vals := make([]float64, len(p))
		for i, pi := range p {
			if rng.Float64() < pi {
				vals[i] = 1
			}
		}
		y, err := floatsAs(x.Shape, vals, dt)
		if err != nil {
			return nil, err
		}
		return ops.Outs(y)
	}), nil
}

func buildMultinomial(b *ops.Build) (ops.Kernel, error) {
	newRNG, err := rngFor(b.Node)
	if err != nil {
		return nil, err
	}
	samples, err := b.Node.AttrInt("sample_size", 1)
	if err != nil {
		return nil, err
	}
	if samples < 0 || samples > tensor.MaxElements {
		return nil, fmt.Errorf("invalid sample_size %d", samples)
	}
	dt, err := dtypeAttr(b.Node, "dtype", tensor.Int32)
	if err != nil {
		return nil, err
	}
	if dt != tensor.Int32 && dt != tensor.Int64 {
		return nil, fmt.Errorf("dtype must be int32 or int64, got %v", dt)
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		if x.Rank() != 2 || !x.DType.IsFloat() || x.Shape[1] == 0 {
			return nil, fmt.Errorf("input must be [batch, classes] of a float type, got %v%v", x.DType, x.Shape)
		}
		batch, classes := x.Shape[0], x.Shape[1]
		y, err := c.Alloc(tensor.Int64, batch, int(samples))
		if err != nil {
			return nil, err
		}
		logits := x.Float64s()
		out := y.I64()
		rng := newRNG()
		cdf := make([]float64, classes)
		for bi := 0; bi < batch; bi++ {
			// The inputs are unnormalised log-probabilities.
			row := logits[bi*classes : (bi+1)*classes]
			top := math.Inf(-1)
			for _, v := range row {
				top = max(top, v)
			}
			acc := 0.0
			for j, v := range row {
				acc += math.Exp(v - top)
				cdf[j] = acc
			}
			for s := 0; s < int(samples); s++ {
				u := rng.Float64() * acc
				out[bi*int(samples)+s] = int64(min(sort.Search(classes, func(j int) bool { return cdf[j] > u }), classes-1))
			}
		}
		if dt == tensor.Int32 {
			if y, err = tensor.Convert(y, dt); err != nil {
				return nil, err
			}
		}
		return ops.Outs(y)
	}), nil
}
