package inspect

import (
	"fmt"
	"strings"

	"stride/graph"
)

// Report describes a model.
type Report struct {
	Graph           string `json:"graph,omitempty"`
	IRVersion       int64  `json:"ir_version,omitempty"`
	Opset           int64  `json:"opset,omitempty"`
	Producer        string `json:"producer,omitempty"`
	ProducerVersion string `json:"producer_version,omitempty"`
	Inputs          []Port `json:"inputs"`
	Outputs         []Port `json:"outputs"`
	// Layers are the model's nodes in execution order, without those that
	// only compute constants; the nodes one Caffe layer became form one
	// layer.
	Layers []Layer `json:"layers"`
	// Params counts every learned number once (floating-point constants
	// of more than one element); MACs sums the layers'.
	Params int64 `json:"params"`
	MACs   int64 `json:"mult_adds"`
	// Batch and Size are the values given to symbolic dims to run the
	// model: the batch, and height and width of an image input.
	Batch int `json:"batch"`
	Size  int `json:"size,omitempty"`
	// ShapeError says why the model could not be run to find shapes; the
	// shapes are then those the file declares, where it does.
	ShapeError string `json:"shape_error,omitempty"`
}

// Port is a graph input or output.
type Port struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	// Shape is as declared: a number for a known dim, else the symbolic
	// dim's name, or "?" when it has none.
	Shape []any `json:"shape"`
	// Run is the shape the model was run with or produced.
	Run    []int   `json:"run_shape,omitempty"`
	Volume *Volume `json:"volume,omitempty"`
	Layout string  `json:"layout,omitempty"`
}

// Layer is one row of the report.
type Layer struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	Op    string `json:"op"`
	// Ops lists the op of each node when several nodes form the layer.
	Ops      []string `json:"ops,omitempty"`
	Kernel   []int    `json:"kernel,omitempty"` // spatial, as in the model: [kh, kw]
	Stride   []int    `json:"stride,omitempty"`
	Pad      []int    `json:"pad,omitempty"` // ONNX order: begins then ends
	Dilation []int    `json:"dilation,omitempty"`
	Group    int      `json:"group,omitempty"`
	Output   string   `json:"output"`
	Shape    []int    `json:"shape,omitempty"` // of Output, batch included
	Volume   *Volume  `json:"volume,omitempty"`
	Params   int64    `json:"params"`
	// ParamsFormula writes Params as the lecture does: "10 x (5*5*3 + 1)".
	ParamsFormula string `json:"params_formula,omitempty"`
	MACs          int64  `json:"mult_adds"`
	Receptive     *Field `json:"receptive_field,omitempty"`
}

// Volume is an activation volume: width, height and depth.
type Volume struct {
	W int `json:"w"`
	H int `json:"h"`
	D int `json:"d"`
}

func (v *Volume) String() string {
	if v == nil {
		return "?"
	}
	return fmt.Sprintf("%d x %d x %d", v.W, v.H, v.D)
}

// Field is a receptive field on the image input, in input pixels. All
// means every input pixel (after a flatten, a global pool or a fully
// connected layer).
type Field struct {
	W   int  `json:"w"`
	H   int  `json:"h"`
	All bool `json:"all,omitempty"`
}

func (f *Field) String() string {
	switch {
	case f == nil:
		return "-"
	case f.All:
		return "all"
	}
	return fmt.Sprintf("%dx%d", f.W, f.H)
}

func portOf(v *graph.Value) Port {
	p := Port{Name: v.Name, DType: v.Type.DType.String()}
	if v.Type.Ranked {
		p.Shape = make([]any, len(v.Type.Shape))
		for i, d := range v.Type.Shape {
			if d.Known() {
				p.Shape[i] = d.Size
			} else {
				p.Shape[i] = d.String()
			}
		}
	}
	return p
}

// ShapeString writes a port's declared shape as [N,3,32,32].
func (p Port) ShapeString() string {
	if p.Shape == nil {
		return "[...]"
	}
	parts := make([]string, len(p.Shape))
	for i, d := range p.Shape {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ",") + "]"
}
