package caffe

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"stride/graph"
	"stride/proto/caffepb"
	"stride/tensor"
)

// builder translates the layers of one net into a graph. Values are created
// under provisional ids ("$12") and named once the whole net is known,
// because the name of a blob's value depends on whether a later in-place
// layer overwrites it.
type builder struct {
	src       *netSource
	opts      Options
	g         *graph.Graph
	net       *Net
	blobs     map[string]*blobState
	blobOrder []string
	vals      map[string]*valueRec
	valOrder  []string
	inits     map[string]*tensor.Tensor // by value id
	inputs    []string                  // value ids of graph inputs
	silenced  map[string]bool           // value ids read by Silence layers
	dropped   map[string]*Layer         // blob -> dropped layer that would have produced it
	excluded  map[string]*Layer         // blob -> layer excluded by the phase rules that would produce it
	nodeNames map[string]bool
	// shapesUsed records the Options.InputShapes entries that named an input.
	shapesUsed map[string]bool

	weights     map[string]*caffepb.LayerParameter // caffemodel layers by name
	weightsUsed map[string]bool
	shared      map[string]*Param // by ParamSpec name
	nParams     int64
	maxParams   int64
}

// blobState follows one Caffe blob: every value written to it, in order,
// and the layer that wrote each.
type blobState struct {
	versions []string
	writers  []*Layer
}

func (s *blobState) current() string { return s.versions[len(s.versions)-1] }

type valueRec struct {
	want   string // preferred final name
	dtype  tensor.DType
	shape  []int // nil when not tracked
	blob   string
	pinned bool   // a graph input: keeps its blob name
	from   *Layer // for graph inputs: the layer declaring it
}

func newBuilder(src *netSource, weights *caffepb.NetParameter, opts Options) *builder {
	b := &builder{
		src: src, opts: opts,
		blobs: map[string]*blobState{}, vals: map[string]*valueRec{}, inits: map[string]*tensor.Tensor{},
		silenced: map[string]bool{}, dropped: map[string]*Layer{}, excluded: map[string]*Layer{}, nodeNames: map[string]bool{}, shapesUsed: map[string]bool{},
		weightsUsed: map[string]bool{}, shared: map[string]*Param{},
		maxParams: opts.MaxParams,
	}
	if b.maxParams <= 0 {
		b.maxParams = DefaultMaxParams
	}
	if weights != nil {
		b.weights = map[string]*caffepb.LayerParameter{}
		for _, lp := range weights.Layer {
			if len(lp.Blobs) > 0 {
				b.weights[lp.GetName()] = lp
			}
		}
	}
	return b
}

func (b *builder) newValue(want string, dt tensor.DType, shape []int) string {
	id := fmt.Sprintf("$%d", len(b.valOrder))
	b.vals[id] = &valueRec{want: want, dtype: dt, shape: shape}
	b.valOrder = append(b.valOrder, id)
	return id
}

func (b *builder) build() error {
	net := b.src.net
	name := net.GetName()
	if name == "" {
		name = strings.TrimSuffix(filepathBase(b.src.file), ".prototxt")
	}
	b.net = &Net{Name: net.GetName(), Path: b.src.file, Phase: b.opts.Phase, Proto: net}
	b.g = graph.New(name)
	b.g.Opsets[""] = 13
	b.g.Meta = graph.Meta{
		Producer: "stride",
		Doc:      fmt.Sprintf("Converted from the Caffe net %q (%s phase).", name, b.opts.Phase),
		Props:    map[string]string{"caffe.net": name, "caffe.phase": b.opts.Phase.String()},
	}
	if err := b.legacyInputs(); err != nil {
		return err
	}
	var excluded []string
	for i, lp := range net.Layer {
		if !includeLayer(lp, b.opts) {
			excluded = append(excluded, lp.GetName())
			for _, t := range lp.Top {
				b.excluded[t] = &Layer{Name: lp.GetName(), Type: lp.GetType(), Line: b.src.lines[i]}
			}
			continue
		}
		if err := b.layer(i, lp); err != nil {
			return err
		}
	}
	var unknownShapes []string
	for name := range b.opts.InputShapes {
		if !b.shapesUsed[name] {
			unknownShapes = append(unknownShapes, name)
		}
	}
	if len(unknownShapes) > 0 {
		sort.Strings(unknownShapes)
		var inputs []string
		for _, id := range b.inputs {
			inputs = append(inputs, b.vals[id].want)
		}
		return fmt.Errorf("%s: input shape given for %s, which the net does not take as input (its inputs: %s)", b.src.file, strings.Join(unknownShapes, ", "), strings.Join(inputs, ", "))
	}
	if len(excluded) > 0 {
		b.notef("%d layer(s) excluded in the %s phase by their include/exclude rules: %s", len(excluded), b.opts.Phase, joinLimited(excluded, 8))
	}
	if b.weights != nil {
		var unused []string
		for _, lp := range b.weightsLayers() {
			if !b.weightsUsed[lp] {
				unused = append(unused, lp)
			}
		}
		if len(unused) > 0 {
			b.notef("the caffemodel has weights for %d layer(s) not in the net, ignored: %s", len(unused), joinLimited(unused, 8))
		}
	}
	return b.finish()
}

func (b *builder) weightsLayers() []string {
	names := make([]string, 0, len(b.weights))
	for n := range b.weights {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (b *builder) notef(format string, args ...any) {
	b.net.Notes = append(b.net.Notes, fmt.Sprintf(format, args...))
}

func joinLimited(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, ", ")
	}
	return strings.Join(s[:n], ", ") + fmt.Sprintf(", ... (%d more)", len(s)-n)
}

func filepathBase(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// legacyInputs declares the net-level inputs of older nets (input: plus
// input_shape or input_dim), as Caffe's implicit Input layer would.
func (b *builder) legacyInputs() error {
	net := b.src.net
	if len(net.Input) == 0 {
		if len(net.InputShape) > 0 || len(net.InputDim) > 0 {
			return fmt.Errorf("%s: input_shape/input_dim given without input names", b.src.file)
		}
		return nil
	}
	L := &Layer{Name: "input", Type: "Input", Tops: net.Input, Note: "legacy net-level input declaration"}
	c := &lctx{b: b, L: L, lp: &caffepb.LayerParameter{Name: &L.Name, Type: &L.Type, Top: net.Input}}
	c.tops = make([]string, len(net.Input))
	c.topShapes = make([][]int, len(net.Input))
	for i, name := range net.Input {
		var shape []int
		switch {
		case len(net.InputShape) > 0:
			if len(net.InputShape) != len(net.Input) {
				return fmt.Errorf("%s: %d inputs but %d input_shape entries (one per input is needed)", b.src.file, len(net.Input), len(net.InputShape))
			}
			shape = int64sToInts(net.InputShape[i].Dim)
		case len(net.InputDim) > 0:
			if len(net.InputDim) != 4*len(net.Input) {
				return fmt.Errorf("%s: %d inputs but %d input_dim values (four per input are needed)", b.src.file, len(net.Input), len(net.InputDim))
			}
			for _, d := range net.InputDim[4*i : 4*i+4] {
				shape = append(shape, int(d))
			}
		}
		if err := c.input(i, shape); err != nil {
			return fmt.Errorf("%s: input %q: %w", b.src.file, name, err)
		}
	}
	return b.commit(c)
}

// layer translates one layer through the table.
func (b *builder) layer(i int, lp *caffepb.LayerParameter) error {
	L := &Layer{
		Name: lp.GetName(), Type: lp.GetType(), Line: b.src.lines[i],
		Bottoms: lp.Bottom, Tops: lp.Top, Proto: lp,
	}
	where := func() string {
		if L.Line > 0 {
			return fmt.Sprintf("%s: layer %q (type %s, line %d)", b.src.file, L.Name, L.Type, L.Line)
		}
		return fmt.Sprintf("%s: layer %q (type %s)", b.src.file, L.Name, L.Type)
	}
	def, ok := layerTable[L.Type]
	if !ok {
		return &UnsupportedLayerError{File: b.src.file, Layer: L.Name, Type: L.Type, Line: L.Line}
	}
	if err := b.src.unknown[i]; err != nil {
		return err
	}
	if L.Name == "" {
		L.Name = fmt.Sprintf("%s_%d", strings.ToLower(L.Type), i)
	}
	c := &lctx{b: b, lp: lp, L: L}
	for _, name := range lp.Bottom {
		bs := b.blobs[name]
		if bs == nil {
			if d := b.dropped[name]; d != nil {
				return fmt.Errorf("%s: bottom blob %q comes from %s, which is not part of the inference graph (%s)", where(), name, d.describe(), d.Note)
			}
			if x := b.excluded[name]; x != nil {
				return fmt.Errorf("%s: bottom blob %q is produced only by %s, which the include/exclude rules leave out in the %s phase (stages %v)", where(), name, x.describe(), b.opts.Phase, b.opts.Stages)
			}
			return fmt.Errorf("%s: bottom blob %q is not produced by any earlier layer (nor declared as an input)", where(), name)
		}
		id := bs.current()
		v := b.vals[id]
		if v.shape == nil {
			from := "its producer"
			if v.from != nil {
				from = v.from.describe()
			}
			return fmt.Errorf("%s: the shape of bottom blob %q is unknown: %s does not give it (data layers read it from their data source); give it with the input shapes option (e.g. --input-shape %s=N,C,H,W)", where(), name, from, name)
		}
		c.bottoms = append(c.bottoms, id)
		c.shapes = append(c.shapes, v.shape)
	}
	seen := map[string]bool{}
	for j, name := range lp.Top {
		if seen[name] {
			return fmt.Errorf("%s: top blob %q is listed twice", where(), name)
		}
		seen[name] = true
		if bs := b.blobs[name]; bs != nil {
			inPlace := j < len(lp.Bottom) && lp.Bottom[j] == name
			if !inPlace {
				return fmt.Errorf("%s: top blob %q is already produced by %s; only an in-place layer (top equal to the bottom at the same position) may write a blob again", where(), name, bs.writers[len(bs.writers)-1].describe())
			}
		}
	}
	c.tops = make([]string, len(lp.Top))
	c.topShapes = make([][]int, len(lp.Top))
	if err := def(c); err != nil {
		return fmt.Errorf("%s: %w", where(), err)
	}
	if L.Dropped {
		for _, t := range lp.Top {
			b.dropped[t] = L
		}
		b.net.Layers = append(b.net.Layers, L)
		return nil
	}
	if err := b.commit(c); err != nil {
		return fmt.Errorf("%s: %w", where(), err)
	}
	return nil
}

// UnsupportedLayerError is returned for a layer type Stride does not
// translate (Python layers, other forks' layers such as ROIPooling or
// PriorBox, ...).
type UnsupportedLayerError struct {
	File, Layer, Type string
	Line              int
}

func (e *UnsupportedLayerError) Error() string {
	pos := ""
	if e.Line > 0 {
		pos = fmt.Sprintf(", line %d", e.Line)
	}
	return fmt.Sprintf("%s: layer %q (type %s%s): layer type %q is not supported", e.File, e.Layer, e.Type, pos, e.Type)
}

// commit records a translated layer: its tops become the blobs' current
// values and its nodes are named.
func (b *builder) commit(c *lctx) error {
	L := c.L
	for j, name := range c.lp.Top {
		id := c.tops[j]
		if id == "" {
			return fmt.Errorf("internal error: no value for top %q", name)
		}
		v := b.vals[id]
		if v.shape != nil {
			if _, err := tensor.NumElements(v.shape); err != nil {
				return fmt.Errorf("top %q: %w", name, err)
			}
		}
		if v.blob != "" {
			bs := b.blobs[name]
			if v.blob == name && bs != nil && bs.current() == id {
				// An in-place layer that leaves the blob as it is.
				L.TopShapes = append(L.TopShapes, v.shape)
				continue
			}
			// The value already belongs to another blob: copy it.
			id = c.emit("Identity", []string{id}, v.shape, nil)
			v = b.vals[id]
		}
		bs := b.blobs[name]
		if bs == nil {
			bs = &blobState{}
			b.blobs[name] = bs
			b.blobOrder = append(b.blobOrder, name)
		} else if prev := b.vals[bs.current()]; !prev.pinned {
			prev.want = name + "/pre_" + L.Name
		}
		bs.versions = append(bs.versions, id)
		bs.writers = append(bs.writers, L)
		v.blob = name
		if !v.pinned {
			v.want = name
		}
		L.TopShapes = append(L.TopShapes, v.shape)
	}
	src := L.Source()
	for i, n := range c.nodes {
		n.Source = src
		want := L.Name
		if i != len(c.nodes)-1 {
			want = L.Name + "/" + strings.ToLower(n.Op)
		}
		n.Name = uniqueName(b.nodeNames, want)
		L.Nodes = append(L.Nodes, n.Name)
	}
	b.g.Nodes = append(b.g.Nodes, c.nodes...)
	b.net.Layers = append(b.net.Layers, L)
	return nil
}

func uniqueName(used map[string]bool, want string) string {
	name := want
	for k := 1; used[name]; k++ {
		name = fmt.Sprintf("%s_%d", want, k)
	}
	used[name] = true
	return name
}

// finish picks the graph's outputs (blobs no layer reads after their last
// write, as in Caffe), names every value and fills in the graph.
func (b *builder) finish() error {
	consumed := map[string]bool{}
	for _, n := range b.g.Nodes {
		for _, in := range n.Inputs {
			consumed[in] = true
		}
	}
	for id := range b.silenced {
		consumed[id] = true
	}
	var outputs []string
	for _, name := range b.blobOrder {
		id := b.blobs[name].current()
		if !b.vals[id].pinned && !consumed[id] {
			outputs = append(outputs, id)
		}
	}
	if len(outputs) == 0 {
		return fmt.Errorf("%s: the net computes nothing: every blob written by a layer is read by a later one, or no layer writes any", b.src.file)
	}
	var inputs []string
	for _, id := range b.inputs {
		if consumed[id] {
			inputs = append(inputs, id)
		} else {
			b.notef("input %q is not used by the inference graph and was left out", b.vals[id].want)
		}
	}

	final := map[string]string{}
	used := map[string]bool{}
	for _, id := range inputs {
		final[id] = uniqueName(used, b.vals[id].want)
	}
	for _, name := range b.blobOrder {
		id := b.blobs[name].current()
		if _, done := final[id]; !done {
			final[id] = uniqueName(used, name)
		}
	}
	for _, id := range b.valOrder {
		if _, done := final[id]; !done {
			final[id] = uniqueName(used, b.vals[id].want)
		}
	}
	rename := func(id string) string {
		if id == "" {
			return ""
		}
		return final[id]
	}
	g := b.g
	for _, n := range g.Nodes {
		for i, in := range n.Inputs {
			n.Inputs[i] = rename(in)
		}
		for i, o := range n.Outputs {
			n.Outputs[i] = rename(o)
		}
	}
	for id, t := range b.inits {
		g.Initializers[final[id]] = t
	}
	typeOf := func(id string) graph.Type {
		v := b.vals[id]
		if v.shape == nil {
			return graph.Type{DType: v.dtype}
		}
		return graph.TensorType(v.dtype, v.shape...)
	}
	isIO := map[string]bool{}
	for _, id := range inputs {
		g.Inputs = append(g.Inputs, &graph.Value{Name: final[id], Type: typeOf(id)})
		b.net.Inputs = append(b.net.Inputs, final[id])
		isIO[id] = true
	}
	for _, id := range outputs {
		g.Outputs = append(g.Outputs, &graph.Value{Name: final[id], Type: typeOf(id)})
		b.net.Outputs = append(b.net.Outputs, final[id])
		isIO[id] = true
	}
	for _, id := range b.valOrder {
		if _, isInit := b.inits[id]; isInit || isIO[id] || b.vals[id].shape == nil {
			continue
		}
		g.ValueInfo[final[id]] = &graph.Value{Name: final[id], Type: typeOf(id)}
	}
	for _, L := range b.net.Layers {
		for _, p := range L.Params {
			if p.valueID != "" {
				p.Value = final[p.valueID]
			}
		}
	}
	if err := g.Validate(nil); err != nil {
		return fmt.Errorf("%s: internal error: the translated graph is invalid: %w", b.src.file, err)
	}
	b.net.Graph = g
	return nil
}

// lctx is what a layer's translation function works with: the layer, its
// bottoms' values and shapes, and helpers that add nodes, constants and
// parameters to the graph.
type lctx struct {
	b         *builder
	lp        *caffepb.LayerParameter
	L         *Layer
	bottoms   []string // value ids
	shapes    [][]int
	tops      []string // value ids, set by the translation
	topShapes [][]int
	nodes     []*graph.Node
}

// attrs is a node's attribute list.
type attrs = map[string]*graph.Attr

func (c *lctx) errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// needBottoms checks the number of bottoms (max < 0: no upper bound).
func (c *lctx) needBottoms(min, max int) error {
	n := len(c.bottoms)
	switch {
	case n < min && min == max:
		return c.errorf("needs %d bottom blob(s), has %d", min, n)
	case n < min:
		return c.errorf("needs at least %d bottom blob(s), has %d", min, n)
	case max >= 0 && n > max:
		return c.errorf("takes at most %d bottom blob(s), has %d", max, n)
	}
	return nil
}

// needTops checks the number of tops (max < 0: no upper bound).
func (c *lctx) needTops(min, max int) error {
	n := len(c.tops)
	switch {
	case n < min && min == max:
		return c.errorf("needs %d top blob(s), has %d", min, n)
	case n < min:
		return c.errorf("needs at least %d top blob(s), has %d", min, n)
	case max >= 0 && n > max:
		return c.errorf("takes at most %d top blob(s), has %d", max, n)
	}
	return nil
}

// io checks for the usual one bottom, one top.
func (c *lctx) io() error {
	if err := c.needBottoms(1, 1); err != nil {
		return err
	}
	return c.needTops(1, 1)
}

// emitT adds a node with one output of the given type and returns the
// output's value id.
func (c *lctx) emitT(op string, inputs []string, dt tensor.DType, shape []int, a attrs) string {
	out := c.b.newValue(c.L.Name+"/"+strings.ToLower(op), dt, shape)
	c.nodes = append(c.nodes, &graph.Node{Op: op, Inputs: inputs, Outputs: []string{out}, Attrs: a})
	return out
}

// emit adds a node with one float32 output.
func (c *lctx) emit(op string, inputs []string, shape []int, a attrs) string {
	return c.emitT(op, inputs, tensor.Float32, shape, a)
}

// emitN adds a node with several float32 outputs of the given shapes.
func (c *lctx) emitN(op string, inputs []string, shapes [][]int, a attrs) []string {
	outs := make([]string, len(shapes))
	for i, s := range shapes {
		outs[i] = c.b.newValue(fmt.Sprintf("%s/%s_%d", c.L.Name, strings.ToLower(op), i), tensor.Float32, s)
	}
	c.nodes = append(c.nodes, &graph.Node{Op: op, Inputs: inputs, Outputs: outs, Attrs: a})
	return outs
}

// setTop sets top i to a value.
func (c *lctx) setTop(i int, id string, shape []int) {
	c.tops[i] = id
	c.topShapes[i] = shape
	if v := c.b.vals[id]; v.shape == nil {
		v.shape = shape
	}
}

// input declares top i as a graph input of the given shape, which
// Options.InputShapes may override. A nil shape is unknown (data layers
// reading a database): a layer reading the blob then fails, asking for it.
func (c *lctx) input(i int, shape []int) error {
	name := c.lp.Top[i]
	if s, ok := c.b.opts.InputShapes[name]; ok {
		shape = s
		c.b.shapesUsed[name] = true
	}
	if shape != nil {
		if err := checkDims(shape); err != nil {
			return c.errorf("input %q: %w", name, err)
		}
		shape = append([]int{}, shape...)
	}
	id := c.b.newValue(name, tensor.Float32, shape)
	c.b.vals[id].pinned = true
	c.b.vals[id].from = c.L
	c.b.inputs = append(c.b.inputs, id)
	c.setTop(i, id, c.b.vals[id].shape)
	return nil
}

// checkDims rejects zero, negative and huge shapes.
func checkDims(shape []int) error {
	for _, d := range shape {
		if d <= 0 {
			return fmt.Errorf("shape %v has a dimension that is not positive", shape)
		}
	}
	if _, err := tensor.NumElements(shape); err != nil {
		return err
	}
	return nil
}

// constTensor adds an initializer and returns its value id.
func (c *lctx) constTensor(suffix string, t *tensor.Tensor) string {
	id := c.b.newValue(c.L.Name+"/"+suffix, t.DType, append([]int{}, t.Shape...))
	c.b.inits[id] = t
	return id
}

// constF adds a float32 initializer of the given shape (nil: a scalar).
func (c *lctx) constF(suffix string, shape []int, v ...float32) string {
	return c.constTensor(suffix, tensor.From(shape, v))
}

// constI adds a 1-D int64 initializer.
func (c *lctx) constI(suffix string, v ...int64) string {
	return c.constTensor(suffix, tensor.From([]int{len(v)}, v))
}

// reshape adds a Reshape to a static shape (no-op when shapes agree).
func (c *lctx) reshape(x string, from, to []int) string {
	if tensor.SameShape(from, to) {
		return x
	}
	return c.emit("Reshape", []string{x, c.constI("shape", ints64(to)...)}, to, nil)
}

// drop marks the layer as left out of the inference graph.
func (c *lctx) drop(why string) {
	c.L.Dropped = true
	c.L.Note = why
	c.b.notef("%s dropped: %s", c.L.describe(), why)
}

var errNoShape = errors.New("the bottom's shape is unknown")

func int64sToInts(v []int64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

func ints64(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

func prod(v []int) int {
	p := 1
	for _, x := range v {
		p *= x
	}
	return p
}

// canonAxis maps a possibly negative Caffe axis into [0, rank).
func canonAxis(axis, rank int) (int, error) {
	a := axis
	if a < 0 {
		a += rank
	}
	if a < 0 || a >= rank {
		return 0, fmt.Errorf("axis %d is out of range for a blob with %d axes", axis, rank)
	}
	return a, nil
}
