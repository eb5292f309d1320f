// Package onnx translates ONNX models to and from Stride's op graph. It owns
// the ModelProto <-> graph.Graph mapping, the opset adapters that give every
// op one semantics (the latest), the TensorProto codec, and the safe
// resolution of external tensor data inside the model's folder.
package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"stride/graph"
	"stride/proto/onnxpb"
	"stride/tensor"
)

// MaxModelBytes bounds the size of a model file read into memory.
const MaxModelBytes = 4 << 30

// Model is an imported ONNX model.
type Model struct {
	Graph *graph.Graph
	// Path is the file the model was read from ("" for bytes).
	Path string
}

// Load reads an .onnx file. External tensor data is read from the model's
// folder only.
func Load(path string) (*Model, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a folder, not an .onnx file", path)
	}
	if fi.Size() > MaxModelBytes {
		return nil, fmt.Errorf("%s: file is %d bytes, more than the %d this loader accepts", path, fi.Size(), int64(MaxModelBytes))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := decode(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Path = path
	return m, nil
}

// Decode parses a model from bytes. Models with external data must be
// loaded from a file instead.
func Decode(data []byte) (*Model, error) { return decode(data, "") }

func decode(data []byte, dir string) (*Model, error) {
	if len(data) == 0 {
		return nil, errors.New("empty model file")
	}
	var mp onnxpb.ModelProto
	if err := proto.Unmarshal(data, &mp); err != nil {
		return nil, fmt.Errorf("not a valid ONNX model (protobuf decoding failed: %v)", err)
	}
	if mp.GetGraph() == nil {
		return nil, errors.New("not a valid ONNX model: it has no graph")
	}
	g, err := FromProto(&mp, dir)
	if err != nil {
		return nil, err
	}
	return &Model{Graph: g}, nil
}

// FromProto converts a ModelProto to a graph. dir is the folder external
// data is read from ("" refuses external data).
func FromProto(mp *onnxpb.ModelProto, dir string) (*graph.Graph, error) {
	opsets := map[string]int64{}
	for _, o := range mp.GetOpsetImport() {
		d := o.GetDomain()
		if d == "ai.onnx" {
			d = ""
		}
		opsets[d] = o.GetVersion()
	}
	if len(opsets) == 0 {
		opsets[""] = 1 // IR version 1-2 models have no opset_import
	}
	if v, ok := opsets[""]; ok && (v < 1 || v > MaxOpset) {
		return nil, fmt.Errorf("unsupported ONNX opset %d (this version of Stride reads opsets 1 to %d)", v, MaxOpset)
	}
	c := &converter{ext: externalResolver{dir: dir}, opsets: opsets, funcs: map[string]*onnxpb.FunctionProto{}}
	for _, f := range mp.GetFunctions() {
		c.funcs[f.GetDomain()+"::"+f.GetName()] = f
	}
	g, err := c.graph(mp.GetGraph(), true)
	if err != nil {
		return nil, err
	}
	g.Opsets = opsets
	g.Meta = graph.Meta{
		Producer:        mp.GetProducerName(),
		ProducerVersion: mp.GetProducerVersion(),
		Doc:             mp.GetDocString(),
		Domain:          mp.GetDomain(),
		ModelVersion:    mp.GetModelVersion(),
		IRVersion:       mp.GetIrVersion(),
	}
	if len(mp.GetMetadataProps()) > 0 {
		g.Meta.Props = map[string]string{}
		for _, kv := range mp.GetMetadataProps() {
			g.Meta.Props[kv.GetKey()] = kv.GetValue()
		}
	}
	if err := g.Validate(nil); err != nil {
		return nil, err
	}
	return g, nil
}

// MaxOpset is the newest default-domain opset Stride understands.
const MaxOpset = 21

type converter struct {
	ext    externalResolver
	opsets map[string]int64
	funcs  map[string]*onnxpb.FunctionProto
	uniq   int
	depth  int
}

func (c *converter) fresh(base string) string {
	c.uniq++
	return fmt.Sprintf("%s__stride%d", base, c.uniq)
}

func (c *converter) graph(gp *onnxpb.GraphProto, top bool) (*graph.Graph, error) {
	g := graph.New(gp.GetName())
	g.Meta.Doc = gp.GetDocString()
	for _, tp := range gp.GetInitializer() {
		t, err := decodeTensor(tp, c.ext)
		if err != nil {
			return nil, fmt.Errorf("initializer: %w", err)
		}
		if tp.GetName() == "" {
			return nil, errors.New("initializer without a name")
		}
		g.Initializers[tp.GetName()] = t
	}
	for _, sp := range gp.GetSparseInitializer() {
		t, err := c.sparse(sp)
		if err != nil {
			return nil, fmt.Errorf("sparse initializer: %w", err)
		}
		g.Initializers[sp.GetValues().GetName()] = t
	}
	for _, vi := range gp.GetInput() {
		v, err := valueFromProto(vi)
		if err != nil {
			return nil, err
		}
		// Older exporters list weights as inputs too; an input with an
		// initializer is a constant here.
		if _, isInit := g.Initializers[v.Name]; isInit && top {
			continue
		}
		g.Inputs = append(g.Inputs, v)
	}
	for _, vi := range gp.GetOutput() {
		v, err := valueFromProto(vi)
		if err != nil {
			return nil, err
		}
		g.Outputs = append(g.Outputs, v)
	}
	for _, vi := range gp.GetValueInfo() {
		if v, err := valueFromProto(vi); err == nil {
			g.ValueInfo[v.Name] = v
		}
	}
	for i, np := range gp.GetNode() {
		nodes, err := c.node(np, g)
		if err != nil {
			name := np.GetName()
			if name == "" {
				name = fmt.Sprintf("#%d", i)
			}
			return nil, fmt.Errorf("node %s (%s): %w", name, np.GetOpType(), err)
		}
		g.Nodes = append(g.Nodes, nodes...)
	}
	return g, nil
}

func (c *converter) sparse(sp *onnxpb.SparseTensorProto) (*tensor.Tensor, error) {
	vals, err := decodeTensor(sp.GetValues(), c.ext)
	if err != nil {
		return nil, err
	}
	idx, err := decodeTensor(sp.GetIndices(), c.ext)
	if err != nil {
		return nil, err
	}
	shape := make([]int, len(sp.GetDims()))
	for i, d := range sp.GetDims() {
		shape[i] = int(d)
	}
	out, err := tensor.New(vals.DType, shape...)
	if err != nil {
		return nil, err
	}
	ind, err := idx.Ints()
	if err != nil {
		return nil, err
	}
	nnz := vals.Len()
	strides := tensor.Strides(shape)
	total := out.Len()
	flat := make([]int, nnz)
	switch {
	case len(ind) == nnz: // linearised indices
		for i, v := range ind {
			flat[i] = int(v)
		}
	case len(ind) == nnz*len(shape):
		for i := 0; i < nnz; i++ {
			for d := range shape {
				flat[i] += int(ind[i*len(shape)+d]) * strides[d]
			}
		}
	default:
		return nil, fmt.Errorf("sparse tensor: %d indices for %d values", len(ind), nnz)
	}
	for i, f := range flat {
		if f < 0 || f >= total {
			return nil, fmt.Errorf("sparse tensor: index %d out of range", f)
		}
		tensor.CopyElem(out.Data, f, vals.Data, i)
	}
	return out, nil
}

func valueFromProto(vi *onnxpb.ValueInfoProto) (*graph.Value, error) {
	v := &graph.Value{Name: vi.GetName(), Doc: vi.GetDocString()}
	if v.Name == "" {
		return nil, errors.New("value without a name")
	}
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		if vi.GetType() != nil && vi.GetType().GetValue() != nil {
			return nil, fmt.Errorf("value %q: only tensor values are supported (sequence, map and optional types are not)", v.Name)
		}
		return v, nil
	}
	if tt.GetElemType() != 0 {
		dt, err := DTypeFromONNX(tt.GetElemType())
		if err != nil {
			return nil, fmt.Errorf("value %q: %w", v.Name, err)
		}
		v.Type.DType = dt
	}
	if sp := tt.GetShape(); sp != nil {
		v.Type.Ranked = true
		v.Type.Shape = make([]graph.Dim, len(sp.GetDim()))
		for i, d := range sp.GetDim() {
			switch x := d.GetValue().(type) {
			case *onnxpb.TensorShapeProto_Dimension_DimValue:
				if x.DimValue < 0 {
					v.Type.Shape[i] = graph.Unknown
				} else {
					v.Type.Shape[i] = graph.Dim{Size: x.DimValue}
				}
			case *onnxpb.TensorShapeProto_Dimension_DimParam:
				v.Type.Shape[i] = graph.Sym(x.DimParam)
			default:
				v.Type.Shape[i] = graph.Unknown
			}
		}
	}
	return v, nil
}

func (c *converter) attr(ap *onnxpb.AttributeProto) (*graph.Attr, error) {
	if ap.GetRefAttrName() != "" {
		return nil, fmt.Errorf("attribute %q refers to %q outside a function body", ap.GetName(), ap.GetRefAttrName())
	}
	typ := ap.GetType()
	if typ == onnxpb.AttributeProto_UNDEFINED {
		typ = inferAttrType(ap) // IR version 1 files have no type field
	}
	a := &graph.Attr{}
	switch typ {
	case onnxpb.AttributeProto_FLOAT:
		a.Kind, a.Float = graph.AttrFloat, ap.GetF()
	case onnxpb.AttributeProto_INT:
		a.Kind, a.Int = graph.AttrInt, ap.GetI()
	case onnxpb.AttributeProto_STRING:
		a.Kind, a.String = graph.AttrString, string(ap.GetS())
	case onnxpb.AttributeProto_TENSOR:
		t, err := decodeTensor(ap.GetT(), c.ext)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", ap.GetName(), err)
		}
		a.Kind, a.Tensor = graph.AttrTensor, t
	case onnxpb.AttributeProto_SPARSE_TENSOR:
		t, err := c.sparse(ap.GetSparseTensor())
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", ap.GetName(), err)
		}
		a.Kind, a.Tensor = graph.AttrTensor, t
	case onnxpb.AttributeProto_GRAPH:
		g, err := c.graph(ap.GetG(), false)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", ap.GetName(), err)
		}
		a.Kind, a.Graph = graph.AttrGraph, g
	case onnxpb.AttributeProto_FLOATS:
		a.Kind, a.Floats = graph.AttrFloats, append([]float32{}, ap.GetFloats()...)
	case onnxpb.AttributeProto_INTS:
		a.Kind, a.Ints = graph.AttrInts, append([]int64{}, ap.GetInts()...)
	case onnxpb.AttributeProto_STRINGS:
		a.Kind = graph.AttrStrings
		for _, s := range ap.GetStrings() {
			a.Strings = append(a.Strings, string(s))
		}
	case onnxpb.AttributeProto_TENSORS:
		a.Kind = graph.AttrTensors
		for _, tp := range ap.GetTensors() {
			t, err := decodeTensor(tp, c.ext)
			if err != nil {
				return nil, fmt.Errorf("attribute %q: %w", ap.GetName(), err)
			}
			a.Tensors = append(a.Tensors, t)
		}
	case onnxpb.AttributeProto_GRAPHS:
		a.Kind = graph.AttrGraphs
		for _, gp := range ap.GetGraphs() {
			g, err := c.graph(gp, false)
			if err != nil {
				return nil, fmt.Errorf("attribute %q: %w", ap.GetName(), err)
			}
			a.Graphs = append(a.Graphs, g)
		}
	default:
		return nil, fmt.Errorf("attribute %q has unsupported type %v", ap.GetName(), typ)
	}
	return a, nil
}

func inferAttrType(ap *onnxpb.AttributeProto) onnxpb.AttributeProto_AttributeType {
	switch {
	case len(ap.GetFloats()) > 0:
		return onnxpb.AttributeProto_FLOATS
	case len(ap.GetInts()) > 0:
		return onnxpb.AttributeProto_INTS
	case len(ap.GetStrings()) > 0:
		return onnxpb.AttributeProto_STRINGS
	case ap.GetT() != nil:
		return onnxpb.AttributeProto_TENSOR
	case ap.GetG() != nil:
		return onnxpb.AttributeProto_GRAPH
	case ap.GetS() != nil:
		return onnxpb.AttributeProto_STRING
	case ap.GetF() != 0:
		return onnxpb.AttributeProto_FLOAT
	}
	return onnxpb.AttributeProto_INT
}

// node converts one NodeProto, expanding model-local functions and
// rewriting older opset forms; it may return several nodes.
func (c *converter) node(np *onnxpb.NodeProto, g *graph.Graph) ([]*graph.Node, error) {
	if f, ok := c.funcs[np.GetDomain()+"::"+np.GetOpType()]; ok {
		return c.inline(np, f, g)
	}
	n := &graph.Node{
		Name:    np.GetName(),
		Op:      np.GetOpType(),
		Domain:  np.GetDomain(),
		Inputs:  append([]string{}, np.GetInput()...),
		Outputs: append([]string{}, np.GetOutput()...),
	}
	if n.Domain == "ai.onnx" {
		n.Domain = ""
	}
	if n.Op == "" {
		return nil, errors.New("node has no op_type")
	}
	for _, ap := range np.GetAttribute() {
		a, err := c.attr(ap)
		if err != nil {
			return nil, err
		}
		n.SetAttr(ap.GetName(), a)
	}
	if n.Domain != "" {
		return []*graph.Node{n}, nil
	}
	return c.adapt(n, g)
}
