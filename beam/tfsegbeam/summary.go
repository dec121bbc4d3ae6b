package tfsegbeam

import (
	"math"
	"reflect"
	"sort"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tfseg/tfseg/eval"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*summaryFn)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Acc)(nil)).Elem())
}

// Ranked is an image and its value in one column.
type Ranked struct {
	Name  string
	Value float64
}

// ColStats summarises one column. Every field merges exactly or with a
// bounded rounding error independent of the number of images:
//   - counts add;
//   - Sum+Comp is a Neumaier-compensated sum of the finite values (the
//     mean is (Sum+Comp)/N);
//   - Mean and M2 are Welford's running mean and sum of squared
//     deviations, merged with Chan, Golub and LeVeque's pairwise formula
//     (the population standard deviation is sqrt(M2/N));
//   - Min and Max are exact;
//   - Low and High are the K smallest and largest values (NaN left out,
//     infinities kept, as tfseg eval ranks), ties by name: a merge of two
//     top-K lists is the top K of their union, exactly.
type ColStats struct {
	N, Bad, NaN, Below05 int64
	Sum, Comp            float64
	Mean, M2             float64
	Min, Max             float64
	Low, High            []Ranked
}

// Acc is the summary accumulator of a set of images.
type Acc struct {
	Cols []ColStats
	// Images counts the evaluated images; Skipped lists the others.
	Images  int64
	Skipped []eval.Skipped
	// Crops counts the cropped masks by crop.
	Crops map[string]int64
}

// summaryFn combines Outcomes into an Acc.
type summaryFn struct {
	K int
}

func (f *summaryFn) CreateAccumulator() *Acc { return &Acc{Crops: map[string]int64{}} }

func (f *summaryFn) AddInput(a *Acc, o Outcome) *Acc {
	if o.Reason != "" {
		a.Skipped = append(a.Skipped, eval.Skipped{Name: o.Name, Image: o.Image, Mask: o.Mask, Reason: o.Reason})
		return a
	}
	a.Images++
	if o.Crop != "" {
		if a.Crops == nil {
			a.Crops = map[string]int64{}
		}
		a.Crops[o.Crop]++
	}
	for len(a.Cols) < len(o.Values) {
		a.Cols = append(a.Cols, ColStats{Min: math.Inf(1), Max: math.Inf(-1)})
	}
	for k, v := range o.Values {
		c := &a.Cols[k]
		if !math.IsNaN(v) {
			r := Ranked{Name: o.Name, Value: v}
			c.Low = topK(append(c.Low, r), f.K, true)
			c.High = topK(append(c.High, r), f.K, false)
			if v < 0.5 {
				c.Below05++
			}
		} else {
			c.NaN++
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			c.Bad++
			continue
		}
		c.N++
		c.Sum, c.Comp = neumaier(c.Sum, c.Comp, v)
		d := v - c.Mean
		c.Mean += d / float64(c.N)
		c.M2 += d * (v - c.Mean)
		c.Min, c.Max = math.Min(c.Min, v), math.Max(c.Max, v)
	}
	return a
}

// neumaier adds v to the compensated sum (s, c).
func neumaier(s, c, v float64) (float64, float64) {
	t := s + v
	if math.Abs(s) >= math.Abs(v) {
		c += (s - t) + v
	} else {
		c += (v - t) + s
	}
	return t, c
}

// topK sorts l (ascending for low, descending otherwise; ties by name) and
// keeps the first k.
func topK(l []Ranked, k int, low bool) []Ranked {
	sort.SliceStable(l, func(i, j int) bool {
		if l[i].Value != l[j].Value {
			return (l[i].Value < l[j].Value) == low
		}
		return l[i].Name < l[j].Name
	})
	if len(l) > k {
		l = l[:k]
	}
	return l
}

func (f *summaryFn) MergeAccumulators(a, b *Acc) *Acc {
	a.Images += b.Images
	a.Skipped = append(a.Skipped, b.Skipped...)
	if a.Crops == nil {
		a.Crops = map[string]int64{}
	}
	for k, n := range b.Crops {
		a.Crops[k] += n
	}
	for len(a.Cols) < len(b.Cols) {
		a.Cols = append(a.Cols, ColStats{Min: math.Inf(1), Max: math.Inf(-1)})
	}
	for k := range b.Cols {
		x, y := &a.Cols[k], b.Cols[k]
		x.Low = topK(append(x.Low, y.Low...), f.K, true)
		x.High = topK(append(x.High, y.High...), f.K, false)
		x.Bad += y.Bad
		x.NaN += y.NaN
		x.Below05 += y.Below05
		if y.N == 0 {
			continue
		}
		n := x.N + y.N
		d := y.Mean - x.Mean
		x.M2 += y.M2 + d*d*float64(x.N)*float64(y.N)/float64(n)
		x.Mean += d * float64(y.N) / float64(n)
		x.N = n
		x.Sum, x.Comp = neumaier(x.Sum, x.Comp, y.Sum)
		x.Sum, x.Comp = neumaier(x.Sum, x.Comp, y.Comp)
		x.Min, x.Max = math.Min(x.Min, y.Min), math.Max(x.Max, y.Max)
	}
	return a
}

func (f *summaryFn) ExtractOutput(a *Acc) *Acc { return a }

// report builds tfseg eval's report (without its per-image rows) from a
// merged accumulator, the header and the dataset's notes.
func report(a *Acc, h Header, k int, masksWithoutImage, ignored []string) *eval.Report {
	rep := &eval.Report{Model: h.Model, Classes: h.Classes, Columns: h.Columns, Skipped: a.Skipped,
		MasksWithoutImage: masksWithoutImage, Ignored: ignored, Failing: -1, Notes: []string{}}
	if len(rep.Skipped) == 0 {
		rep.Skipped = nil // as tfseg eval: null when none
	}
	if rep.Classes == 0 {
		rep.Classes = 2
	}
	sort.Slice(rep.Skipped, func(i, j int) bool { return rep.Skipped[i].Name < rep.Skipped[j].Name })
	crops := make([]string, 0, len(a.Crops))
	for c := range a.Crops {
		crops = append(crops, c)
	}
	sort.Strings(crops)
	for _, c := range crops {
		rep.Notes = append(rep.Notes, eval.CropNote(c, int(a.Crops[c])))
	}
	rep.Notes = append(rep.Notes, h.Notes...)
	for i, col := range h.Columns {
		s := eval.Summary{Name: col.Name, Mean: math.NaN(), Std: math.NaN(), Min: math.NaN(), Max: math.NaN()}
		if i < len(a.Cols) {
			c := a.Cols[i]
			s.N, s.NaN = int(c.N), int(c.Bad)
			if c.N > 0 {
				s.Mean = (c.Sum + c.Comp) / float64(c.N)
				s.Std = math.Sqrt(c.M2 / float64(c.N))
				s.Min, s.Max = c.Min, c.Max
			}
		}
		rep.Summary = append(rep.Summary, s)
	}
	key, lowerIsWorse := rep.RankColumn()
	if key < 0 {
		return rep
	}
	rep.RankedBy = h.Columns[key].Name
	if lowerIsWorse {
		rep.Failing = 0
	}
	if key >= len(a.Cols) {
		return rep
	}
	c := a.Cols[key]
	list := c.High
	if lowerIsWorse {
		list = c.Low
		rep.Failing = int(c.Below05)
	}
	for _, r := range list[:min(k, len(list))] {
		rep.Worst = append(rep.Worst, eval.Ranked{Name: r.Name, Value: r.Value})
	}
	rep.Ranked = int(a.Images - c.NaN)
	return rep
}
