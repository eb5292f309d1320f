package tensorops

import (
	"context"
	"testing"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// bench runs one op repeatedly; bytes is the output size for MB/s.
func bench(b *testing.B, op string, a map[string]*graph.Attr, in ...*tensor.Tensor) {
	def, _ := ops.Lookup("", op)
	n := &graph.Node{Op: op, Attrs: a, Outputs: []string{"y"}}
	for range in {
		n.Inputs = append(n.Inputs, "x")
	}
	k, err := def.Build(&ops.Build{Node: n, Consts: make([]*tensor.Tensor, len(in)), Types: make([]graph.Type, len(in))})
	if err != nil {
		b.Fatal(err)
	}
	c := ops.NewCtx(context.Background(), testPool, &reuse{})
	outs, err := k.Run(c, in)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(outs[0].Len() * 4))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := k.Run(c, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTransposeNCHWToNHWC(b *testing.B) {
	bench(b, "Transpose", attrs("perm", graph.IntsAttr(0, 2, 3, 1)), iota32(1, 64, 112, 112))
}

func BenchmarkTransposeNHWCToNCHW(b *testing.B) {
	bench(b, "Transpose", attrs("perm", graph.IntsAttr(0, 3, 1, 2)), iota32(1, 112, 112, 64))
}

func BenchmarkConcatChannels(b *testing.B) {
	x := iota32(8, 64, 28, 28)
	bench(b, "Concat", attrs("axis", graph.IntAttr(1)), x, x, x, x)
}

func BenchmarkSliceRows(b *testing.B) {
	bench(b, "Slice", nil, iota32(8, 256, 28, 28), ints(32), ints(224), ints(1))
}

func BenchmarkGatherRows(b *testing.B) {
	idx := make([]int64, 512)
	for i := range idx {
		idx[i] = int64(i * 37 % 30000)
	}
	bench(b, "Gather", nil, iota32(30000, 256), tensor.From([]int{512}, idx))
}

func BenchmarkPadSpatial(b *testing.B) {
	bench(b, "Pad", nil, iota32(8, 64, 56, 56), ints(0, 0, 1, 1, 0, 0, 1, 1))
}

// reuse hands out the same buffer for the same size, as the runtime's arena
// does in steady state, so benchmarks measure the kernels, not the heap.
type reuse struct{ bufs map[[2]int]any }

func (r *reuse) Alloc(dt tensor.DType, shape []int) (*tensor.Tensor, error) {
	if r.bufs == nil {
		r.bufs = map[[2]int]any{}
	}
	k := [2]int{int(dt), tensor.Size(shape)}
	if r.bufs[k] == nil {
		r.bufs[k] = tensor.MakeSlice(dt, k[1])
	}
	return &tensor.Tensor{DType: dt, Shape: append([]int{}, shape...), Data: r.bufs[k]}, nil
}

func BenchmarkMemmoveBaseline(b *testing.B) {
	src := make([]float32, 8*256*28*28)
	dst := make([]float32, len(src))
	b.SetBytes(int64(len(src) * 4))
	for i := 0; i < b.N; i++ {
		copy(dst, src)
	}
}
