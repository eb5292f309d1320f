package mathops

import (
	"fmt"
	"math"

	"stride/graph"
	"stride/internal/kern"
	"stride/ops"
	"stride/tensor"
)

// binaryOps are the broadcasting binary ops whose result has the inputs'
// type. Integer division truncates toward zero (as in C); integer division
// and remainder by zero give 0 rather than trapping.
var binaryOps = map[string]fn2{
	"Add":        {f: add[float64], i: add[int64], u: add[uint64], vec: vecOp(kern.Add)},
	"Sub":        {f: sub[float64], i: sub[int64], u: sub[uint64], vec: vecOp(kern.Sub)},
	"Mul":        {f: mul[float64], i: mul[int64], u: mul[uint64], vec: vecOp(kern.Mul)},
	"Div":        {f: func(a, b float64) float64 { return a / b }, i: quo[int64], u: quo[uint64], vec: vecOp(kern.Div)},
	"And":        {b: func(a, b bool) bool { return a && b }},
	"Or":         {b: func(a, b bool) bool { return a || b }},
	"Xor":        {b: func(a, b bool) bool { return a != b }},
	"BitwiseAnd": {i: func(a, b int64) int64 { return a & b }, u: func(a, b uint64) uint64 { return a & b }},
	"BitwiseOr":  {i: func(a, b int64) int64 { return a | b }, u: func(a, b uint64) uint64 { return a | b }},
	"BitwiseXor": {i: func(a, b int64) int64 { return a ^ b }, u: func(a, b uint64) uint64 { return a ^ b }},
}

// compareOps are the comparisons; their result is bool.
var compareOps = map[string]cmp2{
	"Equal":          {f: eq[float64], i: eq[int64], u: eq[uint64], b: eq[bool], s: eq[string]},
	"Greater":        {f: gt[float64], i: gt[int64], u: gt[uint64]},
	"Less":           {f: lt[float64], i: lt[int64], u: lt[uint64]},
	"GreaterOrEqual": {f: ge[float64], i: ge[int64], u: ge[uint64]},
	"LessOrEqual":    {f: le[float64], i: le[int64], u: le[uint64]},
}

// variadicOps fold any number (at least one) of broadcast inputs. Max and
// Min propagate NaN, like numpy's maximum and minimum.
var variadicOps = map[string]fn2{
	"Max": {f: math.Max, i: maxOf[int64], u: maxOf[uint64], vec: vecOp(kern.Max)},
	"Min": {f: math.Min, i: minOf[int64], u: minOf[uint64], vec: vecOp(kern.Min)},
	"Sum": {f: add[float64], i: add[int64], u: add[uint64], vec: vecOp(kern.Add)},
	// Mean sums, then divides by the input count (float types only).
	"Mean": {f: add[float64], vec: vecOp(kern.Add)},
}

// binaryBuilders are the binary ops with attributes.
var binaryBuilders = map[string]func(n *graph.Node) (*fn2, error){
	"Mod":      buildMod,
	"BitShift": buildBitShift,
}

func add[T number](a, b T) T   { return a + b }
func sub[T number](a, b T) T   { return a - b }
func mul[T number](a, b T) T   { return a * b }
func maxOf[T number](a, b T) T { return max(a, b) }
func minOf[T number](a, b T) T { return min(a, b) }

func quo[T sint | unsigned](a, b T) T {
	if b == 0 {
		return 0
	}
	return a / b
}

func eq[T comparable](a, b T) bool { return a == b }
func gt[T number](a, b T) bool     { return a > b }
func lt[T number](a, b T) bool     { return a < b }
func ge[T number](a, b T) bool     { return a >= b }
func le[T number](a, b T) bool     { return a <= b }

// rem is the truncated remainder (sign of the dividend, C's fmod).
func rem[T sint | unsigned](a, b T) T {
	if b == 0 {
		return 0
	}
	return a % b
}

// floorRem is the floored remainder (sign of the divisor, Python's %).
func floorRem[T sint](a, b T) T {
	r := rem(a, b)
	if r != 0 && (r < 0) != (b < 0) {
		r += b
	}
	return r
}

func floorRemF(a, b float64) float64 {
	r := math.Mod(a, b)
	if r != 0 && (r < 0) != (b < 0) {
		r += b
	}
	return r
}

// buildMod reads fmod: 1 is C's fmod (truncated), 0 the sign-of-divisor
// remainder. ONNX asks for fmod=1 with floats; fmod=0 floats get the
// floored remainder like the reference's numpy.mod.
func buildMod(n *graph.Node) (*fn2, error) {
	fmod, err := n.AttrInt("fmod", 0)
	if err != nil {
		return nil, err
	}
	switch fmod {
	case 0:
		return &fn2{f: floorRemF, i: floorRem[int64], u: rem[uint64]}, nil
	case 1:
		return &fn2{f: math.Mod, i: rem[int64], u: rem[uint64]}, nil
	}
	return nil, fmt.Errorf("Mod fmod must be 0 or 1, got %d", fmod)
}

// buildBitShift reads direction. Shifting by the type's width or more
// gives 0.
func buildBitShift(n *graph.Node) (*fn2, error) {
	dir, err := n.AttrString("direction", "")
	if err != nil {
		return nil, err
	}
	switch dir {
	case "LEFT":
		return &fn2{u: func(a, b uint64) uint64 { return a << b }}, nil
	case "RIGHT":
		return &fn2{u: func(a, b uint64) uint64 { return a >> b }}, nil
	}
	return nil, fmt.Errorf("BitShift direction %q is not LEFT or RIGHT", dir)
}

func init() {
	for name, f := range binaryOps {
		registerBinary(name, func(*graph.Node) (*fn2, error) { return &f, nil })
	}
	for name, mk := range binaryBuilders {
		registerBinary(name, mk)
	}
	for name, f := range compareOps {
		ops.Register(&ops.Def{Op: name, Build: func(*ops.Build) (ops.Kernel, error) { return compareKernel(&f), nil },
			Infer: inferBroadcast(tensor.Bool, 0, 0, 1), Float64: true})
	}
	for name, f := range variadicOps {
		ops.Register(&ops.Def{Op: name, Build: func(*ops.Build) (ops.Kernel, error) { return variadicKernel(&f, name == "Mean"), nil },
			Infer: inferBroadcast(tensor.Undefined, 0), Float64: true})
	}
}

func registerBinary(op string, mk func(*graph.Node) (*fn2, error)) {
	ops.Register(&ops.Def{Op: op, Infer: inferBroadcast(tensor.Undefined, 0, 0, 1), Float64: true,
		Build: func(b *ops.Build) (ops.Kernel, error) {
			f, err := mk(b.Node)
			if err != nil {
				return nil, err
			}
			return binaryKernel(f), nil
		}})
}

// accepts reports whether f has a function for t's element type.
func (f *fn2) accepts(t *tensor.Tensor) bool {
	mk := binaryKernels[t.DType]
	return mk != nil && mk(t.Data, t.Data, t.Data, f) != nil
}

// sameTypeInputs returns inputs 0 and 1, which must share an element type.
func sameTypeInputs(in []*tensor.Tensor) (a, b *tensor.Tensor, err error) {
	if a, err = ops.NeedInput(in, 0, "A"); err != nil {
		return nil, nil, err
	}
	if b, err = ops.NeedInput(in, 1, "B"); err != nil {
		return nil, nil, err
	}
	if a.DType != b.DType {
		return nil, nil, fmt.Errorf("input types differ: %v and %v", a.DType, b.DType)
	}
	return a, b, nil
}

// applyBinary computes dst = f(a, b) over plan p; dst may be a when a
// already has the output's shape.
func applyBinary(c *ops.Ctx, p *plan, dst, a, b *tensor.Tensor, f *fn2) error {
	mk := binaryKernels[a.DType]
	if mk == nil {
		return errType(a.DType)
	}
	run := mk(dst.Data, a.Data, b.Data, f)
	if run == nil {
		return errType(a.DType)
	}
	if a.DType == tensor.Float32 && f.vec != nil {
		p.runGrain(c, vecGrain, binaryF32(dst.F32(), a.F32(), b.F32(), *f.vec, run))
		return nil
	}
	p.run(c, run)
	return nil
}

func binaryKernel(f *fn2) ops.Kernel {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		a, b, err := sameTypeInputs(in)
		if err != nil {
			return nil, err
		}
		if a.DType == tensor.Float32 && f.vec != nil && tensor.SameShape(a.Shape, b.Shape) {
			return sameShapeF32(c, a, b, *f.vec)
		}
		p, err := broadcast(a.Shape, b.Shape)
		if err != nil {
			return nil, err
		}
		y, err := c.Alloc(a.DType, p.shape...)
		if err != nil {
			return nil, err
		}
		if err := applyBinary(c, p, y, a, b, f); err != nil {
			return nil, err
		}
		return ops.Outs(y)
	})
}

func compareKernel(f *cmp2) ops.Kernel {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		a, b, err := sameTypeInputs(in)
		if err != nil {
			return nil, err
		}
		mk := compareKernels[a.DType]
		if mk == nil {
			return nil, errType(a.DType)
		}
		p, err := broadcast(a.Shape, b.Shape)
		if err != nil {
			return nil, err
		}
		y, err := c.Alloc(tensor.Bool, p.shape...)
		if err != nil {
			return nil, err
		}
		run := mk(y.Data.([]bool), a.Data, b.Data, f)
		if run == nil {
			return nil, errType(a.DType)
		}
		p.run(c, run)
		return ops.Outs(y)
	})
}

// variadicKernel folds the inputs left to right into the output: the first
// step broadcasts inputs 0 and 1 to the full output shape, later steps
// update the output in place. One input is returned as is (a view).
func variadicKernel(f *fn2, mean bool) ops.Kernel {
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if len(in) == 0 {
			return nil, fmt.Errorf("needs at least one input")
		}
		shapes := make([][]int, len(in))
		for k, t := range in {
			if t == nil {
				return nil, fmt.Errorf("input %d is missing", k)
			}
			if t.DType != in[0].DType {
				return nil, fmt.Errorf("input types differ: %v and %v", in[0].DType, t.DType)
			}
			shapes[k] = t.Shape
		}
		x := in[0]
		if len(in) == 1 {
			if !f.accepts(x) {
				return nil, errType(x.DType)
			}
			return ops.Outs(&tensor.Tensor{DType: x.DType, Shape: x.Shape, Data: x.Data})
		}
		out, err := ops.BroadcastShapes(shapes...)
		if err != nil {
			return nil, err
		}
		y, err := c.Alloc(x.DType, out...)
		if err != nil {
			return nil, err
		}
		acc := x
		for _, t := range in[1:] {
			p, err := planTo(out, acc.Shape, t.Shape)
			if err != nil {
				return nil, err
			}
			if err := applyBinary(c, p, y, acc, t, f); err != nil {
				return nil, err
			}
			acc = y
		}
		if mean {
			n := float64(len(in))
			div := func(dst, x []float32) { kern.ApplyVS(kern.Div, dst, x, float32(n)) }
			if err := applyUnary(c, y, y, &fn1{f: func(v float64) float64 { return v / n }, f32: div}); err != nil {
				return nil, err
			}
		}
		return ops.Outs(y)
	})
}
