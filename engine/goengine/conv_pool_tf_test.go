//go:build tensorflow

package goengine_test

import (
	"context"
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/engine/tfengine"
	"github.com/tfseg/tfseg/tfops"
)

// TestConvPoolMatchesTensorFlow runs Conv2D (3x3 VALID) → BiasAdd → Relu
// → MaxPool, which the Go engine computes as one _FusedConv2DMaxPool
// node, on the Go engine and on TensorFlow: the convolution outputs agree
// within float32 rounding of their sums, and each pooled element is the
// same function of the convolution's output (the max of its window) in
// both engines, so it agrees within the same bound.
func TestConvPoolMatchesTensorFlow(t *testing.T) {
	for _, tc := range []struct{ n, h, w, c, o, p int }{{1, 45, 38, 16, 16, 2}, {2, 30, 29, 3, 20, 2}, {1, 40, 31, 8, 33, 3}} {
		rng := rand.New(rand.NewSource(int64(tc.h*tc.w + tc.o)))
		vals := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(max(-5, min(5, rng.NormFloat64())))
			}
			return v
		}
		s := tfops.NewScope()
		out := []tfops.OutputInfo{{DType: tfops.Float, Shape: tfops.UnknownShape()}}
		x := tfops.Const(s.WithOpName("x"), tfops.MustFromSlice(vals(tc.n*tc.h*tc.w*tc.c), tc.n, tc.h, tc.w, tc.c))
		f := tfops.Const(s.WithOpName("f"), tfops.MustFromSlice(vals(9*tc.c*tc.o), 3, 3, tc.c, tc.o))
		b := tfops.Const(s.WithOpName("b"), tfops.MustFromSlice(vals(tc.o), tc.o))
		conv := s.AddOp(tfops.OpSpec{Type: "Conv2D", Name: "conv", Inputs: []any{x, f}, Outputs: out,
			Attrs: map[string]any{"T": tfops.Float, "strides": []int{1, 1, 1, 1}, "padding": "VALID"}})
		ba := s.AddOp(tfops.OpSpec{Type: "BiasAdd", Name: "bias", Inputs: []any{conv.Output(0), b}, Outputs: out, Attrs: map[string]any{"T": tfops.Float}})
		act := s.AddOp(tfops.OpSpec{Type: "Relu", Name: "act", Inputs: []any{ba.Output(0)}, Outputs: out, Attrs: map[string]any{"T": tfops.Float}})
		s.AddOp(tfops.OpSpec{Type: "MaxPool", Name: "pool", Inputs: []any{act.Output(0)}, Outputs: out,
			Attrs: map[string]any{"T": tfops.Float, "ksize": []int{1, tc.p, tc.p, 1}, "strides": []int{1, tc.p, tc.p, 1}, "padding": "VALID"}})
		gd, err := s.Finalize()
		require.NoError(t, err)
		run := func(e engine.Engine) []*tfops.Tensor {
			sess, err := e.NewSession(gd, engine.SessionOptions{})
			require.NoError(t, err)
			defer sess.Close()
			res, err := sess.Run(context.Background(), nil, []string{"act", "pool"}, nil)
			require.NoError(t, err)
			return res
		}
		got, want := run(goengine.Engine{}), run(tfengine.Engine{})
		// 9·c products and the bias, each within 2⁻²⁴ relative, in any
		// order: within k·2⁻²⁴ of the sum of magnitudes, bounded here by
		// the magnitudes of the inputs (|x|, |f|, |b| ≤ 5).
		tol := float64(9*tc.c+1) * 25 * 0x1p-24
		for i, name := range []string{"act", "pool"} {
			require.Equal(t, want[i].Shape(), got[i].Shape(), name)
			g, w := got[i].Float32s(), want[i].Float32s()
			worst := 0.0
			for j := range w {
				worst = max(worst, math.Abs(float64(g[j])-float64(w[j])))
			}
			require.LessOrEqual(t, worst, tol, "%s %v: max |go - tensorflow|", name, got[i].Shape())
			t.Logf("%s %v: max |go - tensorflow| = %.3g", name, got[i].Shape(), worst)
		}
	}
}
