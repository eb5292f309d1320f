package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"stride/importers/onnx"
	"stride/tensor"
	"stride/tensor/npy"
)

const squeeze = "testdata/models/torchvision/squeezenet1_1_opset13"

func TestRunWritesOutputs(t *testing.T) {
	out := t.TempDir()
	in := filepath.Join(repoRoot, squeeze, "test_data_set_0/input_0.pb")
	r := infer(t, "run", squeeze+"/model.onnx", "--input", "input="+in, "--output-dir", out, "--npy")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	_, got, err := onnx.ReadTensorFile(filepath.Join(out, "output_0.pb"))
	if err != nil {
		t.Fatal(err)
	}
	_, want, _ := onnx.ReadTensorFile(filepath.Join(repoRoot, squeeze, "test_data_set_0/output_0.pb"))
	g, w := got.F32(), want.F32()
	for i := range w {
		if d := g[i] - w[i]; d > 1e-4 || d < -1e-4 {
			t.Fatalf("element %d: %v, want %v", i, g[i], w[i])
		}
	}
	n, err := npy.Read(filepath.Join(out, "output_0.npy"))
	if err != nil || !tensor.SameShape(n.Shape, got.Shape) {
		t.Fatalf("npy output: %v %v", n, err)
	}
}

func TestRunIntermediateOutputs(t *testing.T) {
	out := t.TempDir()
	in := filepath.Join(repoRoot, squeeze, "test_data_set_0/input_0.pb")
	r := infer(t, "run", squeeze+"/model.onnx", "-i", in, "--outputs", "/features/features.0/Conv_output_0,logits", "-o", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	_, first, err := onnx.ReadTensorFile(filepath.Join(out, "output_0.pb"))
	if err != nil || len(first.Shape) != 4 || first.Shape[1] != 64 {
		t.Fatalf("output_0: %v %v", first, err)
	}
	if !strings.Contains(r.stdout, `output_1 "logits"`) {
		t.Fatalf("stdout: %s", r.stdout)
	}
	bad := infer(t, "run", squeeze+"/model.onnx", "-i", in, "--outputs", "nope")
	wantUsage(t, bad, `no value named "nope"`)
}

func TestRunUsageErrors(t *testing.T) {
	in := filepath.Join(repoRoot, squeeze, "test_data_set_0/input_0.pb")
	wantUsage(t, infer(t, "run", "missing.onnx", "-i", in), "no such file")
	wantUsage(t, infer(t, "run", squeeze+"/model.onnx", "-i", "wrong="+in), `no input "wrong"`)
	wantUsage(t, infer(t, "run", squeeze+"/model.onnx"), `missing --input for "input"`)
	wantUsage(t, infer(t, "run", squeeze+"/model.onnx", "-i", "x.txt"), "no such file")
	wantUsage(t, infer(t, "run", squeeze+"/model.onnx", "--bogus"), "unknown flag")
}

func TestTestCommand(t *testing.T) {
	r := infer(t, "test", "--atol", "1e-4", "testdata/models/torchvision")
	if r.code != 0 || !strings.Contains(r.stdout, "2 passed, 0 failed") || !strings.Contains(r.stdout, "PASS squeezenet1_1_opset13") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// A corrupted expected output makes the case fail with exit code 1.
	dir := t.TempDir()
	for _, f := range []string{"model.onnx", "test_data_set_0/input_0.pb"} {
		data, err := os.ReadFile(filepath.Join(repoRoot, squeeze, f))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), data, 0o644)
	}
	_, want, _ := onnx.ReadTensorFile(filepath.Join(repoRoot, squeeze, "test_data_set_0/output_0.pb"))
	want.F32()[7] += 1
	if err := onnx.WriteTensorFile(filepath.Join(dir, "test_data_set_0/output_0.pb"), "logits", want); err != nil {
		t.Fatal(err)
	}
	r = infer(t, "test", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "FAIL") || !strings.Contains(r.stdout, "element 7") {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
}

func TestBenchLine(t *testing.T) {
	r := infer(t, "bench", squeeze+"/model.onnx", "--iters", "2", "--warmup", "0", "--threads", "1", "--profile")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, key := range []string{"stride squeezenet1_1_opset13 batch=1 threads=1 median_ms=", "p10=", "p90=", "images_per_s=", "peak_rss_mb=", "per op type", "Conv"} {
		if !strings.Contains(r.stdout, key) {
			t.Errorf("bench output lacks %q:\n%s", key, r.stdout)
		}
	}
}
