package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

const boot = "../testdata/images/fashion-mnist/t10k-0000-ankle-boot.png"

// Every format decodes the same 28x28 grayscale picture to the same pixels.
func TestOpenFormats(t *testing.T) {
	want, err := Open(boot, 0)
	if err != nil {
		t.Fatal(err)
	}
	dir := "../cmd/infer/testdata/classify/mixed"
	for _, name := range []string{"boot.png", "boot.bmp", "boot.gif", "boot.tif", "boot.webp", "boot-rgba.png"} {
		img, err := Open(filepath.Join(dir, name), 0)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if img.Bounds() != want.Bounds() {
			t.Errorf("%s: bounds %v, want %v", name, img.Bounds(), want.Bounds())
			continue
		}
		for y := range 28 {
			for x := range 28 {
				g1 := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
				g2 := color.GrayModel.Convert(want.At(x, y)).(color.Gray)
				if g1 != g2 {
					t.Fatalf("%s: pixel (%d,%d) = %v, want %v", name, x, y, g1, g2)
				}
			}
		}
	}
}

func TestOpenEncodedInMemory(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 3, 2))
	m.Set(1, 1, color.RGBA{10, 20, 30, 255})
	for name, enc := range map[string]func(*bytes.Buffer) error{
		"bmp":  func(b *bytes.Buffer) error { return bmp.Encode(b, m) },
		"tiff": func(b *bytes.Buffer) error { return tiff.Encode(b, m, nil) },
	} {
		var b bytes.Buffer
		if err := enc(&b); err != nil {
			t.Fatal(err)
		}
		img, err := Decode(bytes.NewReader(b.Bytes()), 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r, g, bb, _ := img.At(1, 1).RGBA(); r>>8 != 10 || g>>8 != 20 || bb>>8 != 30 {
			t.Errorf("%s: pixel %v", name, img.At(1, 1))
		}
	}
}

func pngChunk(kind string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(kind)
	b.Write(data)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(kind), data...)))
	return b.Bytes()
}

// A header announcing 100000 x 100000 pixels is refused before any pixel
// is decoded (the IDAT here is empty, so decoding would fail otherwise).
func TestHugeHeaderRejected(t *testing.T) {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], 100000)
	binary.BigEndian.PutUint32(ihdr[4:], 100000)
	ihdr[8], ihdr[9] = 8, 2
	data := append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr)...)
	_, err := Decode(bytes.NewReader(data), 0)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "100000x100000") {
		t.Fatalf("got %v, want ErrTooLarge naming the size", err)
	}
	// The committed fixture and a lowered limit.
	if _, err := Open("../cmd/infer/testdata/classify/mixed/huge.png", 0); !errors.Is(err, ErrTooLarge) {
		t.Errorf("huge.png: %v", err)
	}
	if _, err := Open(boot, 28*28-1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("limit 783 on a 28x28 image: %v", err)
	}
	if _, err := Open(boot, 28*28); err != nil {
		t.Errorf("limit 784 on a 28x28 image: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct {
		data []byte
		want string
	}{
		"text.png":    {[]byte("hello, world"), "not a JPEG, PNG"},
		"empty.jpg":   {nil, "not a JPEG, PNG"},
		"corrupt.jpg": {nil, "corrupt"},
		"cut.jpg":     {nil, "JPEG"},
	}
	dog, err := os.ReadFile("../testdata/images/photos/onnx-tutorials_dog.jpg")
	if err != nil {
		t.Fatal(err)
	}
	cases["corrupt.jpg"] = struct {
		data []byte
		want string
	}{append(dog[:2:2], bytes.Repeat([]byte{0x12, 0x34}, 100)...), "image header"}
	cases["cut.jpg"] = struct {
		data []byte
		want string
	}{dog[:len(dog)/3], "JPEG"}
	for name, c := range cases {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(p, 0)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q repeats the path", name, err)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing.png"), 0); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestWritePNG(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.png")
	m := GrayMap([]float32{0, 1, 2, 3}, 2, 2)
	if err := WritePNG(p, m); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(p)
	defer f.Close()
	got, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if g := got.(*image.Gray); g.Pix[0] != 0 || g.Pix[3] != 255 || g.Pix[1] != 85 {
		t.Errorf("pixels %v", g.Pix)
	}
}
