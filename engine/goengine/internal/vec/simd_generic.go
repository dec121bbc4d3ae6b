package vec

import "math"

// genericKernels are the pure-Go vector kernels. They define the results
// (TensorFlow's float32 semantics with denormals flushed, see
// flush.go); the assembly kernels reproduce them bit for bit.
var genericKernels = Kernels{
	Name:      "go",
	opKernels: genericOps,
	sumLanes:  sumLanesGo,
}

// binaryGo applies f to the operands read with denormals as zeros.
func binaryGo(f func(a, b float32) float32) func(dst, a, b []float32) {
	return func(dst, a, b []float32) {
		a, b = a[:len(dst)], b[:len(dst)]
		for i := range dst {
			dst[i] = f(Flush32(a[i]), Flush32(b[i]))
		}
	}
}

// unaryGo applies f to the operand read with denormals as zeros.
func unaryGo(f func(x float32) float32) func(dst, x []float32) {
	return func(dst, x []float32) {
		x = x[:len(dst)]
		for i := range dst {
			dst[i] = f(Flush32(x[i]))
		}
	}
}

// rawUnaryGo applies f, which handles denormals itself.
func rawUnaryGo(f func(x float32) float32) func(dst, x []float32) {
	return func(dst, x []float32) {
		x = x[:len(dst)]
		for i := range dst {
			dst[i] = f(x[i])
		}
	}
}

// absGo clears the sign bit (denormals stay, as in TensorFlow's Abs).
func absGo(dst, x []float32) {
	x = x[:len(dst)]
	for i := range dst {
		dst[i] = f32From(f32Bits(x[i]) &^ (1 << 31))
	}
}

// divNoNan32 is a/b, or 0 where b is zero.
func divNoNan32(a, b float32) float32 {
	if b == 0 {
		return 0
	}
	return Round32(float64(a) / float64(b))
}

// relu32 is TensorFlow's Relu: x unless x < 0 (NaN and -0 stay).
func relu32(x float32) float32 {
	if x < 0 {
		return 0
	}
	return x
}

// Rint32 is x rounded to the nearest integer, ties to even: TensorFlow's
// Rint (cwise_ops.h: Eigen::numext::rint), exact in float32.
func Rint32(x float32) float32 { return float32(math.RoundToEven(float64(x))) }

// clipGo is the loop of goengine's ClipByValue (clipOf,
// kernels_select.go): min(x, hi) then max(·, lo), operands read with
// denormals as zeros.
func clipGo(dst, x, lo, hi []float32) {
	x, lo, hi = x[:len(dst)], lo[:len(dst)], hi[:len(dst)]
	for i := range dst {
		v, l, h := Flush32(x[i]), Flush32(lo[i]), Flush32(hi[i])
		if h < v {
			v = h
		}
		if v < l {
			v = l
		}
		dst[i] = v
	}
}

// sumLanesGo is the reference lane summation (see SumBlock).
func sumLanesGo(x []float32, lanes *[SumLaneCount]float64) {
	i := 0
	for ; i+SumLaneCount <= len(x); i += SumLaneCount {
		v := x[i : i+SumLaneCount]
		for j := range lanes {
			lanes[j] += float64(Flush32(v[j]))
		}
	}
	for j := 0; i < len(x); i, j = i+1, j+1 {
		lanes[j] += float64(Flush32(x[i]))
	}
}
