// Package npy reads and writes NumPy .npy files (format versions 1-3) as
// tensors: the exchange format for inputs and outputs of `infer run` and for
// reference data made with NumPy, PyTorch and Caffe.
package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"stride/tensor"
)

var descrs = map[string]tensor.DType{
	"f4": tensor.Float32, "f8": tensor.Float64, "f2": tensor.Float16,
	"i1": tensor.Int8, "i2": tensor.Int16, "i4": tensor.Int32, "i8": tensor.Int64,
	"u1": tensor.Uint8, "u2": tensor.Uint16, "u4": tensor.Uint32, "u8": tensor.Uint64,
	"b1": tensor.Bool,
}

var (
	reDescr   = regexp.MustCompile(`'descr'\s*:\s*'([<>|=])([a-z]\d+)'`)
	reFortran = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	reShape   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// Read loads a .npy file.
func Read(path string) (*tensor.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := Decode(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Decode reads an .npy stream.
func Decode(r io.Reader) (*tensor.Tensor, error) {
	var magic [8]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, fmt.Errorf("not an .npy file: %w", err)
	}
	if string(magic[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("not an .npy file (bad magic)")
	}
	var hlen int
	switch magic[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, err
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, err
		}
		hlen = int(binary.LittleEndian.Uint32(b[:]))
	default:
		return nil, fmt.Errorf("unsupported .npy version %d", magic[6])
	}
	if hlen > 1<<20 {
		return nil, fmt.Errorf(".npy header of %d bytes is implausible", hlen)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("truncated .npy header: %w", err)
	}
	h := string(hdr)
	m := reDescr.FindStringSubmatch(h)
	if m == nil {
		return nil, fmt.Errorf(".npy header has no supported descr: %s", strings.TrimSpace(h))
	}
	if m[1] == ">" {
		return nil, fmt.Errorf("big-endian .npy data is not supported")
	}
	dt, ok := descrs[m[2]]
	if !ok {
		return nil, fmt.Errorf(".npy element type %q is not supported", m[2])
	}
	if fm := reFortran.FindStringSubmatch(h); fm != nil && fm[1] == "True" {
		return nil, fmt.Errorf("Fortran-order .npy data is not supported")
	}
	sm := reShape.FindStringSubmatch(h)
	if sm == nil {
		return nil, fmt.Errorf(".npy header has no shape")
	}
	var shape []int
	for _, p := range strings.Split(sm[1], ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		d, err := strconv.Atoi(p)
		if err != nil || d < 0 {
			return nil, fmt.Errorf(".npy shape %q is invalid", sm[1])
		}
		shape = append(shape, d)
	}
	n, err := tensor.NumElements(shape)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 0, min(n*dt.Size(), 1<<26))
	buf := bytes.NewBuffer(raw)
	if _, err := io.CopyN(buf, r, int64(n*dt.Size())); err != nil {
		return nil, fmt.Errorf(".npy data is truncated: shape %v needs %d bytes: %w", shape, n*dt.Size(), err)
	}
	t := &tensor.Tensor{DType: dt, Shape: shape, Data: tensor.DecodeLE(dt, buf.Bytes(), n)}
	return t, nil
}

// Encode returns the .npy bytes of a tensor (format version 1).
func Encode(t *tensor.Tensor) ([]byte, error) {
	var descr string
	for k, v := range descrs {
		if v == t.DType {
			descr = k
		}
	}
	if descr == "" {
		return nil, fmt.Errorf("cannot write %v as .npy", t.DType)
	}
	prefix := "<"
	if t.DType.Size() == 1 {
		prefix = "|"
	}
	dims := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = strconv.Itoa(d)
	}
	shape := strings.Join(dims, ", ")
	if len(t.Shape) == 1 {
		shape += ","
	}
	h := fmt.Sprintf("{'descr': '%s%s', 'fortran_order': False, 'shape': (%s), }", prefix, descr, shape)
	// Pad so the data starts on a 64-byte boundary, header ends with \n.
	total := 10 + len(h) + 1
	pad := (64 - total%64) % 64
	h += strings.Repeat(" ", pad) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	raw, err := tensor.EncodeLE(t)
	if err != nil {
		return nil, err
	}
	b.Write(raw)
	return b.Bytes(), nil
}

// Write stores a tensor as an .npy file.
func Write(path string, t *tensor.Tensor) error {
	data, err := Encode(t)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
