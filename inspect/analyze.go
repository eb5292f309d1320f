package inspect

import (
	"context"
	"errors"

	"stride/graph"
	"stride/imageio"
	"stride/runtime"
	"stride/tensor"
)

// Options tune Analyze.
type Options struct {
	// Size is the height and width given to an image input whose spatial
	// dims are symbolic (default 224).
	Size int
	// Runtime options for the shape-finding run (threads, ...).
	Runtime []runtime.Option
}

// Analyze describes g layer by layer. It runs g once on zero inputs (one
// image, unless the model fixes its batch) to learn every value's shape; when that fails (an op Stride does not
// run yet), the report keeps the shapes the file declares and says why in
// ShapeError. g is not modified.
func Analyze(ctx context.Context, g *graph.Graph, o Options) (*Report, error) {
	if o.Size <= 0 {
		o.Size = 224
	}
	order, err := g.TopoOrder()
	if err != nil {
		return nil, err
	}
	r := &Report{
		Graph: g.Name, IRVersion: g.Meta.IRVersion, Opset: g.Opset(),
		Producer: g.Meta.Producer, ProducerVersion: g.Meta.ProducerVersion,
		Batch: 1,
	}
	a := &analysis{g: g, shapes: map[string][]int{}, dtypes: map[string]tensor.DType{}, layout: map[string]imageio.Layout{}, rf: map[string]*field{}}

	imageName := ""
	var imageShape []int
	if in, err := imageio.FindInput(g, o.Size); err == nil {
		r.Batch = max(in.Batch, 1)
		imageName, imageShape = in.Name, in.Shape(r.Batch)
		a.layout[in.Name] = in.Layout
		a.rf[in.Name] = &field{h: 1, w: 1, jh: 1, jw: 1}
		if in.SizeFromFlag {
			r.Size = o.Size
		}
	}
	a.batch = r.Batch
	if feeds, err := zeroFeeds(g, imageName, imageShape, 1); err != nil {
		r.ShapeError = err.Error()
	} else {
		for name, t := range feeds {
			a.shapes[name] = t.Shape
		}
		vals, err := RunAll(ctx, g, feeds, o.Runtime...)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil, err
			}
			r.ShapeError = err.Error()
		}
		for name, t := range vals {
			a.shapes[name], a.dtypes[name] = t.Shape, t.DType
		}
	}
	if r.ShapeError != "" {
		a.declaredShapes()
	}
	for name, t := range g.Initializers {
		a.shapes[name], a.dtypes[name] = t.Shape, t.DType
	}
	a.findConstants(order)
	for _, n := range order {
		if !a.hidden[n] {
			a.propagate(n)
		}
	}

	for _, v := range g.Inputs {
		if _, isDefault := g.Initializers[v.Name]; isDefault {
			continue
		}
		p := portOf(v)
		p.Run = a.shapes[v.Name]
		p.Volume = a.volume(v.Name)
		if v.Name == imageName {
			p.Layout = a.layout[v.Name].String()
		}
		r.Inputs = append(r.Inputs, p)
	}
	for _, v := range g.Outputs {
		p := portOf(v)
		p.Run = a.shapes[v.Name]
		p.Volume = a.volume(v.Name)
		r.Outputs = append(r.Outputs, p)
	}
	counted := map[string]bool{}
	for _, group := range a.groups(order) {
		l := a.layer(group, counted)
		l.Index = len(r.Layers) + 1
		r.Layers = append(r.Layers, l)
		r.MACs += l.MACs
	}
	// Parameters no layer reads directly (shared or unused) count too.
	for _, name := range g.SortedInitializerNames() {
		if t := g.Initializers[name]; !counted[name] && isParam(t) && t.Len() > 1 && g.Input(name) == nil && a.read[name] {
			r.Params += int64(g.Initializers[name].Len())
			counted[name] = true
		}
	}
	for _, l := range r.Layers {
		r.Params += l.Params
	}
	return r, nil
}

// analysis is the state Analyze builds up.
type analysis struct {
	g      *graph.Graph
	batch  int // images in the run
	shapes map[string][]int
	dtypes map[string]tensor.DType
	layout map[string]imageio.Layout
	rf     map[string]*field
	// consts holds values that do not depend on any input; hidden holds
	// the nodes that are not layers (see findConstants).
	consts map[string]bool
	hidden map[*graph.Node]bool
	read   map[string]bool
}

func (a *analysis) declaredShapes() {
	for _, n := range a.g.Nodes {
		if t, _ := n.AttrTensor("value"); t != nil && n.Op == "Constant" && len(n.Outputs) == 1 {
			a.shapes[n.Outputs[0]], a.dtypes[n.Outputs[0]] = t.Shape, t.DType
		}
	}
	for _, name := range allOutputs(a.g) {
		if _, ok := a.shapes[name]; ok {
			continue
		}
		if t, ok := a.g.TypeOf(name); ok {
			if s, ok := t.Static(); ok {
				a.shapes[name] = s
			}
			a.dtypes[name] = t.DType
		}
	}
}

// findConstants finds the values that do not depend on any input, and
// the nodes that are not layers: those computing constants, and those
// computing shapes (Shape, Size, and the index arithmetic on their
// results that feeds a Reshape).
func (a *analysis) findConstants(order []*graph.Node) {
	a.consts, a.hidden, a.read = map[string]bool{}, map[*graph.Node]bool{}, map[string]bool{}
	for name := range a.g.Initializers {
		if a.g.Input(name) == nil {
			a.consts[name] = true
		}
	}
	shapes := map[string]bool{} // values computed from shapes and constants
	for _, n := range order {
		allConst, allShape := true, true
		for _, in := range n.Inputs {
			if in == "" {
				continue
			}
			a.read[in] = true
			if !a.consts[in] {
				allConst = false
				allShape = allShape && shapes[in]
			}
		}
		for _, at := range n.Attrs {
			if len(at.Subgraphs()) > 0 {
				allConst, allShape = false, false // control flow: a layer
			}
		}
		switch {
		case allConst:
			a.hidden[n] = true
			for _, o := range n.Outputs {
				a.consts[o] = o != ""
			}
		case allShape || n.Op == "Shape" || n.Op == "Size":
			a.hidden[n] = true
			for _, o := range n.Outputs {
				shapes[o] = o != ""
			}
		}
	}
}

// isParam says whether a constant holds learned numbers rather than shapes,
// axes or indices.
func isParam(t *tensor.Tensor) bool {
	switch t.DType {
	case tensor.Float32, tensor.Float64, tensor.Float16, tensor.BFloat16:
		return true
	}
	return false
}

// groups splits the non-constant nodes into layers: consecutive nodes that
// came from the same source layer (a Caffe layer translated into several
// nodes) or share a name form one layer.
func (a *analysis) groups(order []*graph.Node) [][]*graph.Node {
	var out [][]*graph.Node
	for _, n := range order {
		if a.hidden[n] {
			continue
		}
		if k := len(out); k > 0 {
			prev := out[k-1][len(out[k-1])-1]
			if (n.Source != "" && n.Source == prev.Source) || (n.Name != "" && n.Name == prev.Name) {
				out[k-1] = append(out[k-1], n)
				continue
			}
		}
		out = append(out, []*graph.Node{n})
	}
	return out
}

// volume returns a value's activation volume, reading rank-4 values in
// their layout (NCHW unless they came from an NHWC input unchanged).
func (a *analysis) volume(name string) *Volume {
	s, ok := a.shapes[name]
	if !ok {
		return nil
	}
	switch len(s) {
	case 4:
		if a.layout[name] == imageio.NHWC {
			return &Volume{W: s[2], H: s[1], D: s[3]}
		}
		return &Volume{W: s[3], H: s[2], D: s[1]}
	case 3:
		return &Volume{W: s[2], H: 1, D: s[1]}
	case 2:
		return &Volume{W: 1, H: 1, D: s[1]}
	}
	return nil
}
