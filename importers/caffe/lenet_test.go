package caffe

import (
	"compress/gzip"
	"context"
	"encoding/binary"
	"io"
	"os"
	"testing"

	"stride/runtime"
	"stride/tensor"
)

// readIDX reads a gzipped MNIST IDX file: its dims and bytes.
func readIDX(t *testing.T, path string) ([]int, []byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 4 || data[0] != 0 || data[1] != 0 || data[2] != 8 {
		t.Fatalf("%s: not a ubyte IDX file", path)
	}
	nd := int(data[3])
	dims := make([]int, nd)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(data[4+4*i:]))
	}
	return dims, data[4+4*nd:]
}

// TestLeNetMNIST runs the pretrained LeNet (Caffe's MNIST example, trained
// 10000 iterations) on the MNIST test set: its authors report about 99%.
func TestLeNetMNIST(t *testing.T) {
	const dir = "../../testdata/caffe/"
	const batch = 500
	n, err := Import(dir+"lenet-pretrained/lenet.prototxt", Options{
		Weights:     dir + "lenet-pretrained/lenet_iter_10000.caffemodel",
		InputShapes: map[string][]int{"data": {batch, 1, 28, 28}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, L := range n.Layers {
		for _, p := range L.Params {
			if !p.FromWeights {
				t.Fatalf("layer %q: parameters not read from the caffemodel", L.Name)
			}
		}
	}
	idims, pixels := readIDX(t, dir+"mnist-t10k/t10k-images-idx3-ubyte.gz")
	_, labels := readIDX(t, dir+"mnist-t10k/t10k-labels-idx1-ubyte.gz")
	count := idims[0]
	if testing.Short() {
		count = 1000
	}
	s, err := runtime.NewSession(n.Graph)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	correct := 0
	for start := 0; start+batch <= count; start += batch {
		x := make([]float32, batch*28*28)
		for i := range x {
			x[i] = float32(pixels[start*28*28+i]) * 0.00390625 // the scale the net was trained with
		}
		out, err := s.Run(context.Background(), map[string]*tensor.Tensor{"data": tensor.From([]int{batch, 1, 28, 28}, x)})
		if err != nil {
			t.Fatal(err)
		}
		prob := out["prob"].F32()
		for i := 0; i < batch; i++ {
			best := 0
			for c := 1; c < 10; c++ {
				if prob[i*10+c] > prob[i*10+best] {
					best = c
				}
			}
			if best == int(labels[start+i]) {
				correct++
			}
		}
	}
	acc := float64(correct) / float64(count)
	t.Logf("LeNet accuracy on %d MNIST test images: %.2f%%", count, 100*acc)
	if acc < 0.985 {
		t.Errorf("accuracy %.4f, want about 0.99", acc)
	}
}
