// Package caffe translates Caffe nets into Stride's op graph.
//
// It reads net definitions (.prototxt, text format, including the legacy V1
// `layers { type: CONVOLUTION }` and V0 forms, which are upgraded), trained
// weights (.caffemodel, binary) and solver settings, and builds a
// graph.Graph of standard ONNX operators (opset 13 semantics, no custom
// ops), so the same graph runs on Stride's runtime and exports to ONNX
// unchanged. Caffe-specific behaviour is spelled out with ONNX ops: the
// ceil rounding of pooling becomes explicit end pads, LRN within a channel
// becomes a pooled square, BatchNorm's scale-factor blob is folded at
// import, and so on (see the layers_*.go files, one per layer family, and
// the translation table in layers.go).
//
// Naming follows Caffe: a node is named after its layer and a value after
// the blob it holds, so a blob can be asked for by name. When in-place
// layers (top equal to bottom) write a blob several times, the blob's name
// goes to its final value, the one Caffe holds after the forward pass, and
// the earlier values are named "<blob>/pre_<layer>" after the layer that
// overwrites them.
//
// Weights come from a caffemodel, matched by layer name with shape checks,
// or, without one, from the fillers in the net definition, seeded and
// reproducible (filler.go; the trainer reuses it).
package caffe
