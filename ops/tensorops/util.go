package tensorops

import (
	"fmt"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// view returns x's data under a new shape, without copying.
func view(x *tensor.Tensor, shape []int) *tensor.Tensor {
	return &tensor.Tensor{DType: x.DType, Shape: shape, Data: x.Data}
}

// same returns x's data unchanged, under a tensor header of its own.
func same(x *tensor.Tensor) *tensor.Tensor { return view(x, append([]int{}, x.Shape...)) }

// intsInput reads optional integer input i (axes, pads, shape, ...). ok is
// false when the input is omitted.
func intsInput(in []*tensor.Tensor, i int, what string) (v []int64, ok bool, err error) {
	if i >= len(in) || in[i] == nil {
		return nil, false, nil
	}
	v, err = in[i].Ints()
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", what, err)
	}
	if in[i].Rank() > 1 {
		return nil, true, fmt.Errorf("%s must be 1-D, got shape %v", what, in[i].Shape)
	}
	return v, true, nil
}

// scalarInt reads a one-element integer tensor (k, axis, depth, ...).
func scalarInt(t *tensor.Tensor, what string) (int64, error) {
	if t.Len() != 1 {
		return 0, fmt.Errorf("%s must have one element, got shape %v", what, t.Shape)
	}
	if t.DType.IsFloat() {
		return int64(t.Float64s()[0]), nil
	}
	v, err := t.Ints()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return v[0], nil
}

// wrapIndex maps an index in [-n, n) to [0, n).
func wrapIndex(i int64, n int, what string) (int, error) {
	if i < 0 {
		i += int64(n)
	}
	if i < 0 || i >= int64(n) {
		return 0, fmt.Errorf("%s %d is out of range for a dimension of size %d", what, i, n)
	}
	return int(i), nil
}

// indicesOf reads an index tensor (int32 or int64) as int64s.
func indicesOf(t *tensor.Tensor) ([]int64, error) {
	if t.DType != tensor.Int32 && t.DType != tensor.Int64 {
		return nil, fmt.Errorf("indices must be int32 or int64, got %v", t.DType)
	}
	return t.Ints()
}

// dtypeAttr reads an ONNX element type code attribute; def is returned
// when absent.
func dtypeAttr(n *graph.Node, name string, def tensor.DType) (tensor.DType, error) {
	if !n.Has(name) {
		return def, nil
	}
	code, err := n.AttrInt(name, 0)
	if err != nil {
		return 0, err
	}
	dt, ok := tensor.FromONNX(int32(code))
	if !ok || code != int64(int32(code)) {
		return 0, fmt.Errorf("attribute %s: unsupported element type code %d", name, code)
	}
	return dt, nil
}

// Shape inference helpers. Dims may be symbolic, so inference works on
// graph.Dim and falls back to Unknown where a size depends on one.

// ranked returns a ranked type.
func ranked(dt tensor.DType, dims []graph.Dim) graph.Type {
	return graph.Type{DType: dt, Shape: dims, Ranked: true}
}

// staticType is the type of a tensor of known shape.
func staticType(dt tensor.DType, shape []int) graph.Type { return graph.TensorType(dt, shape...) }

// constInts returns constant integer input i, or ok=false.
func constInts(b *ops.Build, i int) ([]int64, bool) {
	t := b.Const(i)
	if t == nil {
		return nil, false
	}
	v, err := t.Ints()
	return v, err == nil
}

// dimProduct multiplies dims; the result is Unknown unless all are known.
func dimProduct(dims []graph.Dim) graph.Dim {
	n := int64(1)
	for _, d := range dims {
		if !d.Known() {
			return graph.Unknown
		}
		n *= d.Size
	}
	return graph.Dim{Size: n}
}

// errNoInfer makes an Infer function give up quietly (the runtime ignores
// inference errors).
var errNoInfer = fmt.Errorf("not inferable at load")

// inferLikeInput0 is the rule "same type and shape as input 0".
func inferLikeInput0(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	if len(in) == 0 || in[0].DType == tensor.Undefined {
		return nil, errNoInfer
	}
	return []graph.Type{in[0]}, nil
}

// opDef is one op of this package. Every op here handles all element types
// itself (Native16, Float64). The first `inputs` inputs are required: their
// presence is checked at load, so kernels and Infer may index them freely.
type opDef struct {
	op       string
	inputs   int
	build    func(b *ops.Build) (ops.Kernel, error)
	infer    func(b *ops.Build, in []graph.Type) ([]graph.Type, error)
	volatile bool
}

func register(defs ...opDef) {
	for _, d := range defs {
		d := d
		def := &ops.Def{Op: d.op, Native16: true, Float64: true, Volatile: d.volatile}
		def.Build = func(b *ops.Build) (ops.Kernel, error) {
			for i := 0; i < d.inputs; i++ {
				if !b.HasInput(i) {
					return nil, fmt.Errorf("%s needs %d inputs; input %d is missing", d.op, d.inputs, i)
				}
			}
			return d.build(b)
		}
		if d.infer != nil {
			def.Infer = func(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
				if len(in) < d.inputs {
					return nil, errNoInfer
				}
				return d.infer(b, in)
			}
		}
		ops.Register(def)
	}
}
