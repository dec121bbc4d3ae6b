package goengine_test

import (
	"context"
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
	fpb "github.com/wamuir/graft/tensorflow/core/framework/function_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/enginetest"
	"github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/tfops"
)

// Helpers for the control-flow and TensorList tests: a FunctionDef
// builder that writes bodies the way TensorFlow 2 does (inputs as
// "node:out_arg:index", every attr the op needs), and a runner that runs a
// graph on every registered engine (the Go engine, and libtensorflow under
// -tags tensorflow).

// fnArg is a function argument.
type fnArg = enginetest.Arg

func arg(name string, d tfops.DType) fnArg { return fnArg{Name: name, DType: d} }

// fnb builds a FunctionDef (enginetest.FuncBuilder) in a test.
type fnb struct {
	*enginetest.FuncBuilder
	t testing.TB
}

func newFn(t testing.TB, name string, args ...fnArg) *fnb {
	return &fnb{FuncBuilder: enginetest.NewFunc(name, args...), t: t}
}

// add appends a node and returns the reference to its first output.
func (b *fnb) add(op, name string, attrs map[string]any, inputs ...string) string {
	return b.Op(op, name, attrs, inputs...)
}

// f adds a float32 op with attr T.
func (b *fnb) f(op, name string, inputs ...string) string {
	return b.Op(op, name, map[string]any{"T": tfops.Float}, inputs...)
}

// konst adds a Const node.
func (b *fnb) konst(name string, v *tfops.Tensor) string { return b.Const(name, v) }

// ints is an int32 vector constant.
func (b *fnb) ints(name string, v ...int32) string {
	return b.Const(name, tfops.MustFromSlice(v, len(v)))
}

// ret adds an output.
func (b *fnb) ret(name string, dtype tfops.DType, ref string) { b.Ret(name, dtype, ref) }

// def is the FunctionDef.
func (b *fnb) def() *fpb.FunctionDef {
	b.t.Helper()
	fd, err := b.Def()
	require.NoError(b.t, err)
	return fd
}

// engines returns the registered engines: "go", and "tensorflow" when the
// test binary links it (-tags tensorflow).
func engines(t testing.TB) []engine.Engine {
	var out []engine.Engine
	for _, n := range engine.Names() {
		e, err := engine.Get(n)
		require.NoError(t, err)
		out = append(out, e)
	}
	return out
}

// runOn builds s on eng, runs targets first (variable initialisation), then
// fetches.
func runOn(t testing.TB, eng engine.Engine, s *tfops.Scope, targets, fetches []string) ([]*tfops.Tensor, error) {
	t.Helper()
	gd, err := s.Finalize()
	require.NoError(t, err)
	sess, err := eng.NewSession(gd, engine.SessionOptions{})
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	if len(targets) > 0 {
		if _, err := sess.Run(context.Background(), nil, nil, targets); err != nil {
			return nil, err
		}
	}
	return sess.Run(context.Background(), nil, fetches, nil)
}

// diffStats compares float32 results with a reference: the largest
// relative difference over elements whose reference is at least 1e-2 in
// magnitude, and the largest absolute difference.
type diffStats struct{ rel, abs float64 }

func compareTo(got []float32, want []float64) diffStats {
	var d diffStats
	for i, w := range want {
		a := math.Abs(float64(got[i]) - w)
		d.abs = math.Max(d.abs, a)
		if math.Abs(w) >= 1e-2 {
			d.rel = math.Max(d.rel, a/math.Abs(w))
		}
	}
	return d
}

// requireClose fails unless every element of got is within rel·|want| +
// 1e-6 of want.
func requireClose(t testing.TB, what string, got []float32, want []float64, rel float64) diffStats {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i, w := range want {
		g := float64(got[i])
		if math.IsNaN(g) || math.Abs(g-w) > rel*math.Abs(w)+1e-6 {
			require.Failf(t, what, "element %d: got %v, want %v (rel tolerance %g)", i, g, w, rel)
		}
	}
	return compareTo(got, want)
}

func f64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// randTensor is a float32 tensor of uniform values in [-scale, scale].
func randTensor(r *rand.Rand, scale float64, dims ...int) *tfops.Tensor {
	v := make([]float32, tfops.NumElements(dims))
	for i := range v {
		v[i] = float32((2*r.Float64() - 1) * scale)
	}
	return tfops.MustFromSlice(v, dims...)
}

// graphVar adds a resource variable initialised to v: the handle and the
// assign op's name.
func graphVar(s *tfops.Scope, name string, v *tfops.Tensor) (tfops.Output, string) {
	h := s.AddOp(tfops.OpSpec{Type: "VarHandleOp", Name: name, Attrs: map[string]any{
		"dtype": v.DType(), "shape": v.StaticShape(), "shared_name": name, "container": ""},
		Outputs: []tfops.OutputInfo{{DType: tfops.Resource}}})
	a := s.AddOp(tfops.OpSpec{Type: "AssignVariableOp", Name: name + "/assign",
		Inputs: []any{h.Output(0), tfops.Const(s.WithOpName(name+"/init"), v)},
		Attrs:  map[string]any{"dtype": v.DType()}})
	return h.Output(0), a.Name()
}

// op1 adds a single-output op to the graph.
func op1(s *tfops.Scope, typ, name string, dtype tfops.DType, attrs map[string]any, inputs ...tfops.Output) tfops.Output {
	ins := make([]any, len(inputs))
	for i, in := range inputs {
		ins[i] = in
	}
	return s.AddOp(tfops.OpSpec{Type: typ, Name: name, Inputs: ins, Attrs: attrs,
		Outputs: []tfops.OutputInfo{{DType: dtype}}}).Output(0)
}

func constI32(s *tfops.Scope, name string, v ...int32) tfops.Output {
	return tfops.Const(s.WithOpName(name), tfops.MustFromSlice(v, len(v)))
}

func scalarI32(s *tfops.Scope, name string, v int32) tfops.Output {
	return tfops.Const(s.WithOpName(name), tfops.FromScalar(v))
}

// isGo reports whether eng is the Go engine.
func isGo(eng engine.Engine) bool { return eng.Name() == goengine.Name }
