package vec

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tfseg/tfseg/engine/goengine/internal/vec/vectest"
)

func checkSame(t *testing.T, what string, in [][]float32, got, want []float32) {
	t.Helper()
	bad := 0
	for i := range want {
		if !vectest.SameBits(got[i], want[i]) {
			if bad < 5 {
				args := ""
				for _, s := range in {
					args += fmt.Sprintf(" %g (%#08x)", s[i], f32Bits(s[i]))
				}
				t.Errorf("%s element %d, inputs%s: got %g (%#08x), want %g (%#08x)",
					what, i, args, got[i], f32Bits(got[i]), want[i], f32Bits(want[i]))
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d elements differ", what, bad, len(want))
	}
}

// TestArchKernelsMatchGo checks that the assembly kernels give the bits of
// the pure-Go ones on every input class, at every length up to two
// vectors and on a long slice.
func TestArchKernelsMatchGo(t *testing.T) {
	sets := ArchSets()
	if len(sets) == 0 {
		t.Skip("no assembly kernels on this CPU or build")
	}
	for _, arch := range sets {
		t.Run(arch.Name, func(t *testing.T) { testKernelsMatchGo(t, arch) })
	}
}

func testKernelsMatchGo(t *testing.T, arch *Kernels) {
	g := Generic()
	a := vectest.Inputs(20011, 1)
	b := vectest.Inputs(20011, 2)
	c := vectest.Inputs(20011, 3)
	// Pair the edge values with each other too.
	copy(b[len(b)-60:], a[:60])
	lengths := []int{len(a)}
	for n := 0; n <= 33; n++ {
		lengths = append(lengths, n)
	}
	// Every kernel of simd_gen.go's table, by arity.
	gu, gb, gt := g.kernelList()
	au, ab, at := arch.kernelList()
	names := func(m map[string]func(dst, x []float32)) []string { return slices.Sorted(maps.Keys(m)) }
	require.NotEmpty(t, names(gu))
	for _, n := range lengths {
		for _, name := range slices.Sorted(maps.Keys(gb)) {
			want, got := make([]float32, n), make([]float32, n)
			gb[name](want, a[:n], b[:n])
			ab[name](got, a[:n], b[:n])
			checkSame(t, fmt.Sprintf("%s/n=%d", name, n), [][]float32{a, b}, got, want)
			// Scalar-like operands and the mul edge of flush-to-zero.
			gb[name](want, a[:n], a[:n])
			ab[name](got, a[:n], a[:n])
			checkSame(t, fmt.Sprintf("%s(x,x)/n=%d", name, n), [][]float32{a, a}, got, want)
		}
		for _, name := range names(gu) {
			want, got := make([]float32, n), make([]float32, n)
			gu[name](want, a[:n])
			au[name](got, a[:n])
			checkSame(t, fmt.Sprintf("%s/n=%d", name, n), [][]float32{a}, got, want)
		}
		for _, name := range slices.Sorted(maps.Keys(gt)) {
			want, got := make([]float32, n), make([]float32, n)
			gt[name](want, a[:n], b[:n], c[:n])
			at[name](got, a[:n], b[:n], c[:n])
			checkSame(t, fmt.Sprintf("%s/n=%d", name, n), [][]float32{a, b, c}, got, want)
		}
		var lw, lg [SumLaneCount]float64
		for i := range lw {
			lw[i], lg[i] = float64(i), float64(i)
		}
		x := a[:min(n, SumBlock)]
		for i := range x {
			if x[i] != x[i] || math.IsInf(float64(x[i]), 0) || math.Abs(float64(x[i])) > 1e30 {
				x[i] = 1
			}
		}
		g.sumLanes(x, &lw)
		arch.sumLanes(x, &lg)
		assert.Equal(t, lw, lg, "sumLanes n=%d", n)
	}
}

// testReferenceLoops checks every kernel of every kernel set against the
// reference loops of their doc comments (vecops_ref_test.go): unary,
// binary and ternary by name.
func testReferenceLoops(t *testing.T, unary map[string]func(dst, x []float32), binary map[string]func(dst, a, b []float32), ternary map[string]func(dst, x, lo, hi []float32)) {
	a, b, c := vectest.Inputs(5003, 11), vectest.Inputs(5003, 12), vectest.Inputs(5003, 13)
	copy(b[len(b)-60:], a[:60])
	n := len(a)
	for _, k := range append([]*Kernels{Generic()}, ArchSets()...) {
		ku, kb, kt := k.kernelList()
		require.Len(t, ku, len(unary), k.Name)
		require.Len(t, kb, len(binary), k.Name)
		require.Len(t, kt, len(ternary), k.Name)
		for name, ref := range unary {
			want, got := make([]float32, n), make([]float32, n)
			ref(want, a)
			ku[name](got, a)
			checkSame(t, k.Name+"/"+name, [][]float32{a}, got, want)
		}
		for name, ref := range binary {
			want, got := make([]float32, n), make([]float32, n)
			ref(want, a, b)
			kb[name](got, a, b)
			checkSame(t, k.Name+"/"+name, [][]float32{a, b}, got, want)
		}
		for name, ref := range ternary {
			want, got := make([]float32, n), make([]float32, n)
			ref(want, a, b, c)
			kt[name](got, a, b, c)
			checkSame(t, k.Name+"/"+name, [][]float32{a, b, c}, got, want)
		}
	}
}

// TestFTZRounding pins the flush-to-zero rounding both implementations
// share: a product whose exact value is 2^-126 - 2^-150 rounds (with an
// unbounded exponent) to a denormal and flushes, while one that rounds up
// to 2^-126 stays.
func TestFTZRounding(t *testing.T) {
	for _, k := range append([]*Kernels{Generic()}, ArchSets()...) {
		a := []float32{1 - 0x1p-24, 1, 1 + 0x1p-23, 1 + 0x1p-22}
		b := []float32{0x1p-126, 0x1p-126, 0x1p-127, 0x1p-127}
		dst := make([]float32, len(a))
		k.mul(dst, a, b)
		got := make([]uint32, len(dst))
		for i, v := range dst {
			got[i] = f32Bits(v)
		}
		assert.Equal(t, []uint32{0, 0x00800000, 0, 0}, got, k.Name)
	}
}

// ulpDiff is the distance in float32 steps between got and the float64
// reference want rounded to float32 (with flush to zero).
func ulpDiff(got float32, want float64) float64 {
	w := Round32(want)
	if got == w || (got != got && w != w) {
		return 0
	}
	if math.IsInf(float64(w), 0) || math.IsInf(float64(got), 0) || got != got || w != w {
		return math.Inf(1)
	}
	return math.Abs(float64(got)-want) / ulp32(w)
}

// ulp32 is the spacing of float32 values at |x|.
func ulp32(x float32) float64 {
	e := math.Float32bits(x) >> 23 & 0xff
	if e == 0 {
		return 0x1p-149
	}
	return math.Ldexp(1, int(e)-127-23)
}

// TestTranscendentalAccuracy compares Exp32, Log32, Log1p32 and Sigmoid32
// with Go's float64 math rounded to float32: within 1.1 ulp for exp, 1
// for log, 1.5 for log1p and 2.5 for sigmoid (the conformance bar is 4),
// and correctly rounded on most inputs.
func TestTranscendentalAccuracy(t *testing.T) {
	xs := vectest.Inputs(400000, 9)
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200000; i++ {
		xs = append(xs, float32(r.Float64()), float32(1-r.Float64()*1e-3), float32(r.Float64()*1e-3),
			float32(r.Float64()*20-10), float32(-r.Float64()))
	}
	funcs := []struct {
		name    string
		f       func(float32) float32
		ref     func(float64) float64
		maxUlp  float64
		maxDiff float64 // fraction not correctly rounded
	}{
		{"exp", Exp32, math.Exp, 1.1, 0.1},
		{"log", Log32, math.Log, 1, 0.05},
		{"log1p", Log1p32, math.Log1p, 1.5, 0.05},
		// e^-x overflows only where the float32 result flushes to zero.
		{"sigmoid", Sigmoid32, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, 2.5, 0.3},
	}
	for _, fn := range funcs {
		worst, worstX, differ := 0.0, float32(0), 0
		for _, x := range xs {
			xf := x
			if fn.name != "log1p" {
				xf = Flush32(x)
			} else if IsDenormal32(x) {
				continue
			}
			d := ulpDiff(fn.f(x), fn.ref(float64(xf)))
			if d > 0 {
				differ++
			}
			if d > worst {
				worst, worstX = d, x
			}
		}
		t.Logf("%s: max %.3f ulp (at %g), %d of %d not correctly rounded", fn.name, worst, worstX, differ, len(xs))
		assert.LessOrEqual(t, worst, fn.maxUlp, "%s at %g", fn.name, worstX)
		assert.Less(t, float64(differ), fn.maxDiff*float64(len(xs)), fn.name)
	}
}

// TestFMA32 checks the single-rounding emulation on products whose
// float64 sum is a float32 tie while the exact sum is not.
func TestFMA32(t *testing.T) {
	a, b := float32(1+0x1p-12), float32(1+0x1p-12) // a·b = 1 + 2^-11 + 2^-24
	tests := []struct {
		a, b, c float32
		want    float32
	}{
		{a, b, 0, 1 + 0x1p-11},                 // exact tie: to even
		{a, b, 0x1p-60, 1 + 0x1p-11 + 0x1p-23}, // just above the tie: up
		{a, b, -0x1p-60, 1 + 0x1p-11},          // just below: down
		{2, 3, 1, 7},
		{float32(math.Inf(1)), 1, 1, float32(math.Inf(1))},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, fma32(tc.a, tc.b, tc.c), "fma32(%g, %g, %g)", tc.a, tc.b, tc.c)
	}
	// Against float64 FMA where it is exact in float64 and float32.
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 100000; i++ {
		x, y, z := float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64())
		want := float32(math.FMA(float64(x), float64(y), float64(z)))
		got := fma32(x, y, z)
		if got != want {
			// Only double-rounding ties may differ, by one ulp.
			require.InDelta(t, float64(want), float64(got), ulp32(want)*1.01, "fma32(%g, %g, %g)", x, y, z)
		}
	}
}
