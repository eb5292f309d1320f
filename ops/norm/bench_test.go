package norm

import (
	"context"
	"fmt"
	"testing"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// Benchmarks of the common layouts (rows, strided columns, permuted axes),
// a baseline for future fast paths.

func benchOp(b *testing.B, op string, at attrs, in ...*tensor.Tensor) {
	def, _ := ops.Lookup("", op)
	n := &graph.Node{Op: op, Attrs: at, Outputs: []string{"y"}}
	bd := &ops.Build{Node: n}
	for range in {
		n.Inputs = append(n.Inputs, "x")
		bd.Consts = append(bd.Consts, nil)
		bd.Types = append(bd.Types, graph.Type{})
	}
	k, err := def.Build(bd)
	if err != nil {
		b.Fatal(err)
	}
	ctx := ops.NewCtx(context.Background(), pool, &reuse{})
	b.SetBytes(int64(in[0].Len() * 4))
	b.ResetTimer()
	for range b.N {
		if _, err := k.Run(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// reuse hands out one tensor per shape again and again, as the runtime's
// arena does in steady state, so benchmarks time the kernels rather than
// fresh pages.
type reuse struct{ m map[string]*tensor.Tensor }

func (r *reuse) Alloc(dt tensor.DType, shape []int) (*tensor.Tensor, error) {
	key := fmt.Sprint(dt, shape)
	if r.m == nil {
		r.m = map[string]*tensor.Tensor{}
	}
	if t, ok := r.m[key]; ok {
		return t, nil
	}
	t := tensor.Zeros(dt, shape...)
	r.m[key] = t
	return t, nil
}

func BenchmarkReduceMeanLast(b *testing.B) {
	benchOp(b, "ReduceMean", nil, tensor.Zeros(tensor.Float32, 1024, 4096), i64([]int{1}, 1))
}
func BenchmarkReduceSumFirst(b *testing.B) {
	benchOp(b, "ReduceSum", nil, tensor.Zeros(tensor.Float32, 4096, 1024), i64([]int{1}, 0))
}
func BenchmarkReduceSumPerm(b *testing.B) {
	benchOp(b, "ReduceSum", nil, tensor.Zeros(tensor.Float32, 64, 64, 1024), i64([]int{2}, 0, 2))
}
func BenchmarkSoftmaxLast(b *testing.B) {
	benchOp(b, "Softmax", nil, tensor.Zeros(tensor.Float32, 1024, 4096))
}
func BenchmarkSoftmaxFirst(b *testing.B) {
	benchOp(b, "Softmax", attrs{"axis": intA(0)}, tensor.Zeros(tensor.Float32, 4096, 1024))
}
func BenchmarkLayerNorm(b *testing.B) {
	benchOp(b, "LayerNormalization", nil, tensor.Zeros(tensor.Float32, 4096, 1024), tensor.Zeros(tensor.Float32, 1024))
}
func BenchmarkBatchNorm(b *testing.B) {
	z := tensor.Zeros(tensor.Float32, 64)
	benchOp(b, "BatchNormalization", nil, tensor.Zeros(tensor.Float32, 8, 64, 112, 112), z, z, z, z)
}

func BenchmarkLRN(b *testing.B) {
	benchOp(b, "LRN", attrs{"size": intA(5)}, tensor.Zeros(tensor.Float32, 1, 64, 56, 56))
}
