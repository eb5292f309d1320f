package kern

import (
	"testing"
)

// Kernel benchmarks in ns per element (and bytes moved per second) on
// L2-sized runs (the shapes of CNN activations after blocking) and on a
// large one.

func benchUnary(b *testing.B, k unaryKind, n int) {
	x, y := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(i%97)/10 - 4
	}
	b.SetBytes(int64(8 * n))
	for b.Loop() {
		unary(k, y, x, 0, 6)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/elem")
}

func BenchmarkRelu16K(b *testing.B)    { benchUnary(b, uRelu, 1<<14) }
func BenchmarkRelu1M(b *testing.B)     { benchUnary(b, uRelu, 1<<20) }
func BenchmarkClamp16K(b *testing.B)   { benchUnary(b, uClamp, 1<<14) }
func BenchmarkExp16K(b *testing.B)     { benchUnary(b, uExp, 1<<14) }
func BenchmarkSigmoid16K(b *testing.B) { benchUnary(b, uSigmoid, 1<<14) }
func BenchmarkTanh16K(b *testing.B)    { benchUnary(b, uTanh, 1<<14) }

func BenchmarkRelu16KGo(b *testing.B) {
	x, y := make([]float32, 1<<14), make([]float32, 1<<14)
	b.SetBytes(8 << 14)
	for b.Loop() {
		unaryGo[uRelu](y, x, 0, 0)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(1<<14), "ns/elem")
}

func BenchmarkSigmoid16KGo(b *testing.B) {
	x, y := make([]float32, 1<<14), make([]float32, 1<<14)
	b.SetBytes(8 << 14)
	for b.Loop() {
		unaryGo[uSigmoid](y, x, 0, 0)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(1<<14), "ns/elem")
}

func BenchmarkAddVV16K(b *testing.B) {
	n := 1 << 14
	x, y, z := make([]float32, n), make([]float32, n), make([]float32, n)
	b.SetBytes(int64(12 * n))
	for b.Loop() {
		Apply(Add, z, x, y)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/elem")
}

func BenchmarkSum16K(b *testing.B) {
	x := make([]float32, 1<<14)
	b.SetBytes(4 << 14)
	for b.Loop() {
		SumOf(x)
	}
}

// The resnet stem pool: 64 planes of 112x112, 3x3 stride 2, pad 1.
func benchPool(b *testing.B, avg bool, k, s, pad, hw int) {
	p := Pool2D{H: hw, W: hw, KH: k, KW: k, SH: s, SW: s, PadT: pad, PadL: pad, PadB: pad, PadR: pad, Avg: avg}
	p.OH = (hw+2*pad-k)/s + 1
	p.OW = p.OH
	const planes = 64
	x := make([]float32, planes*hw*hw)
	for i := range x {
		x[i] = float32(i % 13)
	}
	y := make([]float32, planes*p.OH*p.OW)
	scratch := make([]float32, p.ScratchLen())
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		for i := range planes {
			p.Plane(y[i*p.OH*p.OW:(i+1)*p.OH*p.OW], x[i*hw*hw:(i+1)*hw*hw], scratch)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(y)), "ns/out")
}

func BenchmarkMaxPool3s2(b *testing.B) { benchPool(b, false, 3, 2, 1, 112) }
func BenchmarkMaxPool3s1(b *testing.B) { benchPool(b, false, 3, 1, 1, 28) }
func BenchmarkAvgPool2s2(b *testing.B) { benchPool(b, true, 2, 2, 0, 56) }
