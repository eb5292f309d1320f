package imageops

import (
	"context"
	"math"
	"testing"

	"stride/graph"
	"stride/internal/parallel"
	"stride/ops"
	"stride/tensor"
)

// pool is shared by the tests so the parallel loops really split.
var pool = parallel.New(4)

// attrs is shorthand for a node's attribute map.
type attrs map[string]*graph.Attr

// run builds op with the given attributes and opset and runs it once on in
// (nil entries are omitted optional inputs).
func run(op string, opset int64, at attrs, in ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	def, ok := ops.Lookup("", op)
	if !ok {
		panic("op not registered: " + op)
	}
	n := &graph.Node{Op: op, Attrs: at, Outputs: []string{"y"}}
	b := &ops.Build{Node: n, Opset: opset}
	for i, t := range in {
		name := ""
		if t != nil {
			name = string(rune('a' + i))
		}
		n.Inputs = append(n.Inputs, name)
		b.Consts = append(b.Consts, nil)
		b.Types = append(b.Types, graph.Type{})
	}
	k, err := def.Build(b)
	if err != nil {
		return nil, err
	}
	return k.Run(ops.NewCtx(context.Background(), pool, nil), in)
}

// mustRun is run for cases that must succeed; it returns the first output.
func mustRun(t *testing.T, op string, opset int64, at attrs, in ...*tensor.Tensor) *tensor.Tensor {
	t.Helper()
	out, err := run(op, opset, at, in...)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out[0]
}

// expect compares a tensor with a shape and values within tol (relative
// to max(1, |want|)).
func expect(t *testing.T, got *tensor.Tensor, shape []int, want []float64, tol float64) {
	t.Helper()
	if !tensor.SameShape(got.Shape, shape) {
		t.Fatalf("shape %v, want %v", got.Shape, shape)
	}
	g := got.Float64s()
	if len(g) != len(want) {
		t.Fatalf("%d values, want %d", len(g), len(want))
	}
	for i := range g {
		if math.Abs(g[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("element %d: got %v, want %v\n got  %v\n want %v", i, g[i], want[i], g, want)
		}
	}
}

func f32s(shape []int, v ...float32) *tensor.Tensor { return tensor.From(shape, v) }
func i64s(v ...int64) *tensor.Tensor                { return tensor.From([]int{len(v)}, v) }

// seq returns 1, 2, ..., n as float32 in the given shape.
func seq(shape ...int) *tensor.Tensor {
	v := make([]float32, tensor.Size(shape))
	for i := range v {
		v[i] = float32(i + 1)
	}
	return tensor.From(shape, v)
}

func str(s string) *graph.Attr    { return graph.StringAttr(s) }
func num(v int64) *graph.Attr     { return graph.IntAttr(v) }
func flt(v float32) *graph.Attr   { return graph.FloatAttr(v) }
func ints(v ...int64) *graph.Attr { return graph.IntsAttr(v...) }
