package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"stride/importers/onnx"
	"stride/runtime"
	"stride/tensor"
	"stride/tensor/npy"
)

const ref = "../../testdata/caffe/reference/"

func runConvert(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// Every blob of the layer-zoo net, written as outputs of the ONNX model,
// read back with the ONNX importer and run, matches BVLC Caffe: the
// conversion is exact.
func TestConvertMatchesCaffe(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "zoo.onnx")
	var blobs []string
	entries, err := os.ReadDir(ref + "layer_zoo/outputs")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		blobs = append(blobs, strings.TrimSuffix(e.Name(), ".npy"))
	}
	sort.Strings(blobs)
	code, stdout, stderr := runConvert(t, ref+"layer_zoo/deploy.prototxt", ref+"layer_zoo/weights.caffemodel",
		"-o", model, "--outputs", strings.Join(blobs, ","))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "wrote "+model) {
		t.Errorf("stdout: %s", stdout)
	}
	m, err := onnx.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if m.Graph.Opset() != 13 {
		t.Errorf("opset %d", m.Graph.Opset())
	}
	for _, n := range m.Graph.Nodes {
		if n.Domain != "" {
			t.Errorf("node %s uses domain %q", n.Name, n.Domain)
		}
	}
	x, err := npy.Read(ref + "layer_zoo/input.npy")
	if err != nil {
		t.Fatal(err)
	}
	s, err := runtime.NewSession(m.Graph)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Run(context.Background(), map[string]*tensor.Tensor{"data": x})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blobs {
		want, err := npy.Read(ref + "layer_zoo/outputs/" + b + ".npy")
		if err != nil {
			t.Fatal(err)
		}
		got := out[b]
		if got == nil || !tensor.SameShape(got.Shape, want.Shape) {
			t.Fatalf("blob %s: got %v, want shape %v", b, got, want.Shape)
		}
		g, w := got.Float64s(), want.Float64s()
		for i := range w {
			if math.Abs(g[i]-w[i]) > 1e-4*math.Abs(w[i])+1e-5 {
				t.Fatalf("blob %s element %d: %v, Caffe %v", b, i, g[i], w[i])
			}
		}
	}
}

func TestConvertVerifyAndTestData(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "lenet.onnx")
	data := filepath.Join(dir, "lenet")
	code, stdout, stderr := runConvert(t, ref+"lenet/deploy.prototxt", "-o", model, "--weights", ref+"lenet/weights.caffemodel",
		"--verify", "--test-data", data, "--input-shape", "data=3,1,28,28")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "verify prob: max |difference| 0 ") || !strings.Contains(stdout, "ok") {
		t.Errorf("stdout: %s", stdout)
	}
	name, in, err := onnx.ReadTensorFile(filepath.Join(data, "test_data_set_0", "input_0.pb"))
	if err != nil || name != "data" || !tensor.SameShape(in.Shape, []int{3, 1, 28, 28}) {
		t.Fatalf("input_0.pb: %s %v %v", name, in, err)
	}
	name, out, err := onnx.ReadTensorFile(filepath.Join(data, "test_data_set_0", "output_0.pb"))
	if err != nil || name != "prob" || !tensor.SameShape(out.Shape, []int{3, 10}) {
		t.Fatalf("output_0.pb: %s %v %v", name, out, err)
	}
	if _, err := onnx.Load(filepath.Join(data, "model.onnx")); err != nil {
		t.Fatal(err)
	}
}

func TestConvertFillersAndSummary(t *testing.T) {
	model := filepath.Join(t.TempDir(), "m.onnx")
	code, stdout, stderr := runConvert(t, "../../testdata/caffe/nets/BVLC-caffe/examples/mnist/lenet_train_test.prototxt",
		"-o", model, "--summary", "--input-shape", "data=100,1,28,28", "--seed", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"ip2 [100x10]", "fillers (seed 3)", `layer "loss" (SoftmaxWithLoss, line 162) dropped`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	// Same seed, same model bytes.
	model2 := filepath.Join(t.TempDir(), "m.onnx")
	runConvert(t, "../../testdata/caffe/nets/BVLC-caffe/examples/mnist/lenet_train_test.prototxt",
		"-o", model2, "-q", "--input-shape", "data=100,1,28,28", "--seed", "3")
	a, _ := os.ReadFile(model)
	b, _ := os.ReadFile(model2)
	if !bytes.Equal(a, b) {
		t.Error("the same seed gave different models")
	}
}

func TestConvertErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "no net given"},
		{[]string{ref + "lenet/deploy.prototxt"}, 2, "no output given"},
		{[]string{"a", "b", "c", "-o", "x"}, 2, "too many arguments"},
		{[]string{ref + "lenet/deploy.prototxt", "-o", filepath.Join(dir, "m.onnx"), "--phase", "eval"}, 2, "want test or train"},
		{[]string{ref + "lenet/deploy.prototxt", "-o", filepath.Join(dir, "m.onnx"), "--input-shape", "data"}, 2, "NAME=D1,D2"},
		{[]string{ref + "lenet/deploy.prototxt", "-o", filepath.Join(dir, "m.onnx"), "--bogus"}, 2, "unknown flag"},
		{[]string{ref + "lenet/deploy.prototxt", "-o", filepath.Join(dir, "m.onnx"), "--outputs", "nope"}, 2, `no value named "nope"`},
		{[]string{"../../testdata/caffe/nets/BVLC-caffe/examples/pycaffe/linreg.prototxt", "-o", filepath.Join(dir, "m.onnx")}, 1, `layer "loss" (type Python, line 44)`},
		{[]string{ref + "lenet/deploy.prototxt", ref + "caffenet/deploy.prototxt", "-o", filepath.Join(dir, "m.onnx")}, 1, "not a caffemodel"},
	}
	for _, c := range cases {
		code, _, stderr := runConvert(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d with %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if code, _, _ := runConvert(t, "--help"); code != 0 {
		t.Errorf("--help exit %d", code)
	}
}
