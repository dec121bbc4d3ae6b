package goengine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPaddedConvInPlace checks that a padded unit-stride convolution read
// in place (paddedConvJobs: interior in place, border rows packed) gives the
// bits of the same convolution on an explicitly zero-padded copy of the
// input (what padInput made), with bias and ReLU fused, on every GEMM
// micro-kernel this machine has: SAME and asymmetric EXPLICIT padding,
// odd sizes, images narrower than a tile, channel counts off 16.
func TestPaddedConvInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, mk := range gemmKernels {
		for _, tc := range []struct{ n, h, w, c, kh, kw, o, pt, pb, pl, pr int }{
			{1, 20, 23, 16, 3, 3, 32, 1, 1, 1, 1},
			{2, 9, 40, 3, 3, 3, 16, 1, 1, 1, 1},
			{1, 17, 13, 5, 5, 3, 19, 2, 2, 1, 1},
			{3, 6, 5, 7, 3, 3, 4, 1, 1, 1, 1},
			{1, 12, 12, 1, 3, 3, 16, 0, 2, 0, 2}, // padding after only
			{1, 11, 14, 4, 4, 2, 9, 2, 1, 0, 1},  // even filter (SAME pads 1 before, 2 after ...)
			{1, 30, 31, 8, 3, 3, 33, 3, 0, 2, 4},
		} {
			t.Run(fmt.Sprintf("%s/%v", mk.name, tc), func(t *testing.T) {
				defer func(old *gemmMicro) { gemmActive.Store(old) }(gemmActive.Load())
				gemmActive.Store(&mk)
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
