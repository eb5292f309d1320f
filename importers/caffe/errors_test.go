package caffe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"stride/proto/caffepb"
)

const input4 = `layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 4 dim: 6 dim: 6 } } }
`

// Bad nets fail with a clear error naming the layer, never a panic.
func TestBadNets(t *testing.T) {
	cases := []struct {
		name, net string
		want      []string
	}{
		{"missing bottom", input4 + `layer { name: "r" type: "ReLU" bottom: "nope" top: "r" }`,
			[]string{`layer "r" (type ReLU, line 2)`, `bottom blob "nope" is not produced`}},
		{"duplicate top", input4 + `layer { name: "a" type: "ReLU" bottom: "data" top: "x" }
layer { name: "b" type: "Sigmoid" bottom: "data" top: "x" }`,
			[]string{`layer "b"`, `top blob "x" is already produced by layer "a" (ReLU, line 2)`, "in-place"}},
		{"in-place at another position", input4 + `layer { name: "a" type: "ReLU" bottom: "data" top: "x" }
layer { name: "e" type: "Eltwise" bottom: "data" bottom: "x" top: "x" }`,
			[]string{`layer "e"`, `top blob "x" is already produced`}},
		{"top twice", input4 + `layer { name: "s" type: "Split" bottom: "data" top: "x" top: "x" }`,
			[]string{`top blob "x" is listed twice`}},
		{"eltwise shapes", input4 + `layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { kernel_size: 2 stride: 2 } }
layer { name: "e" type: "Eltwise" bottom: "data" bottom: "p" top: "e" }`,
			[]string{`layer "e" (type Eltwise, line 3)`, "[1 4 6 6]", "[1 4 3 3]"}},
		{"concat shapes", input4 + `layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { kernel_size: 2 stride: 2 } }
layer { name: "c" type: "Concat" bottom: "data" bottom: "p" top: "c" }`,
			[]string{`layer "c"`, "must agree on all axes but 1"}},
		{"zero dim", `layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 0 dim: 6 } } }`,
			[]string{`layer "data"`, "not positive"}},
		{"negative legacy dim", `input: "data" input_dim: 1 input_dim: -3 input_dim: 5 input_dim: 5`,
			[]string{`input "data"`, "not positive"}},
		{"huge input", `layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 100000000 dim: 100000000 } } }`,
			[]string{`layer "data"`, "too large"}},
		{"kernel too large", input4 + `layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 2 kernel_size: 9 pad: 1 } }`,
			[]string{`layer "c" (type Convolution, line 2)`, "larger than the padded input"}},
		{"pool kernel too large", input4 + `layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { kernel_size: 7 } }`,
			[]string{`layer "p"`, "larger than the padded input"}},
		{"pool pad", input4 + `layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { kernel_size: 2 pad: 2 } }`,
			[]string{`layer "p"`, "smaller than the kernel"}},
		{"no kernel", input4 + `layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 2 } }`,
			[]string{`layer "c"`, "kernel_size"}},
		{"huge num_output", input4 + `layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 4000000000 kernel_size: 3 } }`,
			[]string{`layer "c"`, "too large"}},
		{"huge fc", input4 + `layer { name: "f" type: "InnerProduct" bottom: "data" top: "f" inner_product_param { num_output: 4294967295 } }`,
			[]string{`layer "f"`, "too large"}},
		{"over the limit", input4 + `layer { name: "f" type: "InnerProduct" bottom: "data" top: "f" inner_product_param { num_output: 8000000 } }`,
			[]string{`layer "f"`, "beyond the net's limit"}},
		{"zero num_output", input4 + `layer { name: "f" type: "InnerProduct" bottom: "data" top: "f" }`,
			[]string{`layer "f"`, "num_output must be positive"}},
		{"group", input4 + `layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 3 group: 3 kernel_size: 1 } }`,
			[]string{`layer "c"`, "do not divide into 3 groups"}},
		{"filler", input4 + `layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 2 kernel_size: 1 weight_filler { type: "he" } } }`,
			[]string{`layer "c"`, `unknown filler type "he"`}},
		{"slice points", input4 + `layer { name: "s" type: "Slice" bottom: "data" top: "a" top: "b" slice_param { slice_point: 4 } }`,
			[]string{`layer "s"`, "increase strictly"}},
		{"reshape count", input4 + `layer { name: "r" type: "Reshape" bottom: "data" top: "r" reshape_param { shape { dim: 5 dim: -1 } } }`,
			[]string{`layer "r"`, "cannot infer"}},
		{"reshape dim", input4 + `layer { name: "r" type: "Reshape" bottom: "data" top: "r" reshape_param { shape { dim: -2 dim: 72 } } }`,
			[]string{`layer "r"`, "dims must be positive"}},
		{"crop", input4 + `layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { kernel_size: 2 stride: 2 } }
layer { name: "c" type: "Crop" bottom: "data" bottom: "p" top: "c" crop_param { offset: 4 } }`,
			[]string{`layer "c"`, "does not fit"}},
		{"argmax", input4 + `layer { name: "a" type: "ArgMax" bottom: "data" top: "a" argmax_param { top_k: 200 } }`,
			[]string{`layer "a"`, "top_k 200"}},
		{"axis", input4 + `layer { name: "s" type: "Softmax" bottom: "data" top: "s" softmax_param { axis: 4 } }`,
			[]string{`layer "s"`, "axis 4 is out of range"}},
		{"bottom count", input4 + `layer { name: "r" type: "ReLU" top: "r" }`,
			[]string{`layer "r"`, "needs 1 bottom"}},
		{"unsupported", input4 + `layer { name: "rp" type: "ROIPooling" bottom: "data" top: "rp" }`,
			[]string{`layer "rp" (type ROIPooling, line 2)`, "not supported"}},
		{"nothing computed", input4, []string{"computes nothing"}},
		{"loss consumed", input4 + `layer { name: "l" type: "EuclideanLoss" bottom: "data" bottom: "data" top: "l" }
layer { name: "r" type: "ReLU" bottom: "l" top: "r" }`,
			[]string{`layer "r"`, `comes from layer "l" (EuclideanLoss, line 2), which is not part of the inference graph`}},
		{"lrn size", input4 + `layer { name: "n" type: "LRN" bottom: "data" top: "n" lrn_param { local_size: 4 } }`,
			[]string{`layer "n"`, "odd"}},
		{"input count", `input: "a" input: "b" input_dim: 1 input_dim: 2 input_dim: 3 input_dim: 4`,
			[]string{"2 inputs but 4 input_dim values"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ImportText("bad.prototxt", []byte(c.net), Options{})
			if err == nil {
				t.Fatal("imported without error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func writeModel(t *testing.T, np *caffepb.NetParameter) string {
	t.Helper()
	data, err := proto.Marshal(np)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "w.caffemodel")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func blob(shape []int64, n int) *caffepb.BlobProto {
	return &caffepb.BlobProto{Shape: &caffepb.BlobShape{Dim: shape}, Data: make([]float32, n)}
}

func TestBadWeights(t *testing.T) {
	net := input4 + `layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 2 kernel_size: 3 } }`
	layer := func(blobs ...*caffepb.BlobProto) *caffepb.NetParameter {
		return &caffepb.NetParameter{Layer: []*caffepb.LayerParameter{{Name: proto.String("conv"), Type: proto.String("Convolution"), Blobs: blobs}}}
	}
	cases := []struct {
		name  string
		model *caffepb.NetParameter
		want  []string
	}{
		{"shape", layer(blob([]int64{2, 3, 3, 3}, 54), blob([]int64{2}, 2)),
			[]string{`layer "conv" (type Convolution, line 2)`, "has shape [2 3 3 3]", "needs [2 4 3 3]"}},
		{"count", layer(blob([]int64{2, 4, 3, 3}, 72)),
			[]string{`layer "conv"`, "1 parameter blob(s)", "blob 1"}},
		{"extra", layer(blob([]int64{2, 4, 3, 3}, 72), blob([]int64{2}, 2), blob([]int64{2}, 2)),
			[]string{`layer "conv"`, "3 parameter blob(s) for this layer, the layer has 2"}},
		{"data", layer(blob([]int64{2, 4, 3, 3}, 7), blob([]int64{2}, 2)),
			[]string{`layer "conv"`, "needs 72 values, holds 7"}},
		{"negative", layer(&caffepb.BlobProto{Shape: &caffepb.BlobShape{Dim: []int64{-2, 4, 3, 3}}}, blob([]int64{2}, 2)),
			[]string{`layer "conv"`, "has shape [-2 4 3 3]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ImportText("net.prototxt", []byte(net), Options{Weights: writeModel(t, c.model)})
			if err == nil {
				t.Fatal("imported without error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	// Layers the caffemodel lacks keep their fillers, with a note; layers
	// only the caffemodel has are ignored, with a note.
	model := &caffepb.NetParameter{Layer: []*caffepb.LayerParameter{{Name: proto.String("other"), Blobs: []*caffepb.BlobProto{blob([]int64{1}, 1)}}}}
	n, err := ImportText("net.prototxt", []byte(net), Options{Weights: writeModel(t, model)})
	if err != nil {
		t.Fatal(err)
	}
	if n.Layer("conv").Params[0].FromWeights || !strings.Contains(strings.Join(n.Notes, "\n"), "not in the net, ignored: other") {
		t.Errorf("notes %v", n.Notes)
	}
	_, err = ImportText("net.prototxt", []byte(net), Options{InputShapes: map[string][]int{"date": {1, 4, 6, 6}}})
	if err == nil || !strings.Contains(err.Error(), "input shape given for date, which the net does not take as input (its inputs: data)") {
		t.Errorf("misnamed input shape: %v", err)
	}
	if _, err := Import("no/such.prototxt", Options{}); err == nil {
		t.Error("missing file accepted")
	}
	if _, err := ImportText("net.prototxt", []byte(net), Options{Weights: "no/such.caffemodel"}); err == nil {
		t.Error("missing weights accepted")
	}
}
