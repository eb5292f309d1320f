package norm

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"stride/graph"
	"stride/internal/parallel"
	"stride/ops"
	"stride/tensor"
)

// pool runs the tests' kernels on several threads so the parallel loops
// are exercised.
var pool = parallel.New(4)

func testCtx() *ops.Ctx { return ops.NewCtx(context.Background(), pool, nil) }

type attrs map[string]*graph.Attr

// runOp builds op with the attributes and runs it on the inputs (nil for an
// omitted optional input), with nout outputs. Inputs are given to the
// builder as constants, like initializers.
func runOp(op string, at attrs, nout int, in ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	domain, op := splitOp(op)
	def, ok := ops.Lookup(domain, op)
	if !ok {
		return nil, fmt.Errorf("%s not registered", op)
	}
	n := &graph.Node{Op: op, Domain: domain, Attrs: at}
	b := &ops.Build{Node: n, Opset: 21}
	for i, t := range in {
		name := ""
		var typ graph.Type
		if t != nil {
			name = fmt.Sprintf("in%d", i)
			typ = graph.TensorType(t.DType, t.Shape...)
		}
		n.Inputs = append(n.Inputs, name)
		b.Consts = append(b.Consts, t)
		b.Types = append(b.Types, typ)
	}
	for i := range nout {
		n.Outputs = append(n.Outputs, fmt.Sprintf("out%d", i))
	}
	k, err := def.Build(b)
	if err != nil {
		return nil, err
	}
	outs, err := k.Run(testCtx(), in)
	if err != nil {
		return nil, err
	}
	if def.Infer != nil {
		// The shape rule must agree with what the kernel produced.
		types, err := def.Infer(b, b.Types)
		if err == nil {
			for i, o := range outs {
				if o == nil || i >= len(types) {
					continue
				}
				if got, ok := types[i].Static(); ok && (types[i].DType != o.DType || !tensor.SameShape(got, o.Shape)) {
					return nil, fmt.Errorf("Infer says output %d is %v, kernel made %v%v", i, types[i], o.DType, o.Shape)
				}
			}
		}
	}
	return outs, nil
}

// mustRun is runOp failing the test on error.
func mustRun(t *testing.T, op string, at attrs, nout int, in ...*tensor.Tensor) []*tensor.Tensor {
	t.Helper()
	outs, err := runOp(op, at, nout, in...)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return outs
}

func f32(shape []int, v ...float32) *tensor.Tensor { return tensor.From(shape, v) }
func f64(shape []int, v ...float64) *tensor.Tensor { return tensor.From(shape, v) }
func i64(shape []int, v ...int64) *tensor.Tensor   { return tensor.From(shape, v) }

func ints(v ...int64) *graph.Attr { return graph.IntsAttr(v...) }
func intA(v int64) *graph.Attr    { return graph.IntAttr(v) }

// expect checks a tensor's type, shape and values (within tol relative and
// absolute; NaN matches NaN, infinities must be equal).
func expect(t *testing.T, what string, got *tensor.Tensor, dt tensor.DType, shape []int, want []float64, tol float64) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: no output", what)
	}
	if got.DType != dt || !tensor.SameShape(got.Shape, shape) {
		t.Fatalf("%s: got %v%v, want %v%v", what, got.DType, got.Shape, dt, shape)
	}
	g := got.Float64s()
	if len(g) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(g), len(want))
	}
	for i := range want {
		a, b := g[i], want[i]
		switch {
		case math.IsNaN(b):
			if !math.IsNaN(a) {
				t.Errorf("%s[%d] = %v, want NaN", what, i, a)
			}
		case math.IsInf(b, 0) || tol == 0:
			if a != b {
				t.Errorf("%s[%d] = %v, want %v", what, i, a, b)
			}
		case math.Abs(a-b) > tol*(1+math.Abs(b)):
			t.Errorf("%s[%d] = %v, want %v", what, i, a, b)
		}
	}
}

// splitOp splits "domain::Op" (plain "Op" is in the default domain).
func splitOp(op string) (domain, name string) {
	if d, o, ok := strings.Cut(op, "::"); ok {
		return d, o
	}
	return "", op
}
