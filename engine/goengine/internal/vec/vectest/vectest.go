// Package vectest holds the float32 test inputs and comparisons that the
// tests of the vector kernels (internal/vec) and of the fused engine
// (goengine) share.
package vectest

import (
	"math"
	"math/rand/v2"
)

// Inputs returns float32 test values: special values, values at the
// edges of the normal range and of the transcendental functions' ranges,
// probabilities, logits, and random bit patterns (every exponent,
// denormals and NaNs included). The count is a multiple of no vector width,
// so tails are exercised.
func Inputs(n int, seed uint64) []float32 {
	inf := float32(math.Inf(1))
	special := []float32{
		0, math.Float32frombits(1 << 31), 1, -1, 2, 0.5, -0.5, inf, -inf, float32(math.NaN()),
		math.Float32frombits(1), math.Float32frombits(0x807fffff), math.Float32frombits(0x007fffff), math.Float32frombits(0x80000001),
		0x1p-126, -0x1p-126, 0x1p-126 * (1 + 0x1p-23), 1 - 0x1p-24, 1 + 0x1p-23,
		math.MaxFloat32, -math.MaxFloat32, 88.72283, 88.72284, 89, -87.33654, -87.33655,
		-103.972, -103.973, -104, -110, 1e-7, 1 - 1e-7, 0.96875, 1.0625, 0.75, 1.5,
		-0.03125, 0.03125, 0x1p-29, -0x1p-29, 0x1p-30, -0.999999, -1 + 0x1p-24, -2,
		100, -100, 15.9424, 0x1p-5, -0x1p-5, 0x1.fffffep-6,
	}
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]float32, 0, n+len(special))
	out = append(out, special...)
	for len(out) < n {
		var v float32
		switch r.IntN(6) {
		case 0:
			v = math.Float32frombits(r.Uint32())
		case 1:
			v = float32(r.Float64())
		case 2:
			v = float32(r.NormFloat64() * 20)
		case 3:
			v = float32(math.Ldexp(r.Float64(), -r.IntN(40)))
		case 4:
			v = math.Float32frombits(r.Uint32() & 0x807fffff) // denormals
		default:
			v = float32((r.Float64() - 0.5) * 250)
		}
		out = append(out, v)
	}
	return out
}

// SameBits reports whether a and b are the same float32, all NaNs equal.
func SameBits(a, b float32) bool {
	if a != a && b != b {
		return true
	}
	return math.Float32bits(a) == math.Float32bits(b)
}
