package train

import (
	"math/rand/v2"
	"testing"

	"stride/graph"
	"stride/internal/parallel"
	"stride/ops"
	"stride/tensor"
)

func BenchmarkMaxPoolForward(b *testing.B) {
	op, _ := newMaxPoolOp(&graph.Node{Attrs: attrs("kernel_shape", graph.IntsAttr(2, 2), "strides", graph.IntsAttr(2, 2))}, nil, TrainMode)
	x := tensor.Zeros(tensor.Float32, 64, 20, 24, 24)
	for i := range x.F32() {
		x.F32()[i] = rand.Float32()
	}
	pool := parallel.New(1)
	defer pool.Close()
	f := &Fwd{Ctx: ops.NewCtx(nil, pool, newArena())}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op.Forward(f, []*tensor.Tensor{x})
	}
}
