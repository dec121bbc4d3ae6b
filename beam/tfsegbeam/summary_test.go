package tfsegbeam

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"sort"
	"testing"
)

// TestSummaryMerge: the summary of values added in random partitions and
// merged in a random order is that of an independent float64 reference
// (exact big.Float mean, two-pass standard deviation, sorted worst lists):
// counts, min, max and worst lists equal, mean within 1e-12 relative, std
// within 1e-12 relative plus 1e-14·|mean| (Welford's running mean rounds
// at |mean|'s scale: with values 3e8 ± 1 the deviations lose 1e-8; for
// metrics in [0, 1] the bound is 1e-12 of the std).
func TestSummaryMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 1))
	for trial := range 20 {
		n := 1 + rng.IntN(3000)
		offset := []float64{0, 1e6, -3e8}[trial%3]
		vals := make([]float64, n)
		for i := range vals {
			switch r := rng.Float64(); {
			case r < 0.03:
				vals[i] = math.NaN()
			case r < 0.04:
				vals[i] = math.Inf(1 - 2*rng.IntN(2))
			case r < 0.1:
				vals[i] = 0.5 // ties, and the 0.5 threshold
			default:
				vals[i] = offset + rng.NormFloat64()
			}
		}
		fn := &summaryFn{K: 5}
		var accs []*Acc
		for i := 0; i < n; {
			a := fn.CreateAccumulator()
			for end := min(n, i+1+rng.IntN(200)); i < end; i++ {
				a = fn.AddInput(a, Outcome{Name: fmt.Sprintf("im%05d", i), Values: []float64{vals[i]}})
			}
			accs = append(accs, a)
		}
		for len(accs) > 1 {
			i := rng.IntN(len(accs) - 1)
			accs[i] = fn.MergeAccumulators(accs[i], accs[i+1])
			accs = append(accs[:i+1], accs[i+2:]...)
		}
		c := fn.ExtractOutput(accs[0]).Cols[0]

		var fin []float64
		var nan, bad, below int64
		var ranked []Ranked
		exact := new(big.Float).SetPrec(4096)
		for i, v := range vals {
			if math.IsNaN(v) {
				nan++
			} else {
				ranked = append(ranked, Ranked{Name: fmt.Sprintf("im%05d", i), Value: v})
				if v < 0.5 {
					below++
				}
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				bad++
				continue
			}
			fin = append(fin, v)
			exact.Add(exact, new(big.Float).SetFloat64(v))
		}
		if c.N != int64(len(fin)) || c.Bad != bad || c.NaN != nan || c.Below05 != below {
			t.Fatalf("trial %d: counts N %d bad %d nan %d below %d; want %d %d %d %d", trial, c.N, c.Bad, c.NaN, c.Below05, len(fin), bad, nan, below)
		}
		if len(fin) > 0 {
			mean, _ := new(big.Float).Quo(exact, big.NewFloat(float64(len(fin)))).Float64()
			var ss float64
			mn, mx := math.Inf(1), math.Inf(-1)
			for _, v := range fin {
				ss += (v - mean) * (v - mean)
				mn, mx = math.Min(mn, v), math.Max(mx, v)
			}
			std := math.Sqrt(ss / float64(len(fin)))
			gotMean := (c.Sum + c.Comp) / float64(c.N)
			gotStd := math.Sqrt(c.M2 / float64(c.N))
			if math.Abs(gotMean-mean) > 1e-12*math.Max(math.Abs(mean), 1e-300) || math.Abs(gotStd-std) > 1e-12*std+1e-14*math.Abs(mean) {
				t.Errorf("trial %d (n %d, offset %g): mean %v std %v; want %v %v", trial, n, offset, gotMean, gotStd, mean, std)
			}
			if c.Min != mn || c.Max != mx {
				t.Errorf("trial %d: min %v max %v; want %v %v", trial, c.Min, c.Max, mn, mx)
			}
		}
		low := append([]Ranked(nil), ranked...)
		sort.SliceStable(low, func(i, j int) bool { return low[i].Value < low[j].Value }) // names are in order already
		high := append([]Ranked(nil), ranked...)
		sort.SliceStable(high, func(i, j int) bool { return high[i].Value > high[j].Value })
		if fmt.Sprint(c.Low) != fmt.Sprint(low[:min(5, len(low))]) || fmt.Sprint(c.High) != fmt.Sprint(high[:min(5, len(high))]) {
			t.Errorf("trial %d: worst low %v high %v; want %v %v", trial, c.Low, c.High, low[:min(5, len(low))], high[:min(5, len(high))])
		}
	}
}
