package tensorops

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"stride/graph"
	"stride/internal/parallel"
	"stride/ops"
	"stride/tensor"
)

// testPool has several workers so the parallel paths run in tests.
var testPool = parallel.New(4)

// call runs op once on the inputs (nil = omitted optional input) and
// returns nOut outputs.
func call(op string, attrs map[string]*graph.Attr, nOut int, in ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	def, ok := ops.Lookup("", op)
	if !ok {
		return nil, fmt.Errorf("op %s not registered", op)
	}
	n := &graph.Node{Op: op, Attrs: attrs}
	b := &ops.Build{Node: n, Opset: 21}
	for i, t := range in {
		name := ""
		if t != nil {
			name = fmt.Sprintf("in%d", i)
		}
		n.Inputs = append(n.Inputs, name)
		b.Consts = append(b.Consts, t)
		var ty graph.Type
		if t != nil {
			ty = graph.TensorType(t.DType, t.Shape...)
		}
		b.Types = append(b.Types, ty)
	}
	for i := 0; i < nOut; i++ {
		n.Outputs = append(n.Outputs, fmt.Sprintf("out%d", i))
	}
	k, err := def.Build(b)
	if err != nil {
		return nil, err
	}
	c := ops.NewCtx(context.Background(), testPool, nil)
	outs, err := k.Run(c, in)
	if err != nil {
		return nil, err
	}
	if len(outs) < nOut {
		return nil, fmt.Errorf("%s returned %d outputs, want %d", op, len(outs), nOut)
	}
	// Outputs must fill their shapes exactly.
	for i, o := range outs[:nOut] {
		if o.Len() != tensor.Size(o.Shape) {
			return nil, fmt.Errorf("output %d: %d elements for shape %v", i, o.Len(), o.Shape)
		}
	}
	return outs, nil
}

func mustCall(t *testing.T, op string, attrs map[string]*graph.Attr, nOut int, in ...*tensor.Tensor) []*tensor.Tensor {
	t.Helper()
	outs, err := call(op, attrs, nOut, in...)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return outs
}

func run1(t *testing.T, op string, attrs map[string]*graph.Attr, in ...*tensor.Tensor) *tensor.Tensor {
	t.Helper()
	return mustCall(t, op, attrs, 1, in...)[0]
}

// wantErr checks that op fails with an error mentioning substr.
func wantErr(t *testing.T, substr, op string, attrs map[string]*graph.Attr, nOut int, in ...*tensor.Tensor) {
	t.Helper()
	_, err := call(op, attrs, nOut, in...)
	if err == nil {
		t.Fatalf("%s: expected an error containing %q", op, substr)
	}
	if !strings.Contains(err.Error(), substr) {
		t.Fatalf("%s: error %q does not mention %q", op, err, substr)
	}
}

// expect compares a tensor's shape and data with the wanted ones.
func expect[T tensor.Elem](t *testing.T, got *tensor.Tensor, shape []int, data []T) {
	t.Helper()
	if !tensor.SameShape(got.Shape, shape) {
		t.Fatalf("shape %v, want %v", got.Shape, shape)
	}
	g, ok := got.Data.([]T)
	if !ok {
		t.Fatalf("data is %T, want %T", got.Data, data)
	}
	if len(g) != len(data) || (len(g) > 0 && !reflect.DeepEqual(g, data)) {
		t.Fatalf("data %v, want %v", g, data)
	}
}

func ints(v ...int64) *tensor.Tensor { return tensor.From([]int{len(v)}, v) }

func iota32(shape ...int) *tensor.Tensor {
	d := make([]float32, tensor.Size(shape))
	for i := range d {
		d[i] = float32(i)
	}
	return tensor.From(shape, d)
}

func attrs(kv ...any) map[string]*graph.Attr {
	m := map[string]*graph.Attr{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(*graph.Attr)
	}
	return m
}

// infer runs op's shape inference with the given input types and constant
// inputs (nil where not constant).
func infer(t *testing.T, op string, a map[string]*graph.Attr, types []graph.Type, consts ...*tensor.Tensor) ([]graph.Type, error) {
	t.Helper()
	def, _ := ops.Lookup("", op)
	n := &graph.Node{Op: op, Attrs: a, Outputs: []string{"y"}}
	for i := range types {
		n.Inputs = append(n.Inputs, fmt.Sprintf("in%d", i))
	}
	cs := make([]*tensor.Tensor, len(types))
	copy(cs, consts)
	b := &ops.Build{Node: n, Opset: 21, Consts: cs, Types: types}
	return def.Infer(b, types)
}

func dims(d ...any) []graph.Dim {
	out := make([]graph.Dim, len(d))
	for i, v := range d {
		switch v := v.(type) {
		case int:
			out[i] = graph.Fixed(v)
		case string:
			out[i] = graph.Sym(v)
		default:
			out[i] = graph.Unknown
		}
	}
	return out
}

func sym(dt tensor.DType, d ...any) graph.Type {
	return graph.Type{DType: dt, Shape: dims(d...), Ranked: true}
}
