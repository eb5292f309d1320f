package nn

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"stride/graph"
	"stride/internal/parallel"
	"stride/ops"
	"stride/tensor"
)

var testPool = parallel.New(4)

func testCtx() *ops.Ctx { return ops.NewCtx(context.Background(), testPool, nil) }

// runOp builds a node of op with attrs and runs it on inputs (nil for an
// omitted optional input), returning nOut outputs.
func runOp(op string, attrs map[string]*graph.Attr, nOut int, inputs ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	n := &graph.Node{Op: op, Attrs: attrs}
	for i, t := range inputs {
		name := ""
		if t != nil {
			name = fmt.Sprintf("in%d", i)
		}
		n.Inputs = append(n.Inputs, name)
	}
	for i := 0; i < nOut; i++ {
		n.Outputs = append(n.Outputs, fmt.Sprintf("out%d", i))
	}
	def, ok := ops.Lookup("", op)
	if !ok {
		return nil, fmt.Errorf("op %s not registered", op)
	}
	k, err := def.Build(&ops.Build{Node: n, Opset: 21, Consts: make([]*tensor.Tensor, len(inputs)), Types: make([]graph.Type, len(inputs))})
	if err != nil {
		return nil, err
	}
	return k.Run(testCtx(), inputs)
}

func mustRun(t *testing.T, op string, attrs map[string]*graph.Attr, nOut int, inputs ...*tensor.Tensor) []*tensor.Tensor {
	t.Helper()
	out, err := runOp(op, attrs, nOut, inputs...)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out
}

func ints(v ...int64) *graph.Attr { return graph.IntsAttr(v...) }

func randTensor(r *rand.Rand, shape ...int) *tensor.Tensor {
	return tensor.From(shape, randF32(r, tensor.Size(shape)))
}

// checkClose compares float32 results with a float64 reference.
func checkClose(t *testing.T, name string, got *tensor.Tensor, wantShape []int, want []float64, tol float64) {
	t.Helper()
	if !tensor.SameShape(got.Shape, wantShape) {
		t.Fatalf("%s: shape %v, want %v", name, got.Shape, wantShape)
	}
	g := got.Float64s()
	for i := range want {
		if d := math.Abs(g[i] - want[i]); d > tol*(1+math.Abs(want[i])) || math.IsNaN(g[i]) {
			t.Fatalf("%s: element %d is %v, want %v", name, i, g[i], want[i])
		}
	}
}
