package goengine

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine/goengine/internal/vec"
	"github.com/tfseg/tfseg/tfops"
)

// TestSoftmaxFloat32 checks float32 Softmax against a float64 loop of
// TensorFlow's formula, exp(d) / Σ exp(d) with d = x - m rounded to
// float32 (TensorFlow subtracts in float32; that rounding alone moves
// exp(d) by up to |d|·2⁻²⁴), within the other float32 steps' rounding
// (exp32 within 1.1 ulp, the sum, the reciprocal and the product),
// on the vector kernels and the pure-Go ones, which must agree bit for
// bit; rows of every length around the block size, with -Inf, +Inf and
// NaN rows.
func TestSoftmaxFloat32(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, n := range []int{1, 2, 3, 16, 37, 1023, 1025} {
		rows := max(3, 3000/n)
		v := normals32(rng, rows*n)
		for i := range v {
			v[i] *= 8
		}
		inf, nan := float32(math.Inf(1)), float32(math.NaN())
		v[0] = float32(math.Inf(-1)) // a row with -Inf
		if n > 1 {
			v[n+1] = inf // a row with +Inf: NaN where x is Inf too (Inf - Inf), else 0
			v[2*n+n-1] = nan
		}
		var got [2][]float32
		for g, generic := range []bool{false, true} {
			t.Run(fmt.Sprintf("n=%d/generic=%v", n, generic), func(t *testing.T) {
				if generic {
					defer vec.UseGeneric()()
				}
				s := tfops.NewScope()
				tfops.Softmax(s.WithOpName("y"), tfops.Const(s.WithOpName("x"), tfops.MustFromSlice(append([]float32{}, v...), rows, n)))
				gd, err := s.Finalize()
				require.NoError(t, err)
				got[g] = runGraph(t, gd, "y")[0].Float32s()
			})
		}
		for i := range got[0] {
			if math.Float32bits(got[0][i]) != math.Float32bits(got[1][i]) {
				t.Fatalf("n=%d element %d: vector kernels %v, pure Go %v", n, i, got[0][i], got[1][i])
			}
		}
		for r := 0; r < rows; r++ {
			x, y := v[r*n:(r+1)*n], got[0][r*n:(r+1)*n]
			m := math.Inf(-1)
			for _, e := range x {
				m = math.Max(m, float64(e))
			}
			d := func(e float32) float64 { return float64(e - float32(m)) }
			sum := 0.0
			for _, e := range x {
				sum += math.Exp(d(e))
			}
			for i, e := range x {
				want := math.Exp(d(e)) / sum
				if math.IsNaN(want) {
					require.True(t, math.IsNaN(float64(y[i])), "n=%d row %d element %d: %v, want NaN", n, r, i, y[i])
					continue
				}
				if d := math.Abs(float64(y[i]) - want); d > 8*0x1p-24*want+1e-45 {
					t.Fatalf("n=%d row %d element %d: %v, want %v (%.2g ulp)", n, r, i, y[i], want, d/(0x1p-24*want))
				}
			}
		}
	}
}

// TestSoftmaxPairsIsTheRowLoop checks softmaxPairs32 against softmaxRows32's
// general row loop (max, subtract, exp, float64 row sum, reciprocal,
// product) bit for bit, with NaN, ±Inf, ties and values far apart.
func TestSoftmaxPairsIsTheRowLoop(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	x := normals32(rng, 4096)
	for i := range x {
		x[i] *= float32(int(1) << (i % 7 * 4)) // up to 2²⁴: e₁ far below e₀
	}
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	copy(x, []float32{nan, 1, 1, nan, inf, 1, 1, inf, -inf, 1, -inf, -inf, inf, inf, 3, 3, 0, float32(math.Copysign(0, -1))})
	k := vec.Current()
	got := make([]float32, len(x))
	softmaxPairs32(k, x, got)
	want := make([]float32, len(x))
	for r := 0; r < len(x); r += 2 {
		row, d := x[r:r+2], want[r:r+2]
		m := row[0]
		if v := row[1]; v > m || v != v && m == m {
			m = v
		}
		for i, v := range row {
			d[i] = v - m
		}
		k.Exp(d, d)
		inv := 1 / float32(float64(d[0])+float64(d[1]))
		d[0] *= inv
		d[1] *= inv
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
			t.Fatalf("element %d (row %v): %v, the row loop gives %v", i, x[i&^1:i&^1+2], got[i], want[i])
		}
	}
}

// TestSoftmaxPairsVector checks softmaxPairs32's vector passes against its
// Go loops bit for bit (pairs of two NaNs with different payloads, one
// NaN, ±Inf, ±0, ties), at lengths with and without a scalar tail. A NaN
// result is only checked to be NaN: the Go compiler treats float32 + and ·
// as commutative and may swap their operands (it did under -race), so the
// loop's payload of a sum or product of two NaNs is not defined by its
// source.
func TestSoftmaxPairsVector(t *testing.T) {
	if !softmaxPairsVec {
		t.Skip("no vector passes on this CPU or build")
	}
	rng := rand.New(rand.NewSource(10))
	nan1, nan2 := math.Float32frombits(0x7fc00001), math.Float32frombits(0xffc12345)
	snan := math.Float32frombits(0x7f800123) // signalling: quieted by arithmetic
	inf, nz := float32(math.Inf(1)), float32(math.Copysign(0, -1))
	special := []float32{nan1, nan2, nan2, nan1, snan, 1, 1, snan, nan1, inf, -inf, nan2, inf, inf, -inf, -inf,
		0, nz, nz, 0, 3, 3, 1e30, -1e30, 88, -88, 1e-45, 0, nan1, nan1, 2, inf}
	for _, n := range []int{2, 14, 16, 18, 32, 46, 1024, 1030} {
		x := normals32(rng, n)
		for i := range x {
			x[i] *= float32(int(1) << (i % 7 * 4))
			if i%3 == 0 {
				x[i] = special[(i/3)%len(special)]
			}
		}
		copy(x, special)
		k := vec.Current()
		got, want := make([]float32, n), make([]float32, n)
		softmaxPairs32(k, x, got)
		softmaxPairsVec = false
		softmaxPairs32(k, x, want)
		softmaxPairsVec = true
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Fatalf("n=%d element %d (pair %v): %08x, the Go loop gives %08x", n, i, x[i&^1:i&^1+2], math.Float32bits(got[i]), math.Float32bits(want[i]))
			}
		}
	}
}
