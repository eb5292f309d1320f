package norm

import (
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
	ctx := testCtx()
	b.SetBytes(int64(in[0].Len() * 4))
	b.ResetTimer()
	for range b.N {
		if _, err := k.Run(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
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
