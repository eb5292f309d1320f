package imageio

import (
	"errors"
	"fmt"

	"stride/graph"
	"stride/tensor"
)

// Layout is the order of an image tensor's dimensions.
type Layout int

// The two image layouts: channels first (ONNX, Caffe, PyTorch) and channels
// last (TensorFlow exports).
const (
	NCHW Layout = iota
	NHWC
)

func (l Layout) String() string {
	if l == NHWC {
		return "NHWC"
	}
	return "NCHW"
}

// ErrNoImageInput is returned by FindInput for models that do not take one
// image tensor.
var ErrNoImageInput = errors.New("no image input")

// Input describes a model's image input.
type Input struct {
	Name     string
	DType    tensor.DType
	Layout   Layout
	Channels int // 1 (grayscale) or 3
	Height   int
	Width    int
	// Batch is the batch size the model fixes, 0 when it is symbolic.
	Batch int
	// SizeFromFlag says Height and Width were not fixed by the model and
	// come from FindInput's size argument.
	SizeFromFlag bool
}

// Shape returns the input's tensor shape for a batch of n images.
func (in *Input) Shape(n int) []int {
	if in.Layout == NHWC {
		return []int{n, in.Height, in.Width, in.Channels}
	}
	return []int{n, in.Channels, in.Height, in.Width}
}

// Len returns the number of elements of one image.
func (in *Input) Len() int { return in.Channels * in.Height * in.Width }

func (in *Input) String() string {
	return fmt.Sprintf("%q %dx%dx%d (W x H x D), %v", in.Name, in.Width, in.Height, in.Channels, in.Layout)
}

// FindInput finds the image input of g: its one input without a default,
// of rank 4, with 1 or 3 channels in dim 1 (NCHW) or, failing that, in the
// last dim (NHWC). size is used for height and width when the model leaves
// them symbolic.
func FindInput(g *graph.Graph, size int) (*Input, error) {
	var need []*graph.Value
	for _, v := range g.Inputs {
		if _, hasDefault := g.Initializers[v.Name]; !hasDefault {
			need = append(need, v)
		}
	}
	if len(need) != 1 {
		return nil, fmt.Errorf("%w: the model has %d inputs to feed, want one image tensor", ErrNoImageInput, len(need))
	}
	v := need[0]
	bad := func(why string) error {
		return fmt.Errorf("%w: input %q is %v, %s (want N x C x H x W or N x H x W x C with C = 1 or 3)", ErrNoImageInput, v.Name, v.Type, why)
	}
	switch v.Type.DType {
	case tensor.Float32, tensor.Float16, tensor.BFloat16, tensor.Float64, tensor.Undefined:
	default:
		return nil, bad("not a floating-point tensor")
	}
	if !v.Type.Ranked || len(v.Type.Shape) != 4 {
		return nil, bad("not of rank 4")
	}
	dims := v.Type.Shape
	in := &Input{Name: v.Name, DType: v.Type.DType}
	if in.DType == tensor.Undefined {
		in.DType = tensor.Float32
	}
	isChan := func(d graph.Dim) bool { return d.Known() && (d.Size == 1 || d.Size == 3) }
	var hd, wd graph.Dim
	switch {
	case isChan(dims[1]):
		in.Layout, in.Channels, hd, wd = NCHW, int(dims[1].Size), dims[2], dims[3]
	case isChan(dims[3]):
		in.Layout, in.Channels, hd, wd = NHWC, int(dims[3].Size), dims[1], dims[2]
	default:
		return nil, bad("with no channel dim of 1 or 3")
	}
	if dims[0].Known() {
		in.Batch = int(dims[0].Size)
		if in.Batch < 1 {
			return nil, bad("with an empty batch dim")
		}
	}
	in.Height, in.Width = int(hd.Size), int(wd.Size)
	if !hd.Known() || !wd.Known() {
		if size <= 0 {
			return nil, bad("with a symbolic height or width and no size given")
		}
		in.SizeFromFlag = true
		if !hd.Known() {
			in.Height = size
		}
		if !wd.Known() {
			in.Width = size
		}
	}
	if in.Height < 1 || in.Width < 1 || in.Height > 1<<14 || in.Width > 1<<14 {
		return nil, bad("with an unusable height or width")
	}
	return in, nil
}
