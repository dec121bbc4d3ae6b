package vec

import "math"

// float32 exp, log, log1p and sigmoid in float32 arithmetic (fused
// multiply-adds, flush-to-zero as in TensorFlow), after the Cephes/Eigen
// designs. Measured against Go's float64 math rounded to float32 they are
// within 1.1 ulp for exp, 0.9 for log, 1.4 for log1p and 2.3 for sigmoid
// (TestTranscendentalAccuracy), like TensorFlow's own Eigen kernels; the
// engine conformance bar is 4 ulp. (Evaluating in float64 made them
// correctly rounded but cost twice the time: float64 vectors hold half
// the lanes.)
//
// These functions define the results: the assembly kernels (simd_amd64.s)
// run the same operations in the same order on vectors, with the
// coefficients read from the variables below, and produce the same bits.
// Each step is one float32 operation: mul32, add32 and div32 round once
// (as the processor does), fma32 is a single-rounding fused multiply-add.
//
//   - exp(x): x clamped to [-104, 89] (beyond, the result is 0 or +Inf
//     anyway); n = round(x·log2 e) (adding and subtracting 1.5·2^23);
//     r = x - n·ln 2 in two fused steps (Cody and Waite: ln 2 = hi + lo,
//     n·hi exact); e^r = 1 + (r + r²·P(r)) with the Taylor polynomial of
//     degree 7 (P by Estrin's scheme); times 2^n as two exact power-of-two factors (2^(n>>1) and
//     2^(n - n>>1)), so that results below the smallest normal flush to zero
//     and results above the largest overflow to +Inf.
//   - log(x): x = 2^e·m with m in [√½, √2) (from the bits of x minus those
//     of √½); f = m - 1 (exact); log(1+f) = f - f²/2 + f³·P(f) with Cephes'
//     degree-8 P; plus e·ln 2 in two parts.
//   - log1p(x): ±0 and denormals are returned as they are (as libm and
//     TensorFlow return them); e from u = 1 + x as for log, then
//     f = (1 + x)·2^-e - 1 = x·2^-e + (2^-e - 1) in one fused step, exact
//     but for one rounding, so the 1 + x rounding is not lost; for huge x
//     (e >= 24), f = m - 1 of u.
//   - sigmoid(x) = 1/(1 + e) for x >= 0, e/(1 + e) for x < 0, e = exp(-|x|).
//
// Special values: exp(NaN) = NaN, exp(±Inf) = +Inf, 0; log of a negative
// number or NaN is NaN, log(±0) = -Inf, log(+Inf) = +Inf; the same through
// log1p at -1 and below. Denormal inputs read as zeros (except in log1p).

// expC are the Taylor coefficients 1/k!, k = 0..7, rounded to float32.
var expC = [8]float32{1, 1, 0x1p-1, 0x1.555556p-3, 0x1.555556p-5, 0x1.111112p-7, 0x1.6c16c2p-10, 0x1.a01a02p-13}

// logP is Cephes' logf polynomial P (degree 8, highest first).
var logP = [9]float32{
	7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
	-1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
}

// simdF32 are the other constants the assembly reads: log2 e, the
// rounding shifter, ln 2 (hi, lo), the exp clamp bounds, 1, -0.5.
var simdF32 = [8]float32{
	0x1.715476p+0,   // 0: log2 e
	0x1.8p23,        // 1: shifter
	0x1.63p-1,       // 2: ln 2 hi (9 bits: n·hi is exact)
	-0x1.bd0106p-13, // 3: ln 2 lo
	-104,            // 4: exp lower clamp
	89,              // 5: exp upper clamp
	1,               // 6
	-0.5,            // 7
}

// simdU32 are integer constants of the assembly: the bits of √½, the
// float32 exponent bias, the exponent mask, the sign bit, NaN, -Inf, +Inf,
// and 24 (log1p's large-input threshold on e).
var simdU32 = [8]uint32{0x3f3504f3, 127, 0x7f800000, 0x80000000, 0x7fc00000, 0xff800000, 0x7f800000, 24}

// mul32, add32 and div32 are one float32 operation each, with
// flush-to-zero rounding (operands are normal or zero here).
func mul32(a, b float32) float32 { return Round32(float64(a) * float64(b)) }
func add32(a, b float32) float32 { return Round32(float64(a) + float64(b)) }
func div32(a, b float32) float32 { return Round32(float64(a) / float64(b)) }

// fma32 is a·b + c rounded once to float32, as VFMADD…PS computes it.
// a·b is exact in float64; the float64 sum s = a·b + c is rounded, and its
// rounding to float32 is the correctly rounded result unless s lies exactly
// halfway between two float32 values (its 29 low mantissa bits are
// 100…0) while the exact sum does not: then the error e of the float64
// sum, exact by TwoSum, says which way. Operands are normal or zero; a
// denormal result is flushed (the kernels never make one: their
// intermediates stay far from the denormal range).
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	cd := float64(c)
	s := p + cd
	if f64Bits(s)&(1<<29-1) != 1<<28 || s != s {
		// Not halfway between two float32 values (as a normal float32
		// would be): rounding s is rounding the exact sum.
		return Flush32(float32(s))
	}
	r := float32(s)
	bb := s - p
	if e := (p - (s - bb)) + (cd - bb); e != 0 && float64(r) != s {
		lo, hi := r, r
		if float64(r) > s {
			lo = math.Nextafter32(r, float32(math.Inf(-1)))
		} else {
			hi = math.Nextafter32(r, float32(math.Inf(1)))
		}
		if e > 0 {
			r = hi
		} else {
			r = lo
		}
	}
	return Flush32(r)
}

// pow2f is 2^n as a float32 for n in [-126, 127].
func pow2f(n int32) float32 { return f32From(uint32(n+127) << 23) }

// expCore32 is e^x for x in [-104, 89] or NaN.
func expCore32(x float32) float32 {
	c := &simdF32
	kd := fma32(x, c[0], c[1])
	n := add32(kd, -c[1])
	r := fma32(n, -c[2], x)
	r = fma32(n, -c[3], r)
	// e^r = 1 + (r + r²·P(r)), P = Σ r^k/(k+2)!, k < 6, by Estrin's scheme;
	// the small part is summed before adding 1.
	r2 := mul32(r, r)
	q0 := fma32(r, expC[3], expC[2])
	q1 := fma32(r, expC[5], expC[4])
	q2 := fma32(r, expC[7], expC[6])
	r4 := mul32(r2, r2)
	q0 = fma32(r2, q1, q0)
	q0 = fma32(r4, q2, q0)
	p := add32(1, fma32(r2, q0, r))
	ni := int32(f32Bits(kd) - f32Bits(c[1]))
	n1 := ni >> 1
	return mul32(mul32(p, pow2f(n1)), pow2f(ni-n1))
}

// clampExp32 limits x to [-104, 89], keeping NaN.
func clampExp32(x float32) float32 {
	if x < simdF32[4] {
		x = simdF32[4]
	}
	if x > simdF32[5] {
		x = simdF32[5]
	}
	return x
}

// logCore32 is log(1 + f) + e·ln 2 for f in about [√½ - 1, √2 - 1].
func logCore32(f, e float32) float32 {
	c := &simdF32
	z := mul32(f, f)
	// P(f) by Estrin's scheme (logP is highest degree first).
	q0 := fma32(f, logP[7], logP[8])
	q1 := fma32(f, logP[5], logP[6])
	q2 := fma32(f, logP[3], logP[4])
	q3 := fma32(f, logP[1], logP[2])
	z2 := mul32(z, z)
	q0 = fma32(z, q1, q0)
	q2 = fma32(z, q3, q2)
	z4 := mul32(z2, z2)
	q0 = fma32(z2, q2, q0)
	p := fma32(z4, logP[0], q0)
	y := mul32(mul32(f, z), p)
	y = fma32(e, c[3], y)
	y = fma32(c[7], z, y)
	r := add32(f, y)
	return fma32(e, c[2], r)
}

// logSpecial returns log's value for u <= 0, NaN or +Inf, and whether u is
// one of them.
func logSpecial(u float32) (float32, bool) {
	switch {
	case u == 0:
		return float32(math.Inf(-1)), true
	case u < 0 || u != u:
		return f32From(simdU32[4]), true
	case u > math.MaxFloat32:
		return u, true
	}
	return 0, false
}

// logParts splits u > 0 into e and m = u·2^-e in [√½, √2).
func logParts(u float32) (e int32, m float32) {
	b := f32Bits(u)
	e = int32(b-simdU32[0]) >> 23
	return e, f32From(b - uint32(e)<<23)
}

// Exp32 is e^x for float32 (denormal x reads as zero; beyond [-104, 89]
// the result is 0 or +Inf), within 1.1 ulp of the correctly rounded value:
// the Cody-Waite reduction and degree-7 polynomial described above.
func Exp32(x float32) float32 { return expCore32(clampExp32(Flush32(x))) }

// Log32 is log x for float32 (denormal x reads as zero; log(±0) = -Inf,
// NaN below 0), within 0.9 ulp of the correctly rounded value: Cephes'
// logf polynomial as described above.
func Log32(x float32) float32 {
	x = Flush32(x)
	if v, ok := logSpecial(x); ok {
		return v
	}
	e, m := logParts(x)
	return logCore32(add32(m, -1), float32(e))
}

// Log1p32 is log(1 + x) for float32, within 1.4 ulp of the correctly
// rounded value; ±0 and denormals are returned as they are (as libm and
// TensorFlow return them).
func Log1p32(x float32) float32 {
	if f32Bits(x)&0x7f800000 == 0 {
		return x
	}
	u := add32(1, x)
	if v, ok := logSpecial(u); ok {
		return v
	}
	e, m := logParts(u)
	f := add32(m, -1)
	if e < int32(simdU32[7]) {
		s := pow2f(-e)
		f = fma32(x, s, add32(s, -1))
	}
	return logCore32(f, float32(e))
}

// Sigmoid32 is 1/(1 + e^-x) for float32 (denormal x reads as zero),
// within 2.3 ulp of the correctly rounded value: 1/(1 + e) for x >= 0,
// e/(1 + e) below, e = Exp32(-|x|).
func Sigmoid32(x float32) float32 {
	x = Flush32(x)
	e := expCore32(clampExp32(f32From(f32Bits(x) | 1<<31)))
	num := e
	if x >= 0 {
		num = 1
	}
	return div32(num, add32(1, e))
}
