package caffe

import (
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"

	"stride/proto/caffepb"
	"stride/tensor"
)

func filler(t *testing.T, text string) *caffepb.FillerParameter {
	t.Helper()
	f := &caffepb.FillerParameter{}
	if err := prototext.Unmarshal([]byte(text), f); err != nil {
		t.Fatal(err)
	}
	return f
}

func fill(t *testing.T, text string, shape ...int) []float32 {
	t.Helper()
	x := tensor.Zeros(tensor.Float32, shape...)
	if err := Fill(x, filler(t, text), FillerRNG(42, "layer", 0)); err != nil {
		t.Fatal(err)
	}
	return x.F32()
}

func meanStd(v []float32) (float64, float64) {
	var s, s2 float64
	for _, x := range v {
		s += float64(x)
		s2 += float64(x) * float64(x)
	}
	m := s / float64(len(v))
	return m, math.Sqrt(s2/float64(len(v)) - m*m)
}

func TestFillers(t *testing.T) {
	for _, v := range fill(t, `type: "constant" value: 2.5`, 3, 4) {
		if v != 2.5 {
			t.Fatalf("constant gave %v", v)
		}
	}
	for _, v := range fill(t, `type: "uniform" min: -2 max: 3`, 1000) {
		if v < -2 || v >= 3 {
			t.Fatalf("uniform gave %v", v)
		}
	}
	if m, s := meanStd(fill(t, `type: "gaussian" mean: 1 std: 0.5`, 100, 100)); math.Abs(m-1) > 0.02 || math.Abs(s-0.5) > 0.02 {
		t.Errorf("gaussian mean %v std %v", m, s)
	}
	// sparse: each weight kept with probability sparse / shape[0].
	zeros := 0
	for _, v := range fill(t, `type: "gaussian" sparse: 25`, 100, 200) {
		if v == 0 {
			zeros++
		}
	}
	if frac := float64(zeros) / 20000; math.Abs(frac-0.75) > 0.02 {
		t.Errorf("sparse gaussian zero fraction %v, want 0.75", frac)
	}
	v := fill(t, `type: "positive_unitball"`, 4, 3, 5)
	for r := 0; r < 4; r++ {
		var s float64
		for _, x := range v[r*15 : (r+1)*15] {
			if x < 0 {
				t.Fatalf("positive_unitball gave %v", x)
			}
			s += float64(x)
		}
		if math.Abs(s-1) > 1e-5 {
			t.Errorf("positive_unitball row %d sums to %v", r, s)
		}
	}
	// xavier: uniform(+-sqrt(3/n)); fan_in = count/shape[0] = 50,
	// fan_out = count/shape[1] = 80, average 65.
	for norm, n := range map[string]float64{"FAN_IN": 50, "FAN_OUT": 80, "AVERAGE": 65} {
		v := fill(t, `type: "xavier" variance_norm: `+norm, 8, 5, 10)
		b := math.Sqrt(3 / n)
		hi := 0.0
		for _, x := range v {
			hi = math.Max(hi, math.Abs(float64(x)))
		}
		if hi > b || hi < 0.9*b {
			t.Errorf("xavier %s: largest %v, bound %v", norm, hi, b)
		}
	}
	if _, s := meanStd(fill(t, `type: "msra"`, 200, 50)); math.Abs(s-math.Sqrt(2.0/50)) > 0.01 {
		t.Errorf("msra std %v, want %v", s, math.Sqrt(2.0/50))
	}
	if _, s := meanStd(fill(t, `type: "msra" variance_norm: FAN_OUT`, 200, 50, 2)); math.Abs(s-math.Sqrt(2.0/400)) > 0.005 {
		t.Errorf("msra fan_out std %v", s)
	}
	// bilinear 4x4 (upsampling by 2): f = 2, c = 0.75.
	want := []float32{0.0625, 0.1875, 0.1875, 0.0625}
	v = fill(t, `type: "bilinear"`, 1, 1, 4, 4)
	for i, w := range want {
		for j, w2 := range want {
			if math.Abs(float64(v[i*4+j]-w*w2*16)) > 1e-6 {
				t.Fatalf("bilinear[%d,%d] = %v, want %v", i, j, v[i*4+j], w*w2*16)
			}
		}
	}
	for _, bad := range []string{`type: "he"`, `type: "uniform" sparse: 3`, `type: "uniform" min: 2 max: 1`} {
		err := Fill(tensor.Zeros(tensor.Float32, 2, 2, 2, 2), filler(t, bad), FillerRNG(1, "x", 0))
		if err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	if err := Fill(tensor.Zeros(tensor.Float32, 2, 3), filler(t, `type: "bilinear"`), FillerRNG(1, "x", 0)); err == nil || !strings.Contains(err.Error(), "4-axis") {
		t.Errorf("bilinear on 2-D: %v", err)
	}
	// Streams are independent per layer and blob, reproducible per seed.
	a := tensor.Zeros(tensor.Float32, 10)
	b := tensor.Zeros(tensor.Float32, 10)
	g := filler(t, `type: "gaussian"`)
	Fill(a, g, FillerRNG(1, "conv1", 0))
	Fill(b, g, FillerRNG(1, "conv1", 1))
	if a.F32()[0] == b.F32()[0] {
		t.Error("blobs 0 and 1 share a random stream")
	}
}
