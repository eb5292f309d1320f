package tensorops

import (
	"cmp"
	"fmt"
	"math"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// Generators of new tensors from attributes and small operands.

func init() {
	register(
		opDef{op: "Constant", inputs: 0, build: buildConstant, infer: inferConstant},
		opDef{op: "ConstantOfShape", inputs: 1, build: buildConstantOfShape, infer: inferConstantOfShape},
		opDef{op: "Range", inputs: 3, build: buildRange},
		opDef{op: "EyeLike", inputs: 1, build: buildEyeLike, infer: inferEyeLike},
	)
}

// constantAttrs turns each of Constant's value_* attribute forms into a
// tensor.
var constantAttrs = map[string]func(a *graph.Attr) *tensor.Tensor{
	"value":         func(a *graph.Attr) *tensor.Tensor { return a.Tensor },
	"value_float":   func(a *graph.Attr) *tensor.Tensor { return tensor.Scalar(a.Float) },
	"value_floats":  func(a *graph.Attr) *tensor.Tensor { return tensor.From([]int{len(a.Floats)}, a.Floats) },
	"value_int":     func(a *graph.Attr) *tensor.Tensor { return tensor.Scalar(a.Int) },
	"value_ints":    func(a *graph.Attr) *tensor.Tensor { return tensor.From([]int{len(a.Ints)}, a.Ints) },
	"value_string":  func(a *graph.Attr) *tensor.Tensor { return tensor.Scalar(a.String) },
	"value_strings": func(a *graph.Attr) *tensor.Tensor { return tensor.From([]int{len(a.Strings)}, a.Strings) },
}

var constantKinds = map[string]graph.AttrKind{
	"value": graph.AttrTensor, "value_float": graph.AttrFloat, "value_floats": graph.AttrFloats,
	"value_int": graph.AttrInt, "value_ints": graph.AttrInts, "value_string": graph.AttrString,
	"value_strings": graph.AttrStrings,
}

func constantValue(n *graph.Node) (*tensor.Tensor, error) {
	var t *tensor.Tensor
	for name, a := range n.Attrs {
		conv, ok := constantAttrs[name]
		if !ok {
			if name == "sparse_value" {
				return nil, fmt.Errorf("sparse constants are not supported")
			}
			continue
		}
		if a.Kind != constantKinds[name] {
			return nil, fmt.Errorf("attribute %q is %v, want %v", name, a.Kind, constantKinds[name])
		}
		if t != nil {
			return nil, fmt.Errorf("Constant has more than one value attribute")
		}
		if t = conv(a); t == nil {
			return nil, fmt.Errorf("attribute %q holds no tensor", name)
		}
	}
	if t == nil {
		return nil, fmt.Errorf("Constant has no value attribute")
	}
	if t.Len() != tensor.Size(t.Shape) {
		return nil, fmt.Errorf("constant value has %d elements for shape %v", t.Len(), t.Shape)
	}
	return t, nil
}

func buildConstant(b *ops.Build) (ops.Kernel, error) {
	t, err := constantValue(b.Node)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		return ops.Outs(t)
	}), nil
}

func inferConstant(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	t, err := constantValue(b.Node)
	if err != nil {
		return nil, err
	}
	return []graph.Type{staticType(t.DType, t.Shape)}, nil
}

// fillValue reads ConstantOfShape's value attribute (default float32 0).
func fillValue(n *graph.Node) (*tensor.Tensor, error) {
	v, err := n.AttrTensor("value")
	if err != nil {
		return nil, err
	}
	if v == nil {
		return tensor.Scalar(float32(0)), nil
	}
	if v.Len() != 1 {
		return nil, fmt.Errorf("value must have one element, got shape %v", v.Shape)
	}
	return v, nil
}

func shapeOperand(t *tensor.Tensor) ([]int, error) {
	spec, err := t.Ints()
	if err != nil {
		return nil, fmt.Errorf("shape: %w", err)
	}
	if t.Rank() > 1 {
		return nil, fmt.Errorf("shape must be 1-D, got shape %v", t.Shape)
	}
	shape := ops.ToInts(spec)
	for _, d := range spec {
		if d < 0 {
			return nil, fmt.Errorf("invalid shape %v", spec)
		}
		if d > tensor.MaxElements {
			return nil, fmt.Errorf("shape %v: %w", spec, tensor.ErrTooLarge)
		}
	}
	return shape, nil
}

func buildConstantOfShape(b *ops.Build) (ops.Kernel, error) {
	v, err := fillValue(b.Node)
	if err != nil {
		return nil, err
	}
	mv := moverOf(v.Data)
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		shape, err := shapeOperand(in[0])
		if err != nil {
			return nil, err
		}
		y, err := c.Alloc(v.DType, shape...)
		if err != nil {
			return nil, err
		}
		c.For(y.Len(), 1<<15, func(lo, hi int) { mv.fill(y.Data, lo, hi, v.Data, 0) })
		return ops.Outs(y)
	}), nil
}

func inferConstantOfShape(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	v, err := fillValue(b.Node)
	if err != nil {
		return nil, err
	}
	if t := b.Const(0); t != nil {
		shape, err := shapeOperand(t)
		if err != nil {
			return nil, err
		}
		return []graph.Type{staticType(v.DType, shape)}, nil
	}
	if st, ok := in[0].Static(); ok && len(st) == 1 {
		return []graph.Type{ranked(v.DType, unknownDims(st[0]))}, nil
	}
	return nil, errNoInfer
}

func unknownDims(n int) []graph.Dim {
	d := make([]graph.Dim, n)
	for i := range d {
		d[i] = graph.Unknown
	}
	return d
}

func buildRange(b *ops.Build) (ops.Kernel, error) {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		start, limit, delta := widen(in[0]), widen(in[1]), widen(in[2])
		for _, t := range []*tensor.Tensor{start, limit, delta} {
			if t.Len() != 1 {
				return nil, fmt.Errorf("start, limit and delta must be scalars, got shape %v", t.Shape)
			}
			if t.DType != start.DType {
				return nil, fmt.Errorf("start, limit and delta must have one type, got %v and %v", start.DType, t.DType)
			}
		}
		ar, err := arithOf(start)
		if err != nil {
			return nil, err
		}
		var n int64
		var fs, fd float64
		var is, id int64
		if start.DType.IsFloat() {
			fs, fd = start.Float64s()[0], delta.Float64s()[0]
			fl := limit.Float64s()[0]
			if fd == 0 {
				return nil, fmt.Errorf("delta is 0")
			}
			count := math.Ceil((fl - fs) / fd)
			if math.IsNaN(count) || count > tensor.MaxElements {
				return nil, fmt.Errorf("range from %v to %v by %v is too long", fs, fl, fd)
			}
			n = int64(max(count, 0))
		} else {
			v, _ := tensor.Convert(start, tensor.Int64)
			is = v.I64()[0]
			v, _ = tensor.Convert(limit, tensor.Int64)
			il := v.I64()[0]
			v, _ = tensor.Convert(delta, tensor.Int64)
			id = v.I64()[0]
			if n, err = rangeCount(is, il, id); err != nil {
				return nil, err
			}
		}
		y, err := c.Alloc(start.DType, int(n))
		if err != nil {
			return nil, err
		}
		ar.ramp(y.Data, fs, fd, is, id)
		if y, err = narrowTo(y, in[0].DType); err != nil {
			return nil, err
		}
		return ops.Outs(y)
	}), nil
}

// rangeCount is ceil((limit-start)/delta) clamped at 0, exact for all
// int64 operands.
func rangeCount(start, limit, delta int64) (int64, error) {
	if delta == 0 {
		return 0, fmt.Errorf("delta is 0")
	}
	if (delta > 0 && limit <= start) || (delta < 0 && limit >= start) {
		return 0, nil
	}
	// Work in uint64 so limit-start cannot overflow.
	span, step := uint64(limit-start), uint64(delta)
	if delta < 0 {
		span, step = uint64(start-limit), -uint64(delta)
	}
	n := (span-1)/step + 1
	if n > tensor.MaxElements {
		return 0, fmt.Errorf("range from %d to %d by %d is too long", start, limit, delta)
	}
	return int64(n), nil
}

// eyeAttrs reads EyeLike's dtype (Undefined: the input's) and k.
func eyeAttrs(n *graph.Node) (tensor.DType, int64, error) {
	dt, err := dtypeAttr(n, "dtype", tensor.Undefined)
	if err != nil {
		return 0, 0, err
	}
	k, err := n.AttrInt("k", 0)
	return dt, k, err
}

func buildEyeLike(b *ops.Build) (ops.Kernel, error) {
	dtAttr, k, err := eyeAttrs(b.Node)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		dt := cmp.Or(dtAttr, x.DType)
		if x.Rank() != 2 {
			return nil, fmt.Errorf("input must be 2-D, got shape %v", x.Shape)
		}
		one, err := tensor.Convert(tensor.Scalar(float32(1)), dt)
		if err != nil {
			return nil, err
		}
		y, err := c.AllocZero(dt, x.Shape...)
		if err != nil {
			return nil, err
		}
		rows, cols := x.Shape[0], x.Shape[1]
		mv := moverOf(y.Data)
		for i := 0; i < rows; i++ {
			if j := int64(i) + k; j >= 0 && j < int64(cols) {
				p := i*cols + int(j)
				mv.fill(y.Data, p, p+1, one.Data, 0)
			}
		}
		return ops.Outs(y)
	}), nil
}

func inferEyeLike(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	dt, _, err := eyeAttrs(b.Node)
	if err != nil || !in[0].Ranked {
		return nil, errNoInfer
	}
	return []graph.Type{ranked(cmp.Or(dt, in[0].DType), in[0].Shape)}, nil
}
