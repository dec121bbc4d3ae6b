package gemm

import "math"

// fma32 is a·b + c rounded once to float32 (round to nearest even), what
// VFMADD231PS computes and what the assembly kernels' chains are made of.
// kernelGo's multiply-adds round this way on every build, so the portable
// kernel gives the assembly kernels' bits: where the compiler fuses a
// float32 x*y + z into one instruction (fusedFMA: arm64, amd64 at
// GOAMD64=v3 and above) it writes c += a*b, elsewhere (amd64's default
// GOAMD64=v1, where c += a*b rounds the product first) it emulates fma32
// with fma64 and careful; TestKernelGoRoundsOnce checks both forms against
// math/big.
//
// a·b is exact in float64 (24 + 24 significant bits), so s = a·b + c in
// float64 (fma64) is the exact sum rounded once; rounding s to float32 is
// then the correctly rounded result unless the first rounding landed s
// exactly on a midpoint of two float32 values (double rounding). Such an s
// has its 29 low significand bits 100…0 when the result is a normal
// float32; below the smallest normal (where float32 keeps fewer bits) every
// s but zero takes the careful path too. There s is rounded to odd instead
// (Boldo and Melquiond, "Emulation of FMA and correctly rounded sums:
// proved algorithms using rounding to odd", IEEE Trans. Computers 57(4),
// 2008): TwoSum gives the exact error e of the float64 sum, and when e ≠ 0
// and s's last bit is even, s moves one float64 ulp towards the exact sum.
// float64 has more than 24 + 1 bits, so rounding the round-to-odd sum to
// float32 is the correctly rounded a·b + c. Infinities and NaNs pass
// through as the float64 sum makes them (e is NaN there and s is kept).
func fma32(a, b, c float32) float32 {
	s := fma64(a, b, c)
	if !careful(s) {
		return float32(s)
	}
	p, cd := float64(a)*float64(b), float64(c)
	// TwoSum (Knuth): e = (p + cd) - s exactly.
	bb := s - p
	u := math.Float64bits(s)
	if e := (p - (s - bb)) + (cd - bb); e != 0 && e == e && u&1 == 0 {
		if (e > 0) == (s > 0) {
			u++
		} else {
			u--
		}
	}
	return float32(math.Float64frombits(u))
}

// fma64 is a·b + c in float64: the exact sum rounded once.
func fma64(a, b, c float32) float64 { return float64(a)*float64(b) + float64(c) }

// careful reports whether rounding the float64 sum s to float32 may round
// twice: s is a float32 midpoint (its 29 low significand bits, shifted to
// the top by u<<35, are 100…0) or 0 < |s| < 2^-126 (u<<1 is |s|'s bits
// shifted, 2^-126's are 0x381<<53; minus one takes zero, which is exact,
// round to the top).
func careful(s float64) bool {
	u := math.Float64bits(s)
	return u<<35 == 1<<63 || u<<1-1 < 0x381<<53-1
}
