// Package norm owns Stride's normalization, softmax, reduction, arg-extreme
// and loss operators: BatchNormalization, InstanceNormalization,
// LayerNormalization, GroupNormalization, LRN, MeanVarianceNormalization,
// LpNormalization; Softmax, LogSoftmax, Hardmax; the ten Reduce* ops;
// ArgMax, ArgMin; NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss.
//
// All of them work along some axes of their input. The package views a
// tensor as [outer, n, inner] around those axes (see span): each of the
// outer*inner columns holds the n elements one result depends on. Kernels
// are written for one column given as a contiguous slice; mapColumns hands
// them out over the worker pool, gathering strided columns (inner > 1) in
// blocks. Axes that are not adjacent are first permuted to the end (see
// planAxes). Statistics of float inputs are accumulated in float64.
//
// Float32 inputs of the inference hot spots use the vector kernels of
// stride/internal/kern: BatchNormalization as one multiply-add per element
// (scale and shift folded at load when the parameters are constant),
// Softmax and LogSoftmax with a vectorised exp (sums still in float64), and
// LRN (window sums of squares in float32).
package norm
