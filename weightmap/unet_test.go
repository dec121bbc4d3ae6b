package weightmap

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// naiveUNet is the SciPy recipe written out: one full transform per object
// (EDT, itself checked against brute force and SciPy), sorted per pixel.
func naiveUNet(t testing.TB, mask []uint8, h, w int, o Options) []float64 {
	t.Helper()
	p, err := o.params()
	require.NoError(t, err)
	labels, n, err := Label(mask, h, w, p.conn)
	require.NoError(t, err)
	samp := []float64{p.sy, p.sx}
	per := make([][]float64, n)
	for k := range per {
		other := make([]bool, h*w) // labels != k: EDT measures to the pixels of k
		for i, l := range labels {
			other[i] = l != int32(k+1)
		}
		per[k], err = EDT(other, []int{h, w}, samp)
		require.NoError(t, err)
	}
	var nfg, nbg float64
	for _, v := range mask {
		if v != 0 {
			nfg++
		} else {
			nbg++
		}
	}
	wc := [2]float64{}
	switch p.class {
	case ClassExplicit:
		wc = p.cw
	case ClassBalanced:
		wc = [2]float64{1, 1}
		if nfg > 0 && nbg > 0 {
			wc = [2]float64{(1 / nbg) / math.Max(1/nbg, 1/nfg), (1 / nfg) / math.Max(1/nbg, 1/nfg)}
		}
	}
	out := make([]float64, h*w)
	for i := range out {
		if mask[i] != 0 {
			out[i] = wc[1]
			continue
		}
		d1, d2 := math.Inf(1), math.Inf(1) // the two smallest D_k
		for k := range per {
			if v := per[k][i]; v < d1 {
				d1, d2 = v, d1
			} else if v < d2 {
				d2 = v
			}
		}
		b := 0.0
		switch {
		case n == 1:
			b = p.w0 * math.Exp(-d1*d1/(2*p.sigma*p.sigma))
		case n >= 2:
			b = p.w0 * math.Exp(-(d1+d2)*(d1+d2)/(2*p.sigma*p.sigma))
		}
		out[i] = wc[0] + b
	}
	return out
}

// assertRel checks got against want to a relative tolerance (absolute near 0).
func assertRel(t testing.TB, want, got []float64, tol float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		if d := math.Abs(got[i] - want[i]); d > tol*math.Max(math.Abs(want[i]), 1e-300) && d > 1e-300 {
			t.Fatalf("%s: element %d: got %v, want %v (relative error %.3g)", what, i, got[i], want[i], d/math.Abs(want[i]))
		}
	}
}

func randomDiscs(r *rand.Rand, h, w, count, maxR int) []uint8 {
	m := make([]uint8, h*w)
	for range count {
		cy, cx, rad := r.IntN(h), r.IntN(w), r.IntN(maxR+1)
		for y := max(0, cy-rad); y < min(h, cy+rad+1); y++ {
			for x := max(0, cx-rad); x < min(w, cx+rad+1); x++ {
				if (y-cy)*(y-cy)+(x-cx)*(x-cx) <= rad*rad {
					m[y*w+x] = 1
				}
			}
		}
	}
	return m
}

func TestUNetAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	opts := []Options{
		{},
		{Class: ClassNone, Connectivity: Conn8},
		{Class: ClassExplicit, ClassWeights: [2]float64{0.5, 3}, W0: 4, Sigma: 2.5},
		{Sampling: []float64{0.6, 1.7}, Sigma: 3, Class: ClassNone},
		{Workers: 1},
	}
	sizes := [][2]int{{1, 1}, {1, 30}, {23, 1}, {20, 31}, {64, 48}, {37, 90}}
	for _, sz := range sizes {
		h, w := sz[0], sz[1]
		for _, count := range []int{0, 1, 2, 5, 30} {
			var mask []uint8
			if count == 30 {
				mask = make([]uint8, h*w)
				for i := range mask {
					if r.Float64() < 0.15 {
						mask[i] = 1 // many single pixels and thin structures
					}
				}
			} else {
				mask = randomDiscs(r, h, w, count, 1+min(h, w)/6)
			}
			for oi, o := range opts {
				got, err := UNet(mask, h, w, o)
				require.NoError(t, err)
				want := naiveUNet(t, mask, h, w, o)
				assertRel(t, want, got, 1e-12, fmt.Sprintf("%dx%d, %d discs, options %d", h, w, count, oi))
			}
		}
	}
}

func TestUNetCases(t *testing.T) {
	tests := []struct {
		name string
		mask []uint8
		h, w int
		o    Options
		want []float64
	}{
		{"no object balanced", []uint8{0, 0, 0}, 1, 3, Options{}, []float64{1, 1, 1}},
		{"no object none", []uint8{0, 0, 0}, 1, 3, Options{Class: ClassNone}, []float64{0, 0, 0}},
		{"all object", []uint8{1, 1}, 1, 2, Options{}, []float64{1, 1}},
		// One object: d2 absent, border w0·exp(-d1²/(2σ²)).
		{"one object", []uint8{1, 0, 0}, 1, 3, Options{Class: ClassNone},
			[]float64{0, 10 * math.Exp(-1.0/50), 10 * math.Exp(-4.0/50)}},
		// Two objects: d1 + d2 = 2 between them.
		{"two objects", []uint8{1, 0, 1}, 1, 3, Options{Class: ClassExplicit, ClassWeights: [2]float64{1, 2}},
			[]float64{2, 1 + 10*math.Exp(-4.0/50), 2}},
		// Balanced: 1 foreground of 4 pixels: background 1/3, foreground 1.
		{"balanced", []uint8{1, 0, 0, 0}, 2, 2, Options{W0: 1e-300},
			[]float64{1, 1.0 / 3, 1.0 / 3, 1.0 / 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := UNet(tc.mask, tc.h, tc.w, tc.o)
			require.NoError(t, err)
			assertRel(t, tc.want, got, 1e-14, tc.name)
		})
	}
}

func TestUNetErrors(t *testing.T) {
	m := []uint8{0, 1}
	tests := []struct {
		name string
		o    Options
		msg  string
	}{
		{"negative w0", Options{W0: -1}, "W0 = -1"},
		{"NaN sigma", Options{Sigma: math.NaN()}, "Sigma = NaN"},
		{"negative sigma", Options{Sigma: -2}, "Sigma = -2"},
		{"class", Options{Class: 7}, "Class = 7"},
		{"class weights", Options{Class: ClassExplicit, ClassWeights: [2]float64{1, math.Inf(1)}}, "ClassWeights[1] = +Inf"},
		{"connectivity", Options{Connectivity: 3}, "connectivity 3"},
		{"sampling", Options{Sampling: []float64{1, -1}}, "sampling[1] = -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := UNet(m, 1, 2, tc.o)
			assert.ErrorIs(t, err, ErrOption)
			assert.ErrorContains(t, err, tc.msg)
		})
	}
	_, err := UNet([]uint8{0, 3}, 1, 2, Options{})
	assert.ErrorIs(t, err, ErrMask)
	_, err = UNet([]uint8{0, 1}, 2, 2, Options{})
	assert.ErrorIs(t, err, ErrShape)
	_, err = Nearest([]uint8{0, 1}, 2, 2, nil)
	assert.ErrorIs(t, err, ErrShape)
	_, err = Nearest([]uint8{0, 1}, 1, 2, []float64{0})
	assert.ErrorIs(t, err, ErrOption)
	_, err = Nearest([]uint8{0, 9}, 1, 2, nil)
	assert.ErrorIs(t, err, ErrMask)
}

func TestNearest(t *testing.T) {
	got, err := Nearest([]uint8{0, 0, 1, 0}, 2, 2, nil)
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float64{1, math.Sqrt2, 0, 1}, got, 1e-15)
	// No foreground: SciPy's virtual pixel at row -1, column 0.
	got, err = Nearest([]uint8{0, 0, 0, 0}, 2, 2, []float64{2, 1})
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float64{2, math.Sqrt(5), 4, math.Sqrt(17)}, got, 1e-15)
}

// FuzzUNet compares UNet with the per-object recipe on arbitrary small masks.
func FuzzUNet(f *testing.F) {
	f.Add(uint8(6), uint8(9), []byte{1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1}, false, false)
	f.Add(uint8(20), uint8(3), []byte{1, 0, 1, 0, 1, 0, 1}, true, true)
	f.Fuzz(func(t *testing.T, hb, wb uint8, data []byte, conn8, aniso bool) {
		h, w := int(hb%40)+1, int(wb%40)+1
		mask := make([]uint8, h*w)
		for i := range mask {
			if i < len(data) {
				mask[i] = data[i] & 1
			}
		}
		o := Options{}
		if conn8 {
			o.Connectivity = Conn8
		}
		if aniso {
			o.Sampling = []float64{1.3, 0.45}
		}
		got, err := UNet(mask, h, w, o)
		if err != nil {
			t.Fatal(err)
		}
		assertRel(t, naiveUNet(t, mask, h, w, o), got, 1e-12, fmt.Sprintf("%dx%d %v", h, w, mask))
	})
}
