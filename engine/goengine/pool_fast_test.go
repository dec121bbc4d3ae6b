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
//
// On amd64 it runs once per assembly row kernel (AVX-512, AVX2) and once
// with the Go loop only, with channel counts on both sides of the vector
// widths and inputs that also hold ±Inf, denormals of both signs (kept,
// not flushed: Go's max and TensorFlow's MaxPool compare them as they
// are) and NaNs with payloads and sign bits.
func TestMaxPool2x2(t *testing.T) {
	saved := maxPoolRowF32
	defer func() { maxPoolRowF32 = saved }()
	maxPoolRowF32 = nil
	t.Run("kernel=go", checkMaxPool2x2)
	for _, k := range maxPoolRowKernels {
		maxPoolRowF32 = k.run
		t.Run("kernel="+k.name, checkMaxPool2x2)
	}
}

func checkMaxPool2x2(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	special := []float32{
		float32(math.NaN()), math.Float32frombits(0xffc00001), math.Float32frombits(0x7f800123),
		float32(math.Copysign(0, -1)), 0, float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Float32frombits(1), math.Float32frombits(0x80000001), math.Float32frombits(0x007fffff),
		math.Float32frombits(0x807fffff), math.SmallestNonzeroFloat32 * 3,
	}
	for _, dims := range [][4]int{{1, 4, 4, 1}, {2, 7, 9, 3}, {1, 10, 6, 16}, {3, 5, 5, 33},
		{1, 4, 6, 8}, {1, 5, 4, 9}, {2, 4, 5, 15}, {1, 3, 7, 17}, {1, 4, 4, 31}, {1, 6, 6, 64}, {1, 4, 3, 100}} {
		n, h, w, c := dims[0], dims[1], dims[2], dims[3]
		x := make([]float32, n*h*w*c)
		xi := make([]int32, len(x))
		for i := range x {
			switch r.IntN(10) {
			case 0:
				x[i] = special[r.IntN(len(special))]
			case 1:
				x[i] = float32(math.Copysign(0, -1))
			case 2:
				x[i] = 0
			case 3:
				x[i] = special[r.IntN(len(special))]
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

// BenchmarkMaxPool2x2 times the 2x2 max-pool of the Keras U-Net fixture's
// first pooling layer (1x568x568x64 to 1x284x284x64, on 2 threads) with
// the Go loop and with each assembly row kernel.
func BenchmarkMaxPool2x2(b *testing.B) {
	const h, w, c = 568, 568, 64
	g := convGeom{n: 1, h: h, w: w, c: c, kh: 2, kw: 2,
		wh: window{k: 2, stride: 2, dilation: 1, out: h / 2}, ww: window{k: 2, stride: 2, dilation: 1, out: w / 2}}
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, h*w*c)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	out := make([]float32, (h/2)*(w/2)*c)
	saved := maxPoolRowF32
	defer func() { maxPoolRowF32 = saved }()
	kernels := append([]maxPoolRowKernel{{name: "go"}}, maxPoolRowKernels...)
	for _, k := range kernels {
		b.Run("kernel="+k.name, func(b *testing.B) {
			maxPoolRowF32 = k.run
			b.SetBytes(int64(4 * (len(x) + len(out))))
			for b.Loop() {
				maxPool2x2(g, x, out, 2)
			}
		})
	}
}
