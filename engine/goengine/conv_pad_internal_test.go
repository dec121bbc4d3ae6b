package goengine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine/internal/gemm"
)

// TestPaddedConvInPlace checks that a padded unit-stride convolution read
// in place (paddedConvJobs: interior in place, border rows packed) gives the
// bits of the same convolution on an explicitly zero-padded copy of the
// input (what padInput made), with bias and ReLU fused, on every GEMM
// micro-kernel this machine has: SAME and asymmetric EXPLICIT padding,
// odd sizes, images narrower than a tile, channel counts off 16.
func TestPaddedConvInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, mk := range gemm.KernelNames() {
		for _, tc := range []struct{ n, h, w, c, kh, kw, o, pt, pb, pl, pr int }{
			{1, 20, 23, 16, 3, 3, 32, 1, 1, 1, 1},
			{2, 9, 40, 3, 3, 3, 16, 1, 1, 1, 1},
			{1, 17, 13, 5, 5, 3, 19, 2, 2, 1, 1},
			{3, 6, 5, 7, 3, 3, 4, 1, 1, 1, 1},
			{1, 12, 12, 1, 3, 3, 16, 0, 2, 0, 2}, // padding after only
			{1, 11, 14, 4, 4, 2, 9, 2, 1, 0, 1},  // even filter (SAME pads 1 before, 2 after ...)
			{1, 30, 31, 8, 3, 3, 33, 3, 0, 2, 4},
		} {
			t.Run(fmt.Sprintf("%s/%v", mk, tc), func(t *testing.T) {
				defer gemm.Use(mk)()
				x := make([]float32, tc.n*tc.h*tc.w*tc.c)
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				f := make([]float32, tc.kh*tc.kw*tc.c*tc.o)
				for i := range f {
					f[i] = float32(r.NormFloat64())
				}
				bias := make([]float32, tc.o)
				for i := range bias {
					bias[i] = float32(r.NormFloat64())
				}
				oh, ow := tc.h+tc.pt+tc.pb-tc.kh+1, tc.w+tc.pl+tc.pr-tc.kw+1
				g := convGeom{n: tc.n, h: tc.h, w: tc.w, c: tc.c, kh: tc.kh, kw: tc.kw, o: tc.o,
					wh: window{in: tc.h, k: tc.kh, stride: 1, dilation: 1, out: oh, padBefore: tc.pt},
					ww: window{in: tc.w, k: tc.kw, stride: 1, dilation: 1, out: ow, padBefore: tc.pl}}
				// Taken on every image but those too small for a full tile of
				// the micro-kernel (6x5 on AVX-512 keeps the padded copy).
				if tc.h*tc.w >= 64 {
					require.NotNil(t, paddedConvJobs(g, x, tc.kh*tc.kw*tc.c))
				}
				epi := convEpilogue{bias: bias, relu: true}
				got := make([]float32, tc.n*oh*ow*tc.o)
				conv2DFloat32(g, x, f, got, epi, 2)

				hp, wp := tc.h+tc.pt+tc.pb, tc.w+tc.pl+tc.pr
				xp := make([]float32, tc.n*hp*wp*tc.c)
				for n := 0; n < tc.n; n++ {
					for y := 0; y < tc.h; y++ {
						copy(xp[((n*hp+y+tc.pt)*wp+tc.pl)*tc.c:], x[((n*tc.h+y)*tc.w)*tc.c:][:tc.w*tc.c])
					}
				}
				gv := convGeom{n: tc.n, h: hp, w: wp, c: tc.c, kh: tc.kh, kw: tc.kw, o: tc.o,
					wh: window{in: hp, k: tc.kh, stride: 1, dilation: 1, out: oh},
					ww: window{in: wp, k: tc.kw, stride: 1, dilation: 1, out: ow}}
				want := make([]float32, len(got))
				conv2DFloat32(gv, xp, f, want, epi, 2)
				for i := range got {
					require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "element %d: %v, padded copy %v", i, got[i], want[i])
				}
			})
		}
	}
}

// TestBackpropInputColumnBlocks checks that a transposed convolution whose
// column buffer is made block by block (colBlockFloats rows' worth at a
// time, down to the micro-kernel's tile height) gives the bits of the whole-image buffer: 3x3
// stride 2 SAME (overlapping windows, col2im adds), batch 2.
func TestBackpropInputColumnBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	c := &Context{State: &State{threads: 2, limits: engine.Limits{}.WithDefaults()}}
	// dx 2x17x15x5, dy 2x9x8x7, filter 3x3x5x7 (kh, kw, dx channels, dy channels).
	g := convGeom{n: 2, h: 17, w: 15, c: 5, kh: 3, kw: 3, o: 7,
		wh: window{in: 17, k: 3, stride: 2, dilation: 1, out: 9, padBefore: 1},
		ww: window{in: 15, k: 3, stride: 2, dilation: 1, out: 8, padBefore: 1}}
	require.False(t, g.shuffles())
	f := make([]float32, 3*3*5*7)
	dy := make([]float32, 2*9*8*7)
	for _, s := range [][]float32{f, dy} {
		for i := range s {
			s[i] = float32(r.NormFloat64())
		}
	}
	run := func(block int) []float32 {
		defer func(old int) { colBlockFloats = old }(colBlockFloats)
		colBlockFloats = block
		dx := make([]float32, 2*17*15*5)
		_, err := conv2DBackpropInputFloat32(c, g, f, dy, dx, convEpilogue{})
		require.NoError(t, err)
		return dx
	}
	want := run(1 << 21) // one block per image
	ncol := 3 * 3 * 5
	for _, rows := range []int{1, 7, 30, 50} {
		got := run(rows * ncol)
		for i := range want {
			require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "%d rows per block, element %d", rows, i)
		}
	}
}
