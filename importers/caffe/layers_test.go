package caffe

import (
	"context"
	"math"
	"testing"

	"stride/runtime"
	"stride/tensor"
)

// runWith runs a net on given inputs.
func runWith(t *testing.T, n *Net, in map[string]*tensor.Tensor) map[string]*tensor.Tensor {
	t.Helper()
	s, err := runtime.NewSession(n.Graph)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ramp(shape ...int) *tensor.Tensor {
	x := tensor.Zeros(tensor.Float32, shape...)
	for i := range x.F32() {
		x.F32()[i] = float32((i*7)%13)/4 - 1.5
	}
	return x
}

func near(a, b float32) bool { return math.Abs(float64(a-b)) <= 1e-5+1e-5*math.Abs(float64(b)) }

// Layers the reference nets do not exercise numerically.
func TestLayerSemantics(t *testing.T) {
	net := `layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 dim: 4 } } }
layer { name: "swish" type: "Swish" bottom: "x" top: "swish" swish_param { beta: 2 } }
layer { name: "clip" type: "Clip" bottom: "x" top: "clip" clip_param { min: -0.5 max: 1 } }
layer { name: "const" type: "Power" bottom: "x" top: "const" power_param { power: 3 scale: 0 shift: 2 } }
layer { name: "bn" type: "BatchNorm" bottom: "x" top: "bn" batch_norm_param { use_global_stats: false eps: 0 } }
layer { name: "param" type: "Parameter" top: "param" parameter_param { shape { dim: 2 dim: 2 } } }
layer { name: "thr" type: "Threshold" bottom: "x" top: "thr" threshold_param { threshold: 0.25 } }
layer { name: "ip" type: "InnerProduct" bottom: "x" top: "ip" inner_product_param { num_output: 5 axis: 2 bias_term: false weight_filler { type: "constant" value: 1 } } }
`
	n := importString(t, net, Options{})
	x := ramp(2, 3, 4)
	out := runWith(t, n, map[string]*tensor.Tensor{"x": x})
	xs := x.F32()
	for i, v := range xs {
		if w := v / (1 + float32(math.Exp(float64(-2*v)))); !near(out["swish"].F32()[i], w) {
			t.Errorf("swish(%v) = %v, want %v", v, out["swish"].F32()[i], w)
		}
		if w := min(max(v, -0.5), 1); out["clip"].F32()[i] != w {
			t.Errorf("clip(%v) = %v", v, out["clip"].F32()[i])
		}
		if out["const"].F32()[i] != 8 {
			t.Errorf("power with scale 0 gave %v, want 2^3", out["const"].F32()[i])
		}
		w := float32(0)
		if v > 0.25 {
			w = 1
		}
		if out["thr"].F32()[i] != w {
			t.Errorf("threshold(%v) = %v", v, out["thr"].F32()[i])
		}
	}
	// Batch statistics: each channel normalised over N and the spatial axis.
	bn := out["bn"].F32()
	for c := 0; c < 3; c++ {
		var s, s2 float64
		for nn := 0; nn < 2; nn++ {
			for k := 0; k < 4; k++ {
				v := float64(bn[nn*12+c*4+k])
				s, s2 = s+v, s2+v*v
			}
		}
		if math.Abs(s/8) > 1e-5 || math.Abs(s2/8-1) > 1e-4 {
			t.Errorf("channel %d: mean %v, variance %v", c, s/8, s2/8)
		}
	}
	if p := out["param"]; !tensor.SameShape(p.Shape, []int{2, 2}) {
		t.Errorf("parameter output %v", p)
	}
	// Inner product on the last axis with unit weights: row sums.
	for r := 0; r < 6; r++ {
		sum := xs[r*4] + xs[r*4+1] + xs[r*4+2] + xs[r*4+3]
		for j := 0; j < 5; j++ {
			if !near(out["ip"].F32()[r*5+j], sum) {
				t.Fatalf("ip row %d = %v, want %v", r, out["ip"].F32()[r*5+j], sum)
			}
		}
	}
}

func TestCropOneOffsetAndEmbed(t *testing.T) {
	net := `layer { name: "in" type: "Input" top: "x" top: "ref" top: "idx"
  input_param { shape { dim: 2 dim: 3 dim: 5 dim: 6 } shape { dim: 2 dim: 3 dim: 2 dim: 3 } shape { dim: 2 dim: 2 } } }
layer { name: "crop" type: "Crop" bottom: "x" bottom: "ref" top: "crop" crop_param { offset: 2 } }
layer { name: "emb" type: "Embed" bottom: "idx" top: "emb" embed_param { num_output: 3 input_dim: 4 bias_term: false weight_filler { type: "uniform" } } }
`
	n := importString(t, net, Options{Seed: 4})
	x := ramp(2, 3, 5, 6)
	idx := tensor.From([]int{2, 2}, []float32{3, 0, 1, 3})
	// Crop reads only the shape of its reference, so "ref" is no graph input.
	if len(n.Inputs) != 2 {
		t.Errorf("inputs %v", n.Inputs)
	}
	out := runWith(t, n, map[string]*tensor.Tensor{"x": x, "idx": idx})
	crop := out["crop"]
	if !tensor.SameShape(crop.Shape, []int{2, 3, 2, 3}) {
		t.Fatalf("crop shape %v", crop.Shape)
	}
	for a := 0; a < 6; a++ {
		for h := 0; h < 2; h++ {
			for w := 0; w < 3; w++ {
				if got, want := crop.F32()[a*6+h*3+w], x.F32()[a*30+(h+2)*6+w+2]; got != want {
					t.Fatalf("crop[%d,%d,%d] = %v, want %v", a, h, w, got, want)
				}
			}
		}
	}
	table := n.Layer("emb").Params[0].Data.F32()
	for i, id := range idx.F32() {
		for j := 0; j < 3; j++ {
			if out["emb"].F32()[i*3+j] != table[int(id)*3+j] {
				t.Fatalf("embed row %d differs", i)
			}
		}
	}
}

// Convolution with axis 2 convolves each index of the leading axes
// independently: the same as an axis-1 convolution of the folded input
// (same layer name and seed, so the same weights).
func TestConvolutionAxis(t *testing.T) {
	a := importString(t, `layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 dim: 4 dim: 5 dim: 5 } } }
layer { name: "conv" type: "Convolution" bottom: "x" top: "y" convolution_param { num_output: 2 kernel_size: 3 axis: 2 stride: 2 pad: 1 weight_filler { type: "gaussian" } bias_filler { type: "gaussian" } } }`, Options{Seed: 8})
	b := importString(t, `layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 6 dim: 4 dim: 5 dim: 5 } } }
layer { name: "conv" type: "Convolution" bottom: "x" top: "y" convolution_param { num_output: 2 kernel_size: 3 stride: 2 pad: 1 weight_filler { type: "gaussian" } bias_filler { type: "gaussian" } } }`, Options{Seed: 8})
	x := ramp(2, 3, 4, 5, 5)
	ya := runWith(t, a, map[string]*tensor.Tensor{"x": x})["y"]
	yb := runWith(t, b, map[string]*tensor.Tensor{"x": x.Reshape(6, 4, 5, 5)})["y"]
	if !tensor.SameShape(ya.Shape, []int{2, 3, 2, 3, 3}) {
		t.Fatalf("shape %v", ya.Shape)
	}
	for i, v := range yb.F32() {
		if ya.F32()[i] != v {
			t.Fatalf("element %d: %v vs %v", i, ya.F32()[i], v)
		}
	}
}
