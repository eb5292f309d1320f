package train

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"stride/graph"
	"stride/importers/caffe"
	"stride/importers/onnx"
	"stride/proto/caffepb"
	"stride/runtime"
	"stride/tensor"
)

// Exporting a trained net: the deploy net (Caffe's inference form of a
// train/test net) is derived from the net definition, imported with the
// trained weights in the TEST phase (BatchNorm folded to its inference
// form, Dropout removed), and written as ONNX through the shared exporter,
// and as a deploy .prototxt plus .caffemodel for Caffe.

// DeployNet derives the deploy net of a train/test net: the TEST-phase
// layers without the data, loss and accuracy layers, an Input layer with
// the data blob's shape (dataShape, batch first), and a Softmax "prob"
// after the scores of each SoftmaxWithLoss (a Sigmoid after those of a
// SigmoidCrossEntropyLoss). It returns the net and its output blobs.
func DeployNet(np *caffepb.NetParameter, dataShape []int) (*caffepb.NetParameter, []string, error) {
	out := &caffepb.NetParameter{Name: np.Name}
	var dataTop, labelTop string
	var outputs []string
	heads := 0
	for _, lp := range np.Layer {
		if !phaseIncludes(lp, caffepb.Phase_TEST) {
			continue
		}
		typ := lp.GetType()
		switch {
		case dataLayerTypes[typ]:
			if dataTop != "" {
				return nil, nil, fmt.Errorf("layer %q: deploy nets with several data layers are not supported", lp.GetName())
			}
			if len(lp.Top) == 0 {
				return nil, nil, fmt.Errorf("layer %q has no top", lp.GetName())
			}
			dataTop = lp.Top[0]
			if len(lp.Top) > 1 {
				labelTop = lp.Top[1]
			}
			dims := make([]int64, len(dataShape))
			for i, d := range dataShape {
				dims[i] = int64(d)
			}
			out.Layer = append(out.Layer, &caffepb.LayerParameter{Name: proto.String(dataTop), Type: proto.String("Input"),
				Top: []string{dataTop}, InputParam: &caffepb.InputParameter{Shape: []*caffepb.BlobShape{{Dim: dims}}}})
		case typ == "Accuracy":
		case typ == "SoftmaxWithLoss" || typ == "SigmoidCrossEntropyLoss":
			if len(lp.Bottom) == 0 {
				return nil, nil, fmt.Errorf("layer %q has no bottom", lp.GetName())
			}
			heads++
			name, act := "prob", "Softmax"
			if typ == "SigmoidCrossEntropyLoss" {
				act = "Sigmoid"
			}
			if heads > 1 {
				name = fmt.Sprintf("prob%d", heads)
			}
			l := &caffepb.LayerParameter{Name: proto.String(name), Type: proto.String(act), Bottom: []string{lp.Bottom[0]}, Top: []string{name}}
			if sp := lp.GetSoftmaxParam(); sp != nil && act == "Softmax" {
				l.SoftmaxParam = proto.Clone(sp).(*caffepb.SoftmaxParameter)
			}
			out.Layer = append(out.Layer, l)
			outputs = append(outputs, name)
		case isLossType(typ):
			if len(lp.Bottom) > 0 {
				outputs = append(outputs, lp.Bottom[0])
			}
		default:
			for _, b := range lp.Bottom {
				if b == labelTop && labelTop != "" {
					return nil, nil, fmt.Errorf("layer %q reads the labels; it cannot be part of a deploy net", lp.GetName())
				}
			}
			c := proto.Clone(lp).(*caffepb.LayerParameter)
			c.Include, c.Exclude = nil, nil
			out.Layer = append(out.Layer, c)
		}
	}
	if dataTop == "" {
		return nil, nil, fmt.Errorf("the net has no data layer in the TEST phase")
	}
	return out, outputs, nil
}

var (
	msgField   = regexp.MustCompile(`(?m)^(\s*\w+):\s+\{`)
	fieldSpace = regexp.MustCompile(`(?m)^(\s*\w+):\s+`)
)

// tidyText writes text-format fields the way Caffe's files do ("layer {",
// "name: ..."), undoing the Go encoder's deliberately varied spacing.
func tidyText(b []byte) []byte {
	b = msgField.ReplaceAll(b, []byte("$1 {"))
	return fieldSpace.ReplaceAll(b, []byte("$1: "))
}

// Exported lists the files Export wrote.
type Exported struct {
	ONNX, Deploy, Weights string
	Inputs, Outputs       []string
	// Dynamic says the ONNX model takes any batch size.
	Dynamic bool
}

// Export writes the trained net: an ONNX model (onnxPath, "" to skip), the
// deploy prototxt and the caffemodel (deployPath and weightsPath, "" to
// skip). Models take the data as the training net's data layer produced
// it (after scale, mean and crop); the ONNX model records that in its
// metadata.
func (s *Session) Export(onnxPath, deployPath, weightsPath string) (*Exported, error) {
	net := s.Trainer.Train
	var shape []int
	for _, d := range net.Data {
		if len(d.Shapes) > 0 {
			shape = append([]int{1}, d.Shapes[0][1:]...)
			break
		}
	}
	if shape == nil {
		return nil, fmt.Errorf("the net has no data layer to take the input shape from")
	}
	deploy, outputs, err := DeployNet(s.NetDef, shape)
	if err != nil {
		return nil, err
	}
	ex := &Exported{ONNX: onnxPath, Deploy: deployPath, Weights: weightsPath, Outputs: outputs}
	raw, err := caffe.EncodeWeights(net.Caffe)
	if err != nil {
		return nil, err
	}
	if deployPath != "" {
		text, err := prototext.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(deploy)
		if err != nil {
			return nil, err
		}
		text = tidyText(text)
		if err := onnx.WriteFileAtomic(deployPath, text); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
	}
	if weightsPath != "" {
		if err := onnx.WriteFileAtomic(weightsPath, raw); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
	}
	if onnxPath == "" {
		return ex, nil
	}
	weights, err := caffe.DecodeWeights(raw)
	if err != nil {
		return nil, err
	}
	cn, err := caffe.ImportProto(deploy, weights, caffe.Options{Phase: caffe.Test})
	if err != nil {
		return nil, fmt.Errorf("export: importing the deploy net: %w", err)
	}
	g := cn.Graph
	g.Meta.Producer = "stride train"
	g.Meta.Doc = fmt.Sprintf("Trained by Stride from the Caffe net %q. Input %q takes %s.", s.NetDef.GetName(), cn.Inputs[0], describeTransform(s.Transform))
	if g.Meta.Props == nil {
		g.Meta.Props = map[string]string{}
	}
	g.Meta.Props["stride.preprocess"] = describeTransform(s.Transform)
	if len(s.classNames()) > 0 {
		g.Meta.Props["stride.classes"] = strings.Join(s.classNames(), ",")
	}
	ex.Inputs = cn.Inputs
	ex.Dynamic = makeBatchDynamic(g)
	if err := onnx.Save(g, onnxPath); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return ex, nil
}

func (s *Session) classNames() []string {
	if s.TrainSet != nil {
		return s.TrainSet.Classes
	}
	return nil
}

// describeTransform says what the data layer did to the pixels.
func describeTransform(tp *caffepb.TransformationParameter) string {
	parts := []string{"pixels (0-255)"}
	if mv := tp.GetMeanValue(); len(mv) > 0 {
		parts = append(parts, fmt.Sprintf("minus the mean %v", mv))
	}
	if tp.GetMeanFile() != "" {
		parts = append(parts, "minus the mean image "+tp.GetMeanFile())
	}
	if sc := tp.GetScale(); sc != 1 {
		parts = append(parts, fmt.Sprintf("times %g", sc))
	}
	if c := tp.GetCropSize(); c > 0 {
		parts = append(parts, fmt.Sprintf("centre-cropped to %dx%d", c, c))
	}
	return strings.Join(parts, ", ")
}

// makeBatchDynamic gives the graph a symbolic batch dim when it computes
// the same for any batch size, checked by running it with batch 2.
func makeBatchDynamic(g *graph.Graph) bool {
	saved := struct {
		in, out []graph.Type
		vi      map[string]*graph.Value
	}{vi: g.ValueInfo}
	for _, v := range g.Inputs {
		saved.in = append(saved.in, v.Type)
	}
	for _, v := range g.Outputs {
		saved.out = append(saved.out, v.Type)
	}
	restore := func() bool {
		for i, v := range g.Inputs {
			v.Type = saved.in[i]
		}
		for i, v := range g.Outputs {
			v.Type = saved.out[i]
		}
		g.ValueInfo = saved.vi
		return false
	}
	sym := func(t graph.Type) graph.Type {
		if !t.Ranked || len(t.Shape) == 0 {
			return t
		}
		s := append([]graph.Dim{graph.Sym("N")}, t.Shape[1:]...)
		return graph.Type{DType: t.DType, Shape: s, Ranked: true}
	}
	for _, v := range g.Inputs {
		v.Type = sym(v.Type)
	}
	for _, v := range g.Outputs {
		v.Type = sym(v.Type)
	}
	g.ValueInfo = map[string]*graph.Value{}
	sess, err := runtime.NewSession(g, runtime.WithThreads(1))
	if err != nil {
		return restore()
	}
	defer sess.Close()
	feeds := map[string]*tensor.Tensor{}
	for i, v := range g.Inputs {
		dims, ok := saved.in[i].Static()
		if !ok || len(dims) == 0 {
			return restore()
		}
		dims = append([]int{2}, dims[1:]...)
		feeds[v.Name] = tensor.Zeros(tensor.Float32, dims...)
	}
	outs, err := sess.Run(context.Background(), feeds)
	if err != nil {
		return restore()
	}
	for _, t := range outs {
		if len(t.Shape) == 0 || t.Shape[0] != 2 {
			return restore()
		}
	}
	return true
}
