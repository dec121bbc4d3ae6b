package enginetest

import (
	"math"

	"github.com/tfseg/tfseg/tfops"
)

// Cases for the ops Keras layers and activations put in inference graphs
// beyond the core math: the activations' elementwise ops here, the array
// ops (Split, SplitV, AddN, GatherNd, ResourceGather, ConcatOffset,
// InvertPermutation) and Einsum in cases_keras_array.go, the layers'
// convolutions, pooling and normalization in cases_keras_nn.go.

// opUnary returns a builder adding the elementwise op typ (attr T) that
// tfops has no constructor for.
func opUnary(typ string) func(s *tfops.Scope, x tfops.Output) tfops.Output {
	return func(s *tfops.Scope, x tfops.Output) tfops.Output {
		op := s.AddOp(tfops.OpSpec{Type: typ, Inputs: []any{x}, Attrs: map[string]any{"T": x.DType()},
			Outputs: []tfops.OutputInfo{{DType: x.DType(), Shape: x.Shape()}}})
		if op == nil {
			return tfops.Output{}
		}
		return op.Output(0)
	}
}

// SELU's constants (tensorflow/core/kernels/relu_op_functor.h).
const (
	refSeluScale      = 1.0507009873554804934193349852946
	refSeluScaleAlpha = 1.7580993408473768599402175208123
)

// activationUnaryOps are the elementwise ops of the Keras activations gelu
// (Erf), selu, softplus and mish (Softplus), softsign, with float64
// references. Where TensorFlow's functor defines a rounding sequence in the
// input's precision (Selu's exp(x) - 1, Softsign's 1 + |x|) or a piecewise
// formula (Softplus's thresholds), the reference evaluates that definition.
func activationUnaryOps() []unaryOp {
	return []unaryOp{
		{"Erf", opUnary("Erf"), func(x float64, _ tfops.DType) float64 { return math.Erf(x) }, false, nil},
		{"Erfc", opUnary("Erfc"), func(x float64, _ tfops.DType) float64 { return math.Erfc(x) }, false, nil},
		// relu_op_functor.h: x < 0 ? scale_alpha * (exp(x) - 1) : scale * x.
		{"Selu", opUnary("Selu"), func(x float64, d tfops.DType) float64 {
			if x < 0 {
				return roundTo(d, roundTo(d, refSeluScaleAlpha)*roundTo(d, roundTo(d, math.Exp(x))-1))
			}
			return roundTo(d, roundTo(d, refSeluScale)*x)
		}, false, nil},
		// softplus_op.h: threshold = log(epsilon) + 2; x above -threshold
		// gives x, below threshold exp(x), else log1p(exp(x)).
		{"Softplus", opUnary("Softplus"), func(x float64, d tfops.DType) float64 {
			eps := 0x1p-52
			if d == tfops.Float {
				eps = 0x1p-23
			}
			th := roundTo(d, math.Log(eps)+2)
			switch {
			case x > -th:
				return x
			case x < th:
				return math.Exp(x)
			}
			return math.Log1p(math.Exp(x))
		}, false, nil},
		// softsign_op.h: x / (|x| + 1).
		{"Softsign", opUnary("Softsign"), func(x float64, d tfops.DType) float64 {
			return x / roundTo(d, math.Abs(x)+1)
		}, false, nil},
	}
}

// tf1Log lists the ops whose TensorFlow 1.x kernel computes log(1 + e)
// where TensorFlow 2 computes log1p(e): TensorFlow 1.15's Softplus loses
// up to 3e-5 relative on [-14, 0), where 1 + exp(x) cancels (up to 3e-8
// in float64). Their edge cases follow TensorFlow 2 (TF2) and tf1LogCase
// compares with 1.x where the two agree.
var tf1Log = map[string]bool{"Softplus": true}

// tf1LogCase checks op on inputs where log(1 + exp(x)) and log1p(exp(x))
// agree to 1e-6 relative: x in [-1, 30] and below the -threshold branch.
func tf1LogCase(op unaryOp) Case {
	return Case{
		Name: op.name + "/float32/moderate", Op: op.name,
		Description: "inputs in [-1, 30] and [-40, -15], where TensorFlow 1.x's log(1 + exp(x)) is within 1e-6 relative of log1p",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			r := rng(13)
			v := append(randu(r, 150, -1, 30), randu(r, 50, -40, -15)...)
			xt := tensorF(tfops.Float, []int{len(v)}, v)
			g.Fetches = []tfops.Output{op.build(s, feed(s, &g, "x", xt))}
			g.Want = []*tfops.Tensor{refUnary(xt, func(x float64) float64 { return op.ref(x, tfops.Float) })}
			g.Tol = Tolerance{ULP: 4, Rel: 1e-6}
			return g
		},
	}
}

// trigCases check Sin and Cos (Keras' random rotation layers, which only
// run in training, and positional encodings) on values in [-10, 10]. The
// edge values are left out: TensorFlow 1.15's float64 Sin gave different
// results for the same graph in two runs of one test process (a denormal
// input flushed in one and kept in the other, 25 ulp apart at
// sin(3.1366)), so no reference can describe it there.
func trigCases() []Case {
	var cs []Case
	for _, op := range []struct {
		name string
		f    func(float64) float64
	}{{"Sin", math.Sin}, {"Cos", math.Cos}} {
		for _, d := range []tfops.DType{tfops.Float, tfops.Double} {
			op, d := op, d
			cs = append(cs, Case{Name: op.name + "/" + d.String() + "/moderate", Op: op.name, Description: "random values in [-10, 10]",
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					xt := tensorF(d, []int{200}, randu(rng(17), 200, -10, 10))
					g.Fetches = []tfops.Output{opUnary(op.name)(s, feed(s, &g, "x", xt))}
					g.Want = []*tfops.Tensor{refUnary(xt, op.f)}
					g.Tol = Elementwise
					return g
				}})
		}
	}
	return cs
}
