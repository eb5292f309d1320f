package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestInspectGolden(t *testing.T) {
	for _, c := range []struct{ golden, model, format string }{
		{"inspect_seed_conv.txt", "testdata/models/seed_conv.onnx", "table"},
		{"inspect_seed_conv.json", "testdata/models/seed_conv.onnx", "json"},
		{"inspect_convnetjs_cifar10.txt", "testdata/models/convnetjs_cifar10.onnx", "table"},
		{"inspect_fashion_mnist.txt", "testdata/models/fashion_mnist.onnx", "table"},
	} {
		r := infer(t, "inspect", c.model, "--format", c.format)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("%s: exit %d: %s", c.model, r.code, r.stderr)
		}
		golden(t, c.golden, r.stdout)
	}
}

// The lecture's example layer, checked by value rather than by layout.
func TestInspectSeedLayerJSON(t *testing.T) {
	r := infer(t, "inspect", "testdata/models/seed_conv.onnx", "--format", "json")
	var rep struct {
		Opset    int64 `json:"opset"`
		Producer string
		Inputs   []struct{ Volume struct{ W, H, D int } }
		Layers   []struct {
			Op                  string
			Kernel, Stride, Pad []int
			Volume              struct{ W, H, D int }
			Params              int64
			ParamsFormula       string             `json:"params_formula"`
			MultAdds            int64              `json:"mult_adds"`
			ReceptiveField      struct{ W, H int } `json:"receptive_field"`
		}
		Params int64
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	l := rep.Layers[0]
	if in := rep.Inputs[0].Volume; in.W != 32 || in.H != 32 || in.D != 3 {
		t.Errorf("input volume %+v", in)
	}
	if l.Op != "Conv" || l.Kernel[0] != 5 || l.Stride[0] != 1 || l.Pad[0] != 2 || l.Volume.W != 32 || l.Volume.H != 32 || l.Volume.D != 10 {
		t.Errorf("layer %+v", l)
	}
	if l.Params != 760 || l.ParamsFormula != "10 x (5*5*3 + 1)" || rep.Params != 760 || l.MultAdds != 768000 || l.ReceptiveField.W != 5 {
		t.Errorf("counts %+v", l)
	}
	if rep.Opset != 13 || rep.Producer != "pytorch" {
		t.Errorf("opset %d producer %q", rep.Opset, rep.Producer)
	}
}

// The same layer as a Caffe net, once the Caffe importer is in the build.
func TestInspectCaffeSeedLayer(t *testing.T) {
	r := infer(t, "inspect", "testdata/models/seed_conv.prototxt")
	if strings.Contains(r.stderr, "Caffe import is not available") {
		t.Skip("Caffe import is not in this build yet")
	}
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"32 x 32 x 3", "32 x 32 x 10", "760", "10 x (5*5*3 + 1)", "768,000", "5x5"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}
