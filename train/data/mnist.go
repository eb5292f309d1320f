package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxIDXBytes bounds what one IDX file may make us allocate.
const maxIDXBytes = 1 << 31

// openMaybeGzip opens a file, transparently decompressing gzip.
func openMaybeGzip(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(f)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return struct {
			io.Reader
			io.Closer
		}{zr, f}, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{br, f}, nil
}

// readIDX reads an IDX file of unsigned bytes and returns its dims and data.
func readIDX(path string) ([]int, []uint8, error) {
	r, err := openMaybeGzip(path)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("%s: reading the IDX header: %w", path, err)
	}
	if hdr[0] != 0 || hdr[1] != 0 || hdr[2] != 0x08 {
		return nil, nil, fmt.Errorf("%s: not an IDX file of unsigned bytes (magic %x)", path, hdr)
	}
	nd := int(hdr[3])
	if nd < 1 || nd > 4 {
		return nil, nil, fmt.Errorf("%s: IDX file with %d dimensions", path, nd)
	}
	dims := make([]int, nd)
	total := 1
	for i := range dims {
		var d uint32
		if err := binary.Read(r, binary.BigEndian, &d); err != nil {
			return nil, nil, fmt.Errorf("%s: reading the IDX dims: %w", path, err)
		}
		dims[i] = int(d)
		total *= int(d)
		if total > maxIDXBytes {
			return nil, nil, fmt.Errorf("%s: IDX dims %v are too large", path, dims[:i+1])
		}
	}
	buf := make([]uint8, total)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, nil, fmt.Errorf("%s: %d bytes of data expected: %w", path, total, err)
	}
	return dims, buf, nil
}

// ReadMNIST reads an IDX image file (N x H x W) and its IDX label file, as
// MNIST and Fashion-MNIST ship them (gzipped or not).
func ReadMNIST(images, labels string) (*Dataset, error) {
	dims, px, err := readIDX(images)
	if err != nil {
		return nil, err
	}
	if len(dims) != 3 {
		return nil, fmt.Errorf("%s: expected N x H x W images, got dims %v", images, dims)
	}
	ldims, lab, err := readIDX(labels)
	if err != nil {
		return nil, err
	}
	if len(ldims) != 1 || ldims[0] != dims[0] {
		return nil, fmt.Errorf("%s: %v labels for %d images", labels, ldims, dims[0])
	}
	d := &Dataset{Name: images, N: dims[0], C: 1, H: dims[1], W: dims[2], Pixels: px, Labels: make([]int32, len(lab))}
	for i, v := range lab {
		d.Labels[i] = int32(v)
	}
	return d, d.check()
}

// mnistLabelsFor guesses the label file that goes with an image file:
// "...-images-idx3-ubyte[.gz]" -> "...-labels-idx1-ubyte[.gz]".
func mnistLabelsFor(images string) (string, bool) {
	for _, pair := range [][2]string{{"images-idx3", "labels-idx1"}, {"images.idx3", "labels.idx1"}} {
		if i := strings.LastIndex(images, pair[0]); i >= 0 {
			return images[:i] + pair[1] + images[i+len(pair[0]):], true
		}
	}
	return "", false
}
