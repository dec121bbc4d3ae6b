// Package enginetest is the op-level conformance suite every tfseg engine
// passes, in the manner of gonum's testblas: Cases lists graphs built with
// tfops together with the values they must produce, computed by plain
// float64 reference loops in this package (never by an engine); Run checks
// one engine against those values and Compare checks two engines against
// each other.
//
// Inputs cover the edge values of each dtype (±0, denormals, ±Inf, NaN,
// the largest and smallest magnitudes), empty tensors, NumPy broadcasting
// of every rank pairing from 0 to 4, tensors large enough to be split
// across threads, and random values from a fixed seed.
//
// Tolerances: elementwise float ops must be within 4 units in the last
// place of the reference, reductions (and ops built on them: Softmax,
// Cumsum) within 1e-6 relative; integer, bool and data-movement results
// must match exactly. NaN matches NaN.
package enginetest

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/internal/ulp"
	"github.com/tfseg/tfseg/tfops"
)

// Case is one conformance check.
type Case struct {
	// Name is unique within Cases: "Op/variant".
	Name string
	// Op is the TensorFlow op under test.
	Op string
	// Description says what the case exercises.
	Description string
	// Build adds the graph to s and returns what to feed, fetch and expect.
	Build func(s *tfops.Scope) Graph
	// TF2 marks cases whose expected values follow TensorFlow 2 where
	// TensorFlow 1.x (its older Eigen) differs: NaN propagation through
	// Maximum, Minimum, Max and Min, Sign(NaN), Sigmoid far below zero.
	// Against a TensorFlow 1.x library they run unchecked (RunUnchecked).
	TF2 bool
	// NotInTF1 says why TensorFlow 1.x cannot run the case at all (an op,
	// attr or layout its kernels lack); it is then left out against a
	// 1.x library. Empty: the case runs on every TensorFlow.
	NotInTF1 string
}

// Graph is what a Case's Build returns.
type Graph struct {
	// Fetches are the outputs to compute.
	Fetches []tfops.Output
	// Feeds gives the value of each placeholder.
	Feeds map[tfops.Output]*tfops.Tensor
	// Want holds the reference value of each fetch (nil when WantErr).
	Want []*tfops.Tensor
	// WantErr means running the graph must fail (bad indices, division by
	// zero, incompatible fed shapes); Want is then unused.
	WantErr bool
	// Tol is how close an engine's values must be to Want (and to another
	// engine's, in Compare).
	Tol Tolerance
}

// Tolerance bounds the difference between two float values: they match
// when equal (NaN matching NaN), or within ULP units in the last place of
// their dtype, or |a-b| <= Abs, or |a-b| <= Rel*max(|a|, |b|). Integer and
// bool values must be equal.
type Tolerance struct {
	ULP int64
	Rel float64
	Abs float64
}

// Elementwise is the tolerance for elementwise float ops: 4 ulp.
var Elementwise = Tolerance{ULP: 4}

// Reduction is the tolerance for reductions and ops built on them.
var Reduction = Tolerance{ULP: 4, Rel: 1e-6}

// Exact demands identical values.
var Exact = Tolerance{}

// run builds, opens and runs one case on e.
func run(e engine.Engine, c Case) (Graph, []*tfops.Tensor, error) {
	s := tfops.NewScope()
	g := c.Build(s)
	gd, err := s.Finalize()
	if err != nil {
		return g, nil, fmt.Errorf("building %s: %w", c.Name, err)
	}
	sess, err := e.NewSession(gd, engine.SessionOptions{})
	if err != nil {
		return g, nil, fmt.Errorf("opening a session for %s: %w", c.Name, err)
	}
	defer sess.Close()
	feeds := make(map[string]*tfops.Tensor, len(g.Feeds))
	for o, t := range g.Feeds {
		feeds[o.Name()] = t
	}
	fetches := make([]string, len(g.Fetches))
	for i, o := range g.Fetches {
		fetches[i] = o.Name()
	}
	out, err := sess.Run(context.Background(), feeds, fetches, nil)
	return g, out, err
}

// RunUnchecked runs cases on e and requires each to build, import and run
// (or to fail where the case wants an error) without comparing values: it
// is for cases whose reference describes another TensorFlow generation
// than e's (Case.TF2 on TensorFlow 1.x). The largest difference from the
// reference is logged.
func RunUnchecked(t *testing.T, e engine.Engine, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			g, out, err := run(e, c)
			if g.WantErr {
				if err == nil {
					t.Errorf("%s: %s: want an error, got none", e.Name(), c.Name)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %s: %v", e.Name(), c.Name, err)
			}
			for i, w := range g.Want {
				if i < len(out) {
					d := check(g.Tol, w, out[i])
					t.Logf("%s: %s fetch %d: largest difference from the reference %d ulp (rel %.3g, abs %.3g) %s",
						e.Name(), c.Name, i, d.ulp, d.rel, d.abs, d.msg)
				}
			}
		})
	}
}

// Run runs every case on e and checks the results against the reference.
func Run(t *testing.T, e engine.Engine) {
	t.Helper()
	RunCases(t, e, Cases())
}

// RunCases is Run restricted to cases (a subset of Cases).
func RunCases(t *testing.T, e engine.Engine, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			g, got, err := run(e, c)
			if g.WantErr {
				if err == nil {
					t.Fatalf("%s: %s: want an error, got none (outputs %v)", e.Name(), c.Name, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %s: %v", e.Name(), c.Name, err)
			}
			for i := range g.Want {
				if d := check(g.Tol, g.Want[i], got[i]); d.msg != "" {
					t.Errorf("%s: %s: fetch %d (%s): %s", e.Name(), c.Name, i, g.Fetches[i].Name(), d.msg)
				}
			}
		})
	}
}

// Compare runs every case on a and b and checks that their results agree
// within each case's tolerance. It logs the largest difference per op.
func Compare(t *testing.T, a, b engine.Engine) {
	t.Helper()
	CompareCases(t, a, b, Cases())
}

// CompareCases is Compare restricted to cases (a subset of Cases).
func CompareCases(t *testing.T, a, b engine.Engine, cases []Case) {
	t.Helper()
	worst := map[string]diff{}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			g, ga, erra := run(a, c)
			_, gb, errb := run(b, c)
			if (erra != nil) != (errb != nil) {
				t.Fatalf("%s: %s fails with %v, %s with %v", c.Name, a.Name(), erra, b.Name(), errb)
			}
			if erra != nil {
				return
			}
			for i := range ga {
				d := check(g.Tol, ga[i], gb[i])
				if d.msg != "" {
					t.Errorf("%s: fetch %d (%s): %s vs %s: %s", c.Name, i, g.Fetches[i].Name(), a.Name(), b.Name(), d.msg)
				}
				w := worst[c.Op]
				w.ulp = max(w.ulp, d.ulp)
				w.rel = max(w.rel, d.rel)
				w.abs = max(w.abs, d.abs)
				worst[c.Op] = w
			}
		})
	}
	ops := make([]string, 0, len(worst))
	for op := range worst {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	var sb strings.Builder
	fmt.Fprintf(&sb, "largest difference per op, %s vs %s:\n", a.Name(), b.Name())
	for _, op := range ops {
		w := worst[op]
		fmt.Fprintf(&sb, "  %-18s %6d ulp  rel %.3g  abs %.3g\n", op, w.ulp, w.rel, w.abs)
	}
	t.Log(sb.String())
}

// diff is the largest difference found between two tensors; msg is
// non-empty when they do not match.
type diff struct {
	ulp      int64
	rel, abs float64
	msg      string
}

// check compares got with want under tol.
func check(tol Tolerance, want, got *tfops.Tensor) diff {
	if got == nil {
		return diff{msg: "no value"}
	}
	if want.DType() != got.DType() {
		return diff{msg: fmt.Sprintf("dtype %v, want %v", got.DType(), want.DType())}
	}
	if fmt.Sprint(want.Shape()) != fmt.Sprint(got.Shape()) {
		return diff{msg: fmt.Sprintf("shape %v, want %v", got.Shape(), want.Shape())}
	}
	var d diff
	bad := 0
	note := func(i int, w, g any, ulp int64, rel, abs float64, ok bool) {
		d.ulp = max(d.ulp, ulp)
		if !math.IsNaN(rel) {
			d.rel = max(d.rel, rel)
		}
		if !math.IsNaN(abs) && !math.IsInf(abs, 0) {
			d.abs = max(d.abs, abs)
		}
		if !ok {
			if bad < 5 {
				d.msg += fmt.Sprintf("[%s] = %v, want %v (%d ulp, rel %.3g); ", flatIndex(i, want.Shape()), g, w, ulp, rel)
			}
			bad++
		}
	}
	switch wv := want.Data().(type) {
	case []float32:
		gv := got.Float32s()
		for i := range wv {
			w, g := float64(wv[i]), float64(gv[i])
			ulp := ulp32(wv[i], gv[i])
			ok, rel, abs := floatsMatch(tol, w, g, ulp)
			note(i, wv[i], gv[i], ulp, rel, abs, ok)
		}
	case []float64:
		gv := got.Float64s()
		for i := range wv {
			ulp := ulp64(wv[i], gv[i])
			ok, rel, abs := floatsMatch(tol, wv[i], gv[i], ulp)
			note(i, wv[i], gv[i], ulp, rel, abs, ok)
		}
	default:
		ws, gs := fmt.Sprint(want.Data()), fmt.Sprint(got.Data())
		if ws != gs {
			wl, gl := elemList(want), elemList(got)
			for i := range wl {
				if wl[i] != gl[i] {
					note(i, wl[i], gl[i], 0, 0, 0, false)
				}
			}
		}
	}
	if bad > 0 {
		d.msg = fmt.Sprintf("%d of %d elements differ: %s", bad, want.NumElements(), strings.TrimSuffix(d.msg, "; "))
	}
	return d
}

// floatsMatch applies tol to one pair of values.
func floatsMatch(tol Tolerance, w, g float64, ulp int64) (ok bool, rel, abs float64) {
	if math.IsNaN(w) || math.IsNaN(g) {
		nan := math.IsNaN(w) && math.IsNaN(g)
		if nan {
			return true, 0, 0
		}
		return false, math.NaN(), math.NaN()
	}
	if math.IsInf(w, 0) || math.IsInf(g, 0) {
		if w == g {
			return true, 0, 0
		}
		return false, math.Inf(1), math.Inf(1)
	}
	abs = math.Abs(w - g)
	if m := math.Max(math.Abs(w), math.Abs(g)); m > 0 {
		rel = abs / m
	}
	ok = ulp <= tol.ULP || abs <= tol.Abs || rel <= tol.Rel
	return ok, rel, abs
}

// ulp32 is the distance between a and b in float32 units in the last place
// (math.MaxInt64 when it does not fit, or when one is NaN).
func ulp32(a, b float32) int64 { return saturate(ulp.Dist32(a, b)) }

// ulp64 is the distance between a and b in float64 units in the last place.
func ulp64(a, b float64) int64 { return saturate(ulp.Dist64(a, b)) }

func saturate(d uint64) int64 {
	if d > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(d)
}

// flatIndex formats flat index i of dims as a multi-index "1,2".
func flatIndex(i int, dims []int) string {
	parts := make([]string, len(dims))
	for d := len(dims) - 1; d >= 0; d-- {
		n := max(dims[d], 1)
		parts[d] = fmt.Sprint(i % n)
		i /= n
	}
	return strings.Join(parts, ",")
}
