package goengine

import "math"

// pow64 is x**y to within about 2 ulp. Go's math.Pow drifts by tens of
// ulp for results of large exponent (it multiplies partial powers), while
// TensorFlow calls libm's correctly rounded pow; pow64 instead evaluates
// exp(y·log x) with log x and the product in double-double precision, so
// only the final exp and one multiplication round. Special values (zeros,
// infinities, NaN, negative bases) follow math.Pow, which implements C99's
// rules.
func pow64(x, y float64) float64 {
	switch {
	case y == 0 || x == 1:
		return 1
	case math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) || x == 0:
		return math.Pow(x, y)
	case x < 0:
		if y != math.Trunc(y) {
			return math.NaN()
		}
		r := pow64(-x, y)
		if math.Mod(y, 2) != 0 {
			r = -r
		}
		return r
	}
	lh, ll := logDD(x)
	// t = y·log x in double-double.
	th := y * lh
	tl := math.FMA(y, lh, -th) + y*ll
	switch {
	case th > 800:
		return math.Inf(1)
	case th < -800:
		return 0
	}
	// Near and beyond the ends of float64's range evaluate exp(t - s·log 2)
	// with the argument brought back to about ±600 and scale by 2^s, so
	// that exp itself neither overflows nor underflows where the result
	// does not (math.Ldexp rounds the scaled result once).
	scale := 0
	if th > 700 {
		scale = int((th - 600) / math.Ln2)
	} else if th < -700 {
		scale = int((th + 600) / math.Ln2)
	}
	if scale != 0 {
		var err float64
		th, err = twoSum(th, -float64(scale)*ln2Hi)
		tl += err - float64(scale)*ln2Lo
	}
	e := math.Exp(th)
	return math.Ldexp(e+e*tl, scale)
}

// twoSum returns a+b and its rounding error.
func twoSum(a, b float64) (s, e float64) {
	s = a + b
	bb := s - a
	return s, (a - (s - bb)) + (b - bb)
}

// ln2Hi has 32 trailing zero bits, so k·ln2Hi is exact for |k| < 2^20.
const (
	ln2Hi = 6.93147180369123816490e-01
	ln2Lo = 1.90821492927058770002e-10
)

// logDD returns log(x) for finite x > 0 as an unevaluated sum hi + lo
// accurate to about 2^-100 relative: x = m·2^k with m in [√½, √2), and
// log m = 2·atanh(s) = 2(s + s³/3 + s⁵/5 + ...), s = (m-1)/(m+1), with
// s and s³/3 in double-double.
func logDD(x float64) (hi, lo float64) {
	m, k := math.Frexp(x) // m in [0.5, 1)
	if m < math.Sqrt2/2 {
		m *= 2
		k--
	}
	// s = (m-1)/(m+1) in double-double; m-1 is exact for m in [0.5, 2].
	num := m - 1
	den := m + 1
	denLo := m - (den - 1) // m + 1 = den + denLo exactly
	sh := num / den
	sl := (math.FMA(-sh, den, num) - sh*denLo) / den
	// 2s³/3, the largest tail term (about 1% of log m), in double-double;
	// the rest, 2s⁵(1/5 + s²/7 + ...), is below 1e-4 of log m and needs
	// only double precision. |s| < 0.172, so 21 terms reach 2^-110.
	s2 := sh * sh
	s2l := math.FMA(sh, sh, -s2)
	s3 := s2 * sh
	s3l := math.FMA(s2, sh, -s3) + s2l*sh + 3*s2*sl
	t3 := s3 / 3
	t3l := (math.FMA(-t3, 3, s3) + s3l) / 3
	p := 0.0
	for n := 45; n >= 5; n -= 2 {
		p = p*s2 + 1/float64(n)
	}
	rest := 2 * s3 * s2 * p
	// log x = k·ln2Hi + 2sh + 2t3 + (k·ln2Lo + 2sl + 2t3l + rest), summed
	// with two TwoSums.
	hi, lo = twoSum(float64(k)*ln2Hi, 2*sh)
	hi, e := twoSum(hi, 2*t3)
	lo += e + float64(k)*ln2Lo + 2*sl + 2*t3l + rest
	h := hi + lo
	lo -= h - hi
	return h, lo
}
