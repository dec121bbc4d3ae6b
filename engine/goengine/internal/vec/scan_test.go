package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestHasDenormal checks the scan against the Go loop at every length
// up to 200 and every position of one denormal (and of the values next to
// the denormal range).
func TestHasDenormal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	specials := []uint32{0x00000001, 0x007fffff, 0x80000001, 0x807fffff, 0x00400000}
	normals := []uint32{0, 0x80000000, 0x00800000, 0x80800000, 0x7f800000, 0x7fc00000, 0xff800000}
	for n := 0; n <= 200; n++ {
		v := make([]float32, n)
		for i := range v {
			v[i] = math.Float32frombits(normals[r.IntN(len(normals))])
		}
		if got, want := HasDenormal(v), hasDenormalGo(v); got != want || got {
			t.Fatalf("n=%d without denormals: got %v, Go %v", n, got, want)
		}
		for i := 0; i < n; i++ {
			old := v[i]
			v[i] = math.Float32frombits(specials[r.IntN(len(specials))])
			if !HasDenormal(v) || !hasDenormalGo(v) {
				t.Fatalf("n=%d: denormal at %d not found", n, i)
			}
			v[i] = old
		}
	}
}

// TestCombineLanes checks the written-out pairwise sum against the loop
// the summation order is defined by.
func TestCombineLanes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 1000; trial++ {
		var l [SumLaneCount]float64
		for j := range l {
			l[j] = (r.Float64() - 0.5) * math.Pow(2, float64(r.IntN(80)-40))
		}
		want := l
		for w := SumLaneCount / 2; w >= 1; w /= 2 {
			for j := 0; j < w; j++ {
				want[j] += want[j+w]
			}
		}
		if got := CombineLanes(&l); math.Float64bits(got) != math.Float64bits(want[0]) {
			t.Fatalf("lanes %v: got %v, want %v", l, got, want[0])
		}
	}
}

// TestCombineLanesN checks CombineLanesN (assembly on amd64) against
// CombineLanes, bit for bit (any NaN for a NaN), on 0 to 9 lane sets of
// random magnitudes, with infinities and NaNs sometimes.
func TestCombineLanesN(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 300; trial++ {
		n := trial % 10
		lanes := make([]float64, n*SumLaneCount)
		for j := range lanes {
			lanes[j] = (r.Float64() - 0.5) * math.Pow(2, float64(r.IntN(80)-40))
			if trial%7 == 0 && r.IntN(20) == 0 {
				lanes[j] = []float64{math.Inf(1), math.Inf(-1), math.NaN()}[r.IntN(3)]
			}
		}
		got := make([]float64, n)
		CombineLanesN(lanes, got)
		for i := range got {
			want := CombineLanes((*[SumLaneCount]float64)(lanes[i*SumLaneCount:]))
			// Bit for bit, but for which NaN a sum of NaNs and opposite
			// infinities gives: Go leaves the NaN's sign and payload to
			// the compiler's operand order (which -race changes for the
			// Go reference).
			if math.Float64bits(got[i]) != math.Float64bits(want) && !(math.IsNaN(got[i]) && math.IsNaN(want)) {
				t.Fatalf("trial %d set %d: got %v (%#x), want %v (%#x)", trial, i, got[i], math.Float64bits(got[i]), want, math.Float64bits(want))
			}
		}
	}
}
