package imageio

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // registers GIF with image.Decode
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"strings"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// DefaultMaxPixels is the default bound on width x height of an image to
// decode: 64 megapixels, a 8000 x 8000 photo.
const DefaultMaxPixels = 64_000_000

// Extensions lists the file name extensions (lower case) of the formats
// Decode reads; a folder walk picks files by them.
var Extensions = []string{".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"}

// ErrTooLarge is returned for images whose header announces more pixels
// than the limit.
var ErrTooLarge = errors.New("image too large")

// ErrFormat is returned for files that are not in a supported format.
var ErrFormat = errors.New("not a JPEG, PNG, GIF, BMP, TIFF or WebP image")

// Open decodes the image file at path. It reads the header first and
// refuses, without decoding the pixels, an image of more than maxPixels
// pixels (0 means DefaultMaxPixels). Errors do not repeat the path.
func Open(path string, maxPixels int64) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return nil, err
	}
	defer f.Close()
	return Decode(f, maxPixels)
}

// Decode is Open for an already opened file.
func Decode(r io.ReadSeeker, maxPixels int64) (img image.Image, err error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	cfg, format, err := image.DecodeConfig(bufio.NewReader(r))
	if err != nil {
		return nil, describe(err, "")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%s image has an empty size %dx%d", strings.ToUpper(format), cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		return nil, fmt.Errorf("%w: %s image is %dx%d (%.1f megapixels), above the limit of %.1f megapixels",
			ErrTooLarge, strings.ToUpper(format), cfg.Width, cfg.Height, float64(px)/1e6, float64(maxPixels)/1e6)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	// Decoders of hostile files have panicked before; one bad file must not
	// end a batch run.
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("corrupt %s image (decoder failed: %v)", strings.ToUpper(format), p)
		}
	}()
	img, _, err = image.Decode(bufio.NewReader(r))
	if err != nil {
		return nil, describe(err, strings.ToUpper(format))
	}
	return img, nil
}

func describe(err error, format string) error {
	switch {
	case errors.Is(err, image.ErrFormat):
		return ErrFormat
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		if format == "" {
			return errors.New("truncated image header")
		}
		return fmt.Errorf("truncated %s image", format)
	case format != "":
		return fmt.Errorf("corrupt %s image: %v", format, err)
	}
	return fmt.Errorf("corrupt image header: %v", err)
}
