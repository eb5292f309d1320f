package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func writeIDX(t *testing.T, path string, dims []int, data []byte, gz bool) {
	t.Helper()
	var buf bytes.Buffer
	buf.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&buf, binary.BigEndian, uint32(d))
	}
	buf.Write(data)
	raw := buf.Bytes()
	if gz {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(raw)
		zw.Close()
		raw = z.Bytes()
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenMNIST(t *testing.T) {
	dir := t.TempDir()
	px := make([]byte, 3*2*2)
	for i := range px {
		px[i] = byte(i)
	}
	writeIDX(t, filepath.Join(dir, "train-images-idx3-ubyte.gz"), []int{3, 2, 2}, px, true)
	writeIDX(t, filepath.Join(dir, "train-labels-idx1-ubyte.gz"), []int{3}, []byte{4, 5, 6}, true)
	writeIDX(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), []int{1, 2, 2}, []byte{9, 9, 9, 9}, false)
	writeIDX(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), []int{1}, []byte{1}, false)
	d, err := Open(dir, TrainSplit, FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 3 || d.C != 1 || d.H != 2 || d.W != 2 || d.Labels[2] != 6 || d.Image(1)[0] != 4 {
		t.Errorf("train split read wrong: %+v", d)
	}
	d, err = Open(dir, TestSplit, FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 1 || d.Labels[0] != 1 || d.Pixels[0] != 9 {
		t.Errorf("test split read wrong: %+v", d)
	}
}

func TestOpenCIFAR(t *testing.T) {
	dir := t.TempDir()
	rec := func(label byte, v byte) []byte {
		r := make([]byte, cifarRecord)
		r[0] = label
		for i := 1; i < len(r); i++ {
			r[i] = v
		}
		return r
	}
	os.WriteFile(filepath.Join(dir, "data_batch_1.bin"), append(rec(3, 10), rec(7, 20)...), 0o644)
	os.WriteFile(filepath.Join(dir, "data_batch_2.bin"), rec(1, 30), 0o644)
	os.WriteFile(filepath.Join(dir, "test_batch.bin"), rec(9, 40), 0o644)
	d, err := Open(dir, TrainSplit, FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 3 || d.C != 3 || d.H != 32 || d.Labels[2] != 1 || d.Image(1)[5] != 20 || d.Classes[3] != "cat" {
		t.Errorf("CIFAR train read wrong: N=%d labels=%v", d.N, d.Labels)
	}
	if d, err = Open(dir, TestSplit, FolderOptions{}); err != nil || d.N != 1 || d.Labels[0] != 9 {
		t.Errorf("CIFAR test: %v %+v", err, d)
	}
	os.WriteFile(filepath.Join(dir, "data_batch_3.bin"), []byte{1, 2, 3}, 0o644)
	if _, err := Open(dir, TrainSplit, FolderOptions{}); err == nil {
		t.Error("a truncated batch file was accepted")
	}
}

func TestOpenFolderAndBackends(t *testing.T) {
	dir := t.TempDir()
	for ci, class := range []string{"cats", "ants"} {
		os.MkdirAll(filepath.Join(dir, "train", class), 0o755)
		for k := 0; k < 2; k++ {
			img := image.NewRGBA(image.Rect(0, 0, 4, 3))
			for i := range img.Pix {
				img.Pix[i] = byte(10*ci + k)
			}
			img.Set(0, 0, color.RGBA{200, 100, 50, 255})
			var buf bytes.Buffer
			png.Encode(&buf, img)
			os.WriteFile(filepath.Join(dir, "train", class, string(rune('a'+k))+".png"), buf.Bytes(), 0o644)
		}
	}
	d, err := Open(dir, TrainSplit, FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 4 || d.C != 3 || d.H != 3 || d.W != 4 || d.Classes[0] != "ants" {
		t.Errorf("folder read wrong: N=%d C=%d %dx%d classes=%v", d.N, d.C, d.H, d.W, d.Classes)
	}
	count := map[int32]int{}
	for i, l := range d.Labels {
		count[l]++
		// ants (label 0) were written with 10*1+k, cats with 0+k.
		if v := d.Image(i)[5]; int32(v)/10 != 1-l {
			t.Errorf("image %d has label %d but pixel value %d", i, l, v)
		}
		if r, g, b := d.Image(i)[0], d.Image(i)[12], d.Image(i)[24]; r != 200 || g != 100 || b != 50 {
			t.Errorf("pixel (0,0) planes = %d %d %d, want 200 100 50", r, g, b)
		}
	}
	if count[0] != 2 || count[1] != 2 {
		t.Errorf("labels %v", d.Labels)
	}
	if d, err = Open(dir, TrainSplit, FolderOptions{Height: 6, Width: 8}); err != nil || d.H != 6 || d.W != 8 {
		t.Errorf("resize: %v", err)
	}
	lmdb := filepath.Join(t.TempDir(), "x_lmdb")
	os.MkdirAll(lmdb, 0o755)
	os.WriteFile(filepath.Join(lmdb, "data.mdb"), []byte{0}, 0o644)
	if _, err := Open(lmdb, TrainSplit, FolderOptions{}); !errors.Is(err, ErrUnsupportedBackend) {
		t.Errorf("LMDB: got %v, want ErrUnsupportedBackend", err)
	}
}

func TestLoaderTransformAndDeterminism(t *testing.T) {
	d := &Dataset{Name: "t", N: 5, C: 2, H: 3, W: 3, Pixels: make([]uint8, 5*18), Labels: []int32{0, 1, 2, 3, 4}}
	for i := range d.Pixels {
		d.Pixels[i] = uint8(i)
	}
	// Centre crop 1 at test time, mean per channel, scale.
	l, err := NewLoader(d, 2, Transform{Scale: 0.5, MeanValues: []float32{1, 2}, CropSize: 1}, false, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	out, lab := make([]float32, 2*2*1*1), make([]float32, 2)
	if err := l.Fill(2, out, lab); err != nil { // samples 4, 5 -> images 4, 0
		t.Fatal(err)
	}
	want := []float32{(float32(4*18+4) - 1) * 0.5, (float32(4*18+9+4) - 2) * 0.5, (4 - 1) * 0.5, (13 - 2) * 0.5}
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("batch: %v, want %v", out, want)
		}
	}
	if lab[0] != 4 || lab[1] != 0 {
		t.Errorf("labels %v, want [4 0]", lab)
	}
	// Shuffled, shifted and mirrored batches are the same every time.
	l2, _ := NewLoader(d, 3, Transform{Scale: 1, Mirror: true, Shift: 1}, true, true, 9)
	a, b := make([]float32, 3*18), make([]float32, 3*18)
	l2.Fill(7, a, nil)
	l3, _ := NewLoader(d, 3, Transform{Scale: 1, Mirror: true, Shift: 1}, true, true, 9)
	l3.Fill(7, b, nil)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("the same batch differs between two loaders with the same seed")
		}
	}
	seen := map[int]bool{}
	for s := 0; s < 5; s++ {
		seen[l2.Index(5+s)] = true
	}
	if len(seen) != 5 {
		t.Errorf("an epoch does not visit every image once: %v", seen)
	}
}
