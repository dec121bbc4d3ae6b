package goengine_test

import (
	"context"
	"fmt"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/tfops"
)

// TestConvolutionsOnEveryGEMMKernel runs the convolution and matrix-product
// checks with each float32 GEMM micro-kernel this machine has (AVX-512,
// AVX2/FMA, and the pure-Go fallback, which -tags purego makes the only
// one).
func TestConvolutionsOnEveryGEMMKernel(t *testing.T) {
	for _, name := range goengine.GEMMKernelNames() {
		t.Run("kernel="+name, func(t *testing.T) {
			defer goengine.UseGEMMKernel(name)()
			t.Run("pytorch_goldens", checkNNGoldens)
			t.Run("conv2d_small", checkConv2DReference)
			t.Run("conv2d_large", checkConv2DLarge)
			t.Run("transposed_adjoint", checkBackpropAdjoint)
			t.Run("transposed", checkConvTranspose)
			t.Run("matmul", checkMatMul)
		})
	}
}

// checkConv2DLarge compares Conv2D with nnConvReference on shapes large
// enough for full assembly tiles: U-Net-like layers, tails, channel counts
// that are not multiples of 16, padding, strides, dilations, 1×1.
func checkConv2DLarge(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	for _, tc := range []struct {
		n, h, w, c, kh, kw, o, sh, sw, dh, dw int
		padding                               string
	}{
		{1, 40, 37, 16, 3, 3, 32, 1, 1, 1, 1, "VALID"},
		{2, 18, 18, 32, 3, 3, 16, 1, 1, 1, 1, "VALID"}, // 16-wide rows: tiles span output rows
		{1, 30, 30, 1, 3, 3, 16, 1, 1, 1, 1, "VALID"},  // first U-Net layer: ka = 3
		{1, 33, 29, 5, 3, 3, 19, 1, 1, 1, 1, "SAME"},
		{1, 31, 35, 7, 5, 3, 9, 2, 2, 1, 1, "SAME"},
		{2, 35, 64, 3, 3, 3, 8, 1, 2, 2, 1, "VALID"},
		{1, 30, 30, 4, 3, 3, 17, 1, 1, 1, 2, "VALID"}, // width dilation: packed A
		{1, 24, 24, 64, 1, 1, 2, 1, 1, 1, 1, "VALID"}, // the U-Net's 1×1 head
		{3, 7, 5, 64, 1, 1, 48, 1, 1, 1, 1, "VALID"},
		{1, 6, 6, 3, 3, 3, 4, 1, 1, 1, 1, "VALID"}, // fewer rows than a tile
	} {
		name := fmt.Sprintf("x%dx%dx%dx%d_f%dx%dx%d_s%d%d_d%d%d_%s", tc.n, tc.h, tc.w, tc.c, tc.kh, tc.kw, tc.o, tc.sh, tc.sw, tc.dh, tc.dw, tc.padding)
		t.Run(name, func(t *testing.T) {
			x := randn64(rng, tc.n*tc.h*tc.w*tc.c)
			f := randn64(rng, tc.kh*tc.kw*tc.c*tc.o)
			var pt, pl, oh, ow int
			eh, ew := (tc.kh-1)*tc.dh+1, (tc.kw-1)*tc.dw+1
			if tc.padding == "VALID" {
				oh, ow = (tc.h-eh)/tc.sh+1, (tc.w-ew)/tc.sw+1
			} else {
				oh, ow = (tc.h+tc.sh-1)/tc.sh, (tc.w+tc.sw-1)/tc.sw
				pt, pl = max((oh-1)*tc.sh+eh-tc.h, 0)/2, max((ow-1)*tc.sw+ew-tc.w, 0)/2
			}
			want := nnConvReference(x, tc.n, tc.h, tc.w, tc.c, f, tc.kh, tc.kw, tc.o, tc.sh, tc.sw, tc.dh, tc.dw, pt, pl, oh, ow)
			attrs := map[string]any{"strides": []int{1, tc.sh, tc.sw, 1}, "dilations": []int{1, tc.dh, tc.dw, 1}, "padding": tc.padding}
			out, err := nnRunOp("Conv2D", attrs, 1, nnTensor(t, "float32", []int{tc.n, tc.h, tc.w, tc.c}, x), nnTensor(t, "float32", []int{tc.kh, tc.kw, tc.c, tc.o}, f))
			require.NoError(t, err)
			require.Equal(t, []int{tc.n, oh, ow, tc.o}, out[0].Shape())
			// float32 sums of k = kh·kw·c products of N(0, 1) values.
			tol := 1e-6 * float64(tc.kh*tc.kw*tc.c)
			nnAssertClose(t, want, nnFloats(out[0]), tol, tol, "Conv2D")
		})
	}
}

func randn64(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// nnConvTransposeReference is Conv2DBackpropInput from its definition in
// float64: each dy[n, i, j, o] adds dy·f[a, b, q, o] to dx[n, i·sh + a - pt,
// j·sw + b - pl, q].
func nnConvTransposeReference(dy []float64, n, oh, ow, o int, f []float64, kh, kw, c, sh, sw, pt, pl, h, w int) []float64 {
	dx := make([]float64, n*h*w*c)
	for b := 0; b < n; b++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				for a := 0; a < kh; a++ {
					for e := 0; e < kw; e++ {
						y, z := i*sh+a-pt, j*sw+e-pl
						if y < 0 || y >= h || z < 0 || z >= w {
							continue
						}
						for q := 0; q < c; q++ {
							s := 0.0
							for p := 0; p < o; p++ {
								s += dy[((b*oh+i)*ow+j)*o+p] * f[((a*kw+e)*c+q)*o+p]
							}
							dx[((b*h+y)*w+z)*c+q] += s
						}
					}
				}
			}
		}
	}
	return dx
}

// checkConvTranspose compares Conv2DBackpropInput with its definition: the
// kernel-size-equals-stride cases of Keras' Conv2DTranspose (written in
// place, including an odd size whose last row and column get nothing) and
// overlapping windows (scatter-add).
func checkConvTranspose(t *testing.T) {
	rng := rand.New(rand.NewSource(23))
	for _, tc := range []struct {
		n, h, w, c, k, s, o int
		padding             string
	}{
		{1, 64, 60, 16, 2, 2, 32, "VALID"},
		{2, 36, 36, 64, 2, 2, 128, "SAME"},
		{1, 41, 39, 20, 2, 2, 5, "VALID"},
		{1, 30, 27, 3, 3, 3, 7, "VALID"},
		{1, 25, 23, 6, 3, 2, 8, "SAME"},
		{2, 20, 21, 17, 4, 2, 3, "VALID"},
	} {
		t.Run(fmt.Sprintf("dx%dx%dx%dx%d_k%d_s%d_o%d_%s", tc.n, tc.h, tc.w, tc.c, tc.k, tc.s, tc.o, tc.padding), func(t *testing.T) {
			var oh, ow, pt, pl int
			if tc.padding == "VALID" {
				oh, ow = (tc.h-tc.k)/tc.s+1, (tc.w-tc.k)/tc.s+1
			} else {
				oh, ow = (tc.h+tc.s-1)/tc.s, (tc.w+tc.s-1)/tc.s
				pt, pl = max((oh-1)*tc.s+tc.k-tc.h, 0)/2, max((ow-1)*tc.s+tc.k-tc.w, 0)/2
			}
			dy := randn64(rng, tc.n*oh*ow*tc.o)
			f := randn64(rng, tc.k*tc.k*tc.c*tc.o)
			want := nnConvTransposeReference(dy, tc.n, oh, ow, tc.o, f, tc.k, tc.k, tc.c, tc.s, tc.s, pt, pl, tc.h, tc.w)
			attrs := map[string]any{"strides": []int{1, tc.s, tc.s, 1}, "padding": tc.padding}
			out, err := nnRunOp("Conv2DBackpropInput", attrs, 1,
				tfops.MustFromSlice([]int32{int32(tc.n), int32(tc.h), int32(tc.w), int32(tc.c)}, 4),
				nnTensor(t, "float32", []int{tc.k, tc.k, tc.c, tc.o}, f), nnTensor(t, "float32", []int{tc.n, oh, ow, tc.o}, dy))
			require.NoError(t, err)
			tol := 1e-6 * float64(tc.o*tc.k*tc.k)
			nnAssertClose(t, want, nnFloats(out[0]), tol, tol, "Conv2DBackpropInput")
		})
	}
}

// checkMatMul compares MatMul (all four transpose combinations) with a
// float64 loop.
func checkMatMul(t *testing.T) {
	rng := rand.New(rand.NewSource(29))
	for _, tc := range []struct{ m, k, n int }{{1, 7, 3}, {45, 33, 17}, {64, 128, 40}, {30, 0, 5}} {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			t.Run(fmt.Sprintf("%dx%dx%d_ta%v_tb%v", tc.m, tc.k, tc.n, tr[0], tr[1]), func(t *testing.T) {
				a, b := randn64(rng, tc.m*tc.k), randn64(rng, tc.k*tc.n)
				at := func(i, p int) float64 {
					if tr[0] {
						return a[p*tc.m+i]
					}
					return a[i*tc.k+p]
				}
				bt := func(p, j int) float64 {
					if tr[1] {
						return b[j*tc.k+p]
					}
					return b[p*tc.n+j]
				}
				want := make([]float64, tc.m*tc.n)
				for i := 0; i < tc.m; i++ {
					for j := 0; j < tc.n; j++ {
						for p := 0; p < tc.k; p++ {
							want[i*tc.n+j] += at(i, p) * bt(p, j)
						}
					}
				}
				sa, sb := []int{tc.m, tc.k}, []int{tc.k, tc.n}
				if tr[0] {
					sa = []int{tc.k, tc.m}
				}
				if tr[1] {
					sb = []int{tc.n, tc.k}
				}
				out, err := nnRunOp("MatMul", map[string]any{"transpose_a": tr[0], "transpose_b": tr[1]}, 1, nnTensor(t, "float32", sa, a), nnTensor(t, "float32", sb, b))
				require.NoError(t, err)
				require.Equal(t, []int{tc.m, tc.n}, out[0].Shape())
				tol := 1e-6 * float64(tc.k+1)
				nnAssertClose(t, want, nnFloats(out[0]), tol, tol, "MatMul")
			})
		}
	}
}

// unetConvs are the convolutions of the Keras U-Net fixture on a 1×572×572×1
// input (valid 3×3 convolutions, 2×2 stride-2 transposed ones, a 1×1 head),
// about 14.4 GFLOP in all.
var unetConvs = []struct {
	h, c, o, k int
	transposed bool
}{
	{572, 1, 16, 3, false}, {570, 16, 16, 3, false},
	{284, 16, 32, 3, false}, {282, 32, 32, 3, false},
	{140, 32, 64, 3, false}, {138, 64, 64, 3, false},
	{136, 64, 32, 2, true}, {272, 64, 32, 3, false}, {270, 32, 32, 3, false},
	{268, 32, 16, 2, true}, {536, 32, 16, 3, false}, {534, 16, 16, 3, false},
	{532, 16, 2, 1, false},
}

// BenchmarkConv2D_UNet runs each U-Net convolution shape on the active
// micro-kernel (and on the others with kernel=...), reporting GFLOP/s.
func BenchmarkConv2D_UNet(b *testing.B) {
	for _, kname := range goengine.GEMMKernelNames() {
		for _, l := range unetConvs {
			op, out := "Conv2D", l.h-l.k+1
			if l.transposed {
				op, out = "Conv2DBackpropInput", l.h*2
			}
			b.Run(fmt.Sprintf("kernel=%s/%s/size=%dx%dx%d_to_%d_k%d", kname, op, l.h, l.h, l.c, l.o, l.k), func(b *testing.B) {
				defer goengine.UseGEMMKernel(kname)()
				s := tfops.NewScope()
				xi := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.UnknownShape())
				var spec tfops.OpSpec
				flops := 2.0 * float64(out*out*l.k*l.k*l.c*l.o)
				if l.transposed {
					flops = 2.0 * float64(l.h*l.h*l.k*l.k*l.c*l.o)
					f := tfops.Const(s.WithOpName("f"), tfops.MustFromSlice(make([]float32, 4*l.c*l.o), 2, 2, l.o, l.c))
					sizes := tfops.Const(s.WithOpName("sizes"), tfops.MustFromSlice([]int32{1, int32(out), int32(out), int32(l.o)}, 4))
					spec = tfops.OpSpec{Type: op, Name: "conv", Inputs: []any{sizes, f, xi},
						Attrs: map[string]any{"T": tfops.Float, "strides": []int{1, 2, 2, 1}, "padding": "VALID"}}
				} else {
					f := tfops.Const(s.WithOpName("f"), tfops.MustFromSlice(make([]float32, l.k*l.k*l.c*l.o), l.k, l.k, l.c, l.o))
					spec = tfops.OpSpec{Type: op, Name: "conv", Inputs: []any{xi, f},
						Attrs: map[string]any{"T": tfops.Float, "strides": []int{1, 1, 1, 1}, "padding": "VALID"}}
				}
				spec.Outputs = []tfops.OutputInfo{{DType: tfops.Float, Shape: tfops.UnknownShape()}}
				conv := s.AddOp(spec)
				sess := goSession(b, s)
				x := tfops.MustFromSlice(make([]float32, l.h*l.h*l.c), 1, l.h, l.h, l.c)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := sess.Run(context.Background(), map[string]*tfops.Tensor{"x": x}, []string{conv.Output(0).Name()}, nil); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
