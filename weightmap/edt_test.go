package weightmap

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bruteEDT is the O(n²) definition: for every element, the distance to the
// nearest element i with src[i] == feature (SciPy's virtual feature at
// (-1, 0, ..., 0) when there is none).
func bruteEDT(src []bool, feature bool, dims []int, samp []float64) []float64 {
	n := len(src)
	unravel := func(i int) []int {
		c := make([]int, len(dims))
		for k := len(dims) - 1; k >= 0; k-- {
			c[k] = i % dims[k]
			i /= dims[k]
		}
		return c
	}
	var feats [][]int
	for i, v := range src {
		if v == feature {
			feats = append(feats, unravel(i))
		}
	}
	if len(feats) == 0 {
		c := make([]int, len(dims))
		c[0] = -1
		feats = append(feats, c)
	}
	out := make([]float64, n)
	for i := range out {
		c := unravel(i)
		best := math.Inf(1)
		for _, fc := range feats {
			s := 0.0
			for k := range dims {
				d := float64(c[k]-fc[k]) * samp[k]
				s += d * d
			}
			best = min(best, s)
		}
		out[i] = math.Sqrt(best)
	}
	return out
}

func ones(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

func TestEDTSmall(t *testing.T) {
	tests := []struct {
		name     string
		mask     []uint8
		dims     []int
		sampling []float64
		want     []float64
	}{
		{"all zeros", []uint8{0, 0, 0, 0}, []int{2, 2}, nil, []float64{0, 0, 0, 0}},
		// SciPy: no zero -> distance to the virtual zero at (-1, 0).
		{"all ones", []uint8{1, 1, 1, 1, 1, 1}, []int{2, 3}, nil,
			[]float64{1, math.Sqrt2, math.Sqrt(5), 2, math.Sqrt(5), math.Sqrt(8)}},
		{"all ones 1-D", []uint8{255, 255, 255}, []int{3}, nil, []float64{1, 2, 3}},
		{"all ones sampled", []uint8{1, 1}, []int{1, 2}, []float64{2, 0.5}, []float64{2, math.Hypot(2, 0.5)}},
		{"one zero corner", []uint8{1, 1, 1, 1, 1, 1, 1, 1, 0}, []int{3, 3}, nil,
			[]float64{math.Sqrt(8), math.Sqrt(5), 2, math.Sqrt(5), math.Sqrt2, 1, 2, 1, 0}},
		{"row", []uint8{0, 1, 1, 1, 0}, []int{1, 5}, nil, []float64{0, 1, 2, 1, 0}},
		{"column sampled", []uint8{0, 1, 1}, []int{3, 1}, []float64{3, 1}, []float64{0, 3, 6}},
		{"scalar sampling", []uint8{0, 1, 1}, []int{3, 1}, []float64{0.5}, []float64{0, 0.5, 1}},
		{"empty", []uint8{}, []int{0, 4}, nil, []float64{}},
		{"3-D", []uint8{0, 1, 1, 1, 1, 1, 1, 1}, []int{2, 2, 2}, []float64{1, 2, 3},
			[]float64{0, 3, 2, math.Sqrt(13), 1, math.Sqrt(10), math.Sqrt(5), math.Sqrt(14)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EDT(tc.mask, tc.dims, tc.sampling)
			require.NoError(t, err)
			require.Len(t, got, len(tc.want))
			for i := range got {
				assert.InDelta(t, tc.want[i], got[i], 1e-12, "element %d", i)
			}
		})
	}
}

func TestEDTErrors(t *testing.T) {
	tests := []struct {
		name     string
		mask     []float32
		dims     []int
		sampling []float64
		want     error
		msg      string
	}{
		{"bad value", []float32{0, 1, 0.5, 1}, []int{2, 2}, nil, ErrMask, "value 0.5 at index 2 [1 0]"},
		{"mixed 1 and 255", []float32{0, 1, 255, 1}, []int{2, 2}, nil, ErrMask, "value 255 at index 2 [1 0] after value 1 at index 1 [0 1]"},
		{"NaN", []float32{float32(math.NaN()), 1}, []int{2}, nil, ErrMask, "value NaN at index 0 [0]"},
		{"dims mismatch", []float32{0, 1, 0}, []int{2, 2}, nil, ErrShape, "need 4 elements, the mask has 3"},
		{"no dims", []float32{0}, nil, nil, ErrShape, "no dimensions"},
		{"negative dim", []float32{}, []int{-1, 0}, nil, ErrShape, "negative"},
		{"sampling length", []float32{0, 1}, []int{1, 2}, []float64{1, 2, 3}, ErrOption, "3 values for a rank-2 mask"},
		{"sampling zero", []float32{0, 1}, []int{1, 2}, []float64{1, 0}, ErrOption, "sampling[1] = 0"},
		{"sampling inf", []float32{0, 1}, []int{1, 2}, []float64{math.Inf(1)}, ErrOption, "sampling[0] = +Inf"},
		{"sampling NaN", []float32{0, 1}, []int{1, 2}, []float64{math.NaN(), 1}, ErrOption, "sampling[0] = NaN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := EDT(tc.mask, tc.dims, tc.sampling)
			require.Error(t, err)
			assert.True(t, errors.Is(err, tc.want), "got %v, want %v", err, tc.want)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestEDTMaskTypes(t *testing.T) {
	want := []float64{0, 1, 2}
	check := func(name string, got []float64, err error) {
		t.Helper()
		require.NoError(t, err, name)
		assert.InDeltaSlice(t, want, got, 0, name)
	}
	dims := []int{3}
	g, err := EDT([]bool{false, true, true}, dims, nil)
	check("bool", g, err)
	g, err = EDT([]int8{0, 1, 1}, dims, nil)
	check("int8", g, err)
	g, err = EDT([]uint16{0, 255, 255}, dims, nil)
	check("uint16", g, err)
	g, err = EDT([]int16{0, 1, 1}, dims, nil)
	check("int16", g, err)
	g, err = EDT([]uint32{0, 1, 1}, dims, nil)
	check("uint32", g, err)
	g, err = EDT([]int32{0, 1, 1}, dims, nil)
	check("int32", g, err)
	g, err = EDT([]uint64{0, 255, 255}, dims, nil)
	check("uint64", g, err)
	g, err = EDT([]int64{0, 1, 1}, dims, nil)
	check("int64", g, err)
	g, err = EDT([]float64{0, 1, 1}, dims, nil)
	check("float64", g, err)
	_, err = EDT([]int64{0, -1, 1}, dims, nil)
	assert.ErrorIs(t, err, ErrMask)
	_, err = EDT([]uint64{0, 1 << 63, 1}, dims, nil)
	assert.ErrorIs(t, err, ErrMask)
}

// TestEDTRandom compares against the brute-force definition on random masks
// of rank 1 to 3, with and without anisotropic sampling, large enough to run
// the parallel paths.
func TestEDTRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	shapes := [][]int{{17}, {1, 9}, {9, 1}, {13, 21}, {40, 33}, {5, 6, 7}, {3, 1, 4, 2}, {400, 300}}
	for _, dims := range shapes {
		for _, p := range []float64{0.002, 0.3, 0.9} {
			if len(dims) == 2 && dims[0] == 400 && p != 0.002 {
				continue // large enough for the parallel paths; keep brute force cheap
			}
			n := 1
			for _, d := range dims {
				n *= d
			}
			mask := make([]bool, n)
			for i := range mask {
				mask[i] = r.Float64() > p
			}
			samp := ones(len(dims))
			for _, aniso := range []bool{false, true} {
				if aniso {
					for k := range samp {
						samp[k] = 0.25 + 2*r.Float64()
					}
				}
				got, err := EDT(mask, dims, samp)
				require.NoError(t, err)
				want := bruteEDT(mask, false, dims, samp)
				for i := range want {
					if math.Abs(got[i]-want[i]) > 1e-9 {
						t.Fatalf("dims %v p %v sampling %v: element %d: got %v, want %v", dims, p, samp, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// FuzzEDT checks EDT and Label on arbitrary small masks against brute force.
func FuzzEDT(f *testing.F) {
	f.Add(uint8(3), uint8(4), []byte{0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 0}, false)
	f.Add(uint8(5), uint8(5), []byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, true)
	f.Add(uint8(1), uint8(1), []byte{0}, false)
	f.Fuzz(func(t *testing.T, hb, wb uint8, data []byte, aniso bool) {
		h, w := int(hb%24)+1, int(wb%24)+1
		mask := make([]uint8, h*w)
		for i := range mask {
			if i < len(data) {
				mask[i] = data[i] & 1
			}
		}
		samp := []float64{1, 1}
		if aniso {
			samp = []float64{0.7, 1.9}
		}
		got, err := EDT(mask, []int{h, w}, samp)
		if err != nil {
			t.Fatal(err)
		}
		fg := make([]bool, len(mask))
		for i, v := range mask {
			fg[i] = v != 0
		}
		want := bruteEDT(fg, false, []int{h, w}, samp)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-9 {
				t.Fatalf("%dx%d %v: element %d: got %v, want %v", h, w, mask, i, got[i], want[i])
			}
		}
		for _, conn := range []Connectivity{Conn4, Conn8} {
			labels, n, err := Label(mask, h, w, conn)
			if err != nil {
				t.Fatal(err)
			}
			if msg := checkLabeling(fg, h, w, conn, labels, n); msg != "" {
				t.Fatalf("%dx%d %v %v: %s", h, w, mask, conn, msg)
			}
		}
	})
}
