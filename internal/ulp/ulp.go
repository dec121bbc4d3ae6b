// Package ulp measures the distance between two floating-point numbers in
// units in the last place: how many representable values of the type lie
// from one to the other (0 for equal values, +0 and -0 included). The
// conformance suite (engine/enginetest) and tfseg verify count with it.
package ulp

import "math"

// Dist32 is the number of float32 steps from a to b. Two NaNs are 0 apart;
// a NaN and a number are math.MaxUint64 apart.
func Dist32(a, b float32) uint64 {
	if a != a || b != b {
		return nanDist(a != a && b != b)
	}
	return diff(ordered32(a), ordered32(b))
}

// Dist64 is the number of float64 steps from a to b, NaNs as in Dist32.
func Dist64(a, b float64) uint64 {
	if a != a || b != b {
		return nanDist(a != a && b != b)
	}
	return diff(ordered64(a), ordered64(b))
}

func nanDist(both bool) uint64 {
	if both {
		return 0
	}
	return math.MaxUint64
}

// ordered32 maps float32 bits to integers in the order of the values, with
// +0 and -0 both 0.
func ordered32(x float32) int64 {
	i := int64(int32(math.Float32bits(x)))
	if i < 0 {
		i = math.MinInt32 - i
	}
	return i
}

// ordered64 is ordered32 for float64.
func ordered64(x float64) int64 {
	i := int64(math.Float64bits(x))
	if i < 0 {
		i = math.MinInt64 - i
	}
	return i
}

// diff is |a - b|, exact in uint64 (it is below 2^64 for ordered values).
func diff(a, b int64) uint64 {
	if a >= b {
		return uint64(a) - uint64(b)
	}
	return uint64(b) - uint64(a)
}
