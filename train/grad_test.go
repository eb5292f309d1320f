package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"stride/graph"
	"stride/internal/parallel"
	"stride/tensor"
)

// Every gradient rule is checked against central finite differences of a
// random linear function of the op's outputs, L = sum(r * y).

type fdIn struct {
	shape []int
	// c is a constant input (not differentiated); nil for a variable.
	c *tensor.Tensor
	// lo, hi bound the random values of a variable (default -1, 1).
	lo, hi float64
	// distinct spreads values so no two are within 1e-2 (for max
	// pooling and max/min ties).
	distinct bool
}

type fdCase struct {
	name   string
	op     string
	domain string
	attrs  map[string]*graph.Attr
	in     []fdIn
	outs   int
	mode   Mode
	tol    float64
}

func ints(v ...int64) *tensor.Tensor { return tensor.From([]int{len(v)}, v) }

func attrs(kv ...any) map[string]*graph.Attr {
	m := map[string]*graph.Attr{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(*graph.Attr)
	}
	return m
}

func v(shape ...int) fdIn { return fdIn{shape: shape} }

func pos(shape ...int) fdIn { return fdIn{shape: shape, lo: 0.5, hi: 2} }

func distinct(shape ...int) fdIn { return fdIn{shape: shape, distinct: true} }

func konst(t *tensor.Tensor) fdIn { return fdIn{c: t} }

var gradCases = []fdCase{
	{name: "conv", op: "Conv", attrs: attrs("kernel_shape", graph.IntsAttr(3, 2), "pads", graph.IntsAttr(1, 0, 1, 1), "strides", graph.IntsAttr(2, 1), "dilations", graph.IntsAttr(1, 2)),
		in: []fdIn{v(2, 3, 7, 6), v(4, 3, 3, 2), v(4)}},
	{name: "conv groups", op: "Conv", attrs: attrs("group", graph.IntAttr(2), "pads", graph.IntsAttr(1, 1, 1, 1)),
		in: []fdIn{v(2, 4, 5, 5), v(6, 2, 3, 3), v(6)}},
	{name: "conv 1d no bias", op: "Conv", attrs: attrs("strides", graph.IntsAttr(2)), in: []fdIn{v(2, 3, 9), v(4, 3, 3)}},
	{name: "conv same", op: "Conv", attrs: attrs("auto_pad", graph.StringAttr("SAME_UPPER")), in: []fdIn{v(1, 2, 5, 4), v(3, 2, 3, 3)}},
	{name: "deconv", op: "ConvTranspose", attrs: attrs("strides", graph.IntsAttr(2, 2), "pads", graph.IntsAttr(1, 1, 1, 1), "output_padding", graph.IntsAttr(1, 0)),
		in: []fdIn{v(2, 4, 4, 3), v(4, 3, 3, 3), v(3)}},
	{name: "deconv groups", op: "ConvTranspose", attrs: attrs("group", graph.IntAttr(2), "strides", graph.IntsAttr(2, 1)),
		in: []fdIn{v(1, 4, 3, 3), v(4, 2, 2, 3), v(4)}},
	{name: "maxpool", op: "MaxPool", attrs: attrs("kernel_shape", graph.IntsAttr(3, 3), "strides", graph.IntsAttr(2, 2), "pads", graph.IntsAttr(0, 0, 1, 1)),
		in: []fdIn{distinct(2, 3, 7, 7)}},
	{name: "maxpool 2x2", op: "MaxPool", attrs: attrs("kernel_shape", graph.IntsAttr(2, 2), "strides", graph.IntsAttr(2, 2)),
		in: []fdIn{distinct(2, 2, 5, 6)}},
	{name: "maxpool padded", op: "MaxPool", attrs: attrs("kernel_shape", graph.IntsAttr(2, 3), "strides", graph.IntsAttr(1, 2), "pads", graph.IntsAttr(1, 1, 1, 1)),
		in: []fdIn{distinct(1, 2, 5, 6)}},
	{name: "avgpool exclude pad", op: "AveragePool", attrs: attrs("kernel_shape", graph.IntsAttr(3, 3), "strides", graph.IntsAttr(2, 2), "pads", graph.IntsAttr(0, 0, 2, 2)),
		in: []fdIn{v(2, 3, 7, 7)}},
	{name: "avgpool include pad", op: "AveragePool", attrs: attrs("kernel_shape", graph.IntsAttr(3, 3), "strides", graph.IntsAttr(2, 2), "pads", graph.IntsAttr(1, 1, 1, 1), "count_include_pad", graph.IntAttr(1)),
		in: []fdIn{v(2, 2, 6, 5)}},
	{name: "global avg", op: "GlobalAveragePool", in: []fdIn{v(2, 3, 4, 5)}},
	{name: "global max", op: "GlobalMaxPool", in: []fdIn{distinct(2, 3, 4, 5)}},
	{name: "gemm transB", op: "Gemm", attrs: attrs("transB", graph.IntAttr(1)), in: []fdIn{v(3, 5), v(4, 5), v(4)}},
	{name: "gemm transA alpha beta", op: "Gemm", attrs: attrs("transA", graph.IntAttr(1), "alpha", graph.FloatAttr(0.5), "beta", graph.FloatAttr(2)),
		in: []fdIn{v(5, 3), v(5, 4), v(3, 1)}},
	{name: "matmul", op: "MatMul", in: []fdIn{v(2, 3, 4), v(4, 5)}},
	{name: "matmul batched", op: "MatMul", in: []fdIn{v(2, 3, 4), v(2, 4, 2)}},
	{name: "relu", op: "Relu", in: []fdIn{distinct(3, 7)}},
	{name: "leaky relu", op: "LeakyRelu", attrs: attrs("alpha", graph.FloatAttr(0.1)), in: []fdIn{distinct(3, 7)}},
	{name: "prelu", op: "PRelu", in: []fdIn{distinct(2, 3, 2, 2), v(3, 1, 1)}},
	{name: "elu", op: "Elu", attrs: attrs("alpha", graph.FloatAttr(0.7)), in: []fdIn{distinct(3, 7)}},
	{name: "sigmoid", op: "Sigmoid", in: []fdIn{v(3, 7)}},
	{name: "tanh", op: "Tanh", in: []fdIn{v(3, 7)}},
	{name: "softplus", op: "Softplus", in: []fdIn{v(3, 7)}},
	{name: "abs", op: "Abs", in: []fdIn{distinct(3, 7)}},
	{name: "exp", op: "Exp", in: []fdIn{v(3, 7)}},
	{name: "log", op: "Log", in: []fdIn{pos(3, 7)}},
	{name: "sqrt", op: "Sqrt", in: []fdIn{pos(3, 7)}},
	{name: "neg", op: "Neg", in: []fdIn{v(3, 7)}},
	{name: "reciprocal", op: "Reciprocal", in: []fdIn{pos(3, 7)}},
	{name: "clip", op: "Clip", in: []fdIn{distinct(3, 7), konst(tensor.Scalar[float32](-0.5)), konst(tensor.Scalar[float32](0.5))}},
	{name: "add broadcast", op: "Add", in: []fdIn{v(2, 3, 4, 5), v(3, 1, 1)}},
	{name: "sub broadcast", op: "Sub", in: []fdIn{v(3, 1, 5), v(2, 3, 4, 5)}},
	{name: "mul broadcast", op: "Mul", in: []fdIn{v(2, 3, 4, 5), v(3, 1, 1)}},
	{name: "mul same", op: "Mul", in: []fdIn{v(4, 5), v(4, 5)}},
	{name: "div", op: "Div", in: []fdIn{v(2, 3, 4), pos(3, 1)}},
	{name: "pow", op: "Pow", in: []fdIn{pos(2, 5), konst(tensor.Scalar[float32](0.75))}},
	{name: "pow both", op: "Pow", in: []fdIn{pos(2, 5), pos(2, 5)}},
	{name: "max", op: "Max", in: []fdIn{distinct(3, 4), distinct(3, 4), distinct(3, 4)}},
	{name: "min", op: "Min", in: []fdIn{distinct(3, 4), distinct(3, 4)}},
	{name: "sum", op: "Sum", in: []fdIn{v(3, 4), v(3, 4), v(3, 4)}},
	{name: "reducesum", op: "ReduceSum", attrs: attrs("keepdims", graph.IntAttr(0)), in: []fdIn{v(2, 3, 4), konst(ints(0, 2))}},
	{name: "reducemean", op: "ReduceMean", in: []fdIn{v(2, 3, 4), konst(ints(1))}},
	{name: "softmax", op: "Softmax", attrs: attrs("axis", graph.IntAttr(1)), in: []fdIn{v(2, 4, 3)}},
	{name: "logsoftmax", op: "LogSoftmax", attrs: attrs("axis", graph.IntAttr(-1)), in: []fdIn{v(2, 5)}},
	{name: "lrn", op: "LRN", attrs: attrs("size", graph.IntAttr(3), "alpha", graph.FloatAttr(0.1), "beta", graph.FloatAttr(0.75), "bias", graph.FloatAttr(1.5)),
		in: []fdIn{v(2, 5, 3, 2)}},
	{name: "lrn even", op: "LRN", attrs: attrs("size", graph.IntAttr(4), "alpha", graph.FloatAttr(0.2), "beta", graph.FloatAttr(0.6)),
		in: []fdIn{v(1, 6, 2, 2)}},
	{name: "batchnorm eval", op: "BatchNormalization", attrs: attrs("epsilon", graph.FloatAttr(1e-3)),
		in: []fdIn{v(2, 3, 2, 2), v(3), v(3), konst(tensor.From([]int{3}, []float32{0.1, -0.2, 0.3})), konst(tensor.From([]int{3}, []float32{1, 0.5, 2}))}},
	{name: "caffe batchnorm train", op: "BatchNorm", domain: TrainDomain, mode: TrainMode, attrs: attrs("epsilon", graph.FloatAttr(1e-5)),
		in: []fdIn{v(3, 2, 2, 3), konst(tensor.Zeros(tensor.Float32, 2)), konst(tensor.Zeros(tensor.Float32, 2)), konst(tensor.Zeros(tensor.Float32, 1))}, tol: 3e-2},
	{name: "caffe batchnorm global", op: "BatchNorm", domain: TrainDomain, attrs: attrs("use_global_stats", graph.IntAttr(1)),
		in: []fdIn{v(2, 2, 3), konst(tensor.From([]int{2}, []float32{0.2, -0.4})), konst(tensor.From([]int{2}, []float32{1.6, 0.8})), konst(tensor.From([]int{1}, []float32{2}))}},
	{name: "reshape", op: "Reshape", in: []fdIn{v(2, 3, 4), konst(ints(4, -1))}},
	{name: "flatten", op: "Flatten", attrs: attrs("axis", graph.IntAttr(2)), in: []fdIn{v(2, 3, 2, 2)}},
	{name: "identity", op: "Identity", in: []fdIn{v(5)}},
	{name: "concat", op: "Concat", attrs: attrs("axis", graph.IntAttr(1)), in: []fdIn{v(2, 2, 3), v(2, 1, 3), v(2, 3, 3)}},
	{name: "split", op: "Split", attrs: attrs("axis", graph.IntAttr(1)), in: []fdIn{v(2, 5, 2), konst(ints(2, 3))}, outs: 2},
	{name: "slice steps", op: "Slice", in: []fdIn{v(4, 6, 3), konst(ints(1, 5)), konst(ints(4, 0)), konst(ints(0, 1)), konst(ints(2, -2))}},
	{name: "pad", op: "Pad", in: []fdIn{v(2, 3, 3), konst(ints(0, 1, 2, 0, 2, -1))}},
	{name: "transpose", op: "Transpose", attrs: attrs("perm", graph.IntsAttr(2, 0, 1)), in: []fdIn{v(2, 3, 4)}},
	{name: "tile", op: "Tile", in: []fdIn{v(2, 3), konst(ints(2, 2))}},
	{name: "expand", op: "Expand", in: []fdIn{v(3, 1), konst(ints(2, 3, 4))}},
	{name: "dropout", op: "Dropout", mode: TrainMode, in: []fdIn{v(4, 5), konst(tensor.Scalar[float32](0.4)), konst(tensor.Scalar(true))}},
}

// fdProgram builds a one-node program and the names of its inputs.
func fdProgram(t *testing.T, c fdCase, pool *parallel.Pool) (*program, []string, []*tensor.Tensor) {
	g := graph.New(c.name)
	g.Opsets[""] = 13
	rng := rand.New(rand.NewPCG(7, uint64(len(c.name))))
	var names, vars []string
	var vals []*tensor.Tensor
	for i, in := range c.in {
		name := fmt.Sprintf("x%d", i)
		names = append(names, name)
		if in.c != nil {
			g.Initializers[name] = in.c
			vals = append(vals, nil)
			continue
		}
		lo, hi := in.lo, in.hi
		if lo == 0 && hi == 0 {
			lo, hi = -1, 1
		}
		x := tensor.Zeros(tensor.Float32, in.shape...)
		d := x.F32()
		if in.distinct {
			// Values 0.05 apart (more than two finite-difference steps),
			// none near 0, and different in every input.
			perm := rng.Perm(len(d))
			for j := range d {
				d[j] = float32((float64(perm[j]-len(d)/2)+0.37)*0.05 + 0.013*float64(i))
			}
		} else {
			for j := range d {
				d[j] = float32(lo + (hi-lo)*rng.Float64())
			}
		}
		g.Inputs = append(g.Inputs, &graph.Value{Name: name, Type: graph.TensorType(tensor.Float32, in.shape...)})
		vars = append(vars, name)
		vals = append(vals, x)
	}
	outs := max(c.outs, 1)
	var outNames []string
	for i := 0; i < outs; i++ {
		outNames = append(outNames, fmt.Sprintf("y%d", i))
		g.Outputs = append(g.Outputs, &graph.Value{Name: outNames[i]})
	}
	if c.op == "Dropout" {
		outNames = append(outNames, "")
	}
	g.Nodes = []*graph.Node{{Name: c.name, Op: c.op, Domain: c.domain, Inputs: names, Outputs: outNames[:max(outs, len(outNames))], Attrs: c.attrs}}
	if c.op == "Dropout" {
		g.Nodes[0].Outputs = []string{"y0"}
	}
	if c.domain != "" {
		g.Opsets[c.domain] = 1
	}
	p, err := compile(g, nil, c.mode, pool, vars...)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	for i, name := range names {
		if vals[i] != nil {
			if err := p.setInput(name, vals[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	return p, names, vals
}

// fdLoss runs the program forward and returns sum(r * y) in float64.
func fdLoss(t *testing.T, p *program, outs int, r [][]float32) float64 {
	if err := p.forward(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	var s float64
	for k := 0; k < outs; k++ {
		y := p.value(fmt.Sprintf("y%d", k)).F32()
		for i, v := range y {
			s += float64(r[k][i]) * float64(v)
		}
	}
	return s
}

func TestGradients(t *testing.T) { checkGradients(t, gradCases) }

// TestConvLanes checks the convolutions again with one image per chunk,
// so that the chunks are shared among lanes.
func TestConvLanes(t *testing.T) {
	saved := colBudget
	colBudget = 1
	defer func() { colBudget = saved }()
	var convs []fdCase
	for _, c := range gradCases {
		if c.op == "Conv" || c.op == "ConvTranspose" {
			convs = append(convs, c)
		}
	}
	checkGradients(t, convs)
}

func checkGradients(t *testing.T, cases []fdCase) {
	pool := parallel.New(2)
	defer pool.Close()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, names, vals := fdProgram(t, c, pool)
			outs := max(c.outs, 1)
			if err := p.forward(context.Background(), 1); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			r := make([][]float32, outs)
			for k := range r {
				y := p.value(fmt.Sprintf("y%d", k))
				r[k] = make([]float32, y.Len())
				for i := range r[k] {
					r[k][i] = float32(rng.Float64()*2 - 1)
				}
				g, err := p.seedGrad(fmt.Sprintf("y%d", k))
				if err != nil || g == nil {
					t.Fatalf("no gradient for y%d: %v", k, err)
				}
				copy(g, r[k])
			}
			if err := p.backward(context.Background()); err != nil {
				t.Fatal(err)
			}
			analytic := map[string][]float32{}
			for i, name := range names {
				if vals[i] == nil {
					continue
				}
				s, _ := p.slotOf(name)
				analytic[name] = append([]float32{}, p.gradOf(s).F32()...)
			}
			tol := c.tol
			if tol == 0 {
				tol = 1e-2
			}
			for i, name := range names {
				if vals[i] == nil {
					continue
				}
				x := vals[i].F32()
				var worst, scale float64
				for j := range x {
					orig := x[j]
					h := float32(1e-2) * max(1, float32(math.Abs(float64(orig))))
					if c.in[i].distinct {
						h = 1e-2
					}
					x[j] = orig + h
					lp := fdLoss(t, p, outs, r)
					x[j] = orig - h
					lm := fdLoss(t, p, outs, r)
					x[j] = orig
					num := (lp - lm) / float64(2*h)
					a := float64(analytic[name][j])
					worst = math.Max(worst, math.Abs(num-a))
					scale = math.Max(scale, math.Abs(num))
				}
				if worst > tol*math.Max(1, scale) {
					t.Errorf("input %s: max |analytic - numeric| = %.3g (largest gradient %.3g)", name, worst, scale)
				}
			}
		})
	}
}
