package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

type jsonResult struct {
	Path        string       `json:"path"`
	Predictions []prediction `json:"predictions"`
}

func parseJSONL(t *testing.T, s string) []jsonResult {
	t.Helper()
	var out []jsonResult
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var r jsonResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// probs maps class index to probability.
func probs(r jsonResult) map[int]float64 {
	m := map[int]float64{}
	for _, p := range r.Predictions {
		m[p.Index] = p.Prob
	}
	return m
}

// expected reads PyTorch's probabilities for the example images, written
// with the model by scripts/make_default_model.sh (PyTorch evaluates it).
func expected(t *testing.T) map[string][]float64 {
	t.Helper()
	data, err := os.ReadFile("testdata/fashion_expected.tsv")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float64{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		path, vals, _ := strings.Cut(line, "\t")
		for _, f := range strings.Fields(vals) {
			v, _ := strconv.ParseFloat(f, 64)
			want[path] = append(want[path], v)
		}
	}
	return want
}

const bootPNG = "testdata/images/fashion-mnist/t10k-0000-ankle-boot.png"

// The README's first command: the built-in model on the example images
// gives PyTorch's probabilities and the right class for each.
func TestClassifyDefaultModel(t *testing.T) {
	r := infer(t, "classify", "testdata/images/fashion-mnist", "--format", "jsonl", "--top", "10")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	got := parseJSONL(t, r.stdout)
	want := expected(t)
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i, res := range got {
		if i > 0 && res.Path < got[i-1].Path {
			t.Errorf("results out of input order: %s after %s", res.Path, got[i-1].Path)
		}
		p := probs(res)
		for k, w := range want[res.Path] {
			if math.Abs(p[k]-w) > 2e-4 {
				t.Errorf("%s class %d: %.6f, PyTorch %.6f", res.Path, k, p[k], w)
			}
		}
		slug := strings.ToLower(strings.NewReplacer("/", "-", " ", "-").Replace(res.Predictions[0].Label))
		if !strings.HasSuffix(res.Path, "-"+slug+".png") {
			t.Errorf("%s classified as %q", res.Path, res.Predictions[0].Label)
		}
	}
	if !strings.Contains(r.stderr, "classified 10 images") || !strings.Contains(r.stderr, "images/s") {
		t.Errorf("summary: %q", r.stderr)
	}

	// The default table: the top 3 of the ankle boot.
	r = infer(t, "classify", bootPNG)
	labels := parseLabels(defaultLabelsText)
	top := topK(want[bootPNG], 3, labels)
	pad := strings.Repeat(" ", len(bootPNG))
	table := "IMAGE" + pad[5:] + "  PROB    CLASS\n"
	for i, p := range top {
		name := pad
		if i == 0 {
			name = bootPNG
		}
		table += fmt.Sprintf("%s  %.4f  %s\n", name, p.Prob, p.Label)
	}
	if r.code != 0 || r.stdout != table || top[0].Label != "Ankle boot" {
		t.Errorf("table (exit %d):\n%s\nwant:\n%s", r.code, r.stdout, table)
	}
}

// A folder with every format, a corrupt and a truncated JPEG, a huge
// header and a text file: the good images are classified in order, each bad
// one is reported with its path, and the exit code is 1.
func TestClassifyMixedFolder(t *testing.T) {
	r := infer(t, "classify", "cmd/infer/testdata/classify/mixed", "--format", "csv", "-k", "1", "--batch", "3", "--jobs", "4")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", r.code, r.stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantProb := topK(expected(t)[bootPNG], 1, nil)[0].Prob
	wantFiles := []string{"boot-rgba.png", "boot.bmp", "boot.gif", "boot.png", "boot.tif", "boot.webp"}
	if len(recs) != 1+len(wantFiles) || strings.Join(recs[0], ",") != "path,rank,index,label,probability" {
		t.Fatalf("csv:\n%s", r.stdout)
	}
	for i, f := range wantFiles {
		rec := recs[i+1]
		p, _ := strconv.ParseFloat(rec[4], 64)
		if filepath.Base(rec[0]) != f || rec[3] != "Ankle boot" || math.Abs(p-wantProb) > 2e-6 {
			t.Errorf("row %d: %v, want %s as Ankle boot %.6f", i+1, rec, f, wantProb)
		}
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 4 {
		t.Fatalf("stderr:\n%s", r.stderr)
	}
	for i, want := range []string{"mixed/corrupt.jpg: ", "mixed/huge.png: image too large: PNG image is 100000x100000", "mixed/truncated.jpg: corrupt JPEG", "3 of 9 failed"} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("stderr line %d %q, want %q", i+1, lines[i], want)
		}
	}
	if strings.Contains(r.stderr, "notes.txt") {
		t.Error("the folder walk tried notes.txt")
	}
}

// A PNG with alpha, grayscale JPEGs and colour photos go through a colour
// model, and colour photos through the grayscale one.
func TestClassifyAlphaGrayColour(t *testing.T) {
	r := infer(t, "classify", "testdata/models/convnetjs_cifar10.onnx", "cmd/infer/testdata/classify/alpha",
		"cmd/infer/testdata/classify/gray", "testdata/images/photos/*.jpg", "--format", "jsonl", "-k", "10")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	res := parseJSONL(t, r.stdout)
	if len(res) != 6 {
		t.Fatalf("%d results:\n%s", len(res), r.stdout)
	}
	for _, x := range res {
		sum := 0.0
		for _, p := range x.Predictions {
			sum += p.Prob
		}
		if len(x.Predictions) != 10 || math.Abs(sum-1) > 1e-4 {
			t.Errorf("%s: %d classes summing to %v", x.Path, len(x.Predictions), sum)
		}
	}
	r = infer(t, "classify", "testdata/images/photos", "cmd/infer/testdata/classify/alpha", "-k", "1", "--format", "csv")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 5 {
		t.Errorf("gray model on colour photos: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// The same images give the same probabilities through an NHWC variant of
// the model, and through one with a fixed batch of 4 that ends in a
// Softmax (no second softmax is applied).
func TestClassifyLayoutsBatchesAndDistributions(t *testing.T) {
	ref := infer(t, "classify", "testdata/images/fashion-mnist", "--format", "jsonl", "-k", "3")
	if ref.code != 0 {
		t.Fatal(ref.stderr)
	}
	labels := filepath.Join(repoRoot, "testdata/labels/fashion_mnist.txt")
	for _, model := range []string{nhwcModel(t), fixedBatchModel(t)} {
		r := infer(t, "classify", model, "testdata/images/fashion-mnist", "--labels", labels, "--format", "jsonl", "-k", "3", "--batch", "3")
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", model, r.code, r.stderr)
		}
		got, want := parseJSONL(t, r.stdout), parseJSONL(t, ref.stdout)
		if len(got) != len(want) {
			t.Fatalf("%s: %d results, want %d", model, len(got), len(want))
		}
		for i := range got {
			for j := range got[i].Predictions {
				g, w := got[i].Predictions[j], want[i].Predictions[j]
				if g.Index != w.Index || g.Label != w.Label || math.Abs(g.Prob-w.Prob) > 2e-6 {
					t.Errorf("%s %s: %+v, want %+v", filepath.Base(model), got[i].Path, g, w)
				}
			}
		}
	}
}

func TestClassifyPixelLimit(t *testing.T) {
	r := infer(t, "classify", "testdata/images/fashion-mnist/t10k-0000-ankle-boot.png", "--max-pixels", "0.0005")
	if r.code != 1 || !strings.Contains(r.stderr, "t10k-0000-ankle-boot.png: image too large") || !strings.Contains(r.stderr, "0.0 megapixels") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// Duplicates and small batches keep input order; the format is parseable.
func TestClassifyOrder(t *testing.T) {
	dir := "testdata/images/fashion-mnist/"
	files := []string{"t10k-0009-sneaker.png", "t10k-0000-ankle-boot.png", "t10k-0009-sneaker.png", "t10k-0002-trouser.png", "t10k-0001-pullover.png"}
	args := []string{"classify", "--format", "jsonl", "-k", "1", "--batch", "2", "--jobs", "3"}
	for _, f := range files {
		args = append(args, dir+f)
	}
	r := infer(t, args...)
	res := parseJSONL(t, r.stdout)
	if r.code != 0 || len(res) != len(files) {
		t.Fatalf("exit %d, %d results", r.code, len(res))
	}
	for i, f := range files {
		if res[i].Path != dir+f {
			t.Errorf("result %d is %s, want %s", i, res[i].Path, f)
		}
	}
}

func TestClassifyUsageErrors(t *testing.T) {
	flat := flatModel(t)
	img := "testdata/images/fashion-mnist/t10k-0000-ankle-boot.png"
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"classify", "--nope", img}, "unknown flag: --nope"},
		{[]string{"classify", "nothere.png"}, "nothere.png: no such file"},
		{[]string{"classify", "missing.onnx", img}, "model missing.onnx: no such file"},
		{[]string{"classify", "testdata/models/seed_conv.onnx"}, "no images given"},
		{[]string{"classify", "nowhere/*.png"}, "nowhere/*.png: no files match"},
		{[]string{"classify", "cmd/infer/testdata/classify"}, ""}, // not an error: checked below
		{[]string{"classify", "--labels", "cmd/infer/testdata/nine_labels.txt", img}, "has 9 labels but the model's output \"prob\" has 10 classes"},
		{[]string{"classify", "--labels", "testdata/labels/synset_words.txt", img}, "has 1000 labels"},
		{[]string{"classify", "--labels", "nolabels.txt", img}, "--labels nolabels.txt: no such file"},
		{[]string{"classify", flat, img}, "no image input: input \"x\" is float32[N,784]"},
		{[]string{"classify", "--preset", "tf", img}, "--preset \"tf\""},
		{[]string{"classify", "--format", "xml", img}, "--format \"xml\""},
		{[]string{"classify", "--top", "0", img}, "--top 0"},
		{[]string{"classify", "--mean", "1,2,x", img}, "--mean"},
		{[]string{"classify", "--mean", "1,2", img}, "2 mean values for a model with 1 channels"},
		{[]string{"inspect", "nothere.onnx"}, "no such file"},
		{[]string{"inspect", "cmd/infer/testdata/nine_labels.txt"}, "unknown model format"},
		{[]string{"inspect"}, "accepts 1 arg"},
		{[]string{"visualize", img}, "--out DIR is required"},
		{[]string{"visualize", flat, img, "--out", t.TempDir()}, "no image input"},
		{[]string{"nosuchcommand"}, "unknown command"},
	}
	for _, c := range cases {
		if c.want == "" {
			continue
		}
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			wantUsage(t, infer(t, c.args...), c.want)
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	r := infer(t, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "infer version ") {
		t.Errorf("--version: exit %d, %q", r.code, r.stdout)
	}
	for _, c := range []string{"classify", "inspect", "visualize", "run", "test"} {
		r := infer(t, c, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "infer "+c) {
			t.Errorf("%s --help: exit %d\n%s", c, r.code, r.stdout)
		}
	}
}

// Ctrl-C stops a long run: the results so far are printed whole, the exit
// code is 130.
func TestClassifyInterrupt(t *testing.T) {
	img := "testdata/images/fashion-mnist/t10k-0000-ankle-boot.png"
	args := []string{"classify", "--format", "csv", "-k", "1", "--batch", "4"}
	for range 20000 {
		args = append(args, img)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = repoRoot
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(out)
	var got strings.Builder
	for range 3 { // header and two results: the run is under way
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err, stderr.String())
		}
		got.WriteString(line)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	rest, _ := readAll(br)
	got.WriteString(rest)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("infer did not stop after SIGINT")
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit code %d, want 130; stderr %s", code, stderr.String())
	}
	recs, err := csv.NewReader(strings.NewReader(got.String())).ReadAll()
	if err != nil {
		t.Fatalf("partial output is not whole CSV: %v", err)
	}
	if n := len(recs) - 1; n < 2 || n >= 20000 {
		t.Errorf("%d results printed", n)
	}
	if !strings.Contains(stderr.String(), "interrupted after") {
		t.Errorf("stderr %q", stderr.String())
	}
}

func readAll(br *bufio.Reader) (string, error) {
	var b strings.Builder
	_, err := br.WriteTo(&b)
	return b.String(), err
}

// The pipeline in-process, so the race detector sees its goroutines.
func TestClassifyInProcess(t *testing.T) {
	var o, e bytes.Buffer
	args := []string{"classify", "--format", "csv", "-k", "2", "--batch", "3", "--jobs", "4",
		filepath.Join(repoRoot, "testdata/images/fashion-mnist"), filepath.Join(repoRoot, "cmd/infer/testdata/classify/mixed")}
	if code := run(args, &o, &e); code != 1 {
		t.Fatalf("exit %d: %s", code, e.String())
	}
	if n := strings.Count(o.String(), "\n"); n != 1+2*16 {
		t.Errorf("%d lines:\n%s", n, o.String())
	}
}
