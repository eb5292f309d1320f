package caffe

import "sort"

// translateFunc turns one layer into graph nodes: it reads c.bottoms and
// c.shapes, emits nodes and sets every top (c.setTop), or marks the layer
// dropped (c.drop).
type translateFunc func(c *lctx) error

// layerTable maps a Caffe layer type to its translation. Adding a layer
// type means adding a line here and a function in the layers_*.go file of
// its family.
var layerTable = map[string]translateFunc{
	// layers_conv.go
	"Convolution":   convolution,
	"Deconvolution": deconvolution,
	"Pooling":       pooling,
	// layers_dense.go
	"InnerProduct": innerProduct,
	"Embed":        embed,
	// layers_act.go
	"ReLU":      relu,
	"PReLU":     prelu,
	"ELU":       elu,
	"Sigmoid":   unary("Sigmoid"),
	"TanH":      unary("Tanh"),
	"AbsVal":    unary("Abs"),
	"BNLL":      unary("Softplus"),
	"Power":     power,
	"Exp":       exp,
	"Log":       logLayer,
	"Threshold": threshold,
	"Clip":      clip,
	"Swish":     swish,
	// layers_norm.go
	"LRN":       lrn,
	"BatchNorm": batchNorm,
	"Scale":     scale,
	"Bias":      bias,
	"MVN":       mvn,
	// layers_math.go
	"Eltwise":   eltwise,
	"Softmax":   softmax,
	"ArgMax":    argMax,
	"Reduction": reduction,
	// layers_shape.go
	"Concat":    concat,
	"Slice":     slice,
	"Split":     split,
	"Flatten":   flatten,
	"Reshape":   reshapeLayer,
	"Crop":      crop,
	"Tile":      tile,
	"Dropout":   dropout,
	"Silence":   silence,
	"Parameter": parameter,
	// layers_data.go
	"Input":                   inputLayer,
	"Data":                    dataLayer,
	"ImageData":               imageDataLayer,
	"HDF5Data":                hdf5DataLayer,
	"MemoryData":              memoryDataLayer,
	"DummyData":               dummyDataLayer,
	"WindowData":              windowDataLayer,
	"Accuracy":                dropped("accuracy is measured in training/evaluation, not inference"),
	"SoftmaxWithLoss":         dropped("loss layer, used in training"),
	"EuclideanLoss":           dropped("loss layer, used in training"),
	"SigmoidCrossEntropyLoss": dropped("loss layer, used in training"),
	"HingeLoss":               dropped("loss layer, used in training"),
	"InfogainLoss":            dropped("loss layer, used in training"),
	"MultinomialLogisticLoss": dropped("loss layer, used in training"),
	"ContrastiveLoss":         dropped("loss layer, used in training"),
	"HDF5Output":              dropped("it writes blobs to a file"),
}

// SupportedLayerTypes lists the Caffe layer types Import accepts, sorted.
func SupportedLayerTypes() []string {
	out := make([]string, 0, len(layerTable))
	for t := range layerTable {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
