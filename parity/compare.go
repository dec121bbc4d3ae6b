package parity

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/tfseg/tfseg/internal/ulp"
	"github.com/tfseg/tfseg/tfops"
)

// Tolerance is NumPy's allclose rule: an element passes when
// |got - want| <= Atol + Rtol*|want|. NaN equals NaN and an infinity
// equals the same infinity; any other NaN or infinity is outside.
type Tolerance struct {
	Rtol, Atol float64
}

// DefaultTolerance is `tfseg verify`'s default: rtol 1e-5, atol 1e-6.
var DefaultTolerance = Tolerance{Rtol: 1e-5, Atol: 1e-6}

// Check returns an error unless both tolerances are numbers >= 0.
func (t Tolerance) Check() error {
	if t.Rtol < 0 || t.Atol < 0 || math.IsNaN(t.Rtol) || math.IsNaN(t.Atol) {
		return fmt.Errorf("parity: rtol %g and atol %g must be >= 0", t.Rtol, t.Atol)
	}
	return nil
}

// String is the rule with its numbers: "|got - want| <= 1e-06 + 1e-05*|want|".
func (t Tolerance) String() string {
	return fmt.Sprintf("|got - want| <= %g + %g*|want|", t.Atol, t.Rtol)
}

// ULPBuckets are the inclusive upper bounds of Comparison.ULPHist's
// buckets: 0, 1, 2, 3-4, 5-16, 17-256, more; the histogram has one more
// bucket, last, for NaN/Inf mismatches.
var ULPBuckets = []uint64{0, 1, 2, 4, 16, 256, math.MaxUint64}

// ULPLabel names bucket i of Comparison.ULPHist: "0", "3-4", ">256",
// "NaN/Inf mismatch".
func ULPLabel(i int) string {
	switch i {
	case 0:
		return "0"
	case 1:
		return "1"
	case 2:
		return "2"
	case len(ULPBuckets) - 1:
		return fmt.Sprintf(">%d", ULPBuckets[i-1])
	case len(ULPBuckets):
		return "NaN/Inf mismatch"
	}
	return fmt.Sprintf("%d-%d", ULPBuckets[i-1]+1, ULPBuckets[i])
}

// Comparison is the element-wise comparison of one output. Flat indices
// are -1 when there is no such element (Index turns the others into
// coordinates).
type Comparison struct {
	Shape []int
	// N is the number of elements, Outside how many are out of tolerance.
	N, Outside int
	// MaxAbs and MaxRel are the largest absolute and relative errors
	// among the finite elements, at the flat indices MaxAbsAt, MaxRelAt.
	MaxAbs, MaxRel     float64
	MaxAbsAt, MaxRelAt int
	// Worst is the element with the largest error in units of the
	// tolerance (a NaN/Inf mismatch first), WorstGot and WorstWant its values.
	Worst               int
	WorstGot, WorstWant float64
	// ULPHist counts the elements by ulp distance (ULPBuckets, ULPLabel),
	// NaN/Inf mismatches last.
	ULPHist []int
}

// OK reports whether every element is within tolerance.
func (c *Comparison) OK() bool { return c.Outside == 0 }

// Index converts a flat index into coordinates of c.Shape.
func (c *Comparison) Index(flat int) []int {
	idx := make([]int, len(c.Shape))
	for k := len(c.Shape) - 1; k >= 0; k-- {
		if c.Shape[k] > 0 {
			idx[k] = flat % c.Shape[k]
			flat /= c.Shape[k]
		}
	}
	return idx
}

// values returns a tensor's values as float64 and whether they are float32.
func values(t *tfops.Tensor) ([]float64, bool, error) {
	switch v := t.Data().(type) {
	case []float32:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out, true, nil
	case []float64:
		return v, false, nil
	}
	f, err := Cast(t, tfops.Double)
	if err != nil {
		return nil, false, err
	}
	return f.Float64s(), false, nil
}

// ulpDistance counts the representable numbers between a and b in float32
// (single) or float64.
func ulpDistance(a, b float64, single bool) uint64 {
	if single {
		return ulp.Dist32(float32(a), float32(b))
	}
	return ulp.Dist64(a, b)
}

// Compare compares got (what Go computed) with want (what Keras did)
// element by element. Their shapes must be equal; ulps count in got's
// precision (float32 for a float32 got, else float64: Keras' float32
// values saved as float64 are still float32 values). Non-float tensors
// are compared as float64 (see Cast).
func Compare(got, want *tfops.Tensor, tol Tolerance) (*Comparison, error) {
	if err := tol.Check(); err != nil {
		return nil, err
	}
	if !slices.Equal(got.Shape(), want.Shape()) {
		return nil, fmt.Errorf("shape %v, Keras' is %v", got.Shape(), want.Shape())
	}
	g, single, err := values(got)
	if err != nil {
		return nil, err
	}
	w, _, err := values(want)
	if err != nil {
		return nil, err
	}
	c := &Comparison{Shape: got.Shape(), N: len(g), ULPHist: make([]int, len(ULPBuckets)+1), Worst: -1, MaxAbsAt: -1, MaxRelAt: -1}
	worstExcess := math.Inf(-1)
	for i := range g {
		a, b := g[i], w[i]
		if math.IsNaN(a) || math.IsNaN(b) || math.IsInf(a, 0) || math.IsInf(b, 0) {
			if a == b || (math.IsNaN(a) && math.IsNaN(b)) {
				c.ULPHist[0]++
				continue
			}
			c.ULPHist[len(ULPBuckets)]++
			c.Outside++
			if c.Worst < 0 || !math.IsInf(worstExcess, 1) {
				c.Worst, c.WorstGot, c.WorstWant, worstExcess = i, a, b, math.Inf(1)
			}
			continue
		}
		d := math.Abs(a - b)
		rel := d / math.Max(math.Abs(b), math.SmallestNonzeroFloat64)
		if d == 0 {
			rel = 0
		}
		if c.MaxAbsAt < 0 || d > c.MaxAbs {
			c.MaxAbs, c.MaxAbsAt = d, i
		}
		if c.MaxRelAt < 0 || rel > c.MaxRel {
			c.MaxRel, c.MaxRelAt = rel, i
		}
		u := ulpDistance(a, b, single)
		for k, ub := range ULPBuckets {
			if u <= ub {
				c.ULPHist[k]++
				break
			}
		}
		// The excess is the error in units of the tolerance: above 1 is outside.
		t := tol.Atol + tol.Rtol*math.Abs(b)
		excess := 0.0
		switch {
		case d > 0 && t == 0:
			excess = math.Inf(1)
		case d > 0:
			excess = d / t
		}
		if excess > 1 {
			c.Outside++
		}
		if excess > worstExcess {
			c.Worst, c.WorstGot, c.WorstWant, worstExcess = i, a, b, excess
		}
	}
	return c, nil
}

// Write prints the comparison as `tfseg verify` does, under name: the
// status, the largest errors and where, the worst element and the ulp
// histogram.
func (c *Comparison) Write(w io.Writer, name string) {
	status := "OK"
	if c.Outside > 0 {
		status = fmt.Sprintf("OUT OF TOLERANCE: %d of %d elements", c.Outside, c.N)
	}
	fmt.Fprintf(w, "\n%s: shape %v, %d elements: %s\n", name, c.Shape, c.N, status)
	if c.MaxAbsAt >= 0 {
		fmt.Fprintf(w, "  largest abs error %.3g at %v\n", c.MaxAbs, c.Index(c.MaxAbsAt))
		fmt.Fprintf(w, "  largest rel error %.3g at %v\n", c.MaxRel, c.Index(c.MaxRelAt))
	}
	if c.Worst >= 0 {
		fmt.Fprintf(w, "  worst element %v: got %.9g, Keras %.9g\n", c.Index(c.Worst), c.WorstGot, c.WorstWant)
	}
	var parts []string
	for k, n := range c.ULPHist {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d", ULPLabel(k), n))
		}
	}
	fmt.Fprintf(w, "  ulp distance histogram: %s\n", strings.Join(parts, ", "))
}

// Cast converts a numeric tensor to float32 or float64 (to), as Keras
// does when it feeds NumPy arrays to a model. Integers that a float32
// cannot hold exactly are refused rather than rounded, as are strings,
// uint32 and uint64.
func Cast(t *tfops.Tensor, to tfops.DType) (*tfops.Tensor, error) {
	if t.DType() == to {
		return t, nil
	}
	f, ok := t.AsFloat64s()
	if !ok || t.DType() == tfops.Uint32 || t.DType() == tfops.Uint64 {
		return nil, fmt.Errorf("cannot use a %v array as a loss input", t.DType())
	}
	if t.DType() == tfops.Int64 {
		for i, x := range f {
			if math.Abs(x) > 1<<24 {
				return nil, fmt.Errorf("int64 element %d (%d) is not exact in float32", i, t.Int64s()[i])
			}
		}
	}
	if to == tfops.Double {
		return tfops.FromSlice(f, t.Shape()...)
	}
	o := make([]float32, len(f))
	for i, x := range f {
		if t.DType().IsInteger() && math.Abs(x) > 1<<24 {
			return nil, fmt.Errorf("element %d (%v) is not exact in float32", i, x)
		}
		o[i] = float32(x)
	}
	return tfops.FromSlice(o, t.Shape()...)
}
