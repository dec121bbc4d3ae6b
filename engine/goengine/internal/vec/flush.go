package vec

import "math"

// Flush-to-zero. TensorFlow's CPU executor runs every kernel with the
// processor's flush-to-zero and denormals-are-zero modes on
// (port::ScopedFlushDenormal in executor.cc): arithmetic reads a denormal
// operand as a zero of the same sign and writes a denormal result as a
// signed zero. The Go kernels spell this out with Flush32 on operands and
// Round32 on results; the assembly kernels set the MXCSR bits.

// Round32 rounds a float64 result to float32 the way the processor does in
// flush-to-zero mode: a result whose magnitude, rounded to float32's
// precision with an unbounded exponent, is below the smallest normal
// float32 becomes a signed zero.
func Round32(v float64) float32 {
	if v != 0 && v > -(0x1p-126-0x1p-151) && v < 0x1p-126-0x1p-151 {
		return float32(math.Copysign(0, v))
	}
	return float32(v)
}

// Flush32 maps a denormal to the zero of its sign (other values are
// returned as they are).
func Flush32(x float32) float32 {
	if b := math.Float32bits(x); b&0x7f800000 == 0 {
		return math.Float32frombits(b & 0x80000000)
	}
	return x
}

// IsDenormal32 reports whether x is a nonzero float32 with a zero exponent.
func IsDenormal32(x float32) bool {
	b := math.Float32bits(x)
	return b&0x7f800000 == 0 && b&0x007fffff != 0
}

// hasDenormalGo is HasDenormal's reference loop, and its code without
// AVX-512.
func hasDenormalGo(v []float32) bool {
	for _, x := range v {
		if IsDenormal32(x) {
			return true
		}
	}
	return false
}

// MaxNaN is Eigen's scalar_max_op with PropagateNaN (TensorFlow's
// Maximum): a NaN operand is the result (a's first), else the larger.
func MaxNaN[T ~float32 | ~float64](a, b T) T {
	if a != a {
		return a
	}
	if b != b {
		return b
	}
	if a < b {
		return b
	}
	return a
}

// MinNaN is Eigen's scalar_min_op with PropagateNaN (TensorFlow's
// Minimum): a NaN operand is the result (a's first), else the smaller.
func MinNaN[T ~float32 | ~float64](a, b T) T {
	if a != a {
		return a
	}
	if b != b {
		return b
	}
	if b < a {
		return b
	}
	return a
}
