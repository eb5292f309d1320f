package imageio

import (
	"errors"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"stride/graph"
	"stride/proto/caffepb"
	"stride/tensor"
)

func imageGraph(dims ...graph.Dim) *graph.Graph {
	g := graph.New("g")
	g.Inputs = []*graph.Value{{Name: "x", Type: graph.Type{DType: tensor.Float32, Shape: dims, Ranked: true}}}
	return g
}

func TestFindInput(t *testing.T) {
	f := graph.Fixed
	cases := []struct {
		dims         []graph.Dim
		layout       Layout
		c, h, w, bat int
	}{
		{[]graph.Dim{graph.Sym("N"), f(3), f(224), f(224)}, NCHW, 3, 224, 224, 0},
		{[]graph.Dim{f(1), f(1), f(28), f(28)}, NCHW, 1, 28, 28, 1},
		{[]graph.Dim{graph.Sym("N"), f(299), f(299), f(3)}, NHWC, 3, 299, 299, 0},
		{[]graph.Dim{graph.Sym("N"), f(3), graph.Sym("H"), graph.Sym("W")}, NCHW, 3, 96, 96, 0},
		{[]graph.Dim{graph.Unknown, graph.Unknown, graph.Unknown, f(1)}, NHWC, 1, 96, 96, 0},
	}
	for _, c := range cases {
		in, err := FindInput(imageGraph(c.dims...), 96)
		if err != nil {
			t.Errorf("%v: %v", c.dims, err)
			continue
		}
		if in.Layout != c.layout || in.Channels != c.c || in.Height != c.h || in.Width != c.w || in.Batch != c.bat {
			t.Errorf("%v: got %+v", c.dims, in)
		}
	}
	for _, dims := range [][]graph.Dim{
		{graph.Sym("N"), f(784)},
		{f(1), f(4), f(32), f(32)},
		{f(1), f(3), f(32)},
	} {
		if _, err := FindInput(imageGraph(dims...), 96); !errors.Is(err, ErrNoImageInput) {
			t.Errorf("%v: got %v, want ErrNoImageInput", dims, err)
		}
	}
	g := imageGraph(f(1), f(3), f(8), f(8))
	g.Inputs = append(g.Inputs, &graph.Value{Name: "y", Type: graph.TensorType(tensor.Float32, 1)})
	if _, err := FindInput(g, 0); !errors.Is(err, ErrNoImageInput) {
		t.Errorf("two inputs: %v", err)
	}
	g.Initializers["y"] = tensor.Zeros(tensor.Float32, 1) // a default: not to be fed
	if _, err := FindInput(g, 0); err != nil {
		t.Errorf("second input with a default: %v", err)
	}
}

func prep(t *testing.T, layout Layout, c, h, w int, norm Norm, resize int) *Preprocessor {
	t.Helper()
	p, err := NewPreprocessor(&Input{Name: "x", Layout: layout, Channels: c, Height: h, Width: w, DType: tensor.Float32}, norm, resize)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The none preset on a 28x28 grayscale model reads the PNG's pixels / 255
// unchanged: no resampling when the size already fits.
func TestFillIdentity(t *testing.T) {
	img, err := Open(boot, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := prep(t, NCHW, 1, 28, 28, Presets["none"].Norm, 28)
	dst := make([]float32, 28*28)
	if err := p.Fill(img, dst); err != nil {
		t.Fatal(err)
	}
	g := img.(*image.Gray)
	for i, v := range dst {
		if want := float32(g.Pix[i]) / 255; math.Abs(float64(v-want)) > 1e-7 {
			t.Fatalf("pixel %d: %v, want %v", i, v, want)
		}
	}
}

// Transparent pixels are composited over white, whatever colour they hold.
func TestFillAlphaOverWhite(t *testing.T) {
	img, err := Open("../cmd/infer/testdata/classify/alpha/boot-transparent.png", 0)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := Open(boot, 0)
	for _, c := range []int{1, 3} {
		p := prep(t, NCHW, c, 28, 28, Presets["none"].Norm, 0)
		dst := make([]float32, c*28*28)
		if err := p.Fill(img, dst); err != nil {
			t.Fatal(err)
		}
		for i, v := range dst {
			want := float32(1)
			if g := ref.(*image.Gray).Pix[i%(28*28)]; g > 0 {
				want = float32(g) / 255
			}
			if math.Abs(float64(v-want)) > 1e-6 {
				t.Fatalf("%d channels: value %d = %v, want %v", c, i, v, want)
			}
		}
	}
}

func TestFillLayoutsAndOrder(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = uint8(i), 100, 200, 255
	}
	norm := Norm{PixelScale: 1, Mean: []float32{1, 2, 3}, Std: []float32{1, 2, 4}}
	chw := make([]float32, 48)
	hwc := make([]float32, 48)
	prep(t, NCHW, 3, 4, 4, norm, 0).Fill(m, chw)
	prep(t, NHWC, 3, 4, 4, norm, 0).Fill(m, hwc)
	for c := range 3 {
		for i := range 16 {
			if chw[c*16+i] != hwc[i*3+c] {
				t.Fatalf("channel %d pixel %d: NCHW %v, NHWC %v", c, i, chw[c*16+i], hwc[i*3+c])
			}
		}
	}
	if chw[16] != (100-2)/2.0 || chw[32] != (200-3)/4.0 || chw[5] != float32(20-1) {
		t.Errorf("normalisation: %v %v %v", chw[5], chw[16], chw[32])
	}
	bgr := norm
	bgr.BGR = true
	out := make([]float32, 48)
	prep(t, NCHW, 3, 4, 4, bgr, 0).Fill(m, out)
	if out[0] != (200-1)/1.0 || out[32] != (0-3)/4.0 {
		t.Errorf("BGR: channel 0 = %v (want blue 200 - 1), channel 2 = %v", out[0], out[32])
	}
	// Torchvision's normalisation.
	torch := prep(t, NCHW, 3, 4, 4, Presets["imagenet-torch"].Norm, 0)
	torch.Fill(m, out)
	if want := (100.0/255 - 0.456) / 0.224; math.Abs(float64(out[16])-want) > 1e-5 {
		t.Errorf("imagenet-torch: %v, want %v", out[16], want)
	}
}

// Resize of the shorter side, then a center crop.
func TestCropGeometry(t *testing.T) {
	m := image.NewGray(image.Rect(0, 0, 200, 100))
	for y := range 100 {
		for x := 100; x < 200; x++ {
			m.Pix[y*200+x] = 255 // right half white
		}
	}
	p := prep(t, NCHW, 1, 50, 50, Presets["none"].Norm, 50)
	dst := make([]float32, 2500)
	p.Fill(m, dst)
	// Resized to 100x50, cropped to x in [25, 75): the edge is at column 25.
	for y := range 50 {
		for x := range 50 {
			v := dst[y*50+x]
			if x < 22 && v > 0.02 || x > 27 && v < 0.98 {
				t.Fatalf("pixel (%d,%d) = %v", x, y, v)
			}
		}
	}
	if got := ResizeFor(p.In, 0.875); got != 57 {
		t.Errorf("ResizeFor(50, 0.875) = %d", got)
	}
}

// Shrinking low-pass filters: a one-pixel checkerboard becomes mid-gray
// (nearest neighbour would keep black or white).
func TestDownscaleFilters(t *testing.T) {
	m := image.NewGray(image.Rect(0, 0, 128, 128))
	for y := range 128 {
		for x := range 128 {
			if (x+y)%2 == 0 {
				m.SetGray(x, y, color.Gray{255})
			}
		}
	}
	p := prep(t, NCHW, 1, 16, 16, Presets["none"].Norm, 16)
	dst := make([]float32, 256)
	p.Fill(m, dst)
	for i, v := range dst {
		if math.Abs(float64(v)-0.5) > 0.05 {
			t.Fatalf("pixel %d = %v, want about 0.5", i, v)
		}
	}
}

func TestGrayFromColour(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 1, 1))
	m.Pix = []uint8{255, 0, 0, 255}
	dst := make([]float32, 1)
	prep(t, NCHW, 1, 1, 1, Norm{PixelScale: 1}, 0).Fill(m, dst)
	if dst[0] != 76 { // 0.299 * 255, as Pillow's convert("L")
		t.Errorf("red in gray = %v, want 76", dst[0])
	}
}

func TestNormCheck(t *testing.T) {
	if err := (Norm{Mean: []float32{1, 2}}).Check(3); err == nil {
		t.Error("2 means for 3 channels accepted")
	}
	if err := (Norm{Std: []float32{0}}).Check(1); err == nil {
		t.Error("std 0 accepted")
	}
	g := Presets["imagenet-torch"].Norm.ForChannels(1)
	if len(g.Mean) != 1 || math.Abs(float64(g.Mean[0])-0.449) > 1e-6 {
		t.Errorf("gray mean %v", g.Mean)
	}
}

func TestReadMeanFile(t *testing.T) {
	b := &caffepb.BlobProto{
		Num: proto.Int32(1), Channels: proto.Int32(3), Height: proto.Int32(2), Width: proto.Int32(2),
		Data: []float32{1, 2, 3, 4, 10, 10, 10, 10, 100, 104, 100, 104},
	}
	data, err := proto.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "mean.binaryproto")
	os.WriteFile(p, data, 0o644)
	m, err := ReadMeanFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 3 || m[0] != 2.5 || m[1] != 10 || m[2] != 102 {
		t.Errorf("means %v", m)
	}
	b.Data = b.Data[:5]
	data, _ = proto.Marshal(b)
	os.WriteFile(p, data, 0o644)
	if _, err := ReadMeanFile(p); err == nil {
		t.Error("short blob accepted")
	}
	os.WriteFile(p, []byte("not a proto \xff\xff\xff"), 0o644)
	if _, err := ReadMeanFile(p); err == nil {
		t.Error("garbage accepted")
	}
}

func TestGrid(t *testing.T) {
	tiles := []image.Image{GrayMap(make([]float32, 6), 3, 2), GrayMap([]float32{0, 1, 2, 3, 4, 5}, 3, 2), GrayMap(make([]float32, 6), 3, 2)}
	m := Grid(tiles, 2, 4, 1)
	// 2 columns of 12 px plus 3 gaps; 2 rows of 8 px plus 3 gaps.
	if b := m.Bounds(); b.Dx() != 27 || b.Dy() != 19 {
		t.Errorf("grid %v", b)
	}
	if cols, scale := GridShape(16, 28, 28, 48, 1600); cols != 4 || scale != 2 {
		t.Errorf("GridShape = %d, %d", cols, scale)
	}
	c := ColorMap([]float32{1}, []float32{0}, []float32{0.5}, 1, 1)
	if c.Pix[0] != 255 || c.Pix[1] != 0 || c.Pix[2] != 128 {
		t.Errorf("ColorMap %v", c.Pix[:4])
	}
}
