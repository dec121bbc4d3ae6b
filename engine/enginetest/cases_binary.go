package enginetest

import (
	"fmt"
	"math"

	"github.com/tfseg/tfseg/tfops"
)

// binaryOp is a broadcasting op with its float64 (ref, with the dtype for
// ops that round intermediate results) and int64 (iref, nil when the op has
// no integer kernel) references.
type binaryOp struct {
	name  string
	build func(s *tfops.Scope, x, y tfops.Output) tfops.Output
	ref   func(a, b float64, d tfops.DType) float64
	iref  func(a, b int64, d tfops.DType) int64
	// divisor: the integer op rejects y == 0 (or y < 0 for Pow).
	divisor bool
}

// wrapTo wraps v to the range of d (int32 or int64).
func wrapTo(d tfops.DType, v int64) int64 {
	if d == tfops.Int32 {
		return int64(int32(v))
	}
	return v
}

func floorDivInt(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floorModInt(a, b int64) int64 {
	m := a % b
	if m != 0 && (m < 0) != (b < 0) {
		m += b
	}
	return m
}

func nanMax(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	if a < b {
		return b
	}
	return a
}

func nanMin(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	if b < a {
		return b
	}
	return a
}

func binaryOps() []binaryOp {
	return []binaryOp{
		{"AddV2", tfops.AddV2, func(a, b float64, _ tfops.DType) float64 { return a + b },
			func(a, b int64, d tfops.DType) int64 { return a + b }, false},
		{"Sub", tfops.Sub, func(a, b float64, _ tfops.DType) float64 { return a - b },
			func(a, b int64, d tfops.DType) int64 { return a - b }, false},
		{"Mul", tfops.Mul, func(a, b float64, _ tfops.DType) float64 { return a * b },
			func(a, b int64, d tfops.DType) int64 { return a * b }, false},
		{"RealDiv", tfops.RealDiv, func(a, b float64, _ tfops.DType) float64 { return a / b }, nil, false},
		{"DivNoNan", tfops.DivNoNan, func(a, b float64, _ tfops.DType) float64 {
			if b == 0 {
				return 0
			}
			return a / b
		}, nil, false},
		{"Maximum", tfops.Maximum, func(a, b float64, _ tfops.DType) float64 { return nanMax(a, b) },
			func(a, b int64, d tfops.DType) int64 { return max(a, b) }, false},
		{"Minimum", tfops.Minimum, func(a, b float64, _ tfops.DType) float64 { return nanMin(a, b) },
			func(a, b int64, d tfops.DType) int64 { return min(a, b) }, false},
		// libm's pow classifies its arguments bit by bit: no
		// denormals-as-zero on input (a raw reference), flushed output.
		{"Pow", tfops.Pow, func(a, b float64, d tfops.DType) float64 { return roundTo(d, powRef(a, b)) },
			func(a, b int64, d tfops.DType) int64 {
				r := int64(1)
				for i := int64(0); i < b; i++ {
					r = wrapTo(d, r*a)
				}
				return r
			}, true},
		// TensorFlow rounds x - y to the dtype before squaring.
		{"SquaredDifference", tfops.SquaredDifference, func(a, b float64, d tfops.DType) float64 {
			e := roundTo(d, a-b)
			return e * e
		}, func(a, b int64, d tfops.DType) int64 { e := wrapTo(d, a-b); return e * e }, false},
		// Float FloorDiv is floor of the rounded quotient; FloorMod is fmod
		// moved to the divisor's sign.
		{"FloorDiv", tfops.FloorDiv, func(a, b float64, d tfops.DType) float64 { return math.Floor(roundTo(d, a/b)) },
			func(a, b int64, d tfops.DType) int64 { return floorDivInt(a, b) }, true},
		// fmod reads a denormal divisor as zero but returns a denormal
		// dividend unchanged; the sign test and the addition read
		// denormals as zeros (a raw reference).
		{"FloorMod", tfops.FloorMod, func(a, b float64, d tfops.DType) float64 {
			fb := daz(d, b)
			m := math.Mod(a, fb)
			fm := daz(d, m)
			if fm != 0 && (fm < 0) != (fb < 0) {
				return roundTo(d, fm+fb)
			}
			return m
		}, func(a, b int64, d tfops.DType) int64 { return floorModInt(a, b) }, true},
	}
}

// rawBinary lists the ops whose references take raw inputs (see rawUnary).
var rawBinary = map[string]bool{"FloorMod": true, "Pow": true}

// refBinaryOp is op's reference on x and y.
func refBinaryOp(op binaryOp, x, y *tfops.Tensor, d tfops.DType) *tfops.Tensor {
	f := func(a, b float64) float64 { return op.ref(a, b, d) }
	if rawBinary[op.name] {
		return refBinaryRaw(x, y, f)
	}
	return refBinary(x, y, f)
}

// compareOps are the comparisons, with int64 and float64 references.
var compareOps = []struct {
	name  string
	build func(s *tfops.Scope, x, y tfops.Output) tfops.Output
	fi    func(a, b int64) bool
	ff    func(a, b float64) bool
}{
	{"Equal", tfops.Equal, func(a, b int64) bool { return a == b }, func(a, b float64) bool { return a == b }},
	{"NotEqual", tfops.NotEqual, func(a, b int64) bool { return a != b }, func(a, b float64) bool { return a != b }},
	{"Less", tfops.Less, func(a, b int64) bool { return a < b }, func(a, b float64) bool { return a < b }},
	{"LessEqual", tfops.LessEqual, func(a, b int64) bool { return a <= b }, func(a, b float64) bool { return a <= b }},
	{"Greater", tfops.Greater, func(a, b int64) bool { return a > b }, func(a, b float64) bool { return a > b }},
	{"GreaterEqual", tfops.GreaterEqual, func(a, b int64) bool { return a >= b }, func(a, b float64) bool { return a >= b }},
}

// crossFloat returns x of shape (n, 1) and y of shape (1, n) holding the
// edge values of d, so that the op's output covers every pair.
func crossFloat(d tfops.DType, nan bool) (x, y *tfops.Tensor) {
	return crossFloatOf(d, nan, false)
}

// crossFloatOf is crossFloat; with noDenormalX, x leaves out denormals
// (libm's pow gives platform-specific results for them when the
// processor reads denormals as zero).
func crossFloatOf(d tfops.DType, nan, noDenormalX bool) (x, y *tfops.Tensor) {
	var v []float64
	if d == tfops.Float {
		for _, e := range edge32 {
			v = append(v, float64(e))
		}
	} else {
		v = append(v, edge64...)
	}
	if !nan {
		v = withoutNaN(v)
	}
	xv := v
	if noDenormalX {
		xv = nil
		for _, e := range v {
			if !isDenormal(d, e) {
				xv = append(xv, e)
			}
		}
	}
	return tensorF(d, []int{len(xv), 1}, xv), tensorF(d, []int{1, len(v)}, v)
}

// crossInt is crossFloat for integers; with divisor, y leaves out 0 (and
// negative values for Pow), and both leave out values above half the
// dtype's range: TensorFlow's FloorDiv computes |x| + |y| - 1, which
// overflows there (undefined in C++).
func crossInt(d tfops.DType, op string, divisor bool) (x, y *tfops.Tensor) {
	v := edgeI32
	if d == tfops.Int64 {
		v = edgeI64
	}
	xs, ys := v, v
	if op == "Pow" {
		xs = []int64{0, 1, -1, 2, -2, 3, -7, 7, 100, -100}
		ys = []int64{0, 1, 2, 3, 5, 8}
	} else if divisor {
		xs, ys = nil, nil
		limit := int64(math.MaxInt32 / 2)
		if d == tfops.Int64 {
			limit = math.MaxInt64 / 2
		}
		for _, e := range v {
			if e < -limit || e > limit {
				continue
			}
			xs = append(xs, e)
			if e != 0 {
				ys = append(ys, e)
			}
		}
	}
	return tensorI(d, []int{len(xs), 1}, xs), tensorI(d, []int{1, len(ys)}, ys)
}

func binaryCases() []Case {
	var cs []Case
	for k, op := range binaryOps() {
		op, k := op, k
		for _, d := range []tfops.DType{tfops.Float, tfops.Double} {
			d := d
			cs = append(cs, Case{
				Name: op.name + "/" + d.String() + "/edges", Op: op.name,
				Description: "every pair of edge values, by broadcasting (n, 1) against (1, n)",
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					xt, yt := crossFloatOf(d, !tf2NaN[op.name], op.name == "Pow")
					g.Fetches = []tfops.Output{op.build(s, feed(s, &g, "x", xt), feed(s, &g, "y", yt))}
					g.Want = []*tfops.Tensor{refBinaryOp(op, xt, yt, d)}
					g.Tol = Elementwise
					return g
				},
			}, Case{
				Name: op.name + "/" + d.String() + "/random", Op: op.name,
				Description: "random operands of the same shape (3, 5, 7)",
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					r := rng(uint64(200 + k))
					xv, yv := randn(r, 105, 3), randn(r, 105, 3)
					if op.name == "Pow" {
						xv = randu(r, 105, 0, 5)
					}
					xt, yt := tensorF(d, []int{3, 5, 7}, xv), tensorF(d, []int{3, 5, 7}, yv)
					g.Fetches = []tfops.Output{op.build(s, feed(s, &g, "x", xt), feed(s, &g, "y", yt))}
					g.Want = []*tfops.Tensor{refBinaryOp(op, xt, yt, d)}
					g.Tol = Elementwise
					return g
				},
			})
		}
		if tf2NaN[op.name] {
			cs = append(cs, Case{
				Name: op.name + "/float32/nan", Op: op.name, TF2: true,
				Description: "NaN in either operand gives NaN (TensorFlow 2's PropagateNaN)",
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					nan := math.NaN()
					xt := tensorF(tfops.Float, []int{4}, []float64{nan, 1, nan, -1})
					yt := tensorF(tfops.Float, []int{4}, []float64{1, nan, nan, -2})
					g.Fetches = []tfops.Output{op.build(s, feed(s, &g, "x", xt), feed(s, &g, "y", yt))}
					g.Want = []*tfops.Tensor{refBinary(xt, yt, func(a, b float64) float64 { return op.ref(a, b, tfops.Float) })}
					return g
				},
			})
		}
		if op.iref == nil {
			continue
		}
		for _, d := range []tfops.DType{tfops.Int32, tfops.Int64} {
			d := d
			cs = append(cs, Case{
				Name: op.name + "/" + d.String() + "/edges", Op: op.name,
				Description: "every pair of integer edge values (wrapping on overflow)",
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					xt, yt := crossInt(d, op.name, op.divisor)
					g.Fetches = []tfops.Output{op.build(s, feed(s, &g, "x", xt), feed(s, &g, "y", yt))}
					g.Want = []*tfops.Tensor{refBinaryInt(xt, yt, func(a, b int64) int64 { return op.iref(a, b, d) })}
					return g
				},
			})
		}
		if op.divisor {
			cs = append(cs, Case{
				Name: op.name + "/int32/bad-divisor", Op: op.name,
				Description: "integer division by zero (negative power for Pow) is an error",
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					bad := int64(0)
					if op.name == "Pow" {
						bad = -1
					}
					xt, yt := tensorI(tfops.Int32, []int{3}, []int64{1, 2, 3}), tensorI(tfops.Int32, []int{3}, []int64{1, bad, 1})
					g.Fetches = []tfops.Output{op.build(s, feed(s, &g, "x", xt), feed(s, &g, "y", yt))}
					g.WantErr = true
					return g
				},
			})
		}
	}
	for _, op := range compareOps {
		op := op
		for _, d := range []tfops.DType{tfops.Float, tfops.Double, tfops.Int32, tfops.Int64} {
			d := d
			cs = append(cs, Case{
				Name: op.name + "/" + d.String(), Op: op.name, Description: "every pair of edge values (NaN compares unequal)",
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					var xt, yt *tfops.Tensor
					if d == tfops.Float || d == tfops.Double {
						xt, yt = crossFloat(d, true)
					} else {
						xt, yt = crossInt(d, op.name, false)
					}
					g.Fetches = []tfops.Output{op.build(s, feed(s, &g, "x", xt), feed(s, &g, "y", yt))}
					g.Want = []*tfops.Tensor{refCompare(xt, yt, op.fi, op.ff)}
					return g
				},
			})
		}
	}
	for _, name := range []string{"Equal", "NotEqual"} {
		name := name
		cs = append(cs, Case{
			Name: name + "/bool", Op: name, Description: "bool operands",
			Build: func(s *tfops.Scope) Graph {
				var g Graph
				xt, yt := tensorB([]int{2, 1}, []bool{false, true}), tensorB([]int{1, 2}, []bool{false, true})
				x, y := feed(s, &g, "x", xt), feed(s, &g, "y", yt)
				want := []bool{true, false, false, true}
				if name == "Equal" {
					g.Fetches = []tfops.Output{tfops.Equal(s, x, y)}
				} else {
					g.Fetches = []tfops.Output{tfops.NotEqual(s, x, y)}
					for i := range want {
						want[i] = !want[i]
					}
				}
				g.Want = []*tfops.Tensor{tensorB([]int{2, 2}, want)}
				return g
			},
		})
	}
	for _, l := range []struct {
		name  string
		build func(s *tfops.Scope, x, y tfops.Output) tfops.Output
		f     func(a, b bool) bool
	}{{"LogicalAnd", tfops.LogicalAnd, func(a, b bool) bool { return a && b }}, {"LogicalOr", tfops.LogicalOr, func(a, b bool) bool { return a || b }}} {
		l := l
		cs = append(cs, Case{
			Name: l.name + "/bool", Op: l.name, Description: "every pair, broadcast",
			Build: func(s *tfops.Scope) Graph {
				var g Graph
				xt, yt := tensorB([]int{2, 1}, []bool{false, true}), tensorB([]int{2}, []bool{false, true})
				g.Fetches = []tfops.Output{l.build(s, feed(s, &g, "x", xt), feed(s, &g, "y", yt))}
				g.Want = []*tfops.Tensor{tensorB([]int{2, 2}, []bool{l.f(false, false), l.f(false, true), l.f(true, false), l.f(true, true)})}
				return g
			},
		})
	}
	cs = append(cs, broadcastCases()...)
	return cs
}

// randomShape draws a shape of rank r with dimensions in 1..4, some of
// them 1.
func randomShape(seed uint64, r int) []int {
	g := rng(seed)
	d := make([]int, r)
	for i := range d {
		d[i] = 1 + g.IntN(4)
	}
	return d
}

// broadcastCases pair every rank 0..4 with every rank 0..4, plus empty and
// large operands.
func broadcastCases() []Case {
	var cs []Case
	for ra := 0; ra <= 4; ra++ {
		for rb := 0; rb <= 4; rb++ {
			ra, rb := ra, rb
			cs = append(cs, Case{
				Name: fmt.Sprintf("AddV2/float32/broadcast-rank%d-rank%d", ra, rb), Op: "AddV2",
				Description: "NumPy broadcasting between ranks",
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					a := randomShape(uint64(10*ra+rb), ra)
					b := randomShape(uint64(100+10*ra+rb), rb)
					// Make the shapes compatible: where both have a dimension,
					// either they agree or one of them is 1.
					for i := 1; i <= min(ra, rb); i++ {
						da, db := &a[ra-i], &b[rb-i]
						switch (ra*7 + rb*3 + i) % 3 {
						case 0:
							*db = *da
						case 1:
							*da = 1
						default:
							*db = 1
						}
					}
					r := rng(uint64(1000 + 10*ra + rb))
					xt := tensorF(tfops.Float, a, randn(r, numElems(a), 1))
					yt := tensorF(tfops.Float, b, randn(r, numElems(b), 1))
					g.Fetches = []tfops.Output{tfops.AddV2(s, feed(s, &g, "x", xt), feed(s, &g, "y", yt))}
					g.Want = []*tfops.Tensor{refBinary(xt, yt, func(a, b float64) float64 { return a + b })}
					g.Tol = Elementwise
					return g
				},
			})
		}
	}
	cs = append(cs, Case{
		Name: "Maximum/int32/broadcast-middle", Op: "Maximum", Description: "broadcasting a middle dimension: (2, 1, 4) with (3, 1)",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			r := rng(31)
			xt := tensorI(tfops.Int32, []int{2, 1, 4}, randi(r, 8, -50, 50))
			yt := tensorI(tfops.Int32, []int{3, 1}, randi(r, 3, -50, 50))
			g.Fetches = []tfops.Output{tfops.Maximum(s, feed(s, &g, "x", xt), feed(s, &g, "y", yt))}
			g.Want = []*tfops.Tensor{refBinaryInt(xt, yt, func(a, b int64) int64 { return max(a, b) })}
			return g
		},
	}, Case{
		Name: "Mul/float32/underflow-boundary", Op: "Mul",
		Description: "products just below the smallest normal flush to zero unless they round up to it",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			xt := tensorF(tfops.Float, []int{1}, []float64{1.1754944e-38})
			yt := tensorF(tfops.Float, []int{5}, []float64{0.99999994, 0.9999999, 1, -0.99999994, 0.5})
			g.Fetches = []tfops.Output{tfops.Mul(s, feed(s, &g, "x", xt), feed(s, &g, "y", yt))}
			g.Want = []*tfops.Tensor{refBinary(xt, yt, func(a, b float64) float64 { return a * b })}
			return g
		},
	}, Case{
		Name: "Mul/float32/empty-broadcast", Op: "Mul", Description: "(0, 3) times (1, 3)",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			xt, yt := tensorF(tfops.Float, []int{0, 3}, nil), tensorF(tfops.Float, []int{1, 3}, []float64{1, 2, 3})
			g.Fetches = []tfops.Output{tfops.Mul(s, feed(s, &g, "x", xt), feed(s, &g, "y", yt))}
			g.Want = []*tfops.Tensor{xt}
			return g
		},
	}, Case{
		Name: "Mul/float32/large-broadcast", Op: "Mul", Description: "(300, 1) times (1, 257): large enough for several threads",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			r := rng(32)
			xt, yt := tensorF(tfops.Float, []int{300, 1}, randn(r, 300, 1)), tensorF(tfops.Float, []int{1, 257}, randn(r, 257, 1))
			g.Fetches = []tfops.Output{tfops.Mul(s, feed(s, &g, "x", xt), feed(s, &g, "y", yt))}
			g.Want = []*tfops.Tensor{refBinary(xt, yt, func(a, b float64) float64 { return a * b })}
			g.Tol = Elementwise
			return g
		},
	}, Case{
		Name: "AddV2/float32/large", Op: "AddV2", Description: "(257, 300) plus (257, 300)",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			r := rng(33)
			xt, yt := tensorF(tfops.Float, []int{257, 300}, randn(r, 257*300, 1)), tensorF(tfops.Float, []int{257, 300}, randn(r, 257*300, 1))
			g.Fetches = []tfops.Output{tfops.AddV2(s, feed(s, &g, "x", xt), feed(s, &g, "y", yt))}
			g.Want = []*tfops.Tensor{refBinary(xt, yt, func(a, b float64) float64 { return a + b })}
			g.Tol = Elementwise
			return g
		},
	}, Case{
		Name: "AddV2/float32/incompatible", Op: "AddV2", Description: "feeding shapes that do not broadcast is an error",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			xt, yt := tensorF(tfops.Float, []int{2, 3}, make([]float64, 6)), tensorF(tfops.Float, []int{4}, make([]float64, 4))
			g.Fetches = []tfops.Output{tfops.AddV2(s, feedUnknown(s, &g, "x", xt), feedUnknown(s, &g, "y", yt))}
			g.WantErr = true
			return g
		},
	})
	return cs
}
