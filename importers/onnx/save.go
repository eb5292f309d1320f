package onnx

import (
	"fmt"
	"os"
	"sort"

	"google.golang.org/protobuf/proto"

	"stride/graph"
	"stride/internal/atomicfile"
	"stride/proto/onnxpb"
	"stride/tensor"
)

// IRVersion is the ONNX IR version written by ToProto (IR 8 goes with
// opsets up to 18, which every current runtime reads).
const IRVersion = 8

// ToProto converts a graph to a ModelProto. Graphs built by Stride's own
// importers and trainer use the latest semantics of each op, so the model
// declares the graph's opset (at least 13).
func ToProto(g *graph.Graph) (*onnxpb.ModelProto, error) {
	gp, err := graphToProto(g)
	if err != nil {
		return nil, err
	}
	mp := &onnxpb.ModelProto{
		IrVersion:       IRVersion,
		ProducerName:    g.Meta.Producer,
		ProducerVersion: g.Meta.ProducerVersion,
		Domain:          g.Meta.Domain,
		ModelVersion:    g.Meta.ModelVersion,
		DocString:       g.Meta.Doc,
		Graph:           gp,
	}
	if mp.ProducerName == "" {
		mp.ProducerName = "stride"
	}
	domains := make([]string, 0, len(g.Opsets))
	for d := range g.Opsets {
		domains = append(domains, d)
	}
	sort.Strings(domains)
	if g.Opsets[""] == 0 {
		domains = append([]string{""}, domains...)
	}
	for _, d := range domains {
		v := g.Opsets[d]
		if d == "" && v < 13 {
			v = 13
		}
		if d == "" && v > 18 {
			mp.IrVersion = 9
		}
		mp.OpsetImport = append(mp.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: d, Version: v})
	}
	keys := make([]string, 0, len(g.Meta.Props))
	for k := range g.Meta.Props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		mp.MetadataProps = append(mp.MetadataProps, &onnxpb.StringStringEntryProto{Key: k, Value: g.Meta.Props[k]})
	}
	return mp, nil
}

func graphToProto(g *graph.Graph) (*onnxpb.GraphProto, error) {
	gp := &onnxpb.GraphProto{Name: g.Name, DocString: g.Meta.Doc}
	if gp.Name == "" {
		gp.Name = "main"
	}
	for _, name := range g.SortedInitializerNames() {
		tp, err := EncodeTensor(name, g.Initializers[name])
		if err != nil {
			return nil, err
		}
		gp.Initializer = append(gp.Initializer, tp)
	}
	for _, v := range g.Inputs {
		gp.Input = append(gp.Input, valueToProto(v))
	}
	for _, v := range g.Outputs {
		gp.Output = append(gp.Output, valueToProto(v))
	}
	names := make([]string, 0, len(g.ValueInfo))
	for k := range g.ValueInfo {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		gp.ValueInfo = append(gp.ValueInfo, valueToProto(g.ValueInfo[k]))
	}
	order, err := g.TopoOrder()
	if err != nil {
		return nil, err
	}
	for _, n := range order {
		np := &onnxpb.NodeProto{
			Name:   n.Name,
			OpType: n.Op,
			Domain: n.Domain,
			Input:  append([]string{}, n.Inputs...),
			Output: append([]string{}, n.Outputs...),
		}
		attrNames := make([]string, 0, len(n.Attrs))
		for k := range n.Attrs {
			attrNames = append(attrNames, k)
		}
		sort.Strings(attrNames)
		for _, k := range attrNames {
			ap, err := attrToProto(k, n.Attrs[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", n.Label(), err)
			}
			np.Attribute = append(np.Attribute, ap)
		}
		gp.Node = append(gp.Node, np)
	}
	return gp, nil
}

func valueToProto(v *graph.Value) *onnxpb.ValueInfoProto {
	vi := &onnxpb.ValueInfoProto{Name: v.Name, DocString: v.Doc}
	tt := &onnxpb.TypeProto_Tensor{ElemType: DTypeToONNX(v.Type.DType)}
	if v.Type.Ranked {
		tt.Shape = &onnxpb.TensorShapeProto{}
		for _, d := range v.Type.Shape {
			dim := &onnxpb.TensorShapeProto_Dimension{}
			switch {
			case d.Param != "":
				dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d.Param}
			case d.Size >= 0:
				dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d.Size}
			}
			tt.Shape.Dim = append(tt.Shape.Dim, dim)
		}
	}
	vi.Type = &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: tt}}
	return vi
}

func attrToProto(name string, a *graph.Attr) (*onnxpb.AttributeProto, error) {
	ap := &onnxpb.AttributeProto{Name: name}
	switch a.Kind {
	case graph.AttrFloat:
		ap.Type, ap.F = onnxpb.AttributeProto_FLOAT, a.Float
	case graph.AttrInt:
		ap.Type, ap.I = onnxpb.AttributeProto_INT, a.Int
	case graph.AttrString:
		ap.Type, ap.S = onnxpb.AttributeProto_STRING, []byte(a.String)
	case graph.AttrTensor:
		tp, err := EncodeTensor("", a.Tensor)
		if err != nil {
			return nil, err
		}
		ap.Type, ap.T = onnxpb.AttributeProto_TENSOR, tp
	case graph.AttrGraph:
		gp, err := graphToProto(a.Graph)
		if err != nil {
			return nil, err
		}
		ap.Type, ap.G = onnxpb.AttributeProto_GRAPH, gp
	case graph.AttrFloats:
		ap.Type, ap.Floats = onnxpb.AttributeProto_FLOATS, a.Floats
	case graph.AttrInts:
		ap.Type, ap.Ints = onnxpb.AttributeProto_INTS, a.Ints
	case graph.AttrStrings:
		ap.Type = onnxpb.AttributeProto_STRINGS
		for _, s := range a.Strings {
			ap.Strings = append(ap.Strings, []byte(s))
		}
	case graph.AttrTensors:
		ap.Type = onnxpb.AttributeProto_TENSORS
		for _, t := range a.Tensors {
			tp, err := EncodeTensor("", t)
			if err != nil {
				return nil, err
			}
			ap.Tensors = append(ap.Tensors, tp)
		}
	case graph.AttrGraphs:
		ap.Type = onnxpb.AttributeProto_GRAPHS
		for _, g := range a.Graphs {
			gp, err := graphToProto(g)
			if err != nil {
				return nil, err
			}
			ap.Graphs = append(ap.Graphs, gp)
		}
	default:
		return nil, fmt.Errorf("attribute %q of kind %v cannot be written", name, a.Kind)
	}
	return ap, nil
}

// Encode serialises a graph as ONNX model bytes.
func Encode(g *graph.Graph) ([]byte, error) {
	mp, err := ToProto(g)
	if err != nil {
		return nil, err
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(mp)
}

// Save writes a graph as an .onnx file, atomically: the bytes go to a
// temporary file in the same folder, which is synced and then renamed.
func Save(g *graph.Graph, path string) error {
	data, err := Encode(g)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, data)
}

// WriteFileAtomic writes data to path through a synced temporary file and a
// rename, so readers see the old file or the new one, never a torn one.
func WriteFileAtomic(path string, data []byte) error { return atomicfile.Write(path, data) }

// ReadTensorFile reads a serialized TensorProto (.pb, as in the ONNX test
// data layout) and returns its name and value.
func ReadTensorFile(path string) (string, *tensor.Tensor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	var tp onnxpb.TensorProto
	if err := proto.Unmarshal(data, &tp); err != nil {
		return "", nil, fmt.Errorf("%s: not a TensorProto: %v", path, err)
	}
	t, err := DecodeTensor(&tp)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", path, err)
	}
	return tp.GetName(), t, nil
}

// WriteTensorFile writes a tensor as a serialized TensorProto, atomically.
func WriteTensorFile(path, name string, t *tensor.Tensor) error {
	tp, err := EncodeTensor(name, t)
	if err != nil {
		return err
	}
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(tp)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, data)
}
