package mathops

import (
	"testing"

	"stride/ops"
	"stride/tensor"
)

// benchBinary times the kernel alone, into a preallocated output.
func benchBinary(b *testing.B, op string, x, y *tensor.Tensor) {
	f := binaryOps[op]
	p, err := broadcast(x.Shape, y.Shape)
	if err != nil {
		b.Fatal(err)
	}
	out := tensor.Zeros(x.DType, p.shape...)
	c := ops.NewCtx(nil, testPool, nil)
	b.SetBytes(int64(4 * p.n))
	for b.Loop() {
		if err := applyBinary(c, p, out, x, y, &f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAddSameShape(b *testing.B) {
	x := tensor.Zeros(tensor.Float32, 64, 128, 128)
	benchBinary(b, "Add", x, x)
}

func BenchmarkAddScalar(b *testing.B) {
	benchBinary(b, "Add", tensor.Zeros(tensor.Float32, 64, 128, 128), tensor.Zeros(tensor.Float32))
}

func BenchmarkAddChannelBias(b *testing.B) {
	benchBinary(b, "Add", tensor.Zeros(tensor.Float32, 64, 128, 128), tensor.Zeros(tensor.Float32, 64, 1, 1))
}

func BenchmarkMulRowBroadcast(b *testing.B) {
	benchBinary(b, "Mul", tensor.Zeros(tensor.Float32, 1024, 1024), tensor.Zeros(tensor.Float32, 1024))
}

func BenchmarkMulColumnBroadcast(b *testing.B) {
	benchBinary(b, "Mul", tensor.Zeros(tensor.Float32, 1024, 1024), tensor.Zeros(tensor.Float32, 1024, 1))
}

func BenchmarkSigmoid(b *testing.B) {
	x := tensor.Zeros(tensor.Float32, 64, 128, 128)
	f, _ := activations["Sigmoid"](nil)
	c := ops.NewCtx(nil, testPool, nil)
	b.SetBytes(int64(4 * x.Len()))
	for b.Loop() {
		if err := applyUnary(c, x, x, f); err != nil {
			b.Fatal(err)
		}
	}
}
