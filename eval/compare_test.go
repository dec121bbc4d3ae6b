package eval

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// synthetic builds a report of n images named im0..: a metric, a loss.
func synthetic(n int, metric, loss func(i int) float64) *Report {
	r := &Report{Model: ModelInfo{Dir: "m"}, Classes: 2, RankedBy: "dice_coef",
		Columns: []Column{{Name: "dice_coef", Kind: "metric"}, {Name: "bce", Kind: "loss"}, {Name: ColumnTrueFraction, Kind: "fraction"}}}
	for i := range n {
		r.Images = append(r.Images, ImageResult{Index: i, Name: "im" + string(rune('a'+i%26)) + strings.Repeat("x", i/26),
			Values: []float64{metric(i), loss(i), 0.1}})
	}
	return r
}

// TestCompare checks Compare against independent computations: the mean
// difference, the better/worse counts (a loss is better lower), and the
// bootstrap interval against the normal approximation mean ± 1.96·sd/√n
// (the two agree closely for n = 400 differences of a smooth
// distribution); the same seed gives the same interval.
func TestCompare(t *testing.T) {
	const n = 400
	rng := rand.New(rand.NewPCG(7, 7))
	noise := make([]float64, n)
	for i := range noise {
		noise[i] = rng.NormFloat64() * 0.05
	}
	a := synthetic(n, func(i int) float64 { return 0.8 }, func(i int) float64 { return 0.3 })
	b := synthetic(n, func(i int) float64 { return 0.8 + 0.01 + noise[i] }, func(i int) float64 { return 0.3 - noise[i] })
	c, err := Compare(a, b, CompareOptions{})
	require.NoError(t, err)
	require.Len(t, c.Differences, 2, "dice_coef and bce; true_fraction left out")
	var sum, ss float64
	better := 0
	for i := range n {
		d := 0.01 + noise[i]
		sum += d
		if d > 0 {
			better++
		}
	}
	mean := sum / n
	for i := range n {
		ss += (0.01 + noise[i] - mean) * (0.01 + noise[i] - mean)
	}
	se := math.Sqrt(ss/(n-1)) / math.Sqrt(n)
	d := c.Differences[0]
	assert.Equal(t, "dice_coef", d.Column)
	assert.InDelta(t, mean, d.Diff, 1e-12)
	assert.InDelta(t, mean-1.96*se, d.Low, 0.15*se, "lower bound vs normal approximation (se %g)", se)
	assert.InDelta(t, mean+1.96*se, d.High, 0.15*se, "upper bound vs normal approximation")
	assert.Equal(t, better, d.Better)
	assert.Equal(t, n-better, d.Worse)
	l := c.Differences[1]
	assert.Equal(t, countIf(noise, func(v float64) bool { return v > 0 }), l.Better, "a loss is better lower: bce fell where noise > 0")
	assert.Equal(t, countIf(noise, func(v float64) bool { return v < 0 }), l.Worse)

	again, err := Compare(a, b, CompareOptions{})
	require.NoError(t, err)
	assert.Equal(t, c.Differences, again.Differences, "fixed seed")
	other, err := Compare(a, b, CompareOptions{Seed: 2})
	require.NoError(t, err)
	assert.NotEqual(t, c.Differences[0].Low, other.Differences[0].Low)

	require.Len(t, c.Changed, 10)
	assert.InDelta(t, maxAbs(noise, 0.01), math.Abs(c.Changed[0].Diff), 1e-12)

	_, err = Compare(a, synthetic(3, func(int) float64 { return 0 }, func(int) float64 { return 0 }), CompareOptions{})
	require.NoError(t, err, "3 images in common")
	disjoint := synthetic(2, func(int) float64 { return 0 }, func(int) float64 { return 0 })
	disjoint.Images[0].Name, disjoint.Images[1].Name = "zz1", "zz2"
	_, err = Compare(a, disjoint, CompareOptions{})
	assert.ErrorIs(t, err, ErrCompare)
}

func countIf(x []float64, ok func(float64) bool) int {
	n := 0
	for _, v := range x {
		if ok(v) {
			n++
		}
	}
	return n
}

func maxAbs(x []float64, shift float64) float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, math.Abs(v+shift))
	}
	return m
}

// TestCompareBinaryWithSoftmax: a binary model's dice_coef pairs with a
// two-class softmax model's dice_coef[1] (both the foreground's), never
// with its dice_coef (the mean over classes).
func TestCompareBinaryWithSoftmax(t *testing.T) {
	a := synthetic(5, func(int) float64 { return 0.9 }, func(int) float64 { return 0.1 })
	b := &Report{Model: ModelInfo{Dir: "unet"}, Classes: 2, RankedBy: "dice_coef[1]",
		Columns: []Column{{Name: "dice_coef", Kind: "metric"}, {Name: "dice_coef[0]", Kind: "metric"}, {Name: "dice_coef[1]", Kind: "metric"}}}
	for _, im := range a.Images {
		b.Images = append(b.Images, ImageResult{Name: im.Name, Values: []float64{0.5, 0.8, 0.2}})
	}
	c, err := Compare(a, b, CompareOptions{})
	require.NoError(t, err)
	require.Len(t, c.Differences, 1)
	assert.Equal(t, "dice_coef / dice_coef[1]", c.Differences[0].Column)
	assert.InDelta(t, 0.2-0.9, c.Differences[0].Diff, 1e-12)
	assert.NotEmpty(t, c.Notes)
}

// TestReadJSON: a report read back from its JSON has the same columns,
// per-image values (NaN through null) and summary.
func TestReadJSON(t *testing.T) {
	r := synthetic(3, func(i int) float64 { return []float64{0.5, math.NaN(), 1}[i] }, func(i int) float64 { return float64(i) })
	r.summarise(2)
	var buf bytes.Buffer
	require.NoError(t, r.WriteJSON(&buf))
	back, err := ReadJSON(&buf)
	require.NoError(t, err)
	assert.Equal(t, r.Columns, back.Columns)
	require.Len(t, back.Images, 3)
	assert.True(t, math.IsNaN(back.Images[1].Values[0]))
	assert.Equal(t, r.Images[2].Values, back.Images[2].Values)
	assert.Equal(t, r.Summary[0].Mean, back.Summary[0].Mean)
	assert.Equal(t, r.RankedBy, back.RankedBy)
	_, err = ReadJSON(strings.NewReader(`{"a": 1}`))
	assert.Error(t, err)
}
