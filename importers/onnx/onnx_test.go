package onnx

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"stride/graph"
	"stride/proto/onnxpb"
	"stride/tensor"
)

// tinyModel builds y = Relu(x + w) with w stored as given.
func tinyModel(w *onnxpb.TensorProto, opset int64) *onnxpb.ModelProto {
	f := &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
		ElemType: 1,
		Shape: &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{
			{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}},
			{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 3}},
		}},
	}}}
	return &onnxpb.ModelProto{
		IrVersion:   8,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: opset}},
		Graph: &onnxpb.GraphProto{
			Name:        "tiny",
			Initializer: []*onnxpb.TensorProto{w},
			Input:       []*onnxpb.ValueInfoProto{{Name: "x", Type: f}},
			Output:      []*onnxpb.ValueInfoProto{{Name: "y", Type: f}},
			Node: []*onnxpb.NodeProto{
				{Name: "add", OpType: "Add", Input: []string{"x", "w"}, Output: []string{"s"}},
				{Name: "relu", OpType: "Relu", Input: []string{"s"}, Output: []string{"y"}},
			},
		},
	}
}

func rawW() *onnxpb.TensorProto {
	tp, _ := EncodeTensor("w", tensor.From([]int{3}, []float32{1, -2, 3}))
	return tp
}

func mustMarshal(t testing.TB, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeTiny(t *testing.T) {
	m, err := Decode(mustMarshal(t, tinyModel(rawW(), 13)))
	if err != nil {
		t.Fatal(err)
	}
	g := m.Graph
	if len(g.Nodes) != 2 || g.Inputs[0].Type.String() != "float32[N,3]" {
		t.Fatalf("graph %v %v", len(g.Nodes), g.Inputs[0].Type)
	}
	if got := g.Initializers["w"].F32(); got[1] != -2 {
		t.Fatal(got)
	}
	// Round trip through the exporter.
	data, err := Encode(g)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Graph.Nodes[1].Op != "Relu" || m2.Graph.Opset() != 13 {
		t.Fatal("round trip lost structure")
	}
}

func TestTypedFields(t *testing.T) {
	w := &onnxpb.TensorProto{Name: "w", DataType: 1, Dims: []int64{3}, FloatData: []float32{4, 5, 6}}
	m, err := Decode(mustMarshal(t, tinyModel(w, 13)))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Graph.Initializers["w"].F32(); got[2] != 6 {
		t.Fatal(got)
	}
	for _, c := range []struct {
		dt   int32
		set  func(tp *onnxpb.TensorProto)
		want string
	}{
		{7, func(tp *onnxpb.TensorProto) { tp.Int64Data = []int64{1, 2, 3} }, "[1 2 3]"},
		{10, func(tp *onnxpb.TensorProto) { tp.Int32Data = []int32{0x3c00, 0x4000, 0xc000} }, "[1 2 -2]"},
		{9, func(tp *onnxpb.TensorProto) { tp.Int32Data = []int32{1, 0, 1} }, "[1 0 1]"},
		{11, func(tp *onnxpb.TensorProto) { tp.DoubleData = []float64{0.5, 1, 2} }, "[0.5 1 2]"},
		{12, func(tp *onnxpb.TensorProto) { tp.Uint64Data = []uint64{7, 8, 9} }, "[7 8 9]"},
	} {
		tp := &onnxpb.TensorProto{DataType: c.dt, Dims: []int64{3}}
		c.set(tp)
		got, err := DecodeTensor(tp)
		if err != nil {
			t.Fatal(err)
		}
		if s := got.String(); !strings.HasSuffix(s, c.want) {
			t.Errorf("type %d: %s, want %s", c.dt, s, c.want)
		}
	}
}

func TestBadModels(t *testing.T) {
	good := mustMarshal(t, tinyModel(rawW(), 13))
	short := &onnxpb.TensorProto{Name: "w", DataType: 1, Dims: []int64{3}, RawData: []byte{1, 2, 3, 4}}
	huge := &onnxpb.TensorProto{Name: "w", DataType: 1, Dims: []int64{1 << 30, 1 << 30}, RawData: []byte{}}
	neg := &onnxpb.TensorProto{Name: "w", DataType: 1, Dims: []int64{-3}}
	cyc := tinyModel(rawW(), 13)
	cyc.Graph.Node[0].Input[0] = "y"
	missing := tinyModel(rawW(), 13)
	missing.Graph.Node[1].Input[0] = "nothing"
	cases := map[string]struct {
		data []byte
		want string
	}{
		"empty":         {nil, "empty model"},
		"truncated":     {good[:len(good)-7], "protobuf"},
		"garbage":       {[]byte("this is not a model at all"), "not a valid ONNX model"},
		"raw length":    {mustMarshal(t, tinyModel(short, 13)), "raw data holds 4 bytes"},
		"huge dims":     {mustMarshal(t, tinyModel(huge, 13)), "too large"},
		"negative dims": {mustMarshal(t, tinyModel(neg, 13)), "invalid dimension -3"},
		"opset":         {mustMarshal(t, tinyModel(rawW(), 99)), "unsupported ONNX opset 99"},
		"cycle":         {mustMarshal(t, cyc), "cycle"},
		"missing input": {mustMarshal(t, missing), `input "nothing" is not defined`},
	}
	for name, c := range cases {
		_, err := Decode(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want error containing %q", name, err, c.want)
		}
	}
}

func externalW(location string, offset int) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{
		Name: "w", DataType: 1, Dims: []int64{3},
		DataLocation: onnxpb.TensorProto_EXTERNAL,
		ExternalData: []*onnxpb.StringStringEntryProto{
			{Key: "location", Value: location},
			{Key: "offset", Value: strconv.Itoa(offset)},
		},
	}
}

func TestExternalData(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "model")
	os.Mkdir(dir, 0o755)
	raw := rawW().RawData
	os.WriteFile(filepath.Join(dir, "weights.bin"), append([]byte{0, 0, 0, 0}, raw...), 0o644)
	os.WriteFile(filepath.Join(root, "secret.bin"), raw, 0o644)
	os.Symlink(filepath.Join(root, "secret.bin"), filepath.Join(dir, "link.bin"))
	write := func(w *onnxpb.TensorProto) string {
		p := filepath.Join(dir, "m.onnx")
		os.WriteFile(p, mustMarshal(t, tinyModel(w, 13)), 0o644)
		return p
	}
	m, err := Load(write(externalW("weights.bin", 4)))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Graph.Initializers["w"].F32(); got[2] != 3 {
		t.Fatal(got)
	}
	for loc, want := range map[string]string{
		"../secret.bin":                   "escapes the model's folder",
		filepath.Join(root, "secret.bin"): "must be a relative path",
		"link.bin":                        "resolves outside the model's folder",
		"sub/../../secret.bin":            "escapes",
		"missing.bin":                     "no such file",
	} {
		_, err := Load(write(externalW(loc, 0)))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("location %q: got %v, want %q", loc, err, want)
		}
	}
	if _, err := Load(write(externalW("weights.bin", 8))); err == nil || !strings.Contains(err.Error(), "past the end") {
		t.Errorf("offset past end: %v", err)
	}
	if _, err := Decode(mustMarshal(t, tinyModel(externalW("weights.bin", 0), 13))); err == nil {
		t.Error("external data accepted without a folder")
	}
}

func TestOpsetAdapters(t *testing.T) {
	// ReduceSum at opset 11 takes axes as an attribute; the graph must carry
	// it as input 1.
	n := &graph.Node{Op: "ReduceSum", Inputs: []string{"x"}, Outputs: []string{"y"}}
	n.SetAttr("axes", graph.IntsAttr(1))
	c := &converter{opsets: map[string]int64{"": 11}}
	g := graph.New("g")
	nodes, err := c.adapt(n, g)
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 1 || len(nodes[0].Inputs) != 2 || n.Has("axes") {
		t.Fatalf("axes not moved: %+v", nodes[0])
	}
	if axes := g.Initializers[nodes[0].Inputs[1]].I64(); axes[0] != 1 {
		t.Fatal(axes)
	}
	// Softmax-11 on a rank-4 input at axis 1 becomes Flatten/Softmax/Reshape.
	s := &graph.Node{Op: "Softmax", Inputs: []string{"x"}, Outputs: []string{"y"}}
	g.Inputs = []*graph.Value{{Name: "x", Type: graph.TensorType(tensor.Float32, 2, 3, 4, 5)}}
	nodes, err = c.adapt(s, g)
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 4 || nodes[0].Op != "Flatten" || nodes[3].Op != "Reshape" || nodes[3].Outputs[0] != "y" {
		t.Fatalf("softmax rewrite: %v", nodes)
	}
	// Upsample becomes Resize with asymmetric/floor semantics.
	u := &graph.Node{Op: "Upsample", Inputs: []string{"x", "sc"}, Outputs: []string{"y"}}
	c.opsets[""] = 9
	nodes, _ = c.adapt(u, g)
	if nodes[0].Op != "Resize" || nodes[0].Inputs[2] != "sc" {
		t.Fatalf("upsample: %+v", nodes[0])
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(mustMarshal(f, tinyModel(rawW(), 13)))
	f.Add(mustMarshal(f, tinyModel(&onnxpb.TensorProto{Name: "w", DataType: 7, Dims: []int64{3}, Int64Data: []int64{1, 2, 3}}, 7)))
	sub := tinyModel(rawW(), 13)
	body := proto.Clone(sub.Graph).(*onnxpb.GraphProto)
	sub.Graph.Node = append(sub.Graph.Node, &onnxpb.NodeProto{OpType: "If", Input: []string{"x"}, Output: []string{"z"},
		Attribute: []*onnxpb.AttributeProto{{Name: "then_branch", Type: onnxpb.AttributeProto_GRAPH, G: body}}})
	f.Add(mustMarshal(f, sub))
	f.Add([]byte{0x3a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			return
		}
		// Whatever decodes must also encode.
		if _, err := Encode(m.Graph); err != nil {
			t.Skip() // some decodable graphs use kinds we cannot write back; not a crash
		}
	})
}
