package train

import (
	"stride/graph"
	"stride/tensor"
)

// rule is the gradient of one op type. Most ops run their registered
// forward kernel (the one inference uses) and only bring a backward
// function; ops whose training forward needs extras (pooling argmax,
// dropout masks, batch statistics, the batched convolution layout) build
// their own Op.
type rule struct {
	back  func(b *Bwd) error
	build func(n *graph.Node, consts []*tensor.Tensor, mode Mode) (Op, error)
}

// grad is a rule with the registered forward kernel.
func grad(back func(b *Bwd) error) rule { return rule{back: back} }

// custom is a rule whose op computes its own forward pass.
func custom(build func(n *graph.Node, consts []*tensor.Tensor, mode Mode) (Op, error)) rule {
	return rule{build: build}
}

// TrainDomain is the operator domain of the few training-only nodes the
// trainer puts into a graph (BatchNorm with moving averages).
const TrainDomain = "stride.train"

// rules maps an op type to its gradient. Adding a trainable op means
// adding a line here and the function in the file of its family.
var rules = map[string]rule{
	// grad_conv.go
	"Conv":          custom(newConvOp),
	"ConvTranspose": custom(newDeconvOp),
	// grad_pool.go
	"MaxPool":           custom(newMaxPoolOp),
	"AveragePool":       custom(newAvgPoolOp),
	"GlobalMaxPool":     grad(globalMaxPoolBack),
	"GlobalAveragePool": grad(globalAvgPoolBack),
	// grad_dense.go
	"Gemm":   grad(gemmBack),
	"MatMul": grad(matmulBack),
	// grad_act.go
	"Relu":       grad(reluBack),
	"LeakyRelu":  grad(leakyReluBack),
	"PRelu":      grad(preluBack),
	"Elu":        grad(eluBack),
	"Sigmoid":    grad(sigmoidBack),
	"Tanh":       grad(tanhBack),
	"Softplus":   grad(softplusBack),
	"Abs":        grad(absBack),
	"Exp":        grad(expBack),
	"Log":        grad(logBack),
	"Sqrt":       grad(sqrtBack),
	"Neg":        grad(negBack),
	"Reciprocal": grad(reciprocalBack),
	"Clip":       grad(clipBack),
	// grad_math.go
	"Add":        grad(addBack),
	"Sub":        grad(subBack),
	"Mul":        grad(mulBack),
	"Div":        grad(divBack),
	"Pow":        grad(powBack),
	"Max":        grad(maxBack),
	"Min":        grad(minBack),
	"Sum":        grad(sumBack),
	"ReduceSum":  grad(reduceSumBack),
	"ReduceMean": grad(reduceMeanBack),
	// grad_norm.go
	"Softmax":                   grad(softmaxBack),
	"LogSoftmax":                grad(logSoftmaxBack),
	"LRN":                       custom(newLRNOp),
	"BatchNormalization":        grad(batchNormEvalBack),
	TrainDomain + "::BatchNorm": custom(newBatchNormOp),
	// grad_shape.go
	"Reshape":   grad(passBack),
	"Flatten":   grad(passBack),
	"Identity":  grad(passBack),
	"Squeeze":   grad(passBack),
	"Unsqueeze": grad(passBack),
	"Dropout":   custom(newDropoutOp),
	"Concat":    grad(concatBack),
	"Split":     grad(splitBack),
	"Slice":     grad(sliceBack),
	"Pad":       grad(padBack),
	"Transpose": grad(transposeBack),
	"Tile":      grad(tileBack),
	"Expand":    grad(expandBack),
	"Gather":    grad(gatherBack),
}

func lookupRule(domain, op string) (rule, bool) {
	if domain == "ai.onnx" {
		domain = ""
	}
	if domain != "" {
		op = domain + "::" + op
	}
	r, ok := rules[op]
	return r, ok
}

// TrainableOps lists the op types that have gradients.
func TrainableOps() []string {
	out := make([]string, 0, len(rules))
	for k := range rules {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// parFor runs fn over [0,n) in parallel chunks large enough to be worth a
// task.
func (b *Bwd) parFor(n int, fn func(lo, hi int)) { b.Ctx.For(n, 1<<14, fn) }
