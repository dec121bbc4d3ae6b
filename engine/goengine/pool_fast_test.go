package goengine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMaxPool2x2 checks the 2x2 stride-2 max-pool fast path against a
// reference loop per window, bit for bit, on inputs with NaNs, signed
// zeros and odd sizes (the last row and column dropped), float32 and int32.
// (TensorFlow itself checks MaxPool in the conformance tests.)
func TestMaxPool2x2(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, dims := range [][4]int{{1, 4, 4, 1}, {2, 7, 9, 3}, {1, 10, 6, 16}, {3, 5, 5, 33}} {
		n, h, w, c := dims[0], dims[1], dims[2], dims[3]
		x := make([]float32, n*h*w*c)
		xi := make([]int32, len(x))
		for i := range x {
			switch r.IntN(10) {
			case 0:
				x[i] = float32(math.NaN())
			case 1:
				x[i] = float32(math.Copysign(0, -1))
			case 2:
				x[i] = 0
			default:
				x[i] = float32(r.NormFloat64())
			}
			xi[i] = int32(r.IntN(1000) - 500)
		}
		g := convGeom{n: n, h: h, w: w, c: c, kh: 2, kw: 2,
			wh: window{k: 2, stride: 2, dilation: 1, out: h / 2}, ww: window{k: 2, stride: 2, dilation: 1, out: w / 2}}
		got := make([]float32, n*(h/2)*(w/2)*c)
		require.True(t, maxPool2x2(g, x, got, 2))
		want := make([]float32, len(got))
		poolReference(g, x, want)
		for i := range got {
			require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "dims %v element %d", dims, i)
		}
		goti := make([]int32, len(got))
		wanti := make([]int32, len(got))
		require.True(t, maxPool2x2(g, xi, goti, 2))
		poolReference(g, xi, wanti)
		require.Equal(t, wanti, goti, "dims %v int32", dims)
	}
	// Not taken: padding, other sizes and strides.
	g := convGeom{n: 1, h: 4, w: 4, c: 1, kh: 3, kw: 3, wh: window{k: 3, stride: 2, dilation: 1, out: 1}, ww: window{k: 3, stride: 2, dilation: 1, out: 1}}
	require.False(t, maxPool2x2(g, make([]float32, 16), make([]float32, 1), 1))
	g = convGeom{n: 1, h: 3, w: 3, c: 1, kh: 2, kw: 2, wh: window{k: 2, stride: 2, dilation: 1, out: 2}, ww: window{k: 2, stride: 2, dilation: 1, out: 2}}
	require.False(t, maxPool2x2(g, make([]float32, 9), make([]float32, 4), 1)) // SAME on odd sizes reads past the input
}

// poolReference is max-pooling written out per window, independent of
// both poolGeneric and maxPool2x2: rows h0..h0+kh-1 and columns
// w0..w0+kw-1, clamped to the input, max taken in row-major window order.
func poolReference[T convElem](g convGeom, x, out []T) {
	for n := 0; n < g.n; n++ {
		for oh := 0; oh < g.wh.out; oh++ {
			for ow := 0; ow < g.ww.out; ow++ {
				for q := 0; q < g.c; q++ {
					first := true
					var m T
					for ih := oh * g.wh.stride; ih < min(oh*g.wh.stride+g.kh, g.h); ih++ {
						for iw := ow * g.ww.stride; iw < min(ow*g.ww.stride+g.kw, g.w); iw++ {
							v := x[((n*g.h+ih)*g.w+iw)*g.c+q]
							if first {
								m, first = v, false
							} else {
								m = max(m, v)
							}
						}
					}
					out[((n*g.wh.out+oh)*g.ww.out+ow)*g.c+q] = m
				}
			}
		}
	}
}
