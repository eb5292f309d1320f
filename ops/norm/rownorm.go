package norm

import (
	"fmt"
	"math"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// The ops of this file standardize groups of elements with the groups' own
// mean and variance: LayerNormalization (the trailing axes from `axis`),
// GroupNormalization (groups of channels of one instance),
// InstanceNormalization (one channel of one instance) and
// MeanVarianceNormalization (any set of axes). Statistics are computed in
// float64 with two passes (mean, then squared deviations), which stays
// accurate when the variance is small compared to the mean.

func init() {
	ops.Register(
		&ops.Def{Op: "LayerNormalization", Build: buildLayerNorm, Infer: inferLayerNorm, Float64: true, Native16: true},
		&ops.Def{Op: "GroupNormalization", Build: buildGroupNorm, Infer: inferSame, Float64: true},
		&ops.Def{Op: "InstanceNormalization", Build: buildInstanceNorm, Infer: inferSame, Float64: true},
		&ops.Def{Op: "MeanVarianceNormalization", Build: buildMVN, Infer: inferSame, Float64: true},
	)
}

// moments returns the mean and the (biased) variance of x.
func moments[T float](x []T) (mean, variance float64) {
	if len(x) == 0 {
		return math.NaN(), math.NaN()
	}
	s := 0.0
	for _, v := range x {
		s += float64(v)
	}
	mean = s / float64(len(x))
	q := 0.0
	for _, v := range x {
		d := float64(v) - mean
		q += d * d
	}
	return mean, q / float64(len(x))
}

// affine is the scale and bias applied after standardization: element k of
// a row uses scale[first+k/seg] and bias[first+k/seg].
type affine struct {
	scale, bias []float64
	first, seg  int
}

// normalizeRow standardizes x into y (same length) with epsilon eps, applies
// the affine map, and returns the row's mean and 1/sqrt(variance+eps).
func normalizeRow[T float](x, y []T, eps float64, a affine) (mean, inv float64) {
	mean, v := moments(x)
	inv = 1 / math.Sqrt(v+eps)
	if a.seg == 1 { // one parameter per element (LayerNormalization)
		sc, bi := a.scale[a.first:a.first+len(x)], a.bias[a.first:a.first+len(x)]
		for k, v := range x {
			y[k] = T((float64(v)-mean)*inv*sc[k] + bi[k])
		}
		return mean, inv
	}
	for lo, j := 0, a.first; lo < len(x); lo, j = lo+a.seg, j+1 {
		// y = (x - mean) * inv * scale + bias, folded into y = x*m + b.
		m := inv * a.scale[j]
		b := a.bias[j] - mean*m
		hi := min(lo+a.seg, len(x))
		for k, v := range x[lo:hi] {
			y[lo+k] = T(float64(v)*m + b)
		}
	}
	return mean, inv
}

// normalizeRows runs normalizeRow on the rows of length n of x (float32 or
// float64) into y of the same type; aff(r) gives row r's affine map. It
// fills mean and inv, when not nil, with each row's statistics.
func normalizeRows(c *ops.Ctx, x, y *tensor.Tensor, n int, eps float64, aff func(r int) affine, mean, inv []float64) {
	if x.DType == tensor.Float32 {
		normalizeRowsOf(c, x.F32(), y.F32(), n, eps, aff, mean, inv)
	} else {
		normalizeRowsOf(c, x.Data.([]float64), y.Data.([]float64), n, eps, aff, mean, inv)
	}
}

func normalizeRowsOf[T float](c *ops.Ctx, x, y []T, n int, eps float64, aff func(r int) affine, mean, inv []float64) {
	if n == 0 {
		return
	}
	c.For(len(x)/n, grain(n), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			m, s := normalizeRow(x[r*n:(r+1)*n], y[r*n:(r+1)*n], eps, aff(r))
			if mean != nil {
				mean[r], inv[r] = m, s
			}
		}
	})
}

// --- LayerNormalization ---

type layerNormAttrs struct {
	axis  int64
	eps   float64
	stash tensor.DType
}

// stashTypes maps the ONNX element type codes stash_type may take.
var stashTypes = map[int64]tensor.DType{1: tensor.Float32, 10: tensor.Float16, 11: tensor.Float64, 16: tensor.BFloat16}

func readLayerNormAttrs(n *graph.Node) (layerNormAttrs, error) {
	axis, err := n.AttrInt("axis", -1)
	if err != nil {
		return layerNormAttrs{}, err
	}
	eps, err := n.AttrFloat("epsilon", 1e-5)
	if err != nil {
		return layerNormAttrs{}, err
	}
	st, err := n.AttrInt("stash_type", 1)
	if err != nil {
		return layerNormAttrs{}, err
	}
	dt, ok := stashTypes[st]
	if !ok {
		return layerNormAttrs{}, fmt.Errorf("stash_type %d is not a float type", st)
	}
	return layerNormAttrs{axis, float64(eps), dt}, nil
}

// buildLayerNorm prepares LayerNormalization. Its optional Mean and
// InvStdDev outputs have the stash type, not X's type, so the kernel handles
// 16-bit inputs itself (Native16): it computes in float32 and rounds Y back.
func buildLayerNorm(b *ops.Build) (ops.Kernel, error) {
	at, err := readLayerNormAttrs(b.Node)
	if err != nil {
		return nil, err
	}
	wantStats := len(b.Node.Outputs) > 1
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, err := ops.NeedInput(in, 0, "X")
		if err != nil {
			return nil, err
		}
		axis, err := ops.NormAxis(at.axis, x.Rank())
		if err != nil {
			return nil, err
		}
		if !x.DType.IsFloat() {
			return nil, fmt.Errorf("input type %v is not supported (want a float type)", x.DType)
		}
		xw := widen(x)
		norm := x.Shape[axis:]
		s, err := ops.NeedInput(in, 1, "Scale")
		if err != nil {
			return nil, err
		}
		scale, err := expandParam(widen(s), norm, "Scale")
		if err != nil {
			return nil, err
		}
		bias := make([]float64, len(scale))
		if len(in) > 2 && in[2] != nil {
			if bias, err = expandParam(widen(in[2]), norm, "B"); err != nil {
				return nil, err
			}
		}
		// y is computed in X's widened type and rounded to X's type after.
		var y *tensor.Tensor
		if xw != x {
			y = tensor.Zeros(tensor.Float32, x.Shape...)
		} else if y, err = c.AllocLike(x); err != nil {
			return nil, err
		}
		n := tensor.Size(norm)
		statShape := make([]int, x.Rank())
		for d := range statShape {
			statShape[d] = 1
			if d < axis {
				statShape[d] = x.Shape[d]
			}
		}
		var mean, inv []float64
		if wantStats {
			mean, inv = make([]float64, tensor.Size(statShape)), make([]float64, tensor.Size(statShape))
		}
		aff := affine{scale: scale, bias: bias, seg: 1}
		normalizeRows(c, xw, y, n, at.eps, func(int) affine { return aff }, mean, inv)
		if xw != x {
			out, err := c.AllocLike(x)
			if err != nil {
				return nil, err
			}
			setFloats32(out, y.F32())
			y = out
		}
		if !wantStats {
			return ops.Outs(y)
		}
		outs := []*tensor.Tensor{y, nil, nil}
		for i, v := range [][]float64{mean, inv} {
			if outs[i+1], err = c.Alloc(at.stash, statShape...); err != nil {
				return nil, err
			}
			setFloats(outs[i+1], v)
		}
		return outs[:len(b.Node.Outputs)], nil
	}), nil
}

func inferLayerNorm(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	x := in[0]
	if !x.Ranked {
		return nil, fmt.Errorf("input rank unknown")
	}
	at, err := readLayerNormAttrs(b.Node)
	if err != nil {
		return nil, err
	}
	axis, err := ops.NormAxis(at.axis, len(x.Shape))
	if err != nil {
		return nil, err
	}
	stat := graph.Type{DType: at.stash, Shape: make([]graph.Dim, len(x.Shape)), Ranked: true}
	for d := range stat.Shape {
		stat.Shape[d] = graph.Fixed(1)
		if d < axis {
			stat.Shape[d] = x.Shape[d]
		}
	}
	return []graph.Type{x, stat, stat}, nil
}

// widen returns a 16-bit float tensor as float32, other tensors unchanged.
func widen(t *tensor.Tensor) *tensor.Tensor {
	if t.DType == tensor.Float16 || t.DType == tensor.BFloat16 {
		return tensor.ToFloat32(t)
	}
	return t
}

// setFloats stores v into the float tensor t (any float type).
func setFloats(t *tensor.Tensor, v []float64) {
	switch d := t.Data.(type) {
	case []float64:
		copy(d, v)
	case []float32:
		for i, x := range v {
			d[i] = float32(x)
		}
	default:
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		setFloats32(t, f)
	}
}

// setFloats32 stores v into t, a Float32, Float16 or BFloat16 tensor,
// rounding to nearest even.
func setFloats32(t *tensor.Tensor, v []float32) {
	switch t.DType {
	case tensor.Float32:
		copy(t.F32(), v)
	case tensor.Float16:
		d := t.Data.([]uint16)
		for i, x := range v {
			d[i] = tensor.F32ToF16(x)
		}
	case tensor.BFloat16:
		d := t.Data.([]uint16)
		for i, x := range v {
			d[i] = tensor.F32ToBF16(x)
		}
	}
}

// --- GroupNormalization and InstanceNormalization ---

// buildGroupNorm prepares GroupNormalization. Opset 18 gives scale and bias
// per group, opset 21 per channel; the kernel tells them apart by length
// (when num_groups equals the channel count both readings agree).
// stash_type is accepted; statistics are always computed in float64.
func buildGroupNorm(b *ops.Build) (ops.Kernel, error) {
	groups, err := b.Node.AttrInt("num_groups", 0)
	if err != nil {
		return nil, err
	}
	if !b.Node.Has("num_groups") || groups < 1 {
		return nil, fmt.Errorf("num_groups must be given and positive, got %d", groups)
	}
	eps, err := b.Node.AttrFloat("epsilon", 1e-5)
	if err != nil {
		return nil, err
	}
	return channelNormKernel(func(ch int) (int, error) {
		if int64(ch) < groups || ch%int(groups) != 0 {
			return 0, fmt.Errorf("num_groups %d does not divide the %d channels", groups, ch)
		}
		return int(groups), nil
	}, float64(eps)), nil
}

// buildInstanceNorm prepares InstanceNormalization: one group per channel.
func buildInstanceNorm(b *ops.Build) (ops.Kernel, error) {
	eps, err := b.Node.AttrFloat("epsilon", 1e-5)
	if err != nil {
		return nil, err
	}
	return channelNormKernel(func(ch int) (int, error) { return ch, nil }, float64(eps)), nil
}

// channelNormKernel normalizes X [N, C, D1...] over groups of channels:
// groupsOf(C) gives the group count G. Each (n, g) row of C/G channels is
// contiguous. scale and bias have length C (per channel) or G (per group).
func channelNormKernel(groupsOf func(ch int) (int, error), eps float64) ops.Kernel {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		if err := needFloat(x); err != nil {
			return nil, err
		}
		if x.Rank() < 2 {
			return nil, fmt.Errorf("input of shape %v has no channel axis", x.Shape)
		}
		ch := x.Shape[1]
		g, err := groupsOf(ch)
		if err != nil {
			return nil, err
		}
		if len(in) < 3 || in[1] == nil || in[2] == nil {
			return nil, fmt.Errorf("scale and bias are required")
		}
		plen := ch
		if in[1].Len() == g {
			plen = g
		}
		scale, err := channelParam(in[1], plen, "scale")
		if err != nil {
			return nil, err
		}
		bias, err := channelParam(in[2], plen, "bias")
		if err != nil {
			return nil, err
		}
		y, err := c.AllocLike(x)
		if err != nil {
			return nil, err
		}
		inner := tensor.Size(x.Shape[2:])
		perGroup := ch / g
		row := perGroup * inner
		normalizeRows(c, x, y, row, eps, func(r int) affine {
			grp := r % g
			if plen == g {
				return affine{scale: scale, bias: bias, first: grp, seg: row}
			}
			return affine{scale: scale, bias: bias, first: grp * perGroup, seg: inner}
		}, nil, nil)
		return ops.Outs(y)
	})
}

// --- MeanVarianceNormalization ---

// mvnEpsilon is the constant the ONNX function body of
// MeanVarianceNormalization adds to the standard deviation.
const mvnEpsilon = 1e-9

// buildMVN prepares MeanVarianceNormalization: y = (x - mean) / (std + 1e-9)
// with statistics over `axes` (default [0, 2, 3]).
func buildMVN(b *ops.Build) (ops.Kernel, error) {
	axesAttr, err := b.Node.AttrInts("axes", []int64{0, 2, 3})
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		if err := needFloat(x); err != nil {
			return nil, err
		}
		axes, err := ops.NormAxes(axesAttr, x.Rank())
		if err != nil {
			return nil, err
		}
		y, err := c.AllocLike(x)
		if err != nil {
			return nil, err
		}
		p := planAxes(x.Shape, axes)
		if x.DType == tensor.Float32 {
			mvn(c, x.F32(), y.F32(), x.Shape, p)
		} else {
			mvn(c, x.Data.([]float64), y.Data.([]float64), x.Shape, p)
		}
		return ops.Outs(y)
	}), nil
}

func mvn[T float](c *ops.Ctx, x, y []T, shape []int, p axesPlan) {
	dst := y
	if p.perm != nil {
		// Work on a permuted copy where each column is contiguous, and
		// permute the result back.
		xt := make([]T, len(x))
		permute(xt, x, shape, p.perm)
		x, dst = xt, make([]T, len(y))
	}
	mapColumns(c, p.s, x, dst, func(_ int, in, out []T) {
		mean, v := moments(in)
		inv := 1 / (math.Sqrt(v) + mvnEpsilon)
		for i, v := range in {
			out[i] = T((float64(v) - mean) * inv)
		}
	})
	if p.perm != nil {
		pshape, inv := permuted(shape, p.perm)
		permute(y, dst, pshape, inv)
	}
}
