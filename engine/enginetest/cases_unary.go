package enginetest

import (
	"math"

	"github.com/tfseg/tfseg/tfops"
)

// unaryOp is an elementwise op with its float64 reference (d is the dtype,
// for ops whose TensorFlow kernel rounds intermediate results).
type unaryOp struct {
	name  string
	build func(s *tfops.Scope, x tfops.Output) tfops.Output
	ref   func(x float64, d tfops.DType) float64
	ints  bool // also defined on int32/int64
	iref  func(x int64) int64
}

// rawUnary lists the ops whose TensorFlow kernels do not simply read
// denormals as zeros and flush denormal results (the processor's modes
// under TensorFlow's executor): Abs is bitwise, Elu's select passes x
// through, libm's expm1f and log1p return tiny arguments unchanged. Their
// references receive the raw input and return the final value.
var rawUnary = map[string]bool{"Abs": true, "Elu": true, "Expm1": true, "Log1p": true}

// tf1Extremes lists float32 inputs on which TensorFlow 1.x's fast-math
// Eigen kernels go wrong: Sqrt and Rsqrt 1.5 times off below twice the
// smallest normal and at MaxFloat32 (a flushed Newton step), Sqrt(+Inf) =
// Rsqrt(+Inf) = NaN, Rsqrt(-0) = +Inf, Tanh of values below 2.4e-36
// flushed to zero. The edge cases leave them out and a TF2 case holds the
// correctly rounded values.
var tf1Extremes = map[string][]float64{
	"Sqrt":  {math.MaxFloat32, math.Inf(1), 1.2e-38},
	"Rsqrt": {math.MaxFloat32, math.Inf(1), 1.2e-38, math.Copysign(0, -1), -math.SmallestNonzeroFloat32, -1e-40},
	"Tanh":  {1.2e-38},
}

// tf1Sigmoid: TensorFlow 1.x computes float32 Sigmoid with a rational
// approximation that is off by up to 5e-6 relative on [-5, 5], 1e-4
// below -5, and clamps below -18; its edge case is TF2, and a case on
// [-5, 5] with a 1e-5 relative tolerance compares with 1.x.
const tf1Sigmoid = "Sigmoid"

// without returns v less the values in drop (compared bit for bit, after
// rounding to float32).
func without(v, drop []float64) []float64 {
	var out []float64
next:
	for _, e := range v {
		for _, x := range drop {
			if math.Float32bits(float32(e)) == math.Float32bits(float32(x)) {
				continue next
			}
		}
		out = append(out, e)
	}
	return out
}

// tf2NaN lists the ops for which TensorFlow 1.x gives another value for
// NaN input than TensorFlow 2 (whose semantics the references follow):
// their edge cases leave NaN out and a TF2 case covers it.
var tf2NaN = map[string]bool{"Sign": true, "Maximum": true, "Minimum": true}

func unaryOps() []unaryOp {
	return append([]unaryOp{
		{"Neg", tfops.Neg, func(x float64, _ tfops.DType) float64 { return -x }, true, func(x int64) int64 { return -x }},
		{"Abs", tfops.Abs, func(x float64, _ tfops.DType) float64 { return math.Abs(x) }, true, func(x int64) int64 {
			if x < 0 {
				return -x
			}
			return x
		}},
		{"Square", tfops.Square, func(x float64, _ tfops.DType) float64 { return x * x }, true, func(x int64) int64 { return x * x }},
		{"Sign", tfops.Sign, func(x float64, _ tfops.DType) float64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			case x == 0:
				return 0
			}
			return math.NaN()
		}, true, func(x int64) int64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return 0
		}},
		{"Round", tfops.Round, func(x float64, _ tfops.DType) float64 { return math.RoundToEven(x) }, true, func(x int64) int64 { return x }},
		{"Relu", tfops.Relu, func(x float64, _ tfops.DType) float64 {
			if x < 0 {
				return 0
			}
			return x
		}, true, func(x int64) int64 { return max(x, 0) }},
		{"Relu6", tfops.Relu6, func(x float64, _ tfops.DType) float64 {
			if x < 0 {
				return 0
			}
			if x > 6 {
				return 6
			}
			return x
		}, true, func(x int64) int64 { return min(max(x, 0), 6) }},
		{"Floor", tfops.Floor, func(x float64, _ tfops.DType) float64 { return math.Floor(x) }, false, nil},
		{"Ceil", tfops.Ceil, func(x float64, _ tfops.DType) float64 { return math.Ceil(x) }, false, nil},
		{"Reciprocal", tfops.Reciprocal, func(x float64, _ tfops.DType) float64 { return 1 / x }, false, nil},
		{"Exp", tfops.Exp, func(x float64, _ tfops.DType) float64 { return math.Exp(x) }, false, nil},
		{"Expm1", tfops.Expm1, func(x float64, d tfops.DType) float64 {
			if d == tfops.Float && isDenormal(d, x) {
				return x
			}
			return roundTo(d, math.Expm1(daz(d, x)))
		}, false, nil},
		{"Log", tfops.Log, func(x float64, _ tfops.DType) float64 { return math.Log(x) }, false, nil},
		{"Log1p", tfops.Log1p, func(x float64, d tfops.DType) float64 {
			if isDenormal(d, x) {
				return x
			}
			return roundTo(d, math.Log1p(x))
		}, false, nil},
		{"Tanh", tfops.Tanh, func(x float64, _ tfops.DType) float64 { return math.Tanh(x) }, false, nil},
		{"Sigmoid", tfops.Sigmoid, func(x float64, _ tfops.DType) float64 {
			if x < 0 {
				e := math.Exp(x)
				return e / (1 + e)
			}
			return 1 / (1 + math.Exp(-x))
		}, false, nil},
		{"Sqrt", tfops.Sqrt, func(x float64, _ tfops.DType) float64 { return math.Sqrt(x) }, false, nil},
		{"Rsqrt", tfops.Rsqrt, func(x float64, _ tfops.DType) float64 { return 1 / math.Sqrt(x) }, false, nil},
		// TensorFlow's Elu is exp(x) - 1 evaluated in the input's precision;
		// the comparison reads denormals as zero, the select passes x.
		{"Elu", tfops.Elu, func(x float64, d tfops.DType) float64 {
			if daz(d, x) < 0 {
				return roundTo(d, roundTo(d, math.Exp(x))-1)
			}
			return x
		}, false, nil},
		{"ZerosLike", tfops.ZerosLike, func(float64, tfops.DType) float64 { return 0 }, true, func(int64) int64 { return 0 }},
		{"OnesLike", tfops.OnesLike, func(float64, tfops.DType) float64 { return 1 }, true, func(int64) int64 { return 1 }},
	}, append(activationUnaryOps(),
		// Rint: Eigen's numext::rint, to nearest, ties to even (cwise_ops.h).
		unaryOp{"Rint", tfops.Rint, func(x float64, _ tfops.DType) float64 { return math.RoundToEven(x) }, false, nil})...)
}

// floatInputs is the edge values of d followed by random values of every
// magnitude.
func floatInputs(d tfops.DType, seed uint64) []float64 {
	var v []float64
	if d == tfops.Float {
		for _, e := range edge32 {
			v = append(v, float64(e))
		}
	} else {
		v = append(v, edge64...)
	}
	r := rng(seed)
	v = append(v, randn(r, 40, 1)...)
	v = append(v, randn(r, 20, 30)...)
	v = append(v, randu(r, 20, -1e-3, 1e-3)...)
	return v
}

func unaryCases() []Case {
	var cs []Case
	for k, op := range unaryOps() {
		op := op
		for _, d := range []tfops.DType{tfops.Float, tfops.Double} {
			d, seed := d, uint64(100+k)
			cs = append(cs, Case{
				Name: op.name + "/" + d.String() + "/edges", Op: op.name,
				Description: "edge values (±0, denormals, ±Inf, NaN, extremes) and random values of every magnitude",
				TF2:         d == tfops.Float && op.name == tf1Sigmoid || tf1Log[op.name],
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					v := floatInputs(d, seed)
					if tf2NaN[op.name] {
						v = withoutNaN(v)
					}
					if d == tfops.Float {
						v = without(v, tf1Extremes[op.name])
					}
					xt := tensorF(d, []int{len(v)}, v)
					x := feed(s, &g, "x", xt)
					g.Fetches = []tfops.Output{op.build(s, x)}
					if rawUnary[op.name] {
						g.Want = []*tfops.Tensor{refUnaryRaw(xt, func(x float64) float64 { return op.ref(x, d) })}
					} else {
						g.Want = []*tfops.Tensor{refUnary(xt, func(x float64) float64 { return op.ref(x, d) })}
					}
					g.Tol = Elementwise
					return g
				},
			})
		}
		if x := tf1Extremes[op.name]; x != nil {
			cs = append(cs, Case{
				Name: op.name + "/float32/extremes", Op: op.name, TF2: true,
				Description: "inputs where TensorFlow 1.x's fast-math approximation fails; correctly rounded values",
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					xt := tensorF(tfops.Float, []int{len(x)}, x)
					g.Fetches = []tfops.Output{op.build(s, feed(s, &g, "x", xt))}
					g.Want = []*tfops.Tensor{refUnary(xt, func(x float64) float64 { return op.ref(x, tfops.Float) })}
					g.Tol = Elementwise
					return g
				},
			})
		}
		if op.name == tf1Sigmoid {
			cs = append(cs, Case{
				Name: op.name + "/float32/moderate", Op: op.name,
				Description: "random inputs in [-5, 5], where TensorFlow 1.x's approximation is within 1e-5 relative",
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					xt := tensorF(tfops.Float, []int{200}, randu(rng(12), 200, -5, 5))
					g.Fetches = []tfops.Output{op.build(s, feed(s, &g, "x", xt))}
					g.Want = []*tfops.Tensor{refUnary(xt, func(x float64) float64 { return op.ref(x, tfops.Float) })}
					g.Tol = Tolerance{ULP: 4, Rel: 1e-5}
					return g
				},
			})
		}
		if tf1Log[op.name] {
			cs = append(cs, tf1LogCase(op))
		}
		if tf2NaN[op.name] {
			cs = append(cs, Case{
				Name: op.name + "/float32/nan", Op: op.name, Description: "NaN input (TensorFlow 2 semantics)", TF2: true,
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					xt := tensorF(tfops.Float, []int{2}, []float64{math.NaN(), 1})
					g.Fetches = []tfops.Output{op.build(s, feed(s, &g, "x", xt))}
					g.Want = []*tfops.Tensor{refUnary(xt, func(x float64) float64 { return op.ref(x, tfops.Float) })}
					return g
				},
			})
		}
		cs = append(cs, Case{
			Name: op.name + "/float32/empty", Op: op.name, Description: "an empty tensor of shape (0, 3)",
			Build: func(s *tfops.Scope) Graph {
				var g Graph
				xt := tensorF(tfops.Float, []int{0, 3}, nil)
				g.Fetches = []tfops.Output{op.build(s, feed(s, &g, "x", xt))}
				g.Want = []*tfops.Tensor{xt}
				return g
			},
		})
		if op.ints {
			for _, d := range []tfops.DType{tfops.Int32, tfops.Int64} {
				d := d
				cs = append(cs, Case{
					Name: op.name + "/" + d.String(), Op: op.name, Description: "integer edge values (0, ±1, the extremes)",
					Build: func(s *tfops.Scope) Graph {
						var g Graph
						v := edgeI32
						if d == tfops.Int64 {
							v = edgeI64
						}
						xt := tensorI(d, []int{len(v)}, v)
						out := make([]int64, len(v))
						for i, e := range v {
							out[i] = op.iref(e)
						}
						g.Fetches = []tfops.Output{op.build(s, feed(s, &g, "x", xt))}
						g.Want = []*tfops.Tensor{tensorI(d, []int{len(v)}, out)}
						return g
					},
				})
			}
		}
	}
	// Predicates returning bool.
	preds := []struct {
		name  string
		build func(s *tfops.Scope, x tfops.Output) tfops.Output
		f     func(float64) bool
	}{
		{"IsNan", tfops.IsNan, math.IsNaN},
		{"IsInf", tfops.IsInf, func(x float64) bool { return math.IsInf(x, 0) }},
		{"IsFinite", tfops.IsFinite, func(x float64) bool { return !math.IsInf(x, 0) && !math.IsNaN(x) }},
	}
	for _, p := range preds {
		p := p
		for _, d := range []tfops.DType{tfops.Float, tfops.Double} {
			d := d
			cs = append(cs, Case{
				Name: p.name + "/" + d.String(), Op: p.name, Description: "edge values",
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					v := floatInputs(d, 7)
					xt := tensorF(d, []int{len(v)}, v)
					out := make([]bool, len(v))
					for i, e := range floats(xt) {
						out[i] = p.f(e)
					}
					g.Fetches = []tfops.Output{p.build(s, feed(s, &g, "x", xt))}
					g.Want = []*tfops.Tensor{tensorB([]int{len(v)}, out)}
					return g
				},
			})
		}
	}
	cs = append(cs, Case{
		Name: "LogicalNot/bool", Op: "LogicalNot", Description: "true and false",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			xt := tensorB([]int{2, 2}, []bool{true, false, false, true})
			g.Fetches = []tfops.Output{tfops.LogicalNot(s, feed(s, &g, "x", xt))}
			g.Want = []*tfops.Tensor{tensorB([]int{2, 2}, []bool{false, true, true, false})}
			return g
		},
	}, Case{
		Name: "Exp/float32/large", Op: "Exp", Description: "100000 random values, enough to be split across threads",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			xt := tensorF(tfops.Float, []int{100, 1000}, randn(rng(11), 100000, 10))
			g.Fetches = []tfops.Output{tfops.Exp(s, feed(s, &g, "x", xt))}
			g.Want = []*tfops.Tensor{refUnary(xt, math.Exp)}
			g.Tol = Elementwise
			return g
		},
	})
	return cs
}
