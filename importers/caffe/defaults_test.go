package caffe

import "testing"

// Layers may omit their parameter message entirely; the defaults apply.
func TestLayersWithoutParamMessages(t *testing.T) {
	net := `name: "t"
input: "data"
input_shape { dim: 1 dim: 3 dim: 4 dim: 4 }
layer { name: "p" type: "PReLU" bottom: "data" top: "p" }
layer { name: "s" type: "Scale" bottom: "p" top: "s" }
layer { name: "b" type: "Bias" bottom: "s" top: "b" }
layer { name: "e" type: "ELU" bottom: "b" top: "e" }
layer { name: "w" type: "Power" bottom: "e" top: "w" }
`
	n, err := ImportText("t.prototxt", []byte(net), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Layers) != 6 { // the input declaration counts as a layer
		t.Fatalf("%d layers", len(n.Layers))
	}
	if got := n.Layers[1].Params[0].Data.F32()[0]; got != 0.25 {
		t.Fatalf("PReLU default slope %v, want 0.25", got)
	}
}
