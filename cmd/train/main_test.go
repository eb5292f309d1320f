package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shapesData writes a tiny MNIST-style data set (12x12 bars and squares,
// three classes) and returns its folder.
func shapesData(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	write := func(name string, dims []int, data []byte) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte{0, 0, 8, byte(len(dims))})
		for _, d := range dims {
			binary.Write(zw, binary.BigEndian, uint32(d))
		}
		zw.Write(data)
		zw.Close()
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gen := func(prefix string, n int) {
		px, lab := make([]byte, n*144), make([]byte, n)
		for i := 0; i < n; i++ {
			c := i % 3
			lab[i] = byte(c)
			img := px[i*144 : (i+1)*144]
			for j := range img {
				img[j] = byte(rng.IntN(40))
			}
			y, x := 2+rng.IntN(6), 2+rng.IntN(6)
			for a := 0; a < 4; a++ {
				for b := 0; b < 4; b++ {
					if c == 0 && a == 1 || c == 1 && b == 1 || c == 2 && (a == 0 || a == 3 || b == 0 || b == 3) {
						img[(y+a)*12+x+b] = 230
					}
				}
			}
		}
		write(prefix+"-images-idx3-ubyte.gz", []int{n, 12, 12}, px)
		write(prefix+"-labels-idx1-ubyte.gz", []int{n}, lab)
	}
	gen("train", 192)
	gen("t10k", 60)
	return dir
}

func runCLI(args ...string) (int, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String() + errb.String()
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--solver", "a.prototxt", "--arch", "fc10"},
		{"--no-such-flag"},
		{"--arch", "conv5x5x32-relu-fc10"},
		{"--arch", "conv5x5-fc10", "--data", "."},
		{"--solver", "x", "--progress", "fancy"},
		{"--epochs"},
	} {
		code, out := runCLI(args...)
		if code != 2 {
			t.Errorf("%q: exit code %d, want 2 (output %q)", args, code, out)
		}
		if lines := strings.Count(strings.TrimSpace(out), "\n"); lines != 0 {
			t.Errorf("%q: want one line, got %q", args, out)
		}
	}
	if code, out := runCLI("--solver", filepath.Join(t.TempDir(), "missing.prototxt")); code != 1 || !strings.Contains(out, "missing.prototxt") {
		t.Errorf("missing solver: exit %d, %q", code, out)
	}
}

// TestArchTrainExportResume trains an --arch net on synthetic data,
// exports it, draws its curves, and resumes from a snapshot with the same
// losses.
func TestArchTrainExportResume(t *testing.T) {
	data := shapesData(t)
	out := t.TempDir()
	prefix := filepath.Join(out, "shapes")
	args := []string{"--arch", "conv3x3x8same-relu-pool2-fc16-relu-fc3", "--data", data, "--epochs", "2",
		"--batch", "16", "--test-batch", "20", "--lr", "0.05", "--lr-policy", "fixed", "--shift", "1",
		"--prefix", prefix, "--progress", "lines", "--snapshot", "10", "--threads", "2"}
	code, text := runCLI(append(args, "--export", filepath.Join(out, "shapes.onnx"))...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, text)
	}
	for _, f := range []string{"shapes.onnx", "shapes_deploy.prototxt", "shapes.caffemodel", "shapes.log.jsonl",
		"shapes_curves.png", "shapes_filters.png", "shapes_iter_10.caffemodel", "shapes_iter_10.solverstate", "shapes_iter_24.caffemodel"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing output: %v", err)
		}
	}
	if !strings.Contains(text, "agree on the top-1 class of 60/60") {
		t.Errorf("export check missing from the output:\n%s", text)
	}
	full := readLosses(t, prefix+".log.jsonl")
	if len(full) != 24 {
		t.Fatalf("%d iterations logged, want 24", len(full))
	}
	code, text = runCLI(append(args, "--resume", prefix+"_iter_10.solverstate")...)
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, text)
	}
	again := readLosses(t, prefix+".log.jsonl")
	if len(again) != 24 {
		t.Fatalf("after resuming, %d iterations logged, want 24", len(again))
	}
	for i := range full {
		if full[i] != again[i] {
			t.Fatalf("iteration %d: loss %v after resuming, %v before", i, again[i], full[i])
		}
	}
	code, text = runCLI("plot", prefix+".log.jsonl", "--out", filepath.Join(out, "again.png"))
	if code != 0 {
		t.Fatalf("plot: exit %d: %s", code, text)
	}
}

func readLosses(t *testing.T, path string) []float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e logEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if e.Kind == "iter" {
			if e.Iter != len(out) {
				t.Fatalf("log has iteration %d after %d others", e.Iter, len(out))
			}
			out = append(out, *e.Loss)
		}
	}
	return out
}
