package caffe

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"stride/graph"
	"stride/proto/caffepb"
	"stride/tensor"
)

// Phase selects the layers of a net, as Caffe's NetState does: layers can
// include or exclude themselves by phase.
type Phase int

// The phases. The zero value is Test: importing for inference.
const (
	Test Phase = iota
	Train
)

func (p Phase) String() string {
	if p == Train {
		return "TRAIN"
	}
	return "TEST"
}

func (p Phase) proto() caffepb.Phase {
	if p == Train {
		return caffepb.Phase_TRAIN
	}
	return caffepb.Phase_TEST
}

// DefaultMaxParams bounds the number of parameter elements of a net when
// Options.MaxParams is 0: a quarter of a billion floats more than the
// largest published Caffe nets, small enough that a corrupt num_output is
// an error rather than an out-of-memory crash.
const DefaultMaxParams = 1 << 30

// Options configures Import.
type Options struct {
	// Weights is a .caffemodel to read parameters from, matched by layer
	// name. Layers it lacks, or all layers when it is "", are initialised
	// from the net's fillers.
	Weights string
	// Phase selects layers by their include/exclude rules (default Test).
	Phase Phase
	// Stages and Level complete the NetState the rules are checked against.
	Stages []string
	Level  int
	// Seed makes filler initialisation reproducible: the same seed gives the
	// same parameters.
	Seed int64
	// InputShapes sets or overrides the shapes of the net's inputs (Input
	// layers, legacy input declarations and data layers) by blob name. Data
	// layers reading a database need it, since their shape is in the data.
	InputShapes map[string][]int
	// MaxParams bounds the total number of parameter elements
	// (DefaultMaxParams when 0).
	MaxParams int64
}

// Net is an imported Caffe net.
type Net struct {
	// Name is the net's name field.
	Name string
	// Path is the net definition file ("" when imported from memory).
	Path string
	// Graph is the translated op graph.
	Graph *graph.Graph
	// Layers lists the layers kept by the phase rules, in net order,
	// including those dropped from the inference graph (loss, accuracy).
	Layers []*Layer
	// Inputs and Outputs are the graph's input and output blob names.
	Inputs, Outputs []string
	// Notes are remarks for the user: layers dropped or excluded, weights
	// not found, unused inputs.
	Notes []string
	// Phase is the phase the net was imported in.
	Phase Phase
	// Proto is the parsed, upgraded net definition (every layer, before
	// phase filtering).
	Proto *caffepb.NetParameter
}

// Layer describes one layer of an imported net.
type Layer struct {
	Name, Type string
	// Line is the line of the layer in the net definition (0 if unknown).
	Line    int
	Bottoms []string
	Tops    []string
	// TopShapes are the shapes of the tops as Caffe computes them.
	TopShapes [][]int
	// Params are the layer's parameter blobs, in Caffe's order.
	Params []*Param
	// Nodes names the graph nodes the layer became.
	Nodes []string
	// Dropped is set for layers that are not part of the inference graph
	// (loss and accuracy layers, Silence, HDF5Output); Note says why.
	Dropped bool
	Note    string
	// Proto is the layer's definition.
	Proto *caffepb.LayerParameter
}

// Source describes the layer for error messages: `layer "conv1" (line 12)`.
func (l *Layer) Source() string {
	if l.Line > 0 {
		return fmt.Sprintf("layer %q (line %d)", l.Name, l.Line)
	}
	return fmt.Sprintf("layer %q", l.Name)
}

// describe names the layer with its type: `layer "conv1" (Convolution, line 12)`.
func (l *Layer) describe() string {
	if l.Line > 0 {
		return fmt.Sprintf("layer %q (%s, line %d)", l.Name, l.Type, l.Line)
	}
	return fmt.Sprintf("layer %q (%s)", l.Name, l.Type)
}

// Param is one parameter blob of a layer.
type Param struct {
	// Data holds the blob in Caffe's shape.
	Data *tensor.Tensor
	// Value names the graph initializer holding the blob (possibly
	// reshaped, sharing Data's storage), or "" when the graph holds a value
	// derived from it instead (BatchNorm's statistics are folded).
	Value string
	// LrMult and DecayMult are the ParamSpec multipliers (1 by default).
	LrMult, DecayMult float32
	// Share is the ParamSpec name under which layers share the blob.
	Share string
	// FromWeights says the blob was read from the caffemodel rather than
	// filled.
	FromWeights bool
	valueID     string
}

// Import reads a net definition and translates it into an op graph,
// reading weights from opts.Weights or filling them.
func Import(path string, opts Options) (*Net, error) {
	text, err := readText(path)
	if err != nil {
		return nil, err
	}
	return ImportText(path, text, opts)
}

// ImportText is Import for a net definition already in memory; name is
// used in messages.
func ImportText(name string, text []byte, opts Options) (*Net, error) {
	src, err := parseNetSource(name, text)
	if err != nil {
		return nil, err
	}
	var weights *caffepb.NetParameter
	if opts.Weights != "" {
		if weights, err = ParseWeights(opts.Weights); err != nil {
			return nil, err
		}
	}
	return importSource(src, weights, opts)
}

// ImportProto translates an already parsed net definition, with weights
// from a parsed caffemodel (nil to use fillers). opts.Weights is ignored.
func ImportProto(net *caffepb.NetParameter, weights *caffepb.NetParameter, opts Options) (*Net, error) {
	n := len(net.Layer) + len(net.Layers)
	src := &netSource{file: "net", net: net, lines: make([]int, n), unknown: make([]error, n)}
	if err := upgradeNet(src); err != nil {
		return nil, err
	}
	return importSource(src, weights, opts)
}

func importSource(src *netSource, weights *caffepb.NetParameter, opts Options) (n *Net, err error) {
	// A hostile net must not crash the process; a panic here is a bug,
	// reported as an error (the fuzz tests fail on it).
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("%s: internal error (panic) while importing: %v", src.file, r)
		}
	}()
	b := newBuilder(src, weights, opts)
	if err := b.build(); err != nil {
		return nil, err
	}
	return b.net, nil
}

// includeLayer applies Caffe's rules: with include rules, a layer is kept
// when the state meets one of them; otherwise it is kept unless the state
// meets one of its exclude rules.
func includeLayer(lp *caffepb.LayerParameter, opts Options) bool {
	if len(lp.Include) > 0 {
		for _, r := range lp.Include {
			if stateMeetsRule(r, opts) {
				return true
			}
		}
		return false
	}
	for _, r := range lp.Exclude {
		if stateMeetsRule(r, opts) {
			return false
		}
	}
	return true
}

func stateMeetsRule(r *caffepb.NetStateRule, opts Options) bool {
	if r.Phase != nil && r.GetPhase() != opts.Phase.proto() {
		return false
	}
	if r.MinLevel != nil && opts.Level < int(r.GetMinLevel()) {
		return false
	}
	if r.MaxLevel != nil && opts.Level > int(r.GetMaxLevel()) {
		return false
	}
	has := map[string]bool{}
	for _, s := range opts.Stages {
		has[s] = true
	}
	for _, s := range r.Stage {
		if !has[s] {
			return false
		}
	}
	for _, s := range r.NotStage {
		if has[s] {
			return false
		}
	}
	return true
}

// IsNetFile reports whether path looks like a Caffe net definition rather
// than an ONNX model: a .prototxt/.pbtxt name, or text that starts like one.
// Command-line tools use it to accept both kinds of model.
func IsNetFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".prototxt", ".pbtxt", ".pt":
		return true
	case ".onnx", ".caffemodel", ".pb":
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n, _ := f.Read(buf)
	text := string(buf[:n])
	if looksBinary(buf[:n]) {
		return false
	}
	for _, key := range []string{"layer", "layers", "input", "name"} {
		for _, line := range strings.Split(text, "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, key+" {") || strings.HasPrefix(line, key+"{") || strings.HasPrefix(line, key+":") {
				return true
			}
		}
	}
	return false
}
