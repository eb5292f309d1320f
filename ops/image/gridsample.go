package imageops

import (
	"fmt"
	"math"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

func init() {
	ops.Register(&ops.Def{Op: "GridSample", Build: buildGridSample, Infer: inferGridSample, Float64: true})
}

// gridModes accepts the opset-16 names (bilinear, bicubic) and the opset-20
// ones (linear, cubic).
var gridModes = map[string]interpMode{
	"nearest": modeNearest, "bilinear": modeLinear, "linear": modeLinear,
	"bicubic": modeCubic, "cubic": modeCubic,
}

type padMode uint8

const (
	padZeros padMode = iota
	padBorder
	padReflection
)

var padModes = map[string]padMode{"zeros": padZeros, "border": padBorder, "reflection": padReflection}

type gridSampleKernel struct {
	mode         interpMode
	pad          padMode
	alignCorners bool
}

func buildGridSample(b *ops.Build) (ops.Kernel, error) {
	a := &attrReader{n: b.Node}
	k := &gridSampleKernel{
		mode:         enumOf(a, "mode", "bilinear", gridModes),
		pad:          enumOf(a, "padding_mode", "zeros", padModes),
		alignCorners: a.bool("align_corners", false),
	}
	return k, a.err
}

func (k *gridSampleKernel) Run(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if err := need(in, 2); err != nil {
		return nil, err
	}
	x, grid := in[0], in[1]
	if err := needFloat(x, "X"); err != nil {
		return nil, err
	}
	if x.Rank() < 3 {
		return nil, fmt.Errorf("X must have rank >= 3 (N, C, spatial...), got shape %v", x.Shape)
	}
	r := x.Rank() - 2
	if grid.Rank() != r+2 || grid.Shape[0] != x.Shape[0] || grid.Shape[r+1] != r {
		return nil, fmt.Errorf("grid shape %v does not match X shape %v (want [%d, ..., %d])", grid.Shape, x.Shape, x.Shape[0], r)
	}
	outShape := append([]int{x.Shape[0], x.Shape[1]}, grid.Shape[1:r+1]...)
	y, err := c.Alloc(x.DType, outShape...)
	if err != nil {
		return nil, err
	}
	g, err := numbers(grid, "grid")
	if err != nil {
		return nil, err
	}
	if x.DType == tensor.Float32 {
		gridSample(c, k, floatsOf[float32](x), g, y.F32(), x.Shape, outShape)
	} else {
		gridSample(c, k, floatsOf[float64](x), g, floatsOf[float64](y), x.Shape, outShape)
	}
	return ops.Outs(y)
}

// axisTap is where one spatial coordinate of a sample reads: up to four
// input indices (-1 when the index falls in zero padding) and weights.
type axisTap struct {
	n   int
	idx [4]int
	w   [4]float64
}

// gridSample computes every output location: the grid gives normalised
// coordinates in reversed axis order (x first), each is mapped to input
// pixels per axis, and the per-axis taps are combined as a tensor product.
// Coordinates are computed in T's precision, as PyTorch (whose behaviour
// the op follows) does.
func gridSample[T float](c *ops.Ctx, k *gridSampleKernel, x []T, grid []float64, y []T, xShape, yShape []int) {
	r := len(xShape) - 2
	dims := xShape[2:]
	inPlane := tensor.Size(dims)
	outPlane := tensor.Size(yShape[2:])
	channels := xShape[1]
	st := tensor.Strides(dims)
	c.For(xShape[0]*outPlane, 64, func(lo, hi int) {
		at := make([]axisTap, r)
		var bufA, bufB tapList
		for loc := lo; loc < hi; loc++ {
			n, p := loc/outPlane, loc%outPlane
			g := grid[loc*r : (loc+1)*r]
			for d := range r {
				px := denorm(T(g[r-1-d]), dims[d], k.alignCorners)
				at[d] = k.axisTaps(float64(px), dims[d], r)
			}
			taps := tapProduct(at, st, &bufA, &bufB)
			for ch := range channels {
				src := x[(n*channels+ch)*inPlane:][:inPlane]
				s := 0.0
				for i, o := range taps.off {
					s += taps.w[i] * float64(src[o])
				}
				y[(n*channels+ch)*outPlane+p] = T(s)
			}
		}
	})
}

// tapProduct expands per-axis taps into flat offsets and weights, one axis
// at a time, dropping combinations that touch zero padding. cur and next
// are scratch buffers; the result is in one of them.
func tapProduct(at []axisTap, strides []int, cur, next *tapList) *tapList {
	cur.off, cur.w = append(cur.off[:0], 0), append(cur.w[:0], 1)
	for d := range at {
		t := &at[d]
		next.off, next.w = next.off[:0], next.w[:0]
		for i, o := range cur.off {
			for j := 0; j < t.n; j++ {
				if t.idx[j] >= 0 {
					next.off = append(next.off, o+t.idx[j]*strides[d])
					next.w = append(next.w, cur.w[i]*t.w[j])
				}
			}
		}
		cur, next = next, cur
	}
	return cur
}

// tapList is a list of input offsets with weights.
type tapList struct {
	off []int
	w   []float64
}

// axisTaps maps a coordinate x in pixel units to input taps along an axis
// of length size, applying the padding mode.
func (k *gridSampleKernel) axisTaps(x float64, size, rank int) axisTap {
	lo, hi := -0.5, float64(size)-0.5
	if k.alignCorners {
		lo, hi = 0, float64(size-1)
	}
	if math.IsNaN(x) {
		x = lo - 8 // treated as far outside: zero, or clamped, or reflected
	}
	if k.mode == modeNearest {
		// PyTorch rounds half to even in 2-D and half away from zero in 3-D.
		if rank == 3 {
			x = math.Round(x)
		} else {
			x = math.RoundToEven(x)
		}
	}
	switch {
	case x >= lo && x <= hi:
	case k.pad == padBorder:
		x = math.Max(0, math.Min(x, float64(size-1)))
	case k.pad == padReflection:
		x = reflect(x, lo, hi)
	default:
		// Zero padding: beyond a few pixels every tap reads zero, so the
		// coordinate can be clamped there to keep integers in range.
		x = math.Max(-8, math.Min(x, float64(size+8)))
	}
	var t axisTap
	base := math.Floor(x)
	f := x - base
	b := int(base)
	switch k.mode {
	case modeNearest:
		t.n, t.idx[0], t.w[0] = 1, int(x), 1
	case modeLinear:
		t.n = 2
		t.idx[0], t.idx[1] = b, b+1
		t.w[0], t.w[1] = 1-f, f
	case modeCubic:
		t.n = 4
		for j := range 4 {
			t.idx[j] = b - 1 + j
			t.w[j] = cubicWeight(-0.75, f+1-float64(j))
		}
	}
	for j := 0; j < t.n; j++ {
		t.idx[j] = k.padIndex(t.idx[j], size, lo, hi)
	}
	return t
}

// padIndex resolves a tap index by the padding mode (-1: reads zero).
func (k *gridSampleKernel) padIndex(i, size int, lo, hi float64) int {
	if i >= 0 && i < size {
		return i
	}
	switch k.pad {
	case padBorder:
		return clampIndex(i, size)
	case padReflection:
		return clampIndex(int(reflect(float64(i), lo, hi)), size)
	}
	return -1
}

// denorm maps a normalised coordinate in [-1, 1] to pixel units.
func denorm[T float](v T, size int, alignCorners bool) T {
	if alignCorners {
		return (v + 1) / 2 * T(size-1)
	}
	return ((v+1)*T(size) - 1) / 2
}

// reflect folds x into [lo, hi] by mirroring at the borders repeatedly.
func reflect(x, lo, hi float64) float64 {
	span := hi - lo
	if span <= 0 {
		return lo
	}
	switch {
	case x < lo:
		d := lo - x
		n := math.Floor(d / span)
		rest := d - n*span
		if math.Mod(n, 2) == 0 {
			return lo + rest
		}
		return hi - rest
	case x > hi:
		d := x - hi
		n := math.Floor(d / span)
		rest := d - n*span
		if math.Mod(n, 2) == 0 {
			return hi - rest
		}
		return lo + rest
	}
	return x
}

func inferGridSample(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	x, g := in[0], in[1]
	if !x.Ranked || !g.Ranked || len(x.Shape) < 3 || len(g.Shape) != len(x.Shape) {
		return nil, fmt.Errorf("unknown ranks")
	}
	s := append([]graph.Dim{x.Shape[0], x.Shape[1]}, g.Shape[1:len(g.Shape)-1]...)
	return []graph.Type{{DType: x.DType, Shape: s, Ranked: true}}, nil
}
