package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func readPNG(t *testing.T, p string) image.Image {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return m
}

func TestVisualize(t *testing.T) {
	out := t.TempDir()
	r := infer(t, "visualize", "testdata/images/fashion-mnist/t10k-0000-ankle-boot.png", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	files := []string{"input.png", "filters.png", "maps-01.png", "maps-02.png", "index.html"}
	if got := strings.Fields(r.stdout); len(got) != len(files) {
		t.Fatalf("printed %v", got)
	}
	// 16 filters of 5x5 in a 4x4 grid, 8x enlarged with 1-pixel gaps.
	if b := readPNG(t, filepath.Join(out, "filters.png")).Bounds(); b.Dx() != 1+4*(5*8+1) {
		t.Errorf("filters.png is %v", b)
	}
	// conv1: 16 maps of 28x28 (4x4, 2x); conv2: 32 maps of 14x14 (6 columns, 4x).
	if b := readPNG(t, filepath.Join(out, "maps-01.png")).Bounds(); b.Dx() != 1+4*(28*2+1) || b.Dy() != b.Dx() {
		t.Errorf("maps-01.png is %v", b)
	}
	if b := readPNG(t, filepath.Join(out, "maps-02.png")).Bounds(); b.Dx() != 1+6*(14*4+1) {
		t.Errorf("maps-02.png is %v", b)
	}
	html, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	srcs := regexp.MustCompile(`src="([^"]+)"`).FindAllStringSubmatch(string(html), -1)
	if len(srcs) != 4 {
		t.Fatalf("index.html shows %d pictures", len(srcs))
	}
	for i, s := range srcs {
		if s[1] != files[i] {
			t.Errorf("picture %d is %s, want %s", i, s[1], files[i])
		}
	}
	if !strings.Contains(string(html), "conv1 → Relu") {
		t.Errorf("index.html does not name the layers:\n%s", html)
	}
}

// A colour model draws its first filters as colour patches.
func TestVisualizeColourFilters(t *testing.T) {
	out := t.TempDir()
	r := infer(t, "visualize", "testdata/models/convnetjs_cifar10.onnx", "testdata/images/photos/caffe_cat.jpg", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	m := readPNG(t, filepath.Join(out, "filters.png"))
	colour := false
	b := m.Bounds()
	for y := b.Min.Y; y < b.Max.Y && !colour; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := m.At(x, y).RGBA()
			if r != g || g != bl {
				colour = true
				break
			}
		}
	}
	if !colour {
		t.Error("filters.png of an RGB model is gray")
	}
	for _, f := range []string{"maps-01.png", "maps-02.png", "maps-03.png"} {
		readPNG(t, filepath.Join(out, f))
	}
}
