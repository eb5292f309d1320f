package mathops

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"

	"stride/graph"
	"stride/internal/parallel"
	"stride/ops"
	"stride/tensor"
)

var testPool = parallel.New(4)

// runOp builds op with attrs and runs it on ins (nil = omitted input).
func runOp(op string, attrs map[string]*graph.Attr, ins ...*tensor.Tensor) (*tensor.Tensor, error) {
	def, ok := ops.Lookup("", op)
	if !ok {
		return nil, fmt.Errorf("%s is not registered", op)
	}
	n := &graph.Node{Op: op, Attrs: attrs, Outputs: []string{"y"}}
	for i, x := range ins {
		name := ""
		if x != nil {
			name = fmt.Sprint("x", i)
		}
		n.Inputs = append(n.Inputs, name)
	}
	k, err := def.Build(&ops.Build{Node: n, Opset: 20})
	if err != nil {
		return nil, err
	}
	outs, err := k.Run(ops.NewCtx(nil, testPool, nil), ins)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// same compares exactly, except floats to a relative 1e-6 (NaN equal NaN).
func same(got, want *tensor.Tensor) bool {
	if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) {
		return false
	}
	if got.DType != tensor.Float32 && got.DType != tensor.Float64 {
		return reflect.DeepEqual(got.Data, want.Data)
	}
	g, w := got.Float64s(), want.Float64s()
	for i := range w {
		if math.IsNaN(w[i]) != math.IsNaN(g[i]) || !math.IsNaN(w[i]) && math.Abs(g[i]-w[i]) > 1e-6*math.Max(1, math.Abs(w[i])) {
			return false
		}
	}
	return true
}

// Shorthands for test tensors.
func f32(shape []int, v ...float32) *tensor.Tensor { return tensor.From(shape, v) }
func f64(shape []int, v ...float64) *tensor.Tensor { return tensor.From(shape, v) }
func i8(shape []int, v ...int8) *tensor.Tensor     { return tensor.From(shape, v) }
func i32(shape []int, v ...int32) *tensor.Tensor   { return tensor.From(shape, v) }
func i64(shape []int, v ...int64) *tensor.Tensor   { return tensor.From(shape, v) }
func u8(shape []int, v ...uint8) *tensor.Tensor    { return tensor.From(shape, v) }
func u64(shape []int, v ...uint64) *tensor.Tensor  { return tensor.From(shape, v) }
func bools(shape []int, v ...bool) *tensor.Tensor  { return tensor.From(shape, v) }
func strs(shape []int, v ...string) *tensor.Tensor { return tensor.From(shape, v) }
func vec(n int) []int                              { return []int{n} }

type attrs = map[string]*graph.Attr

var nan = float32(math.NaN())
var inf = float32(math.Inf(1))

type opCase struct {
	name  string
	op    string
	attrs attrs
	in    []*tensor.Tensor
	want  *tensor.Tensor
}

func checkCases(t *testing.T, cases []opCase) {
	t.Helper()
	for _, c := range cases {
		got, err := runOp(c.op, c.attrs, c.in...)
		if err != nil {
			t.Errorf("%s (%s): %v", c.name, c.op, err)
			continue
		}
		if !same(got, c.want) {
			t.Errorf("%s (%s): got %v %v, want %v %v", c.name, c.op, got, got.Data, c.want, c.want.Data)
		}
	}
}

func TestBinary(t *testing.T) {
	checkCases(t, []opCase{
		{"int8 wraps", "Add", nil, []*tensor.Tensor{i8(vec(2), 127, -128), i8(nil, 1)}, i8(vec(2), -128, -127)},
		{"broadcast rows", "Sub", nil, []*tensor.Tensor{f32([]int{2, 3}, 1, 2, 3, 4, 5, 6), f32(vec(3), 1, 1, 1)},
			f32([]int{2, 3}, 0, 1, 2, 3, 4, 5)},
		{"scalar first", "Sub", nil, []*tensor.Tensor{f32(nil, 10), f32([]int{2, 2}, 1, 2, 3, 4)}, f32([]int{2, 2}, 9, 8, 7, 6)},
		{"outer product", "Mul", nil, []*tensor.Tensor{i32([]int{2, 1}, 1, 2), i32([]int{1, 3}, 1, 2, 3)},
			i32([]int{2, 3}, 1, 2, 3, 2, 4, 6)},
		{"uint64 exact", "Add", nil, []*tensor.Tensor{u64(vec(1), 1<<63), u64(vec(1), 1<<62+1)}, u64(vec(1), 1<<63+1<<62+1)},
		{"int division truncates", "Div", nil, []*tensor.Tensor{i32(vec(4), -7, 7, 7, 5), i32(vec(4), 2, -2, 2, 0)},
			i32(vec(4), -3, -3, 3, 0)},
		{"float division", "Div", nil, []*tensor.Tensor{f32(vec(2), 1, -1), f32(vec(2), 4, 0)}, f32(vec(2), 0.25, -inf)},
		{"mod sign of divisor", "Mod", nil, []*tensor.Tensor{i64(vec(4), -7, 7, -7, 6), i64(vec(4), 3, -3, -3, 3)},
			i64(vec(4), 2, -2, -1, 0)},
		{"fmod", "Mod", attrs{"fmod": graph.IntAttr(1)}, []*tensor.Tensor{i8(vec(3), -7, 7, 5), i8(vec(3), 3, -3, 0)},
			i8(vec(3), -1, 1, 0)},
		{"float fmod", "Mod", attrs{"fmod": graph.IntAttr(1)}, []*tensor.Tensor{f64(vec(2), -7.5, 7.5), f64(vec(2), 2, -2)},
			f64(vec(2), -1.5, 1.5)},
		{"float floor mod", "Mod", nil, []*tensor.Tensor{f64(vec(2), -7.5, 7.5), f64(vec(2), 2, -2)}, f64(vec(2), 0.5, -0.5)},
		{"shift left", "BitShift", attrs{"direction": graph.StringAttr("LEFT")}, []*tensor.Tensor{u8(vec(3), 255, 1, 1), u8(vec(3), 1, 7, 8)},
			u8(vec(3), 254, 128, 0)},
		{"shift right", "BitShift", attrs{"direction": graph.StringAttr("RIGHT")}, []*tensor.Tensor{u64(vec(2), 1<<63, 16), u64(nil, 4)},
			u64(vec(2), 1<<59, 1)},
		{"bitwise and", "BitwiseAnd", nil, []*tensor.Tensor{i8(vec(2), -1, -2), i8(vec(2), 5, 7)}, i8(vec(2), 5, 6)},
		{"bitwise xor", "BitwiseXor", nil, []*tensor.Tensor{u8(vec(2), 0xf0, 3), u8(vec(2), 0xff, 1)}, u8(vec(2), 0x0f, 2)},
		{"xor", "Xor", nil, []*tensor.Tensor{bools(vec(4), true, true, false, false), bools(vec(4), true, false, true, false)},
			bools(vec(4), false, true, true, false)},
		{"and broadcast", "And", nil, []*tensor.Tensor{bools([]int{2, 1}, true, false), bools(vec(2), true, false)},
			bools([]int{2, 2}, true, false, false, false)},
	})
}

func TestCompare(t *testing.T) {
	checkCases(t, []opCase{
		{"strings", "Equal", nil, []*tensor.Tensor{strs(vec(2), "a", "b"), strs(nil, "b")}, bools(vec(2), false, true)},
		{"nan", "Equal", nil, []*tensor.Tensor{f32(vec(2), nan, 1), f32(vec(2), nan, 1)}, bools(vec(2), false, true)},
		{"uint64 order", "Greater", nil, []*tensor.Tensor{u64(vec(2), 1<<63+1, 1), u64(vec(2), 1, 1<<63)}, bools(vec(2), true, false)},
		{"int64 order", "Less", nil, []*tensor.Tensor{i64(vec(2), -1<<62, 3), i64(nil, 3)}, bools(vec(2), true, false)},
		{"ge", "GreaterOrEqual", nil, []*tensor.Tensor{f32(vec(3), 1, 2, 3), f32(nil, 2)}, bools(vec(3), false, true, true)},
		{"le", "LessOrEqual", nil, []*tensor.Tensor{i8(vec(3), 1, 2, 3), i8(nil, 2)}, bools(vec(3), true, true, false)},
	})
}

func TestVariadic(t *testing.T) {
	a := f32(vec(3), 1, 5, nan)
	b := f32([]int{2, 1}, 2, 4)
	c := f32(nil, 3)
	checkCases(t, []opCase{
		{"max 3-way", "Max", nil, []*tensor.Tensor{a, b, c}, f32([]int{2, 3}, 3, 5, nan, 4, 5, nan)},
		{"min 3-way", "Min", nil, []*tensor.Tensor{a, b, c}, f32([]int{2, 3}, 1, 2, nan, 1, 3, nan)},
		{"sum", "Sum", nil, []*tensor.Tensor{a, b, c}, f32([]int{2, 3}, 6, 10, nan, 8, 12, nan)},
		{"mean", "Mean", nil, []*tensor.Tensor{a, b, c}, f32([]int{2, 3}, 2, 10.0/3, nan, 8.0/3, 4, nan)},
		{"one input", "Max", nil, []*tensor.Tensor{a}, a},
		{"int max", "Max", nil, []*tensor.Tensor{u64(vec(2), 1<<63, 1), u64(vec(2), 1, 2)}, u64(vec(2), 1<<63, 2)},
		// The output is bigger than the broadcast of the first two inputs.
		{"late broadcast", "Sum", nil, []*tensor.Tensor{i32(vec(2), 1, 2), i32(vec(2), 10, 20), i32([]int{2, 1}, 100, 200)},
			i32([]int{2, 2}, 111, 122, 211, 222)},
		// The first step broadcasts both operands along the last dim.
		{"both broadcast", "Sum", nil, []*tensor.Tensor{i32([]int{2, 1}, 1, 2), i32([]int{2, 1}, 10, 20), i32(vec(3), 100, 200, 300)},
			i32([]int{2, 3}, 111, 211, 311, 122, 222, 322)},
	})
	if _, err := runOp("Mean", nil, i32(vec(1), 1), i32(vec(1), 2)); err == nil {
		t.Error("Mean of int32 succeeded")
	}
	if _, err := runOp("Mean", nil, i32(vec(1), 1)); err == nil {
		t.Error("Mean of one int32 succeeded")
	}
	if _, err := runOp("Sum", nil); err == nil {
		t.Error("Sum of nothing succeeded")
	}
}

func TestPow(t *testing.T) {
	checkCases(t, []opCase{
		{"float", "Pow", nil, []*tensor.Tensor{f32(vec(3), 2, 4, -2), f32(vec(3), 3, 0.5, 2)}, f32(vec(3), 8, 2, 4)},
		{"float int", "Pow", nil, []*tensor.Tensor{f32(vec(2), 2, 3), i64(nil, 2)}, f32(vec(2), 4, 9)},
		{"float double", "Pow", nil, []*tensor.Tensor{f32(vec(1), 10), f64(nil, 0.5)}, f32(vec(1), float32(math.Sqrt(10)))},
		{"int exact", "Pow", nil, []*tensor.Tensor{i64(vec(3), 3, 2, -3), i64(vec(3), 39, 62, 3)},
			i64(vec(3), 4052555153018976267, 1<<62, -27)},
		{"int negative exponent", "Pow", nil, []*tensor.Tensor{i32(vec(4), 2, 1, -1, -1), i32(vec(4), -1, -5, -3, -2)},
			i32(vec(4), 0, 1, -1, 1)},
		{"int wraps", "Pow", nil, []*tensor.Tensor{i32(vec(1), 2), u8(nil, 33)}, i32(vec(1), 0)},
		{"int float exponent truncates", "Pow", nil, []*tensor.Tensor{i32(vec(2), 2, 3), f32(vec(2), 0.5, 2)}, i32(vec(2), 1, 9)},
		{"huge uint64 exponent", "Pow", nil, []*tensor.Tensor{i64(vec(3), 3, 2, -1), u64(vec(3), 1<<63+5, 1<<63, 1<<64-1)},
			i64(vec(3), ipow(3, 5), 0, -1)},
	})
	// A float16 base keeps its type whatever the exponent's.
	x := tensor.FromBits(tensor.Float16, vec(2), []uint16{tensor.F32ToF16(1.5), tensor.F32ToF16(-2)})
	y, err := runOp("Pow", nil, x, f32(nil, 2))
	if err != nil {
		t.Fatal(err)
	}
	if y.DType != tensor.Float16 || !slices.Equal(y.Float64s(), []float64{2.25, 4}) {
		t.Errorf("float16 pow: %v", y)
	}
	z, err := runOp("Pow", nil, f32(vec(1), 3), tensor.FromBits(tensor.BFloat16, nil, []uint16{tensor.F32ToBF16(2)}))
	if err != nil || !same(z, f32(vec(1), 9)) {
		t.Errorf("float32 ** bfloat16: %v, %v", z, err)
	}
}

func TestUnary(t *testing.T) {
	checkCases(t, []opCase{
		{"round half even", "Round", nil, []*tensor.Tensor{f32(vec(6), 0.5, 1.5, 2.5, -0.5, -1.5, 2.4)}, f32(vec(6), 0, 2, 2, 0, -2, 2)},
		{"abs int8", "Abs", nil, []*tensor.Tensor{i8(vec(3), -5, 5, -128)}, i8(vec(3), 5, 5, -128)},
		{"abs uint", "Abs", nil, []*tensor.Tensor{u8(vec(1), 200)}, u8(vec(1), 200)},
		{"neg", "Neg", nil, []*tensor.Tensor{i32(vec(2), -5, 7)}, i32(vec(2), 5, -7)},
		{"sign", "Sign", nil, []*tensor.Tensor{f32(vec(4), -2, 0, 3, nan)}, f32(vec(4), -1, 0, 1, nan)},
		{"sign int", "Sign", nil, []*tensor.Tensor{i64(vec(3), -9, 0, 9)}, i64(vec(3), -1, 0, 1)},
		{"sign uint", "Sign", nil, []*tensor.Tensor{u8(vec(2), 0, 9)}, u8(vec(2), 0, 1)},
		{"reciprocal", "Reciprocal", nil, []*tensor.Tensor{f64(vec(2), 4, -0.5)}, f64(vec(2), 0.25, -2)},
		{"floor ceil", "Floor", nil, []*tensor.Tensor{f32(vec(2), -1.5, 1.5)}, f32(vec(2), -2, 1)},
		{"ceil", "Ceil", nil, []*tensor.Tensor{f32(vec(2), -1.5, 1.5)}, f32(vec(2), -1, 2)},
		{"erf", "Erf", nil, []*tensor.Tensor{f32(vec(2), 0, 0.5)}, f32(vec(2), 0, 0.5204998778130465)},
		{"erf int", "Erf", nil, []*tensor.Tensor{i32(vec(2), 0, 3)}, i32(vec(2), 0, 0)},
		{"not", "Not", nil, []*tensor.Tensor{bools(vec(2), true, false)}, bools(vec(2), false, true)},
		{"bitwise not", "BitwiseNot", nil, []*tensor.Tensor{u8(vec(2), 0, 0x0f)}, u8(vec(2), 0xff, 0xf0)},
		{"bitwise not signed", "BitwiseNot", nil, []*tensor.Tensor{i8(vec(2), 0, -1)}, i8(vec(2), -1, 0)},
		{"isnan", "IsNaN", nil, []*tensor.Tensor{f32(vec(3), nan, inf, 1)}, bools(vec(3), true, false, false)},
		{"isinf", "IsInf", nil, []*tensor.Tensor{f64(vec(4), math.Inf(1), math.Inf(-1), math.NaN(), 1)},
			bools(vec(4), true, true, false, false)},
		{"isinf negative", "IsInf", attrs{"detect_positive": graph.IntAttr(0)},
			[]*tensor.Tensor{f32(vec(2), inf, -inf)}, bools(vec(2), false, true)},
		{"isinf positive", "IsInf", attrs{"detect_negative": graph.IntAttr(0)},
			[]*tensor.Tensor{f32(vec(2), inf, -inf)}, bools(vec(2), true, false)},
	})
	if _, err := runOp("Exp", nil, i32(vec(1), 1)); err == nil {
		t.Error("Exp of int32 succeeded")
	}
	if _, err := runOp("Not", nil, f32(vec(1), 1)); err == nil {
		t.Error("Not of float succeeded")
	}
	if _, err := runOp("IsNaN", nil, i32(vec(1), 1)); err == nil {
		t.Error("IsNaN of int32 succeeded")
	}
}

func TestActivations(t *testing.T) {
	x := f64(vec(3), -1, 0, 1)
	alpha := func(v float32) attrs { return attrs{"alpha": graph.FloatAttr(v)} }
	checkCases(t, []opCase{
		{"relu", "Relu", nil, []*tensor.Tensor{x}, f64(vec(3), 0, 0, 1)},
		{"relu int", "Relu", nil, []*tensor.Tensor{i8(vec(2), -3, 3)}, i8(vec(2), 0, 3)},
		{"leaky", "LeakyRelu", alpha(0.5), []*tensor.Tensor{x}, f64(vec(3), -0.5, 0, 1)},
		{"leaky default", "LeakyRelu", nil, []*tensor.Tensor{x}, f64(vec(3), -float64(float32(0.01)), 0, 1)},
		{"elu", "Elu", alpha(2), []*tensor.Tensor{x}, f64(vec(3), -1.2642411176571153, 0, 1)},
		{"selu", "Selu", nil, []*tensor.Tensor{x}, f64(vec(3), -1.1113307412864784, 0, 1.05070102214813232421875)},
		{"celu", "Celu", alpha(2), []*tensor.Tensor{x}, f64(vec(3), -0.7869386805747332, 0, 1)},
		{"sigmoid", "Sigmoid", nil, []*tensor.Tensor{x}, f64(vec(3), 0.2689414213699951, 0.5, 0.7310585786300049)},
		{"sigmoid extremes", "Sigmoid", nil, []*tensor.Tensor{f32(vec(2), -1000, 1000)}, f32(vec(2), 0, 1)},
		{"hardsigmoid", "HardSigmoid", attrs{"alpha": graph.FloatAttr(0.5), "beta": graph.FloatAttr(0.25)},
			[]*tensor.Tensor{f32(vec(3), -1, 0.5, 2)}, f32(vec(3), 0, 0.5, 1)},
		{"hardswish", "HardSwish", nil, []*tensor.Tensor{f32(vec(3), -4, 0, 3)}, f32(vec(3), 0, 0, 3)},
		{"softplus", "Softplus", nil, []*tensor.Tensor{x}, f64(vec(3), 0.31326168751822286, math.Ln2, 1.3132616875182228)},
		{"softplus large", "Softplus", nil, []*tensor.Tensor{f32(vec(1), 1000)}, f32(vec(1), 1000)},
		{"softsign", "Softsign", nil, []*tensor.Tensor{x}, f64(vec(3), -0.5, 0, 0.5)},
		{"tanh", "Tanh", nil, []*tensor.Tensor{f64(vec(1), 0)}, f64(vec(1), 0)},
		{"thresholded", "ThresholdedRelu", alpha(0.5), []*tensor.Tensor{f32(vec(3), 0.5, 0.6, -1)}, f32(vec(3), 0, 0.6, 0)},
		{"mish", "Mish", nil, []*tensor.Tensor{x}, f64(vec(3), -0.30340146137410895, 0, 0.8650983882673103)},
		{"gelu", "Gelu", nil, []*tensor.Tensor{x}, f64(vec(3), -0.15865525393145707, 0, 0.8413447460685429)},
		{"gelu tanh", "Gelu", attrs{"approximate": graph.StringAttr("tanh")}, []*tensor.Tensor{f64(vec(1), 1)},
			f64(vec(1), 0.8411919906082768)},
		{"shrink", "Shrink", attrs{"bias": graph.FloatAttr(1.5), "lambd": graph.FloatAttr(1)},
			[]*tensor.Tensor{f32(vec(5), -3, -1, 0, 1, 3)}, f32(vec(5), -1.5, 0, 0, 0, 1.5)},
		{"shrink int", "Shrink", attrs{"bias": graph.FloatAttr(1.5), "lambd": graph.FloatAttr(1)},
			[]*tensor.Tensor{i32(vec(3), -3, 1, 3)}, i32(vec(3), -1, 0, 1)},
		{"prelu", "PRelu", nil, []*tensor.Tensor{f32([]int{2, 2}, -1, -1, -2, 2), f32(vec(2), 0.5, 3)},
			f32([]int{2, 2}, -0.5, -3, -1, 2)},
		{"prelu int", "PRelu", nil, []*tensor.Tensor{i64(vec(2), -3, 3), i64(nil, 2)}, i64(vec(2), -6, 3)},
	})
	if _, err := runOp("PRelu", nil, f32(vec(2), 1, 2), f32([]int{2, 2}, 1, 2, 3, 4)); err == nil {
		t.Error("PRelu broadcast X to the slope's shape")
	}
	if _, err := runOp("Gelu", attrs{"approximate": graph.StringAttr("erf")}, x); err == nil {
		t.Error("Gelu accepted approximate=erf")
	}
	if _, err := runOp("LeakyRelu", attrs{"alpha": graph.IntAttr(1)}, x); err == nil {
		t.Error("LeakyRelu accepted an int alpha")
	}
}

func TestClip(t *testing.T) {
	checkCases(t, []opCase{
		{"both", "Clip", nil, []*tensor.Tensor{f32(vec(4), -2, 0, 2, nan), f32(nil, -1), f32(nil, 1)}, f32(vec(4), -1, 0, 1, nan)},
		{"none", "Clip", nil, []*tensor.Tensor{f32(vec(2), -1e30, 1e30)}, f32(vec(2), -1e30, 1e30)},
		{"max only", "Clip", nil, []*tensor.Tensor{i8(vec(3), -128, 0, 127), nil, i8(nil, 5)}, i8(vec(3), -128, 0, 5)},
		{"min only", "Clip", nil, []*tensor.Tensor{u64(vec(2), 1<<63, 3), u64(nil, 1<<62)}, u64(vec(2), 1<<63, 1<<62)},
		{"min > max gives max", "Clip", nil, []*tensor.Tensor{i32(vec(3), -5, 0, 5), i32(nil, 2), i32(nil, 1)}, i32(vec(3), 1, 1, 1)},
	})
	if _, err := runOp("Clip", nil, f32(vec(1), 0), f32(vec(2), 0, 1)); err == nil {
		t.Error("Clip accepted a non-scalar min")
	}
}

func TestWhere(t *testing.T) {
	cond := bools([]int{2, 1}, true, false)
	checkCases(t, []opCase{
		{"3-way", "Where", nil, []*tensor.Tensor{cond, strs(vec(2), "a", "b"), strs(nil, "z")},
			strs([]int{2, 2}, "a", "b", "z", "z")},
		{"ints", "Where", nil, []*tensor.Tensor{bools(vec(3), true, false, true), i64(vec(3), 1, 2, 3), i64(vec(3), -1, -2, -3)},
			i64(vec(3), 1, -2, 3)},
	})
	h := tensor.FromBits(tensor.Float16, vec(2), []uint16{1, 2})
	y, err := runOp("Where", nil, bools(vec(2), false, true), h, tensor.FromBits(tensor.Float16, nil, []uint16{7}))
	if err != nil || y.DType != tensor.Float16 || !slices.Equal(y.Data.([]uint16), []uint16{7, 2}) {
		t.Errorf("float16 where: %v %v", y, err)
	}
	if _, err := runOp("Where", nil, i32(vec(1), 1), f32(vec(1), 1), f32(vec(1), 2)); err == nil {
		t.Error("Where accepted an int32 condition")
	}
	if _, err := runOp("Where", nil, cond, f32(vec(1), 1), f64(vec(1), 2)); err == nil {
		t.Error("Where accepted X and Y of different types")
	}
}

func TestCast(t *testing.T) {
	to := func(code int64) attrs { return attrs{"to": graph.IntAttr(code)} }
	checkCases(t, []opCase{
		{"float to int32 truncates", "Cast", to(6), []*tensor.Tensor{f32(vec(3), -1.7, 1.7, 2)}, i32(vec(3), -1, 1, 2)},
		{"int to string", "Cast", to(8), []*tensor.Tensor{i64(vec(2), -3, 1<<62)}, strs(vec(2), "-3", "4611686018427387904")},
		{"string to double", "Cast", to(11), []*tensor.Tensor{strs(vec(2), "1.5", "-INF")}, f64(vec(2), 1.5, math.Inf(-1))},
		{"to bool", "Cast", to(9), []*tensor.Tensor{f32(vec(3), 0, 0.1, -2)}, bools(vec(3), false, true, true)},
		{"same type", "Cast", to(1), []*tensor.Tensor{f32(vec(1), 3)}, f32(vec(1), 3)},
		{"castlike", "CastLike", nil, []*tensor.Tensor{f64(vec(2), 1.5, 300), u8(nil, 0)}, u8(vec(2), 1, 44)},
		{"identity", "Identity", nil, []*tensor.Tensor{strs(vec(1), "x")}, strs(vec(1), "x")},
	})
	h, err := runOp("Cast", to(10), f32(vec(2), 1, 65520))
	if err != nil || h.DType != tensor.Float16 || !slices.Equal(h.Data.([]uint16), []uint16{0x3c00, 0x7c00}) {
		t.Errorf("float to float16: %v %v", h, err)
	}
	for _, code := range []int64{14, 17, 99} {
		if _, err := runOp("Cast", to(code), f32(vec(1), 1)); err == nil {
			t.Errorf("Cast to %d succeeded", code)
		}
	}
	if _, err := runOp("Cast", nil, f32(vec(1), 1)); err == nil {
		t.Error("Cast without `to` succeeded")
	}
}

func TestInputErrors(t *testing.T) {
	for _, c := range []struct {
		op string
		in []*tensor.Tensor
	}{
		{"Add", []*tensor.Tensor{f32(vec(2), 1, 2), f32(vec(3), 1, 2, 3)}},
		{"Add", []*tensor.Tensor{f32(vec(1), 1), f64(vec(1), 1)}},
		{"Add", []*tensor.Tensor{f32(vec(1), 1)}},
		{"Add", []*tensor.Tensor{strs(vec(1), "a"), strs(vec(1), "b")}},
		{"And", []*tensor.Tensor{i32(vec(1), 1), i32(vec(1), 1)}},
		{"Greater", []*tensor.Tensor{bools(vec(1), true), bools(vec(1), true)}},
		{"BitShift", []*tensor.Tensor{u8(vec(1), 1), u8(vec(1), 1)}}, // no direction
		{"Sum", []*tensor.Tensor{f32(vec(1), 1), nil}},
		{"Pow", []*tensor.Tensor{f32(vec(1), 1), bools(vec(1), true)}},
		{"Pow", []*tensor.Tensor{bools(vec(1), true), f32(vec(1), 1)}},
	} {
		if y, err := runOp(c.op, nil, c.in...); err == nil {
			t.Errorf("%s%v succeeded: %v", c.op, c.in, y)
		}
	}
}

// TestParallel runs large broadcasts over the pool and checks them against
// the same op on a serial context.
func TestParallel(t *testing.T) {
	a := tensor.Zeros(tensor.Float32, 7, 129, 33)
	for i, v := range a.F32() {
		a.F32()[i] = float32(i%97) - 40 + v
	}
	bShapes := [][]int{{7, 129, 33}, {33}, {129, 1}, {7, 1, 33}, {}}
	for _, bs := range bShapes {
		b := tensor.Zeros(tensor.Float32, bs...)
		for i := range b.F32() {
			b.F32()[i] = float32(i%13) + 1
		}
		got, err := runOp("Div", nil, a, b)
		if err != nil {
			t.Fatal(err)
		}
		g := got.F32()
		for o := range g {
			want := a.F32()[o] / b.F32()[naiveOffset(bs, a.Shape, o)]
			if g[o] != want {
				t.Fatalf("b%v: element %d is %v, want %v", bs, o, g[o], want)
			}
		}
	}
}

func TestInfer(t *testing.T) {
	n := graph.Sym("N")
	x := graph.Type{DType: tensor.Float32, Shape: []graph.Dim{n, graph.Fixed(1)}, Ranked: true}
	y := graph.TensorType(tensor.Float32, 4)
	infer := func(op string, attrs attrs, in ...graph.Type) graph.Type {
		def, _ := ops.Lookup("", op)
		node := &graph.Node{Op: op, Attrs: attrs, Outputs: []string{"y"}}
		for i := range in {
			node.Inputs = append(node.Inputs, fmt.Sprint("x", i))
		}
		out, err := def.Infer(&ops.Build{Node: node, Types: in}, in)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return out[0]
	}
	if got := infer("Add", nil, x, y); got.String() != "float32[N,4]" {
		t.Errorf("Add: %v", got)
	}
	if got := infer("Less", nil, x, y); got.String() != "bool[N,4]" {
		t.Errorf("Less: %v", got)
	}
	if got := infer("Sum", nil, y, x, graph.TensorType(tensor.Float32)); got.String() != "float32[N,4]" {
		t.Errorf("Sum: %v", got)
	}
	if got := infer("Where", nil, graph.TensorType(tensor.Bool, 3, 1), graph.TensorType(tensor.Int64, 5), graph.TensorType(tensor.Int64)); got.String() != "int64[3,5]" {
		t.Errorf("Where: %v", got)
	}
	if got := infer("Cast", attrs{"to": graph.IntAttr(7)}, x); got.String() != "int64[N,1]" {
		t.Errorf("Cast: %v", got)
	}
	if got := infer("CastLike", nil, x, graph.TensorType(tensor.Uint8)); got.String() != "uint8[N,1]" {
		t.Errorf("CastLike: %v", got)
	}
	if got := infer("IsNaN", nil, x); got.String() != "bool[N,1]" {
		t.Errorf("IsNaN: %v", got)
	}
	if got := infer("Pow", nil, graph.TensorType(tensor.Int32, 2), graph.TensorType(tensor.Float32)); got.String() != "int32[2]" {
		t.Errorf("Pow: %v", got)
	}
}
