// Package importers picks the importer for a model file: ONNX (.onnx) or
// Caffe (.prototxt with optional .caffemodel weights). Commands and the
// trainer open models through Load so every tool takes both formats.
package importers

import (
	"fmt"
	"path/filepath"
	"strings"

	"stride/graph"
	"stride/importers/onnx"
)

// Options tell Load what else it needs besides the model file.
type Options struct {
	// Weights is a .caffemodel for a Caffe net ("" initialises from fillers).
	Weights string
	// Seed seeds filler initialisation when Weights is empty.
	Seed int64
	// InputShapes sets the shapes of a Caffe net's inputs by blob name (Data
	// layers read theirs from a database Stride does not open).
	InputShapes map[string][]int
	// Train imports a Caffe net in its TRAIN phase instead of TEST.
	Train bool
}

// Format names a model file format.
type Format string

// The formats Load understands.
const (
	ONNX  Format = "onnx"
	Caffe Format = "caffe"
)

// Detect guesses a model's format from its file name.
func Detect(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".onnx":
		return ONNX, nil
	case ".prototxt", ".pbtxt":
		return Caffe, nil
	}
	return "", fmt.Errorf("%s: unknown model format (expected .onnx or a Caffe .prototxt)", path)
}

// caffeLoader opens Caffe nets (set in caffe.go).
var caffeLoader func(path string, o Options) (*graph.Graph, error)

// Load imports a model file into an op graph.
func Load(path string, o Options) (*graph.Graph, error) {
	f, err := Detect(path)
	if err != nil {
		return nil, err
	}
	switch f {
	case ONNX:
		if o.Weights != "" {
			return nil, fmt.Errorf("--weights is for Caffe nets; %s is an ONNX model with its weights inside", path)
		}
		m, err := onnx.Load(path)
		if err != nil {
			return nil, err
		}
		return m.Graph, nil
	default:
		if caffeLoader == nil {
			return nil, fmt.Errorf("%s: Caffe import is not available in this build", path)
		}
		return caffeLoader(path, o)
	}
}
