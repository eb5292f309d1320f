package viz

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"stride/tensor"
)

func TestCurvesAndFilters(t *testing.T) {
	dir := t.TempDir()
	c := Curves{Title: "test"}
	for i := 0; i < 300; i++ {
		c.Loss = append(c.Loss, Point{i, 2 / float64(1+i)})
	}
	c.Accuracy = []Point{{100, 0.5}, {200, 0.8}, {300, 0.85}}
	c.TestLoss = []Point{{100, 1}, {200, 0.5}, {300, 0.4}}
	path := filepath.Join(dir, "c.png")
	if err := c.WritePNG(path, 600, 500); err != nil {
		t.Fatal(err)
	}
	check := func(p string, w, h int) {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cfg, err := png.DecodeConfig(f)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Width != w || cfg.Height != h {
			t.Errorf("%s is %dx%d, want %dx%d", p, cfg.Width, cfg.Height, w, h)
		}
	}
	check(path, 600, 500)
	w := tensor.Zeros(tensor.Float32, 5, 3, 4, 4)
	for i := range w.F32() {
		w.F32()[i] = float32(i % 7)
	}
	fp := filepath.Join(dir, "f.png")
	if err := WriteFilterGrid(fp, w); err != nil {
		t.Fatal(err)
	}
	check(fp, 3*(32+2)+2, 2*(32+2)+2)
	if err := (&Curves{}).WritePNG(path, 10, 10); err == nil {
		t.Error("empty curves were drawn")
	}
}
