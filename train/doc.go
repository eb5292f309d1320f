// Package train trains Stride op graphs: it owns the gradient rules of the
// ops (one table, grad.go, with a file per op family), the tape executor
// that runs a graph forward keeping what the backward pass needs and then
// walks it in reverse (program.go), Caffe's loss and accuracy layers
// (loss.go), its solvers and learning-rate policies (solver.go, update.go,
// lrpolicy.go), snapshots (snapshot.go) and the export of a trained net to
// ONNX and Caffe deploy files (export.go).
//
// A training net comes from a Caffe net definition imported in the TRAIN
// phase (caffe.Import): the graph of standard ONNX ops plus the loss
// layers, which the importer leaves out of the graph but lists. The
// compact --arch descriptions (arch.go) are turned into a Caffe net first,
// so both kinds of net share one path. Data sets and augmentation live in
// the data subpackage.
//
// Numerics follow Caffe, so that a net trained here from the same initial
// weights and data order reproduces Caffe's loss sequence: the update rules
// of every solver, the learning-rate policies, the normalisation of the
// losses, BatchNorm's moving averages and its scale-factor blob, inverted
// dropout, and Caffe's pooling rounding (expressed by the importer as
// explicit pads, whose gradients are exact).
package train
