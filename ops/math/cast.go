package mathops

import (
	"fmt"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// Cast, CastLike and Identity. They handle every element type natively;
// conversions follow ONNX Cast semantics through tensor.Convert. A cast to
// the input's own type, and Identity, return views of the input.

func init() {
	ops.Register(
		&ops.Def{Op: "Cast", Build: buildCast, Infer: inferCast, Native16: true, Float64: true},
		&ops.Def{Op: "CastLike", Build: buildCastLike, Infer: inferCastLike, Native16: true, Float64: true},
		&ops.Def{Op: "Identity", Build: buildIdentity, Infer: inferSame, Native16: true, Float64: true},
	)
}

// onnxTypes maps TensorProto.DataType codes to element types. Codes
// without an entry (complex, float8, 4-bit types) are not supported.
var onnxTypes = map[int64]tensor.DType{
	1: tensor.Float32, 2: tensor.Uint8, 3: tensor.Int8, 4: tensor.Uint16, 5: tensor.Int16,
	6: tensor.Int32, 7: tensor.Int64, 8: tensor.String, 9: tensor.Bool, 10: tensor.Float16,
	11: tensor.Float64, 12: tensor.Uint32, 13: tensor.Uint64, 16: tensor.BFloat16,
}

// castTarget reads Cast's `to` attribute.
func castTarget(n *graph.Node) (tensor.DType, error) {
	code, err := n.AttrInt("to", -1)
	if err != nil {
		return 0, err
	}
	if code == -1 {
		return 0, fmt.Errorf("Cast needs the `to` attribute")
	}
	dt, ok := onnxTypes[code]
	if !ok {
		return 0, fmt.Errorf("Cast to ONNX data type %d is not supported", code)
	}
	return dt, nil
}

func castTo(x *tensor.Tensor, dt tensor.DType) (*tensor.Tensor, error) {
	if x.DType == dt {
		return view(x), nil
	}
	return tensor.Convert(x, dt)
}

func view(x *tensor.Tensor) *tensor.Tensor {
	return &tensor.Tensor{DType: x.DType, Shape: x.Shape, Data: x.Data}
}

func buildCast(b *ops.Build) (ops.Kernel, error) {
	dt, err := castTarget(b.Node)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, err := ops.NeedInput(in, 0, "input")
		if err != nil {
			return nil, err
		}
		y, err := castTo(x, dt)
		if err != nil {
			return nil, err
		}
		return ops.Outs(y)
	}), nil
}

func inferCast(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	dt, err := castTarget(b.Node)
	if err != nil {
		return nil, err
	}
	return inferBroadcast(dt, 0, 0)(b, in)
}

func buildCastLike(b *ops.Build) (ops.Kernel, error) {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, err := ops.NeedInput(in, 0, "input")
		if err != nil {
			return nil, err
		}
		like, err := ops.NeedInput(in, 1, "target_type")
		if err != nil {
			return nil, err
		}
		y, err := castTo(x, like.DType)
		if err != nil {
			return nil, err
		}
		return ops.Outs(y)
	}), nil
}

func inferCastLike(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	if len(in) < 2 || in[1].DType == tensor.Undefined {
		return nil, fmt.Errorf("target type unknown")
	}
	return inferBroadcast(in[1].DType, 0, 0)(b, in)
}

func buildIdentity(b *ops.Build) (ops.Kernel, error) {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, err := ops.NeedInput(in, 0, "input")
		if err != nil {
			return nil, err
		}
		return ops.Outs(view(x))
	}), nil
}
