package imageops

import (
	"math"
	"math/rand"
	"testing"

	"stride/tensor"
)

// naiveDFT is the defining sum, for checking the fast transforms.
func naiveDFT(re, im []float64, inverse bool) ([]float64, []float64) {
	n := len(re)
	sign := -1.0
	if inverse {
		sign = 1
	}
	or, oi := make([]float64, n), make([]float64, n)
	for k := range n {
		for j := range n {
			s, c := math.Sincos(sign * 2 * math.Pi * float64(k*j%n) / float64(n))
			or[k] += re[j]*c - im[j]*s
			oi[k] += re[j]*s + im[j]*c
		}
		if inverse {
			or[k] /= float64(n)
			oi[k] /= float64(n)
		}
	}
	return or, oi
}

func TestFFTPlanLengths(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	// Powers of two (radix-2), short odd lengths (direct) and long others
	// (Bluestein).
	for _, n := range []int{1, 2, 3, 5, 8, 12, 16, 31, 33, 37, 64, 100, 127, 400} {
		p := newFFT(n)
		w := p.newWork()
		for _, inv := range []bool{false, true} {
			re, im := make([]float64, n), make([]float64, n)
			for i := range re {
				re[i], im[i] = rng.NormFloat64(), rng.NormFloat64()
			}
			wr, wi := naiveDFT(re, im, inv)
			p.transform(re, im, inv, w)
			for i := range re {
				if math.Abs(re[i]-wr[i]) > 1e-9*float64(n) || math.Abs(im[i]-wi[i]) > 1e-9*float64(n) {
					t.Fatalf("n=%d inverse=%v bin %d: got (%g, %g) want (%g, %g)", n, inv, i, re[i], im[i], wr[i], wi[i])
				}
			}
		}
	}
}

func randSignal(rng *rand.Rand, shape ...int) *tensor.Tensor {
	x := tensor.Zeros(tensor.Float64, shape...)
	for i := range x.Data.([]float64) {
		x.Data.([]float64)[i] = rng.NormFloat64()
	}
	return x
}

func TestDFTForms(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	// Real signal [batch 2, length 6, 1] transformed on axis 1.
	x := randSignal(rng, 2, 6, 1)
	xs := x.Data.([]float64)
	full := mustRun(t, "DFT", 17, attrs{}, x)
	half := mustRun(t, "DFT", 17, attrs{"onesided": num(1)}, x)
	if !tensor.SameShape(full.Shape, []int{2, 6, 2}) || !tensor.SameShape(half.Shape, []int{2, 4, 2}) {
		t.Fatalf("shapes %v %v", full.Shape, half.Shape)
	}
	for b := range 2 {
		wr, wi := naiveDFT(xs[b*6:b*6+6], make([]float64, 6), false)
		f, h := full.Data.([]float64)[b*12:], half.Data.([]float64)[b*8:]
		for k := range 6 {
			if math.Abs(f[2*k]-wr[k]) > 1e-12 || math.Abs(f[2*k+1]-wi[k]) > 1e-12 || k < 4 && (h[2*k] != f[2*k] || h[2*k+1] != f[2*k+1]) {
				t.Fatalf("batch %d bin %d: full %v half %v want %v %v", b, k, f[2*k:2*k+2], h[2*k:2*k+2], wr[k], wi[k])
			}
		}
	}
	// The inverse of the full transform gives the signal back (imaginary 0).
	back := mustRun(t, "DFT", 17, attrs{"inverse": num(1)}, full)
	for i, v := range xs {
		if b := back.Data.([]float64); math.Abs(b[2*i]-v) > 1e-12 || math.Abs(b[2*i+1]) > 1e-12 {
			t.Fatalf("roundtrip %d: %v %v", i, b[2*i:2*i+2], v)
		}
	}
	// IRFFT (onesided inverse) rebuilds the real signal from the half
	// spectrum; an odd length must be given explicitly.
	for _, n := range []int{6, 7} {
		sig := randSignal(rng, 1, n, 1)
		spec := mustRun(t, "DFT", 20, attrs{"onesided": num(1)}, sig, nil, tensor.Scalar(int64(1)))
		var length *tensor.Tensor
		if n%2 == 1 {
			length = tensor.Scalar(int64(n))
		}
		got := mustRun(t, "DFT", 20, attrs{"onesided": num(1), "inverse": num(1)}, spec, length, tensor.Scalar(int64(-2)))
		expect(t, got, []int{1, n, 1}, sig.Float64s(), 1e-12)
	}
}

func TestDFTAxisAndLength(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	x := randSignal(rng, 3, 5, 2) // complex
	xs := x.Data.([]float64)
	// Opset 20: the axis input; -2 (the default) is the last signal axis.
	for _, axisIn := range []*tensor.Tensor{nil, tensor.Scalar(int64(-2)), tensor.Scalar(int64(1))} {
		y := mustRun(t, "DFT", 20, attrs{}, x, nil, axisIn)
		for b := range 3 {
			re, im := make([]float64, 5), make([]float64, 5)
			for j := range 5 {
				re[j], im[j] = xs[(b*5+j)*2], xs[(b*5+j)*2+1]
			}
			wr, wi := naiveDFT(re, im, false)
			for k := range 5 {
				got := y.Data.([]float64)[(b*5+k)*2:]
				if math.Abs(got[0]-wr[k]) > 1e-12 || math.Abs(got[1]-wi[k]) > 1e-12 {
					t.Fatalf("axis input %v, batch %d bin %d: %v want %v %v", axisIn, b, k, got[:2], wr[k], wi[k])
				}
			}
		}
	}
	// Axis 0 with dft_length 4 (pads the 3 rows with a zero row).
	y := mustRun(t, "DFT", 17, attrs{"axis": num(0)}, x, tensor.Scalar(int32(4)))
	if !tensor.SameShape(y.Shape, []int{4, 5, 2}) {
		t.Fatalf("shape %v", y.Shape)
	}
	re := []float64{xs[2*2], xs[(5+2)*2], xs[(10+2)*2], 0}
	im := []float64{xs[2*2+1], xs[(5+2)*2+1], xs[(10+2)*2+1], 0}
	wr, wi := naiveDFT(re, im, false)
	for k := range 4 {
		got := y.Data.([]float64)[(k*5+2)*2:]
		if math.Abs(got[0]-wr[k]) > 1e-12 || math.Abs(got[1]-wi[k]) > 1e-12 {
			t.Fatalf("axis 0 bin %d: %v want %v %v", k, got[:2], wr[k], wi[k])
		}
	}
	// Truncation keeps the first dft_length samples.
	y = mustRun(t, "DFT", 17, attrs{}, x, tensor.Scalar(int64(2)))
	if got := y.Data.([]float64); y.Shape[1] != 2 || math.Abs(got[0]-(xs[0]+xs[2])) > 1e-12 {
		t.Fatalf("truncated: %v", y)
	}
	for _, axis := range []int64{2, -1, 3} {
		if _, err := run("DFT", 17, attrs{"axis": num(axis)}, x); err == nil {
			t.Errorf("axis %d accepted", axis)
		}
	}
	if _, err := run("DFT", 17, attrs{}, randSignal(rng, 2, 3, 3)); err == nil {
		t.Error("last dim 3 accepted")
	}
}

func TestDFTFloat32(t *testing.T) {
	x := f32s([]int{1, 4, 1}, 1, 2, 3, 4)
	y := mustRun(t, "DFT", 17, attrs{}, x)
	if y.DType != tensor.Float32 {
		t.Fatalf("dtype %v", y.DType)
	}
	expect(t, y, []int{1, 4, 2}, []float64{10, 0, -2, 2, -2, 0, -2, -2}, 1e-6)
}

func TestSTFT(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	x := randSignal(rng, 2, 20, 1)
	xs := x.Data.([]float64)
	win := mustRun(t, "HannWindow", 17, attrs{"output_datatype": num(11)}, tensor.Scalar(int64(8)))
	y := mustRun(t, "STFT", 17, attrs{}, x, tensor.Scalar(int64(4)), win, tensor.Scalar(int64(8)))
	// frames = 1 + (20-8)/4 = 4, bins = 8/2+1 = 5.
	if !tensor.SameShape(y.Shape, []int{2, 4, 5, 2}) {
		t.Fatalf("shape %v", y.Shape)
	}
	w := win.Data.([]float64)
	for b := range 2 {
		for f := range 4 {
			re := make([]float64, 8)
			for j := range re {
				re[j] = xs[b*20+f*4+j] * w[j]
			}
			wr, wi := naiveDFT(re, make([]float64, 8), false)
			for k := range 5 {
				got := y.Data.([]float64)[((b*4+f)*5+k)*2:]
				if math.Abs(got[0]-wr[k]) > 1e-12 || math.Abs(got[1]-wi[k]) > 1e-12 {
					t.Fatalf("batch %d frame %d bin %d: %v want %v %v", b, f, k, got[:2], wr[k], wi[k])
				}
			}
		}
	}
	// Two-sided, no window: a rectangular window of frame_length.
	y = mustRun(t, "STFT", 17, attrs{"onesided": num(0)}, x, tensor.Scalar(int64(4)), nil, tensor.Scalar(int64(8)))
	if !tensor.SameShape(y.Shape, []int{2, 4, 8, 2}) {
		t.Fatalf("shape %v", y.Shape)
	}
	if _, err := run("STFT", 17, attrs{}, x, tensor.Scalar(int64(4)), win, tensor.Scalar(int64(6))); err == nil {
		t.Error("window and frame_length disagreeing accepted")
	}
}

func TestWindows(t *testing.T) {
	cases := []struct {
		op   string
		at   attrs
		size int64
		want []float64
	}{
		{"HannWindow", attrs{}, 4, []float64{0, 0.5, 1, 0.5}},
		{"HannWindow", attrs{"periodic": num(0)}, 5, []float64{0, 0.5, 1, 0.5, 0}},
		{"HammingWindow", attrs{}, 4, []float64{4.0 / 46, 25.0 / 46, 46.0 / 46, 25.0 / 46}},
		{"HammingWindow", attrs{"periodic": num(0)}, 1, []float64{1}},
		{"BlackmanWindow", attrs{}, 4, []float64{0, 0.34, 1, 0.34}},
		{"BlackmanWindow", attrs{"periodic": num(0)}, 3, []float64{0, 1, 0}},
		{"HannWindow", attrs{}, 0, []float64{}},
	}
	for _, c := range cases {
		y := mustRun(t, c.op, 17, c.at, tensor.Scalar(c.size))
		expect(t, y, []int{int(c.size)}, c.want, 1e-7)
	}
	y := mustRun(t, "HannWindow", 17, attrs{"output_datatype": num(10)}, tensor.Scalar(int32(4)))
	if y.DType != tensor.Float16 || y.Float64s()[1] != 0.5 {
		t.Fatalf("float16 window: %v", y)
	}
	if _, err := run("HannWindow", 17, attrs{"output_datatype": num(8)}, tensor.Scalar(int64(4))); err == nil {
		t.Error("string output accepted")
	}
}

// Expected values come from the ONNX reference implementation.
func TestMelWeightMatrix(t *testing.T) {
	y := mustRun(t, "MelWeightMatrix", 17, attrs{}, tensor.Scalar(int64(5)), tensor.Scalar(int64(64)),
		tensor.Scalar(int64(16000)), tensor.Scalar(float32(100)), tensor.Scalar(float32(7000)))
	if !tensor.SameShape(y.Shape, []int{33, 5}) {
		t.Fatalf("shape %v", y.Shape)
	}
	want := []float64{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0.5, 0.5, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0.5, 0.5, 0, 0,
		0, 0, 1, 0, 0, 0, 0, 0.75, 0.25, 0, 0, 0, 0.5, 0.5, 0, 0, 0, 0.25, 0.75, 0, 0, 0, 0, 1, 0,
		0, 0, 0, 0.75, 0.25, 0, 0, 0, 0.5, 0.5, 0, 0, 0, 0.25, 0.75, 0, 0, 0, 0, 1, 0, 0, 0, 0, 5.0 / 6,
		0, 0, 0, 0, 4.0 / 6, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 2.0 / 6, 0, 0, 0, 0, 1.0 / 6}
	want = append(want, make([]float64, 33*5-len(want))...)
	expect(t, y, []int{33, 5}, want, 1e-6)
}
