// Package mathops owns Stride's elementwise operators: unary math (Abs,
// Exp, Sin, Erf, IsNaN, ...), activations (Relu, Sigmoid, Gelu, Clip, ...),
// broadcasting binary and variadic ops (Add, Pow, Mod, Max, Sum, Mean, the
// comparisons, logical and bitwise ops, BitShift), Where, and the type ops
// Cast, CastLike and Identity.
//
// Every op is an entry in a table (name -> element functions), not a case
// in a switch. An op gives one element function per computation domain:
// floats are computed in float64, signed integers in int64 and unsigned
// integers in uint64, and the results are stored back in the tensor's own
// element type. That keeps integer results exact (wrap-around included),
// float32 results correctly rounded wherever the float64 function is, and
// lets one generic loop per domain serve every storage type (see dtype.go).
// Float16 and BFloat16 inputs reach most kernels as float32 (the runtime
// widens them); the type-generic ops (Where, Cast, CastLike, Identity, Pow)
// handle them natively.
//
// Binary, variadic and ternary ops share a small broadcasting engine
// (broadcast.go): it collapses the output shape into as few dimensions as
// the inputs' broadcast pattern allows, so same-shape and scalar operands
// become a single contiguous run, a trailing broadcast (say [N,C] + [C])
// becomes runs of C, and anything else is walked by a strided odometer.
// Loops are split over the worker pool with Ctx.For.
//
// Float32 tensors of the ops CNNs spend their time in (Relu, LeakyRelu,
// Clip, Sigmoid, Tanh, HardSigmoid, HardSwish, Exp, Neg, Abs, Sqrt,
// Reciprocal; Add, Sub, Mul, Div, Max, Min, Sum, Mean, PRelu) take vector
// fast paths instead (vector.go): whole runs go to the SIMD kernels of
// stride/internal/kern, computed in float32. The table functions above stay
// the reference and serve every other type and op.
package mathops
