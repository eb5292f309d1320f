package caffe

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"stride/proto/caffepb"
)

// UpgradeNet rewrites the legacy V0 and V1 layer forms of a parsed net
// into current layers, in place (ParseNet and ParseSolver do it already).
func UpgradeNet(net *caffepb.NetParameter) error {
	if len(net.Layer) > 0 && len(net.Layers) > 0 {
		return fmt.Errorf("the net mixes current `layer` and legacy `layers` definitions")
	}
	n := len(net.Layer) + len(net.Layers)
	return upgradeNet(&netSource{net: net, lines: make([]int, n), unknown: make([]error, n)})
}

// upgradeNet rewrites the legacy forms of a net in place, as Caffe does when
// it reads one: V0 layers (`layers { layer { type: "conv" } }`) become V1
// layers, V0 padding layers fold into the convolution that reads them, V1
// layers (`layers { type: CONVOLUTION }`) become current layers, and the
// three ParamSpecs old BatchNorm definitions carried are dropped. src.lines
// and src.unknown follow the layers.
func upgradeNet(src *netSource) error {
	net := src.net
	if len(net.Layers) > 0 {
		if hasV0(net) {
			if err := upgradeV0(src); err != nil {
				return err
			}
		}
		layers := make([]*caffepb.LayerParameter, 0, len(net.Layers))
		for i, v1 := range net.Layers {
			lp, err := upgradeV1Layer(v1)
			if err != nil {
				return fmt.Errorf("legacy layer %d (%q)%s: %w", i, v1.GetName(), lineSuffix(src.lines[i]), err)
			}
			layers = append(layers, lp)
		}
		net.Layer, net.Layers = layers, nil
	}
	for _, lp := range net.Layer {
		if lp.GetType() == "BatchNorm" && len(lp.Param) == 3 {
			lp.Param = nil
		}
	}
	return nil
}

func lineSuffix(line int) string {
	if line > 0 {
		return fmt.Sprintf(" (line %d)", line)
	}
	return ""
}

func hasV0(net *caffepb.NetParameter) bool {
	for _, l := range net.Layers {
		if l.Layer != nil {
			return true
		}
	}
	return false
}

// upgradeV0 turns every V0 layer into the V1 form and removes V0 padding
// layers, moving their pad to the convolution reading their output.
func upgradeV0(src *netSource) error {
	net := src.net
	type padding struct {
		bottom string
		pad    uint32
		name   string
	}
	padded := map[string]padding{} // padding layer top -> what it pads
	var layers []*caffepb.V1LayerParameter
	var lines []int
	var unknown []error
	for i, l := range net.Layers {
		v0 := l.Layer
		if v0 == nil {
			layers, lines, unknown = append(layers, l), append(lines, src.lines[i]), append(unknown, src.unknown[i])
			continue
		}
		if v0.GetType() == "padding" {
			if len(l.Bottom) != 1 || len(l.Top) != 1 {
				return fmt.Errorf("V0 padding layer %q%s must have one bottom and one top", v0.GetName(), lineSuffix(src.lines[i]))
			}
			padded[l.Top[0]] = padding{bottom: l.Bottom[0], pad: v0.GetPad(), name: v0.GetName()}
			continue
		}
		v1, err := upgradeV0Layer(l)
		if err != nil {
			return fmt.Errorf("V0 layer %q%s: %w", v0.GetName(), lineSuffix(src.lines[i]), err)
		}
		for j, b := range v1.Bottom {
			p, ok := padded[b]
			if !ok {
				continue
			}
			if v1.GetType() != caffepb.V1LayerParameter_CONVOLUTION {
				return fmt.Errorf("V0 padding layer %q feeds layer %q, which is not a convolution", p.name, v1.GetName())
			}
			v1.Bottom[j] = p.bottom
			cp := v1.ConvolutionParam
			if cp == nil {
				cp = &caffepb.ConvolutionParameter{}
				v1.ConvolutionParam = cp
			}
			cp.Pad = []uint32{p.pad}
		}
		layers, lines, unknown = append(layers, v1), append(lines, src.lines[i]), append(unknown, src.unknown[i])
	}
	net.Layers, src.lines, src.unknown = layers, lines, unknown
	return nil
}

var v0Types = map[string]caffepb.V1LayerParameter_LayerType{
	"accuracy":                  caffepb.V1LayerParameter_ACCURACY,
	"bnll":                      caffepb.V1LayerParameter_BNLL,
	"concat":                    caffepb.V1LayerParameter_CONCAT,
	"conv":                      caffepb.V1LayerParameter_CONVOLUTION,
	"data":                      caffepb.V1LayerParameter_DATA,
	"dropout":                   caffepb.V1LayerParameter_DROPOUT,
	"euclidean_loss":            caffepb.V1LayerParameter_EUCLIDEAN_LOSS,
	"flatten":                   caffepb.V1LayerParameter_FLATTEN,
	"hdf5_data":                 caffepb.V1LayerParameter_HDF5_DATA,
	"hdf5_output":               caffepb.V1LayerParameter_HDF5_OUTPUT,
	"im2col":                    caffepb.V1LayerParameter_IM2COL,
	"images":                    caffepb.V1LayerParameter_IMAGE_DATA,
	"infogain_loss":             caffepb.V1LayerParameter_INFOGAIN_LOSS,
	"innerproduct":              caffepb.V1LayerParameter_INNER_PRODUCT,
	"lrn":                       caffepb.V1LayerParameter_LRN,
	"multinomial_logistic_loss": caffepb.V1LayerParameter_MULTINOMIAL_LOGISTIC_LOSS,
	"pool":                      caffepb.V1LayerParameter_POOLING,
	"relu":                      caffepb.V1LayerParameter_RELU,
	"sigmoid":                   caffepb.V1LayerParameter_SIGMOID,
	"softmax":                   caffepb.V1LayerParameter_SOFTMAX,
	"softmax_loss":              caffepb.V1LayerParameter_SOFTMAX_LOSS,
	"split":                     caffepb.V1LayerParameter_SPLIT,
	"tanh":                      caffepb.V1LayerParameter_TANH,
	"window_data":               caffepb.V1LayerParameter_WINDOW_DATA,
}

// upgradeV0Layer spreads the flat V0 parameters over the V1 parameter
// messages of the layer's type.
func upgradeV0Layer(l *caffepb.V1LayerParameter) (*caffepb.V1LayerParameter, error) {
	v0 := l.Layer
	t, ok := v0Types[v0.GetType()]
	if !ok {
		return nil, fmt.Errorf("unknown V0 layer type %q", v0.GetType())
	}
	v1 := &caffepb.V1LayerParameter{
		Bottom: l.Bottom, Top: l.Top, Name: v0.Name, Type: t.Enum(),
		Blobs: v0.Blobs, BlobsLr: v0.BlobsLr, WeightDecay: v0.WeightDecay,
		Include: l.Include, Exclude: l.Exclude,
	}
	if v0.Name == nil {
		v1.Name = l.Name
	}
	isData := t == caffepb.V1LayerParameter_DATA || t == caffepb.V1LayerParameter_IMAGE_DATA ||
		t == caffepb.V1LayerParameter_WINDOW_DATA
	tp := func() *caffepb.TransformationParameter {
		if v1.TransformParam == nil {
			v1.TransformParam = &caffepb.TransformationParameter{}
		}
		return v1.TransformParam
	}
	switch t {
	case caffepb.V1LayerParameter_CONVOLUTION:
		cp := &caffepb.ConvolutionParameter{NumOutput: v0.NumOutput, BiasTerm: v0.Biasterm,
			WeightFiller: v0.WeightFiller, BiasFiller: v0.BiasFiller, Group: v0.Group}
		if v0.Pad != nil {
			cp.Pad = []uint32{v0.GetPad()}
		}
		if v0.Kernelsize != nil {
			cp.KernelSize = []uint32{v0.GetKernelsize()}
		}
		if v0.Stride != nil {
			cp.Stride = []uint32{v0.GetStride()}
		}
		v1.ConvolutionParam = cp
	case caffepb.V1LayerParameter_INNER_PRODUCT:
		v1.InnerProductParam = &caffepb.InnerProductParameter{NumOutput: v0.NumOutput, BiasTerm: v0.Biasterm,
			WeightFiller: v0.WeightFiller, BiasFiller: v0.BiasFiller}
	case caffepb.V1LayerParameter_POOLING:
		pp := &caffepb.PoolingParameter{Pad: v0.Pad, KernelSize: v0.Kernelsize, Stride: v0.Stride}
		if v0.Pool != nil {
			pp.Pool = caffepb.PoolingParameter_PoolMethod(v0.GetPool()).Enum()
		}
		v1.PoolingParam = pp
	case caffepb.V1LayerParameter_DROPOUT:
		v1.DropoutParam = &caffepb.DropoutParameter{DropoutRatio: v0.DropoutRatio}
	case caffepb.V1LayerParameter_LRN:
		v1.LrnParam = &caffepb.LRNParameter{LocalSize: v0.LocalSize, Alpha: v0.Alpha, Beta: v0.Beta, K: v0.K}
	case caffepb.V1LayerParameter_CONCAT:
		v1.ConcatParam = &caffepb.ConcatParameter{ConcatDim: v0.ConcatDim}
	case caffepb.V1LayerParameter_DATA:
		v1.DataParam = &caffepb.DataParameter{Source: v0.Source, BatchSize: v0.Batchsize, RandSkip: v0.RandSkip}
	case caffepb.V1LayerParameter_IMAGE_DATA:
		v1.ImageDataParam = &caffepb.ImageDataParameter{Source: v0.Source, BatchSize: v0.Batchsize,
			RandSkip: v0.RandSkip, Shuffle: v0.ShuffleImages}
		if v0.NewHeight != nil {
			v1.ImageDataParam.NewHeight = proto.Uint32(uint32(max(v0.GetNewHeight(), 0)))
		}
		if v0.NewWidth != nil {
			v1.ImageDataParam.NewWidth = proto.Uint32(uint32(max(v0.GetNewWidth(), 0)))
		}
	case caffepb.V1LayerParameter_WINDOW_DATA:
		v1.WindowDataParam = &caffepb.WindowDataParameter{Source: v0.Source, BatchSize: v0.Batchsize,
			FgThreshold: v0.DetFgThreshold, BgThreshold: v0.DetBgThreshold, FgFraction: v0.DetFgFraction,
			ContextPad: v0.DetContextPad, CropMode: v0.DetCropMode}
	case caffepb.V1LayerParameter_HDF5_DATA:
		v1.Hdf5DataParam = &caffepb.HDF5DataParameter{Source: v0.Source, BatchSize: v0.Batchsize}
	case caffepb.V1LayerParameter_INFOGAIN_LOSS:
		v1.InfogainLossParam = &caffepb.InfogainLossParameter{Source: v0.Source}
	case caffepb.V1LayerParameter_HDF5_OUTPUT:
		v1.Hdf5OutputParam = v0.Hdf5OutputParam
	}
	if isData {
		if v0.Scale != nil {
			tp().Scale = v0.Scale
		}
		if v0.Meanfile != nil {
			tp().MeanFile = v0.Meanfile
		}
		if v0.Cropsize != nil {
			tp().CropSize = v0.Cropsize
		}
		if v0.Mirror != nil {
			tp().Mirror = v0.Mirror
		}
	}
	return v1, nil
}

var v1Types = map[caffepb.V1LayerParameter_LayerType]string{
	caffepb.V1LayerParameter_ABSVAL:                     "AbsVal",
	caffepb.V1LayerParameter_ACCURACY:                   "Accuracy",
	caffepb.V1LayerParameter_ARGMAX:                     "ArgMax",
	caffepb.V1LayerParameter_BNLL:                       "BNLL",
	caffepb.V1LayerParameter_CONCAT:                     "Concat",
	caffepb.V1LayerParameter_CONTRASTIVE_LOSS:           "ContrastiveLoss",
	caffepb.V1LayerParameter_CONVOLUTION:                "Convolution",
	caffepb.V1LayerParameter_DECONVOLUTION:              "Deconvolution",
	caffepb.V1LayerParameter_DATA:                       "Data",
	caffepb.V1LayerParameter_DROPOUT:                    "Dropout",
	caffepb.V1LayerParameter_DUMMY_DATA:                 "DummyData",
	caffepb.V1LayerParameter_EUCLIDEAN_LOSS:             "EuclideanLoss",
	caffepb.V1LayerParameter_ELTWISE:                    "Eltwise",
	caffepb.V1LayerParameter_EXP:                        "Exp",
	caffepb.V1LayerParameter_FLATTEN:                    "Flatten",
	caffepb.V1LayerParameter_HDF5_DATA:                  "HDF5Data",
	caffepb.V1LayerParameter_HDF5_OUTPUT:                "HDF5Output",
	caffepb.V1LayerParameter_HINGE_LOSS:                 "HingeLoss",
	caffepb.V1LayerParameter_IM2COL:                     "Im2col",
	caffepb.V1LayerParameter_IMAGE_DATA:                 "ImageData",
	caffepb.V1LayerParameter_INFOGAIN_LOSS:              "InfogainLoss",
	caffepb.V1LayerParameter_INNER_PRODUCT:              "InnerProduct",
	caffepb.V1LayerParameter_LRN:                        "LRN",
	caffepb.V1LayerParameter_MEMORY_DATA:                "MemoryData",
	caffepb.V1LayerParameter_MULTINOMIAL_LOGISTIC_LOSS:  "MultinomialLogisticLoss",
	caffepb.V1LayerParameter_MVN:                        "MVN",
	caffepb.V1LayerParameter_POOLING:                    "Pooling",
	caffepb.V1LayerParameter_POWER:                      "Power",
	caffepb.V1LayerParameter_RELU:                       "ReLU",
	caffepb.V1LayerParameter_SIGMOID:                    "Sigmoid",
	caffepb.V1LayerParameter_SIGMOID_CROSS_ENTROPY_LOSS: "SigmoidCrossEntropyLoss",
	caffepb.V1LayerParameter_SILENCE:                    "Silence",
	caffepb.V1LayerParameter_SOFTMAX:                    "Softmax",
	caffepb.V1LayerParameter_SOFTMAX_LOSS:               "SoftmaxWithLoss",
	caffepb.V1LayerParameter_SPLIT:                      "Split",
	caffepb.V1LayerParameter_SLICE:                      "Slice",
	caffepb.V1LayerParameter_TANH:                       "TanH",
	caffepb.V1LayerParameter_WINDOW_DATA:                "WindowData",
	caffepb.V1LayerParameter_THRESHOLD:                  "Threshold",
}

// upgradeV1Layer converts a V1 layer to the current LayerParameter: the
// type enum becomes a type name and the per-blob lists (param names, share
// modes, blobs_lr, weight_decay) become ParamSpecs.
func upgradeV1Layer(v1 *caffepb.V1LayerParameter) (*caffepb.LayerParameter, error) {
	if v1.Layer != nil {
		return nil, fmt.Errorf("holds a V0 layer that was not upgraded")
	}
	typ, ok := v1Types[v1.GetType()]
	if !ok {
		return nil, fmt.Errorf("unknown legacy layer type %v", v1.GetType())
	}
	lp := &caffepb.LayerParameter{
		Name: v1.Name, Type: proto.String(typ), Bottom: v1.Bottom, Top: v1.Top,
		Include: v1.Include, Exclude: v1.Exclude, Blobs: v1.Blobs, LossWeight: v1.LossWeight,
		AccuracyParam: v1.AccuracyParam, ArgmaxParam: v1.ArgmaxParam, ConcatParam: v1.ConcatParam,
		ContrastiveLossParam: v1.ContrastiveLossParam, ConvolutionParam: v1.ConvolutionParam,
		DataParam: v1.DataParam, DropoutParam: v1.DropoutParam, DummyDataParam: v1.DummyDataParam,
		EltwiseParam: v1.EltwiseParam, ExpParam: v1.ExpParam, Hdf5DataParam: v1.Hdf5DataParam,
		Hdf5OutputParam: v1.Hdf5OutputParam, HingeLossParam: v1.HingeLossParam,
		ImageDataParam: v1.ImageDataParam, InfogainLossParam: v1.InfogainLossParam,
		InnerProductParam: v1.InnerProductParam, LrnParam: v1.LrnParam, MemoryDataParam: v1.MemoryDataParam,
		MvnParam: v1.MvnParam, PoolingParam: v1.PoolingParam, PowerParam: v1.PowerParam,
		ReluParam: v1.ReluParam, SigmoidParam: v1.SigmoidParam, SoftmaxParam: v1.SoftmaxParam,
		SliceParam: v1.SliceParam, TanhParam: v1.TanhParam, ThresholdParam: v1.ThresholdParam,
		WindowDataParam: v1.WindowDataParam, TransformParam: v1.TransformParam, LossParam: v1.LossParam,
	}
	n := max(len(v1.Param), len(v1.BlobShareMode), len(v1.BlobsLr), len(v1.WeightDecay))
	for i := 0; i < n; i++ {
		ps := &caffepb.ParamSpec{}
		if i < len(v1.Param) {
			ps.Name = proto.String(v1.Param[i])
		}
		if i < len(v1.BlobShareMode) {
			ps.ShareMode = caffepb.ParamSpec_DimCheckMode(v1.BlobShareMode[i]).Enum()
		}
		if i < len(v1.BlobsLr) {
			ps.LrMult = proto.Float32(v1.BlobsLr[i])
		}
		if i < len(v1.WeightDecay) {
			ps.DecayMult = proto.Float32(v1.WeightDecay[i])
		}
		lp.Param = append(lp.Param, ps)
	}
	// V1 data layers kept their pre-processing in their own parameters.
	if dp := lp.DataParam; dp != nil {
		moveTransform(lp, dp.Scale, dp.MeanFile, dp.CropSize, dp.Mirror)
		dp.Scale, dp.MeanFile, dp.CropSize, dp.Mirror = nil, nil, nil, nil
	}
	if ip := lp.ImageDataParam; ip != nil {
		moveTransform(lp, ip.Scale, ip.MeanFile, ip.CropSize, ip.Mirror)
		ip.Scale, ip.MeanFile, ip.CropSize, ip.Mirror = nil, nil, nil, nil
	}
	if wp := lp.WindowDataParam; wp != nil {
		moveTransform(lp, wp.Scale, wp.MeanFile, wp.CropSize, wp.Mirror)
		wp.Scale, wp.MeanFile, wp.CropSize, wp.Mirror = nil, nil, nil, nil
	}
	return lp, nil
}

func moveTransform(lp *caffepb.LayerParameter, scale *float32, mean *string, crop *uint32, mirror *bool) {
	if scale == nil && mean == nil && crop == nil && mirror == nil {
		return
	}
	if lp.TransformParam == nil {
		lp.TransformParam = &caffepb.TransformationParameter{}
	}
	tp := lp.TransformParam
	if scale != nil {
		tp.Scale = scale
	}
	if mean != nil {
		tp.MeanFile = mean
	}
	if crop != nil {
		tp.CropSize = crop
	}
	if mirror != nil {
		tp.Mirror = mirror
	}
}

// upgradeSolver replaces the legacy solver_type enum by the type string.
func upgradeSolver(sp *caffepb.SolverParameter) error {
	if sp.SolverType == nil {
		return nil
	}
	if sp.Type != nil {
		return fmt.Errorf("solver sets both the legacy solver_type and type")
	}
	names := map[caffepb.SolverParameter_SolverType]string{
		caffepb.SolverParameter_SGD: "SGD", caffepb.SolverParameter_NESTEROV: "Nesterov",
		caffepb.SolverParameter_ADAGRAD: "AdaGrad", caffepb.SolverParameter_RMSPROP: "RMSProp",
		caffepb.SolverParameter_ADADELTA: "AdaDelta", caffepb.SolverParameter_ADAM: "Adam",
	}
	name, ok := names[sp.GetSolverType()]
	if !ok {
		return fmt.Errorf("unknown solver_type %v", sp.GetSolverType())
	}
	sp.Type = proto.String(name)
	sp.SolverType = nil
	return nil
}
