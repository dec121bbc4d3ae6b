package goengine

import "math"

// float32 exp, log, log1p and sigmoid, evaluated in float64 and rounded
// once (out32, so results below the smallest normal float32 flush to zero
// as in TensorFlow). The float64 evaluation is accurate to a few units of
// 1e-16 relative, so the float32 result is the correctly rounded one except
// when the exact value lies within that distance of a rounding boundary:
// at most 1 ulp off, and rarely that.
//
// These functions define the results: the assembly kernels (simd_amd64.s)
// run the same operations in the same order on vectors, with the tables and
// coefficients below read from these variables, and produce the same bits.
//
//   - exp(x): t = x·log2(e), n = round(t) (by adding and subtracting
//     1.5·2^52), r = t - n (exact, |r| <= 1/2); 2^r by the Taylor polynomial
//     of degree 11 in r (Estrin's scheme with fused multiply-adds,
//     truncation error below 7e-15 relative); times 2^n built in the
//     exponent field. x is
//     first clamped to [-104, 89], outside of which the float32 result is 0
//     or +Inf anyway.
//   - log(u), u > 0: u = 2^k·z with z in [0.75, 1.5) (k from the bits of u
//     minus those of 0.75, as in musl's log); z falls in one of 16
//     intervals (8 of width 1/32 below 1, 8 of width 1/16 above) with
//     center c; r = z·(1/c) - 1 (one fused multiply-add), |r| < 0.0625;
//     log u = (k·ln 2 + log c) + log1p(r), log1p(r) = r·P(r) with P the
//     Taylor polynomial of degree 11 (Estrin; truncation error below
//     3e-16 relative). The two
//     intervals next to 1 use c = 1, so r = z - 1 exactly and log u keeps
//     its relative accuracy near u = 1.
//   - log1p(x): x itself for ±0 and denormals (as libm and TensorFlow
//     return them), the degree-12 polynomial of x when |x| < 1/32, else
//     log(1 + x) (1 + x is exact in float64 then).
//   - sigmoid(x) = 1/(1 + e) for x >= 0, e/(1 + e) for x < 0, with
//     e = exp(-|x|) in float64.
//
// Special values: exp(NaN) = NaN, exp(±Inf) = +Inf, 0; log of a negative
// number or NaN is NaN, log(±0) = -Inf, log(+Inf) = +Inf; the same through
// log1p at -1 and below.

// Coefficients of 2^r = Σ (ln 2)^k r^k / k!, k = 0..11 (mpmath, rounded to
// float64).
var expPoly = [12]float64{
	0x1.0000000000000p+0, 0x1.62e42fefa39efp-1, 0x1.ebfbdff82c58fp-3, 0x1.c6b08d704a0c0p-5,
	0x1.3b2ab6fba4e77p-7, 0x1.5d87fe78a6731p-10, 0x1.430912f86c787p-13, 0x1.ffcbfc588b0c7p-17,
	0x1.62c0223a5c824p-20, 0x1.b5253d395e7c4p-24, 0x1.e4cf5158b8ecap-28, 0x1.e8cac7351bb25p-32,
}

// Coefficients of log1p(r) = Σ (-1)^(k+1) r^k / k, k = 1..12.
var log1pPoly = [12]float64{
	1, -1.0 / 2, 1.0 / 3, -1.0 / 4, 1.0 / 5, -1.0 / 6,
	1.0 / 7, -1.0 / 8, 1.0 / 9, -1.0 / 10, 1.0 / 11, -1.0 / 12,
}

// logInvC[i] is 1/c rounded to float64 for the center c of interval i;
// logLogC[i] = -log(logInvC[i]) (mpmath, rounded), so that
// log z = logLogC[i] + log1p(z·logInvC[i] - 1) holds exactly in real numbers.
var logInvC = [16]float64{
	0x1.4e5e0a72f0539p+0, 0x1.4141414141414p+0, 0x1.3521cfb2b78c1p+0, 0x1.29e4129e4129ep+0,
	0x1.1f7047dc11f70p+0, 0x1.15b1e5f75270dp+0, 0x1.0c9714fbcda3bp+0, 1,
	1, 0x1.d41d41d41d41dp-1, 0x1.bacf914c1bad0p-1, 0x1.a41a41a41a41ap-1,
	0x1.8f9c18f9c18fap-1, 0x1.7d05f417d05f4p-1, 0x1.6c16c16c16c17p-1, 0x1.5c9882b931057p-1,
}

var logLogC = [16]float64{
	-0x1.1178e8227e47ap-2, -0x1.d1037f2655e7bp-3, -0x1.823c16551a3c0p-3, -0x1.365fcb0159014p-3,
	-0x1.da7276384469ep-4, -0x1.4d3115d207eacp-4, -0x1.894aa149fb34bp-5, 0,
	0, 0x1.6f0d28ae56b4ep-4, 0x1.29552f81ff521p-3, 0x1.9525a9cf456b6p-3,
	0x1.fb9186d5e3e29p-3, 0x1.2e8e2bae11d31p-2, 0x1.5d1bdbf5809cap-2, 0x1.89a3386c1425bp-2,
}

// Constants shared with the assembly (simd_amd64.s reads this array):
// log2(e), ln 2, the rounding shifter 1.5·2^52, the exp clamp bounds, the
// bits of 0.75, the log1p polynomial threshold.
var simdConst = [8]float64{
	0x1.71547652b82fep+0, // 0: log2(e)
	0x1.62e42fefa39efp-1, // 1: ln 2
	0x1.8p52,             // 2: shifter
	-104,                 // 3: exp lower clamp
	89,                   // 4: exp upper clamp
	0x1p-5,               // 5: log1p: |x| below this uses the polynomial directly
	1,                    // 6
	0,                    // 7
}

const log075Bits = 0x3FE8000000000000 // bits of 0.75

// Integer constants of the assembly: the exponent bias, the bits of 0.75,
// of NaN, -Inf and +Inf, the float64 magnitude and sign masks.
var simdInt = [7]uint64{1023, log075Bits, 0x7FF8000000000000, 0xFFF0000000000000, 0x7FF0000000000000,
	0x7FFFFFFFFFFFFFFF, 0x8000000000000000}

// simdMask32 is the float32 exponent mask (log1p's test for ±0 and
// denormal inputs).
var simdMask32 = [1]uint32{0x7f800000}

// expCore returns e^d in float64 for d in [-104, 89] or NaN (the callers
// clamp).
func expCore(d float64) float64 {
	t := d * simdConst[0]
	kd := t + simdConst[2]
	n := kd - simdConst[2]
	r := t - n
	p := estrin12(&expPoly, r)
	scale := f64From((f64Bits(kd) + 1023) << 52)
	return p * scale
}

// estrin12 is Σ c[k]·r^k, k = 0..11, by Estrin's scheme (pairs, then
// pairs of pairs with r², r⁴, r⁸), which the assembly follows: shorter
// dependency chains than Horner's rule, the same accuracy for small r.
func estrin12(c *[12]float64, r float64) float64 {
	r2 := r * r
	q0 := fma64(r, c[1], c[0])
	q1 := fma64(r, c[3], c[2])
	q2 := fma64(r, c[5], c[4])
	q3 := fma64(r, c[7], c[6])
	q4 := fma64(r, c[9], c[8])
	q5 := fma64(r, c[11], c[10])
	r4 := r2 * r2
	q4 = fma64(r2, q5, q4)
	q2 = fma64(r2, q3, q2)
	q0 = fma64(r2, q1, q0)
	r8 := r4 * r4
	q0 = fma64(r4, q2, q0)
	return fma64(r8, q4, q0)
}

// clampExp limits d to [-104, 89], keeping NaN.
func clampExp(d float64) float64 {
	if d < simdConst[3] {
		d = simdConst[3]
	}
	if d > simdConst[4] {
		d = simdConst[4]
	}
	return d
}

// log1pPolyOf is log1p(r) for |r| < 0.0625 (relative error below 3e-16).
func log1pPolyOf(r float64) float64 {
	return estrin12(&log1pPoly, r) * r
}

// logCore returns log u for float64 u; small selects the log1p path for
// |x| < 1/32 where x is passed in r1 (u = 1 + r1).
func logCore(u float64, small bool, r1 float64) float64 {
	bits := f64Bits(u)
	tmp := bits - log075Bits
	k := int64(tmp) >> 52
	i := (tmp >> 48) & 15
	z := f64From(bits - uint64(k)<<52)
	r := fma64(z, logInvC[i], -1)
	hi := fma64(float64(k), simdConst[1], logLogC[i])
	if small {
		r, hi = r1, 0
	}
	y := hi + log1pPolyOf(r)
	switch {
	case u == 0:
		return math.Inf(-1)
	case u < 0 || u != u:
		return math.NaN()
	case u > math.MaxFloat64:
		return u
	}
	return y
}

// exp32 is e^x for float32 (denormal x reads as zero).
func exp32(x float32) float32 {
	return out32(expCore(clampExp(float64(flush32(x)))))
}

// log32 is log x for float32 (denormal x reads as zero).
func log32(x float32) float32 {
	return out32(logCore(float64(flush32(x)), false, 0))
}

// log1p32 is log(1 + x) for float32; ±0 and denormals are returned as they
// are.
func log1p32(x float32) float32 {
	if f32Bits(x)&0x7f800000 == 0 {
		return x
	}
	d := float64(x)
	return out32(logCore(1+d, math.Abs(d) < simdConst[5], d))
}

// sigmoid32 is 1/(1 + e^-x) for float32 (denormal x reads as zero).
func sigmoid32(x float32) float32 {
	d := float64(flush32(x))
	e := expCore(clampExp(-math.Abs(d)))
	if d >= 0 {
		return out32(1 / (1 + e))
	}
	return out32(e / (1 + e))
}
