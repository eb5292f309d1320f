package onnx

import (
	"fmt"
	"math"

	"stride/graph"
	"stride/tensor"
)

// An adapter rewrites a node of an older opset into the form of the latest
// opset, so kernels see one semantics per op. It may add initializers to g
// and return several nodes.
type adapter func(c *converter, n *graph.Node, g *graph.Graph, opset int64) ([]*graph.Node, error)

// adapters lists, per op type, the rewrite applied below the opset in which
// the current form appeared.
var adapters = map[string]struct {
	before int64 // applies to opsets < before
	fn     adapter
}{
	"ReduceSum":       {13, axesAttrToInput},
	"ReduceMean":      {18, axesAttrToInput},
	"ReduceMax":       {18, axesAttrToInput},
	"ReduceMin":       {18, axesAttrToInput},
	"ReduceProd":      {18, axesAttrToInput},
	"ReduceL1":        {18, axesAttrToInput},
	"ReduceL2":        {18, axesAttrToInput},
	"ReduceLogSum":    {18, axesAttrToInput},
	"ReduceLogSumExp": {18, axesAttrToInput},
	"ReduceSumSquare": {18, axesAttrToInput},
	"Squeeze":         {13, axesAttrToInput},
	"Unsqueeze":       {13, axesAttrToInput},
	"Split":           {13, splitAttrToInput},
	"Clip":            {11, clipAttrsToInputs},
	"Pad":             {11, padAttrsToInputs},
	"Upsample":        {math.MaxInt64, upsampleToResize},
	"Resize":          {11, upsampleToResize},
	"Softmax":         {13, coerce2D},
	"LogSoftmax":      {13, coerce2D},
	"Hardmax":         {13, coerce2D},
	"Dropout":         {12, dropoutAttrToInput},
	"Slice":           {10, sliceAttrsToInputs},
	"TopK":            {10, topkAttrToInput},
	"Reshape":         {5, reshapeAttrToInput},
	"Cast":            {6, castStringTo},
	"Constant":        {math.MaxInt64, constantValue},
	"Scatter":         {math.MaxInt64, scatterToElements},
	"Concat":          {4, concatDefaultAxis},
	"PRelu":           {7, preluChannelSlope},
	"BatchNormalization": {9, func(c *converter, n *graph.Node, g *graph.Graph, opset int64) ([]*graph.Node, error) {
		if s, _ := n.AttrInt("spatial", 1); s == 0 {
			return nil, fmt.Errorf("BatchNormalization with spatial=0 (opset %d) is not supported", opset)
		}
		delete(n.Attrs, "spatial")
		delete(n.Attrs, "is_test")
		return []*graph.Node{n}, nil
	}},
	"Scan": {9, func(c *converter, n *graph.Node, g *graph.Graph, opset int64) ([]*graph.Node, error) {
		return nil, fmt.Errorf("Scan of opset %d (with batch axis and sequence_lens) is not supported; re-export at opset 9 or later", opset)
	}},
}

// legacyBroadcast ops took `broadcast` and `axis` attributes before opset 7.
var legacyBroadcast = map[string]bool{
	"Add": true, "Sub": true, "Mul": true, "Div": true, "Pow": true, "PRelu": true,
	"And": true, "Or": true, "Xor": true, "Equal": true, "Greater": true, "Less": true, "Gemm": true,
}

func (c *converter) adapt(n *graph.Node, g *graph.Graph) ([]*graph.Node, error) {
	opset := c.opsets[""]
	// consumed_inputs (opsets 1-5) described in-place buffer reuse: no meaning for us.
	delete(n.Attrs, "consumed_inputs")
	if opset < 7 && legacyBroadcast[n.Op] {
		if err := c.legacyBroadcast(n, g); err != nil {
			return nil, err
		}
	}
	if a, ok := adapters[n.Op]; ok && opset < a.before {
		return a.fn(c, n, g, opset)
	}
	return []*graph.Node{n}, nil
}

// constInput adds t as an initializer with a fresh name and returns it.
func (c *converter) constInput(g *graph.Graph, base string, t *tensor.Tensor) string {
	name := c.fresh(base)
	g.Initializers[name] = t
	return name
}

func setInput(n *graph.Node, i int, name string) {
	for len(n.Inputs) <= i {
		n.Inputs = append(n.Inputs, "")
	}
	n.Inputs[i] = name
}

func ints64(v []int64) *tensor.Tensor { return tensor.From([]int{len(v)}, append([]int64{}, v...)) }

func axesAttrToInput(c *converter, n *graph.Node, g *graph.Graph, _ int64) ([]*graph.Node, error) {
	axes, err := n.AttrInts("axes", nil)
	if err != nil {
		return nil, err
	}
	if n.Has("axes") {
		setInput(n, 1, c.constInput(g, n.Op+"_axes", ints64(axes)))
		delete(n.Attrs, "axes")
	}
	return []*graph.Node{n}, nil
}

func splitAttrToInput(c *converter, n *graph.Node, g *graph.Graph, _ int64) ([]*graph.Node, error) {
	split, err := n.AttrInts("split", nil)
	if err != nil {
		return nil, err
	}
	if n.Has("split") {
		setInput(n, 1, c.constInput(g, "split", ints64(split)))
		delete(n.Attrs, "split")
	}
	return []*graph.Node{n}, nil
}

func scalarLike(c *converter, g *graph.Graph, ref string, v float32) *tensor.Tensor {
	if t, ok := g.TypeOf(ref); ok && t.DType != tensor.Float32 && t.DType.IsFloat() {
		conv, err := tensor.Convert(tensor.Scalar(v), t.DType)
		if err == nil {
			return conv
		}
	}
	return tensor.Scalar(v)
}

func clipAttrsToInputs(c *converter, n *graph.Node, g *graph.Graph, _ int64) ([]*graph.Node, error) {
	lo, err := n.AttrFloat("min", -math.MaxFloat32)
	if err != nil {
		return nil, err
	}
	hi, err := n.AttrFloat("max", math.MaxFloat32)
	if err != nil {
		return nil, err
	}
	n.Inputs = n.Inputs[:1]
	if n.Has("min") {
		setInput(n, 1, c.constInput(g, "clip_min", scalarLike(c, g, n.Inputs[0], lo)))
	}
	if n.Has("max") {
		setInput(n, 2, c.constInput(g, "clip_max", scalarLike(c, g, n.Inputs[0], hi)))
	}
	delete(n.Attrs, "min")
	delete(n.Attrs, "max")
	return []*graph.Node{n}, nil
}

func padAttrsToInputs(c *converter, n *graph.Node, g *graph.Graph, _ int64) ([]*graph.Node, error) {
	pads, err := n.AttrInts("pads", nil)
	if err != nil {
		return nil, err
	}
	if !n.Has("pads") {
		if pads, err = n.AttrInts("paddings", nil); err != nil { // opset 1 name
			return nil, err
		}
	}
	value, err := n.AttrFloat("value", 0)
	if err != nil {
		return nil, err
	}
	setInput(n, 1, c.constInput(g, "pads", ints64(pads)))
	setInput(n, 2, c.constInput(g, "pad_value", scalarLike(c, g, n.Inputs[0], value)))
	delete(n.Attrs, "pads")
	delete(n.Attrs, "paddings")
	delete(n.Attrs, "value")
	return []*graph.Node{n}, nil
}

// upsampleToResize maps Upsample (7-9) and Resize-10 to the Resize form of
// opset 13: asymmetric coordinates, and floor for nearest, as they defined.
func upsampleToResize(c *converter, n *graph.Node, g *graph.Graph, opset int64) ([]*graph.Node, error) {
	mode, err := n.AttrString("mode", "nearest")
	if err != nil {
		return nil, err
	}
	if mode == "bilinear" {
		mode = "linear"
	}
	if mode != "nearest" && mode != "linear" {
		return nil, fmt.Errorf("%s mode %q is not supported", n.Op, mode)
	}
	x := n.Input(0)
	scales := n.Input(1)
	if n.Op == "Upsample" && n.Has("scales") { // Upsample-7
		s, err := n.AttrFloats("scales", nil)
		if err != nil {
			return nil, err
		}
		scales = c.constInput(g, "upsample_scales", tensor.From([]int{len(s)}, append([]float32{}, s...)))
	} else if n.Op == "Upsample" && n.Has("height_scale") { // Upsample-1
		hs, _ := n.AttrFloat("height_scale", 1)
		ws, _ := n.AttrFloat("width_scale", 1)
		scales = c.constInput(g, "upsample_scales", tensor.From([]int{4}, []float32{1, 1, hs, ws}))
	}
	if scales == "" {
		return nil, fmt.Errorf("%s has no scales", n.Op)
	}
	r := &graph.Node{Name: n.Name, Op: "Resize", Inputs: []string{x, "", scales}, Outputs: n.Outputs}
	r.SetAttr("mode", graph.StringAttr(mode))
	r.SetAttr("coordinate_transformation_mode", graph.StringAttr("asymmetric"))
	r.SetAttr("nearest_mode", graph.StringAttr("floor"))
	return []*graph.Node{r}, nil
}

// coerce2D expresses the pre-13 Softmax family (which flattened the input
// to 2-D at axis) with the single-axis form: Flatten, op on the last axis,
// Reshape back. When the axis is already the last one, nothing changes.
func coerce2D(c *converter, n *graph.Node, g *graph.Graph, _ int64) ([]*graph.Node, error) {
	axis, err := n.AttrInt("axis", 1)
	if err != nil {
		return nil, err
	}
	if t, ok := g.TypeOf(n.Input(0)); ok && t.Ranked {
		r := int64(len(t.Shape))
		if axis == r-1 || axis == -1 {
			n.SetAttr("axis", graph.IntAttr(-1))
			return []*graph.Node{n}, nil
		}
	}
	x, y := n.Input(0), n.Outputs[0]
	flat, soft, shape := c.fresh(x+"_flat"), c.fresh(y+"_2d"), c.fresh(x+"_shape")
	f := &graph.Node{Name: n.Name + "_flatten", Op: "Flatten", Inputs: []string{x}, Outputs: []string{flat}}
	f.SetAttr("axis", graph.IntAttr(axis))
	n.Inputs = []string{flat}
	n.Outputs = []string{soft}
	n.SetAttr("axis", graph.IntAttr(1))
	s := &graph.Node{Name: n.Name + "_shape", Op: "Shape", Inputs: []string{x}, Outputs: []string{shape}}
	r := &graph.Node{Name: n.Name + "_reshape", Op: "Reshape", Inputs: []string{soft, shape}, Outputs: []string{y}}
	return []*graph.Node{f, n, s, r}, nil
}

func dropoutAttrToInput(c *converter, n *graph.Node, g *graph.Graph, _ int64) ([]*graph.Node, error) {
	ratio, err := n.AttrFloat("ratio", 0.5)
	if err != nil {
		return nil, err
	}
	n.Inputs = n.Inputs[:1]
	setInput(n, 1, c.constInput(g, "dropout_ratio", tensor.Scalar(ratio)))
	delete(n.Attrs, "ratio")
	delete(n.Attrs, "is_test")
	return []*graph.Node{n}, nil
}

func sliceAttrsToInputs(c *converter, n *graph.Node, g *graph.Graph, _ int64) ([]*graph.Node, error) {
	starts, err := n.AttrInts("starts", nil)
	if err != nil {
		return nil, err
	}
	ends, err := n.AttrInts("ends", nil)
	if err != nil {
		return nil, err
	}
	if len(starts) != len(ends) {
		return nil, fmt.Errorf("Slice has %d starts and %d ends", len(starts), len(ends))
	}
	n.Inputs = n.Inputs[:1]
	setInput(n, 1, c.constInput(g, "slice_starts", ints64(starts)))
	setInput(n, 2, c.constInput(g, "slice_ends", ints64(ends)))
	if n.Has("axes") {
		axes, err := n.AttrInts("axes", nil)
		if err != nil {
			return nil, err
		}
		setInput(n, 3, c.constInput(g, "slice_axes", ints64(axes)))
	}
	delete(n.Attrs, "starts")
	delete(n.Attrs, "ends")
	delete(n.Attrs, "axes")
	return []*graph.Node{n}, nil
}

func topkAttrToInput(c *converter, n *graph.Node, g *graph.Graph, _ int64) ([]*graph.Node, error) {
	k, err := n.AttrInt("k", -1)
	if err != nil {
		return nil, err
	}
	if k < 0 {
		return nil, fmt.Errorf("TopK needs attribute k")
	}
	setInput(n, 1, c.constInput(g, "topk_k", ints64([]int64{k})))
	delete(n.Attrs, "k")
	return []*graph.Node{n}, nil
}

func reshapeAttrToInput(c *converter, n *graph.Node, g *graph.Graph, _ int64) ([]*graph.Node, error) {
	shape, err := n.AttrInts("shape", nil)
	if err != nil {
		return nil, err
	}
	if n.Has("shape") {
		n.Inputs = n.Inputs[:1]
		setInput(n, 1, c.constInput(g, "reshape_shape", ints64(shape)))
		delete(n.Attrs, "shape")
	}
	return []*graph.Node{n}, nil
}

var castNames = map[string]int64{
	"FLOAT": 1, "UINT8": 2, "INT8": 3, "UINT16": 4, "INT16": 5, "INT32": 6, "INT64": 7,
	"STRING": 8, "BOOL": 9, "FLOAT16": 10, "DOUBLE": 11, "UINT32": 12, "UINT64": 13, "BFLOAT16": 16,
}

func castStringTo(c *converter, n *graph.Node, g *graph.Graph, _ int64) ([]*graph.Node, error) {
	if a, ok := n.Attrs["to"]; ok && a.Kind == graph.AttrString {
		code, ok := castNames[a.String]
		if !ok {
			return nil, fmt.Errorf("Cast to unknown type %q", a.String)
		}
		n.SetAttr("to", graph.IntAttr(code))
	}
	return []*graph.Node{n}, nil
}

// constantValue gives every Constant its value as a tensor attribute.
func constantValue(c *converter, n *graph.Node, g *graph.Graph, _ int64) ([]*graph.Node, error) {
	var t *tensor.Tensor
	for name, a := range n.Attrs {
		switch name {
		case "value", "sparse_value":
			t = a.Tensor
		case "value_float":
			t = tensor.Scalar(a.Float)
		case "value_floats":
			t = tensor.From([]int{len(a.Floats)}, append([]float32{}, a.Floats...))
		case "value_int":
			t = tensor.Scalar(a.Int)
		case "value_ints":
			t = tensor.From([]int{len(a.Ints)}, append([]int64{}, a.Ints...))
		case "value_string":
			t = tensor.Scalar(a.String)
		case "value_strings":
			t = tensor.From([]int{len(a.Strings)}, append([]string{}, a.Strings...))
		default:
			continue
		}
	}
	if t == nil || len(n.Attrs) != 1 {
		return nil, fmt.Errorf("Constant needs exactly one value attribute")
	}
	n.Attrs = map[string]*graph.Attr{"value": graph.TensorAttr(t)}
	return []*graph.Node{n}, nil
}

func scatterToElements(c *converter, n *graph.Node, g *graph.Graph, _ int64) ([]*graph.Node, error) {
	n.Op = "ScatterElements"
	return []*graph.Node{n}, nil
}

func concatDefaultAxis(c *converter, n *graph.Node, g *graph.Graph, _ int64) ([]*graph.Node, error) {
	if !n.Has("axis") {
		n.SetAttr("axis", graph.IntAttr(1))
	}
	return []*graph.Node{n}, nil
}

// legacyBroadcast handles the opset 1-6 form where the second operand of a
// binary op was aligned to A's dims starting at `axis` (broadcast=1). It
// becomes numpy broadcasting by giving B trailing 1-dims.
func (c *converter) legacyBroadcast(n *graph.Node, g *graph.Graph) error {
	defer delete(n.Attrs, "broadcast")
	defer delete(n.Attrs, "axis")
	b, _ := n.AttrInt("broadcast", 0)
	if b == 0 || !n.Has("axis") || n.Op == "Gemm" {
		return nil
	}
	axis, err := n.AttrInt("axis", 0)
	if err != nil {
		return err
	}
	at, okA := g.TypeOf(n.Input(0))
	bt, okB := g.TypeOf(n.Input(1))
	if !okA || !okB || !at.Ranked || !bt.Ranked {
		return fmt.Errorf("%s with legacy broadcast axis=%d needs known input ranks", n.Op, axis)
	}
	ra, rb := int64(len(at.Shape)), int64(len(bt.Shape))
	if axis < 0 {
		axis += ra
	}
	trailing := ra - axis - rb
	if trailing < 0 {
		return fmt.Errorf("%s: legacy broadcast axis %d does not fit ranks %d and %d", n.Op, axis, ra, rb)
	}
	if trailing == 0 {
		return nil
	}
	if t, ok := g.Initializers[n.Input(1)]; ok {
		shape := append(append([]int{}, t.Shape...), make([]int, trailing)...)
		for i := len(t.Shape); i < len(shape); i++ {
			shape[i] = 1
		}
		n.Inputs[1] = c.constInput(g, n.Input(1)+"_bcast", t.Reshape(shape...))
		return nil
	}
	axes := make([]int64, trailing)
	for i := range axes {
		axes[i] = rb + int64(i)
	}
	out := c.fresh(n.Input(1) + "_bcast")
	u := &graph.Node{Op: "Unsqueeze", Inputs: []string{n.Input(1), c.constInput(g, "bcast_axes", ints64(axes))}, Outputs: []string{out}}
	g.Nodes = append(g.Nodes, u)
	n.Inputs[1] = out
	return nil
}

// preluChannelSlope: before opset 7 a slope of shape [C] applied per channel
// (axis 1); numpy broadcasting needs it as [C,1,...,1].
func preluChannelSlope(c *converter, n *graph.Node, g *graph.Graph, _ int64) ([]*graph.Node, error) {
	w, ok := g.Initializers[n.Input(1)]
	xt, known := g.TypeOf(n.Input(0))
	if !ok || len(w.Shape) != 1 || w.Shape[0] == 1 || !known || !xt.Ranked || len(xt.Shape) < 3 {
		return []*graph.Node{n}, nil
	}
	shape := make([]int, len(xt.Shape)-1)
	for i := range shape {
		shape[i] = 1
	}
	shape[0] = w.Shape[0]
	n.Inputs[1] = c.constInput(g, n.Input(1)+"_per_channel", w.Reshape(shape...))
	return []*graph.Node{n}, nil
}
