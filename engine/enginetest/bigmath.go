package enginetest

import (
	"math"
	"math/big"
)

// Correctly rounded references for functions where Go's math package is
// not accurate enough to judge an engine: math.Pow drifts by hundreds of
// ulp for results of large exponent. These evaluate in 160-bit binary
// floating point with math/big and round once.

const bigPrec = 160

func newBig(v float64) *big.Float { return new(big.Float).SetPrec(bigPrec).SetFloat64(v) }

// bigLn2 is log 2 = 2·atanh(1/3).
var bigLn2 = func() *big.Float {
	third := new(big.Float).SetPrec(bigPrec).Quo(newBig(1), newBig(3))
	return bigAtanh2(third)
}()

// bigAtanh2 is 2·atanh(s) = 2(s + s³/3 + s⁵/5 + ...) for |s| <= 1/3.
func bigAtanh2(s *big.Float) *big.Float {
	s2 := new(big.Float).SetPrec(bigPrec).Mul(s, s)
	sum := new(big.Float).SetPrec(bigPrec).Set(s)
	pow := new(big.Float).SetPrec(bigPrec).Set(s)
	eps := new(big.Float).SetPrec(bigPrec).SetMantExp(newBig(1), -bigPrec-8)
	for n := int64(3); ; n += 2 {
		pow.Mul(pow, s2)
		term := new(big.Float).SetPrec(bigPrec).Quo(pow, new(big.Float).SetPrec(bigPrec).SetInt64(n))
		sum.Add(sum, term)
		if new(big.Float).Abs(term).Cmp(eps) < 0 {
			break
		}
	}
	return sum.Mul(sum, newBig(2))
}

// bigLog is log x for finite x > 0.
func bigLog(x float64) *big.Float {
	m, k := math.Frexp(x) // x = m·2^k, m in [0.5, 1): s in (-1/3, 0]
	bm := newBig(m)
	s := new(big.Float).SetPrec(bigPrec).Quo(
		new(big.Float).SetPrec(bigPrec).Sub(bm, newBig(1)),
		new(big.Float).SetPrec(bigPrec).Add(bm, newBig(1)))
	l := bigAtanh2(s)
	return l.Add(l, new(big.Float).SetPrec(bigPrec).Mul(bigLn2, newBig(float64(k))))
}

// bigExp is e^t, returned as float64 (0 or ±Inf outside float64's range).
func bigExp(t *big.Float) float64 {
	// t = n·log 2 + r with |r| <= log 2 / 2.
	q := new(big.Float).SetPrec(bigPrec).Quo(t, bigLn2)
	qf, _ := q.Float64()
	n := math.Round(qf)
	if n > 2000 {
		return math.Inf(1)
	}
	if n < -2000 {
		return 0
	}
	r := new(big.Float).SetPrec(bigPrec).Sub(t, new(big.Float).SetPrec(bigPrec).Mul(bigLn2, newBig(n)))
	sum := newBig(1)
	term := newBig(1)
	eps := new(big.Float).SetPrec(bigPrec).SetMantExp(newBig(1), -bigPrec-8)
	for k := int64(1); ; k++ {
		term.Mul(term, r)
		term.Quo(term, new(big.Float).SetPrec(bigPrec).SetInt64(k))
		sum.Add(sum, term)
		if new(big.Float).Abs(term).Cmp(eps) < 0 {
			break
		}
	}
	sum.SetMantExp(sum, int(n))
	f, _ := sum.Float64() // rounds to nearest, to ±Inf or to a denormal/zero as float64 does
	return f
}

// powRef is x**y correctly rounded (C99's special cases from math.Pow,
// which implements them exactly).
func powRef(x, y float64) float64 {
	switch {
	case y == 0 || x == 1:
		return 1
	case math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) || x == 0:
		return math.Pow(x, y)
	case x < 0:
		if y != math.Trunc(y) {
			return math.NaN()
		}
		r := powRef(-x, y)
		if math.Mod(y, 2) != 0 {
			r = -r
		}
		return r
	}
	return bigExp(new(big.Float).SetPrec(bigPrec).Mul(bigLog(x), newBig(y)))
}
