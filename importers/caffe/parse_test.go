package caffe

import (
	"errors"
	"strings"
	"testing"
)

func TestSyntaxErrorLocated(t *testing.T) {
	cases := []struct {
		text      string
		line, col int
		msg       string
	}{
		{"name: \"x\"\nlayer {\n  name: \"a\" type: \"ReLU\"\n  bottom: \"data\" top: }\n", 4, 23, "syntax"},
		{"name: \"x\"\nlayer {\n  name: \"a\"\n  typo_field: 3\n}\n", 4, 3, "unknown field: typo_field"},
		{"layer {\n  name: \"a\"\n  type: \"ReLU\"\n", 3, 15, "unexpected end of file"},
		{"input_dim: 1\ninput_dim: x\n", 2, 12, "invalid value"},
	}
	for _, c := range cases {
		_, err := ParseNetText("net.prototxt", []byte(c.text))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: got %v, want a SyntaxError", c.text, err)
			continue
		}
		if se.Line != c.line || se.Col != c.col || !strings.Contains(se.Msg, c.msg) || se.File != "net.prototxt" {
			t.Errorf("%q: got %+v (%v), want line %d col %d with %q", c.text, se, err, c.line, c.col, c.msg)
		}
		if !strings.HasPrefix(err.Error(), "net.prototxt:") {
			t.Errorf("error %q does not start with the file name", err)
		}
	}
}

// Net definitions in the wild use `key: { }` for messages and single-quoted
// strings; both are text format that Go's parser accepts.
func TestParseColonBracesAndSingleQuotes(t *testing.T) {
	text := `name: 'quoted'
input: 'data'
input_shape: { dim: 1 dim: 2 dim: 4 dim: 4 }
layer: {
  name: 'r' type: 'ReLU' bottom: 'data' top: 'r'
  relu_param: { negative_slope: 0.5 }
}
layer < name: "s" type: "Sigmoid" bottom: "r" top: "s" >
`
	net, err := ParseNetText("t", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if net.GetName() != "quoted" || len(net.Layer) != 2 || net.Layer[0].GetReluParam().GetNegativeSlope() != 0.5 {
		t.Fatalf("parsed %v", net)
	}
	n, err := ImportText("t", []byte(text), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n.Layers[1].Line != 4 || n.Layers[2].Line != 8 {
		t.Errorf("layer lines %d, %d; want 4 and 8", n.Layers[1].Line, n.Layers[2].Line)
	}
}

func TestScanLayers(t *testing.T) {
	text := `# layer { not a layer }
name: "n"  # a comment with { braces
layer { name: "a}" type: 'x{' }
  layer
  {
    name: "b"
    nested { layer { } }
  }
layers: { name: "c" }
`
	spans := scanLayers([]byte(text))
	want := []struct {
		field string
		line  int
	}{{"layer", 3}, {"layer", 4}, {"layers", 9}}
	if len(spans) != len(want) {
		t.Fatalf("got %d spans %+v", len(spans), spans)
	}
	for i, w := range want {
		if spans[i].field != w.field || spans[i].line != w.line {
			t.Errorf("span %d: %+v, want %+v", i, spans[i], w)
		}
	}
	if got := text[spans[0].start:spans[0].end]; got != `layer { name: "a}" type: 'x{' }` {
		t.Errorf("span 0 text %q", got)
	}
}

// A layer of another Caffe fork, with parameters BVLC does not know, must
// fail naming the layer (not one of its fields); an unknown field in a
// layer Stride translates is a located syntax error.
func TestUnknownFieldsOfForkLayers(t *testing.T) {
	base := "input: \"data\" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\n"
	fork := base + "layer {\n name: \"perm\"\n type: \"Permute\"\n bottom: \"data\" top: \"p\"\n permute_param { order: 0 order: 2 }\n}\n"
	_, err := ImportText("ssd.prototxt", []byte(fork), Options{})
	var ue *UnsupportedLayerError
	if !errors.As(err, &ue) || ue.Layer != "perm" || ue.Type != "Permute" || ue.Line != 2 {
		t.Fatalf("got %v, want an unsupported Permute layer at line 2", err)
	}
	if !strings.Contains(err.Error(), `layer "perm"`) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("message %q", err)
	}
	typo := base + "layer {\n name: \"r\"\n type: \"ReLU\"\n bottom: \"data\" top: \"r\"\n relu_param { negative_slop: 0.1 }\n}\n"
	_, err = ImportText("typo.prototxt", []byte(typo), Options{})
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 6 || se.Col != 15 || !strings.Contains(se.Msg, "negative_slop") {
		t.Fatalf("got %v, want the unknown field at 6:15", err)
	}
	// Net-level unknown fields are syntax errors too.
	_, err = ImportText("n.prototxt", []byte("bogus: 1\n"+base), Options{})
	if !errors.As(err, &se) || se.Line != 1 {
		t.Fatalf("got %v", err)
	}
}

func TestNotText(t *testing.T) {
	_, err := ImportText("w.caffemodel", []byte("\x0a\x05LeNet\x00\x01"), Options{})
	if err == nil || !strings.Contains(err.Error(), "binary") {
		t.Fatalf("got %v", err)
	}
	_, err = DecodeWeights([]byte("\x89HDF\r\n"))
	if err == nil || !strings.Contains(err.Error(), "HDF5") {
		t.Fatalf("got %v", err)
	}
	_, err = DecodeWeights([]byte("name: \"not binary\""))
	if err == nil {
		t.Fatal("text accepted as a caffemodel")
	}
}

func TestParseSolver(t *testing.T) {
	sp, err := ParseSolver("../../testdata/caffe/nets/BVLC-caffe/examples/mnist/lenet_solver_adam.prototxt")
	if err != nil {
		t.Fatal(err)
	}
	if sp.GetType() != "Adam" || sp.GetBaseLr() == 0 {
		t.Errorf("parsed %v", sp)
	}
	// The legacy solver_type enum becomes the type string.
	sp, err = ParseSolver("../../testdata/caffe/nets/BVLC-caffe/examples/mnist/lenet_consolidated_solver.prototxt")
	if err != nil {
		t.Fatal(err)
	}
	// Its embedded net uses V1 layers, upgraded like a net file's.
	if np := sp.GetNetParam(); np == nil || len(np.Layers) != 0 || len(np.Layer) == 0 || np.Layer[3].GetType() != "Convolution" || np.Layer[3].Param[1].GetLrMult() != 2 {
		t.Errorf("consolidated solver: %v", sp)
	}
}

func TestIsNetFile(t *testing.T) {
	for path, want := range map[string]bool{
		"../../testdata/caffe/reference/lenet/deploy.prototxt":    true,
		"../../testdata/caffe/reference/lenet/weights.caffemodel": false,
		"model.onnx": false,
	} {
		if got := IsNetFile(path); got != want {
			t.Errorf("IsNetFile(%s) = %v", path, got)
		}
	}
}
