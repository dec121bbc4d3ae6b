package goengine

import (
	"math"

	"github.com/tfseg/tfseg/engine/goengine/internal/vec"
	"github.com/tfseg/tfseg/tfops"
)

// Elementwise math kernels. Semantics follow TensorFlow 2's CPU kernels
// (tensorflow/core/kernels/cwise_ops.h over Eigen):
//
//   - float32 Exp, Log, Log1p and Sigmoid are the vector kernels of
//     internal/vec (vec.Exp32, ...: float32 arithmetic with fused
//     multiply-adds after the Cephes/Eigen designs, within 1.1, 0.9, 1.4
//     and 2.3 ulp of the correctly rounded result); the other float32
//     transcendental functions (Expm1, Tanh, Pow, Sqrt, Rsqrt) are computed
//     with Go's math package on float64 and rounded once. Both are within
//     TensorFlow's own error bounds (a few ulp) of its Eigen
//     approximations;
//   - Pow(x, 2) is x·x exactly rounded (pow64 is within 2 ulp otherwise);
//   - Maximum and Minimum propagate NaN from either operand
//     (scalar_max_op<T, T, PropagateNaN>); among equal values (+0 and -0)
//     they return x;
//   - Relu(NaN) is NaN, Relu(-0) is -0 (features.cwiseMax(0));
//   - Sign(NaN) is NaN and Sign(±0) is +0 (Eigen's sign_impl);
//   - Round rounds half to even;
//   - Elu is exp(x) - 1 computed in the input's precision, as TensorFlow;
//   - integer FloorDiv/FloorMod by zero and integer Pow to a negative
//     power are errors, as TensorFlow's safe_* functors make them;
//     float FloorDiv is floor(x / y) and FloorMod is fmod(x, y) moved to
//     y's sign (Python semantics).
//
// Unlike TensorFlow, which runs kernels with denormals flushed to zero,
// the Go engine keeps IEEE gradual underflow.

// number is the set of numeric element types the math kernels support.
type number interface {
	~float32 | ~float64 | ~int32 | ~int64
}

type float interface{ ~float32 | ~float64 }

type integer interface{ ~int32 | ~int64 }

func init() {
	// Unary, same dtype out.
	regUnary("Neg", grainCheap, negF[float32], negF[float64], neg[int32], neg[int64])
	regUnary("Abs", grainCheap, absF[float32], absF[float64], absI[int32], absI[int64])
	regUnary("Square", grainCheap, viaF64[float32](func(x float64) float64 { return x * x }), square[float64], square[int32], square[int64])
	regUnary("Sign", grainCheap, signF[float32], signF[float64], signI[int32], signI[int64])
	regUnary("Round", grainCheap, viaF64[float32](math.RoundToEven), math.RoundToEven, ident[int32], ident[int64])
	regUnary("Relu", grainCheap, relu[float32], relu[float64], relu[int32], relu[int64])
	regUnary("Relu6", grainCheap, relu6[float32], relu6[float64], relu6[int32], relu6[int64])
	regUnary("Reciprocal", grainCheap, viaF64[float32](recip[float64]), recip[float64], nil, nil)
	regUnary("Inv", grainCheap, viaF64[float32](recip[float64]), recip[float64], nil, nil)
	regUnary("Rint", grainCheap, vec.Rint32, math.RoundToEven, nil, nil)
	regUnary("Floor", grainCheap, viaF64[float32](math.Floor), math.Floor, nil, nil)
	regUnary("Ceil", grainCheap, viaF64[float32](math.Ceil), math.Ceil, nil, nil)
	regUnary("Exp", grainHeavy, vec.Exp32, math.Exp, nil, nil)
	// libm's expm1f and log1p return a tiny argument unchanged, denormals
	// included; Eigen's double expm1 reads denormals as zero.
	regUnary("Expm1", grainHeavy, tinyIdentity32(math.Expm1), func(x float64) float64 { return flush64(math.Expm1(flush64(x))) }, nil, nil)
	regUnary("Log", grainHeavy, vec.Log32, math.Log, nil, nil)
	regUnary("Log1p", grainHeavy, vec.Log1p32, tinyIdentity64(math.Log1p), nil, nil)
	regUnary("Tanh", grainHeavy, viaF64[float32](math.Tanh), math.Tanh, nil, nil)
	regUnary("Sigmoid", grainHeavy, vec.Sigmoid32, sigmoid64, nil, nil)
	regUnary("Sqrt", grainHeavy, viaF64[float32](math.Sqrt), math.Sqrt, nil, nil)
	regUnary("Rsqrt", grainHeavy, viaF64[float32](rsqrt64), rsqrt64, nil, nil)
	regUnary("Elu", grainHeavy, elu32, elu64, nil, nil)
	Register("IsNan", unaryKernel(grainCheap, flushArith, map[tfops.DType]any{
		tfops.Float: func(a float32) bool { return a != a }, tfops.Double: math.IsNaN}))
	Register("IsInf", unaryKernel(grainCheap, flushArith, map[tfops.DType]any{
		tfops.Float:  func(a float32) bool { return math.IsInf(float64(a), 0) },
		tfops.Double: func(a float64) bool { return math.IsInf(a, 0) }}))
	Register("IsFinite", unaryKernel(grainCheap, flushArith, map[tfops.DType]any{
		tfops.Float:  func(a float32) bool { return !math.IsInf(float64(a), 0) && a == a },
		tfops.Double: func(a float64) bool { return !math.IsInf(a, 0) && a == a }}))
	Register("LogicalNot", unaryKernel(grainCheap, flushArith, map[tfops.DType]any{tfops.Bool: func(a bool) bool { return !a }}))

	// Binary, same dtype out.
	// float32 arithmetic runs in float64 (exact for +, -, *, and
	// correctly rounded for /) so that out32 sees the unrounded result.
	for _, name := range []string{"AddV2", "Add"} {
		regBinary(name, bin32(add[float64]), add[float64], add[int32], add[int64])
	}
	regBinary("Sub", bin32(sub[float64]), sub[float64], sub[int32], sub[int64])
	regBinary("Mul", bin32(mul[float64]), mul[float64], mul[int32], mul[int64])
	for _, name := range []string{"RealDiv", "Div"} {
		regBinary(name, bin32(div[float64]), div[float64], nil, nil)
	}
	regBinary("DivNoNan", bin32(divNoNan[float64]), divNoNan[float64], nil, nil)
	regBinary("Maximum", vec.MaxNaN[float32], vec.MaxNaN[float64], maxI[int32], maxI[int64])
	regBinary("Minimum", vec.MinNaN[float32], vec.MinNaN[float64], minI[int32], minI[int64])
	regBinary("SquaredDifference", sqDiff32, sqDiff[float64], sqDiff[int32], sqDiff[int64])
	regBinary("FloorDiv", floorDiv32, floorDivF[float64], floorDivI[int32], floorDivI[int64])
	regBinary("FloorMod", floorModF[float32], floorModF[float64], floorModI[int32], floorModI[int64])
	regBinary("Pow", bin32(powSquare), powSquare, ipow[int32], ipow[int64])
	Register("LogicalAnd", binaryKernel(flushArith, map[tfops.DType]any{tfops.Bool: func(a, b bool) bool { return a && b }}, nil))
	Register("LogicalOr", binaryKernel(flushArith, map[tfops.DType]any{tfops.Bool: func(a, b bool) bool { return a || b }}, nil))

	// Comparisons.
	regCompare("Equal", eq[float32], eq[float64], eq[int32], eq[int64], func(a, b bool) bool { return a == b })
	regCompare("NotEqual", ne[float32], ne[float64], ne[int32], ne[int64], func(a, b bool) bool { return a != b })
	regCompare("Less", lt[float32], lt[float64], lt[int32], lt[int64], nil)
	regCompare("LessEqual", le[float32], le[float64], le[int32], le[int64], nil)
	regCompare("Greater", gt[float32], gt[float64], gt[int32], gt[int64], nil)
	regCompare("GreaterEqual", ge[float32], ge[float64], ge[int32], ge[int64], nil)
}

// unary32 and binary32 hold the float32 function of every op registered
// with regUnary and regBinary: fused regions (fuse_program.go) evaluate
// ops without a vector kernel with them, under the op's flushModes entry.
var (
	unary32  = map[string]func(float32) float32{}
	binary32 = map[string]func(a, b float32) float32{}
)

// regUnary registers a same-dtype elementwise kernel; nil entries mark
// dtypes the op does not support. float32 runs through the op's vector
// kernel when it has one (vec.Unary32, generated from internal/vec's table).
func regUnary(name string, grain int, f32 func(float32) float32, f64 func(float64) float64,
	i32 func(int32) int32, i64 func(int64) int64) {
	k := unaryKernel(grain, flushModes[name], typedFuncs(f32, f64, i32, i64, nil))
	if f32 != nil {
		unary32[name] = f32
	}
	if vk := vec.Unary32[name]; vk != nil {
		k = vecUnaryKernel(k, grain, vk)
	}
	Register(name, k)
}

// vecUnaryKernel runs float32 inputs through a vector kernel, in parallel
// chunks, and other dtypes through k.
func vecUnaryKernel(k Kernel, grain int, kernelOf func(*vec.Kernels) func(dst, x []float32)) Kernel {
	return func(c *Context) ([]*tfops.Tensor, error) {
		if len(c.Inputs) != 1 || c.Inputs[0].DType() != tfops.Float {
			return k(c)
		}
		x := c.Inputs[0]
		out, err := c.AllocUninit(tfops.Float, x.Shape()...)
		if err != nil {
			return nil, err
		}
		f := kernelOf(vec.Current())
		xs, o := x.Float32s(), out.Float32s()
		c.parallel(len(o), grain, func(lo, hi int) { f(o[lo:hi], xs[lo:hi]) })
		return []*tfops.Tensor{out}, nil
	}
}

func regBinary(name string, f32 func(a, b float32) float32, f64 func(a, b float64) float64,
	i32 func(a, b int32) int32, i64 func(a, b int64) int64) {
	if f32 != nil {
		binary32[name] = f32
	}
	Register(name, binaryKernel(flushModes[name], typedFuncs(f32, f64, i32, i64, nil), divisorCheck[name]))
}

// powSquare is pow64, except that x**2 is x·x: exact before the final
// rounding, so Pow(x, 2) is the correctly rounded square, as libm's pow
// gives it (pow64 may be off by an ulp in the rare ties).
func powSquare(x, y float64) float64 {
	if y == 2 {
		return x * x
	}
	return pow64(x, y)
}

func regCompare(name string, f32 func(a, b float32) bool, f64 func(a, b float64) bool,
	i32 func(a, b int32) bool, i64 func(a, b int64) bool, b func(a, b bool) bool) {
	Register(name, binaryKernel(flushArith, typedFuncs(f32, f64, i32, i64, b), nil))
}

// typedFuncs maps dtypes to the non-nil functions given for them.
func typedFuncs(f32, f64, i32, i64, b any) map[tfops.DType]any {
	m := map[tfops.DType]any{}
	for d, f := range map[tfops.DType]any{tfops.Float: f32, tfops.Double: f64, tfops.Int32: i32, tfops.Int64: i64, tfops.Bool: b} {
		if !isNilFunc(f) {
			m[d] = f
		}
	}
	return m
}

func isNilFunc(f any) bool {
	switch g := f.(type) {
	case nil:
		return true
	case func(float32) float32:
		return g == nil
	case func(float64) float64:
		return g == nil
	case func(int32) int32:
		return g == nil
	case func(int64) int64:
		return g == nil
	case func(a, b float32) float32:
		return g == nil
	case func(a, b float64) float64:
		return g == nil
	case func(a, b int32) int32:
		return g == nil
	case func(a, b int64) int64:
		return g == nil
	case func(a, b float32) bool:
		return g == nil
	case func(a, b float64) bool:
		return g == nil
	case func(a, b int32) bool:
		return g == nil
	case func(a, b int64) bool:
		return g == nil
	case func(a, b bool) bool:
		return g == nil
	}
	return false
}

// unaryKernel dispatches on the input dtype to one of fs (func(T) R values).
func unaryKernel(grain int, mode flushMode, fs map[tfops.DType]any) Kernel {
	return func(c *Context) ([]*tfops.Tensor, error) {
		if err := c.CheckInputs(1); err != nil {
			return nil, err
		}
		x := c.Inputs[0]
		var out *tfops.Tensor
		var err error
		switch f := fs[x.DType()].(type) {
		case func(float32) float32:
			out, err = applyUnary(c, x, tfops.Float, grain, mode, f)
		case func(float64) float64:
			out, err = applyUnary(c, x, tfops.Double, grain, mode, f)
		case func(int32) int32:
			out, err = applyUnary(c, x, tfops.Int32, grain, mode, f)
		case func(int64) int64:
			out, err = applyUnary(c, x, tfops.Int64, grain, mode, f)
		case func(float32) bool:
			out, err = applyUnary(c, x, tfops.Bool, grain, mode, f)
		case func(float64) bool:
			out, err = applyUnary(c, x, tfops.Bool, grain, mode, f)
		case func(bool) bool:
			out, err = applyUnary(c, x, tfops.Bool, grain, mode, f)
		default:
			return nil, c.unsupportedDType(x.DType())
		}
		if err != nil {
			return nil, err
		}
		return []*tfops.Tensor{out}, nil
	}
}

// divisorCheck validates the second operand of integer ops that
// TensorFlow's safe_* functors guard.
var divisorCheck = map[string]func(c *Context, y *tfops.Tensor) error{
	"FloorDiv": checkNonZero, "FloorMod": checkNonZero,
	"Pow": func(c *Context, y *tfops.Tensor) error {
		if anyInt(y, func(v int64) bool { return v < 0 }) {
			return c.Errorf("Integers to negative integer powers are not allowed")
		}
		return nil
	},
}

func checkNonZero(c *Context, y *tfops.Tensor) error {
	if anyInt(y, func(v int64) bool { return v == 0 }) {
		return c.Errorf("Integer division by zero")
	}
	return nil
}

// anyInt reports whether an int32/int64 tensor has an element satisfying
// pred; other dtypes report false.
func anyInt(t *tfops.Tensor, pred func(int64) bool) bool {
	switch v := t.Data().(type) {
	case []int32:
		for _, e := range v {
			if pred(int64(e)) {
				return true
			}
		}
	case []int64:
		for _, e := range v {
			if pred(e) {
				return true
			}
		}
	}
	return false
}

// binaryKernel dispatches on the inputs' dtype to one of fs (func(a, b T) R).
func binaryKernel(mode flushMode, fs map[tfops.DType]any, check func(c *Context, y *tfops.Tensor) error) Kernel {
	return func(c *Context) ([]*tfops.Tensor, error) {
		if err := c.CheckInputs(2); err != nil {
			return nil, err
		}
		x, y := c.Inputs[0], c.Inputs[1]
		if x.DType() != y.DType() {
			return nil, c.Errorf("x is %v but y is %v", x.DType(), y.DType())
		}
		if check != nil {
			if err := check(c, y); err != nil {
				return nil, err
			}
		}
		var out *tfops.Tensor
		var err error
		g := grainCheap
		switch f := fs[x.DType()].(type) {
		case func(a, b float32) float32:
			out, err = applyBinary(c, x, y, tfops.Float, g, mode, f)
		case func(a, b float64) float64:
			out, err = applyBinary(c, x, y, tfops.Double, g, mode, f)
		case func(a, b int32) int32:
			out, err = applyBinary(c, x, y, tfops.Int32, g, mode, f)
		case func(a, b int64) int64:
			out, err = applyBinary(c, x, y, tfops.Int64, g, mode, f)
		case func(a, b float32) bool:
			out, err = applyBinary(c, x, y, tfops.Bool, g, mode, f)
		case func(a, b float64) bool:
			out, err = applyBinary(c, x, y, tfops.Bool, g, mode, f)
		case func(a, b int32) bool:
			out, err = applyBinary(c, x, y, tfops.Bool, g, mode, f)
		case func(a, b int64) bool:
			out, err = applyBinary(c, x, y, tfops.Bool, g, mode, f)
		case func(a, b bool) bool:
			out, err = applyBinary(c, x, y, tfops.Bool, g, mode, f)
		default:
			return nil, c.unsupportedDType(x.DType())
		}
		if err != nil {
			return nil, err
		}
		return []*tfops.Tensor{out}, nil
	}
}

// unsupportedDType is the error for an input dtype an op has no kernel for.
func (c *Context) unsupportedDType(d tfops.DType) error {
	return c.Errorf("no %s kernel for dtype %v", c.Node.GetOp(), d)
}

// viaF64 evaluates f in float64 and rounds once (out32 for float32, which
// also applies flush-to-zero exactly as the processor would).
func viaF64[T float](f func(float64) float64) func(T) T {
	var z T
	if _, ok := any(z).(float32); ok {
		return func(x T) T { return T(out32(f(float64(x)))) }
	}
	return func(x T) T { return T(f(float64(x))) }
}

// tinyIdentity32 is f for float32 with denormal arguments returned
// unchanged (the kernel runs with flushNone).
func tinyIdentity32(f func(float64) float64) func(float32) float32 {
	return func(x float32) float32 {
		if vec.IsDenormal32(x) {
			return x
		}
		return out32(f(float64(x)))
	}
}

func tinyIdentity64(f func(float64) float64) func(float64) float64 {
	return func(x float64) float64 {
		if isDenormal64(x) {
			return x
		}
		return flush64(f(x))
	}
}

func ident[T number](x T) T { return x }

// negF is 0 - x, as Eigen evaluates it: Neg(±0) is +0.
func negF[T float](x T) T    { return 0 - x }
func neg[T number](x T) T    { return -x }
func square[T number](x T) T { return x * x }
func absF[T float](x T) T    { return T(math.Abs(float64(x))) }
func absI[T integer](x T) T {
	if x < 0 {
		return -x
	}
	return x
}

func signF[T float](x T) T {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	case x == 0:
		return 0
	}
	return x // NaN
}

func signI[T integer](x T) T {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

func relu[T number](x T) T {
	if x < 0 {
		return 0
	}
	return x
}

func relu6[T number](x T) T {
	if x < 0 {
		x = 0
	}
	if 6 < x {
		return 6
	}
	return x
}

func recip[T float](x T) T { return 1 / x }

// sigmoid64 is 1 / (1 + e^-x), evaluated so neither branch overflows.
func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func rsqrt64(x float64) float64 { return 1 / math.Sqrt(x) }

// elu32 is TensorFlow's (x < 0 ? exp(x) - 1 : x) with the subtraction in
// float32, as Eigen evaluates it; the comparison reads a denormal as zero
// and the select passes x through unchanged (flushNone).
func elu32(x float32) float32 {
	if flush32(x) < 0 {
		return out32(float64(out32(math.Exp(float64(x)))) - 1)
	}
	return x
}

func elu64(x float64) float64 {
	if flush64(x) < 0 {
		return flush64(flush64(math.Exp(x)) - 1)
	}
	return x
}

// bin32 evaluates a float64 function on float32 operands and rounds with
// out32.
func bin32(f func(a, b float64) float64) func(a, b float32) float32 {
	return func(a, b float32) float32 { return out32(f(float64(a), float64(b))) }
}

func add[T number](a, b T) T    { return a + b }
func sub[T number](a, b T) T    { return a - b }
func mul[T number](a, b T) T    { return a * b }
func div[T float](a, b T) T     { return a / b }
func sqDiff[T number](a, b T) T { d := a - b; return d * d }

func divNoNan[T float](a, b T) T {
	if b == 0 {
		return 0
	}
	return a / b
}

func maxI[T integer](a, b T) T {
	if a < b {
		return b
	}
	return a
}

func minI[T integer](a, b T) T {
	if b < a {
		return b
	}
	return a
}

// sqDiff32 is (x - y)² with each step rounded to float32, as Eigen does.
func sqDiff32(a, b float32) float32 {
	d := float64(out32(float64(a) - float64(b)))
	return out32(d * d)
}

// floorDiv32 is floorDivF for float32 with the quotient rounded by out32.
func floorDiv32(a, b float32) float32 {
	return float32(math.Floor(float64(out32(float64(a) / float64(b)))))
}

// floorDivF is TensorFlow's google_floor_div_real: floor(x / y), the
// quotient flushed to zero when denormal.
func floorDivF[T float](a, b T) T { return T(math.Floor(float64(flushF(a / b)))) }

// flushF is flush32 or flush64 by T, for intermediate results.
func flushF[T float](x T) T {
	if _, ok := any(x).(float32); ok {
		return T(flush32(float32(x)))
	}
	return T(flush64(float64(x)))
}

// floorDivI rounds the quotient toward -Inf (b != 0 is checked first).
func floorDivI[T integer](a, b T) T {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// floorModF is TensorFlow's google_floor_fmod: fmod moved to y's sign.
// As measured on TensorFlow's CPU kernel, fmod reads a denormal divisor as
// zero (giving NaN) but returns a denormal dividend unchanged; the sign
// test and the addition read denormals as zeros (the kernel runs with
// flushNone).
func floorModF[T float](a, b T) T {
	fb := flushF(b)
	m := T(math.Mod(float64(a), float64(fb)))
	fm := flushF(m)
	if fm != 0 && ((fb < 0) != (fm < 0)) {
		return flushF(fm + fb)
	}
	return m
}

func floorModI[T integer](a, b T) T {
	m := a % b
	if m != 0 && ((b < 0) != (m < 0)) {
		m += b
	}
	return m
}

// ipow is integer exponentiation by squaring (wrapping on overflow);
// negative exponents are rejected before it runs.
func ipow[T integer](a, b T) T {
	r := T(1)
	for b > 0 {
		if b&1 != 0 {
			r *= a
		}
		a *= a
		b >>= 1
	}
	return r
}

func eq[T number](a, b T) bool { return a == b }
func ne[T number](a, b T) bool { return a != b }
func lt[T number](a, b T) bool { return a < b }
func le[T number](a, b T) bool { return a <= b }
func gt[T number](a, b T) bool { return a > b }
func ge[T number](a, b T) bool { return a >= b }
