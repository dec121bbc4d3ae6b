package goengine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/tfops"
)

// goSession finalizes s and opens a Go-engine session on it, closed when
// the test ends.
func goSession(t testing.TB, s *tfops.Scope) engine.Session {
	t.Helper()
	gd, err := s.Finalize()
	require.NoError(t, err)
	sess, err := goengine.Engine{}.NewSession(gd, engine.SessionOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { sess.Close() })
	return sess
}

// nnRunOp builds a graph of one op fed by constants, runs it on the Go
// engine and returns its first nout outputs.
func nnRunOp(op string, attrs map[string]any, nout int, inputs ...*tfops.Tensor) ([]*tfops.Tensor, error) {
	s := tfops.NewScope()
	ins := make([]any, len(inputs))
	for i, in := range inputs {
		ins[i] = tfops.Const(s.WithOpName(fmt.Sprintf("in%d", i)), in)
	}
	outs := make([]tfops.OutputInfo, nout)
	for i := range outs {
		outs[i] = tfops.OutputInfo{DType: tfops.Float, Shape: tfops.UnknownShape()}
	}
	o := s.AddOp(tfops.OpSpec{Type: op, Name: "op", Inputs: ins, Attrs: attrs, Outputs: outs})
	gd, err := s.Finalize()
	if err != nil {
		return nil, err
	}
	sess, err := goengine.Engine{}.NewSession(gd, engine.SessionOptions{})
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	fetch := make([]string, nout)
	for i := range fetch {
		fetch[i] = o.Output(i).Name()
	}
	return sess.Run(context.Background(), nil, fetch, nil)
}

// nnGolden is one case of testdata/nn_goldens.json (scripts/gen_nn_goldens.py).
type nnGolden struct {
	Op     string `json:"op"`
	Inputs []struct {
		DType  string    `json:"dtype"`
		Shape  []int     `json:"shape"`
		Values []float64 `json:"values"`
	} `json:"inputs"`
	Attrs map[string]any `json:"attrs"`
	Want  struct {
		Shape  []int     `json:"shape"`
		Values []float64 `json:"values"`
	} `json:"want"`
}

func nnTensor(t *testing.T, dtype string, shape []int, v []float64) *tfops.Tensor {
	t.Helper()
	switch dtype {
	case "float32":
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		return tfops.MustFromSlice(f, shape...)
	case "float64":
		return tfops.MustFromSlice(append([]float64{}, v...), shape...)
	case "int32":
		f := make([]int32, len(v))
		for i, x := range v {
			f[i] = int32(x)
		}
		return tfops.MustFromSlice(f, shape...)
	case "int64":
		f := make([]int64, len(v))
		for i, x := range v {
			f[i] = int64(x)
		}
		return tfops.MustFromSlice(f, shape...)
	}
	t.Fatalf("unknown dtype %q", dtype)
	return nil
}

// nnAttrs converts JSON attrs: number lists become []int, numbers float32.
func nnAttrs(in map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range in {
		switch x := v.(type) {
		case []any:
			l := make([]int, len(x))
			for i, e := range x {
				l[i] = int(e.(float64))
			}
			out[k] = l
		case float64:
			out[k] = float32(x)
		default:
			out[k] = v
		}
	}
	return out
}

func nnFloats(t *tfops.Tensor) []float64 {
	switch d := t.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return d
	}
	panic("not a float tensor: " + t.DType().String())
}

func nnAssertClose(t *testing.T, want, got []float64, atol, rtol float64, what string) {
	t.Helper()
	require.Equal(t, len(want), len(got), "%s: element count", what)
	worst, at := 0.0, -1
	for i := range want {
		d := math.Abs(want[i] - got[i])
		if d > atol+rtol*math.Abs(want[i]) && d > worst {
			worst, at = d, i
		}
	}
	if at >= 0 {
		t.Errorf("%s: element %d is %v, want %v (off by %g)", what, at, got[at], want[at], worst)
	}
}

func TestNNKernelsMatchPyTorchGoldens(t *testing.T) { checkNNGoldens(t) }

// checkNNGoldens runs every case of testdata/nn_goldens.json.
func checkNNGoldens(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "nn_goldens.json"))
	require.NoError(t, err)
	var file struct {
		Cases []nnGolden `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(raw, &file))
	require.NotEmpty(t, file.Cases)
	for i, gc := range file.Cases {
		t.Run(fmt.Sprintf("%02d_%s", i, gc.Op), func(t *testing.T) {
			ins := make([]*tfops.Tensor, len(gc.Inputs))
			for k, in := range gc.Inputs {
				ins[k] = nnTensor(t, in.DType, in.Shape, in.Values)
			}
			out, err := nnRunOp(gc.Op, nnAttrs(gc.Attrs), 1, ins...)
			require.NoError(t, err)
			assert.Equal(t, gc.Want.Shape, out[0].Shape())
			nnAssertClose(t, gc.Want.Values, nnFloats(out[0]), 1e-4, 1e-5, gc.Op)
		})
	}
}

// nnConvReference is Conv2D straight from its definition, in float64, with
// the padding given explicitly.
func nnConvReference(x []float64, n, h, w, c int, f []float64, kh, kw, o, sh, sw, dh, dw, pt, pl, oh, ow int) []float64 {
	out := make([]float64, n*oh*ow*o)
	for b := 0; b < n; b++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				for q := 0; q < o; q++ {
					s := 0.0
					for a := 0; a < kh; a++ {
						for e := 0; e < kw; e++ {
							y, z := i*sh+a*dh-pt, j*sw+e*dw-pl
							if y < 0 || y >= h || z < 0 || z >= w {
								continue
							}
							for p := 0; p < c; p++ {
								s += x[((b*h+y)*w+z)*c+p] * f[((a*kw+e)*c+p)*o+q]
							}
						}
					}
					out[((b*oh+i)*ow+j)*o+q] = s
				}
			}
		}
	}
	return out
}

func TestConv2DAgainstReferenceLoops(t *testing.T) { checkConv2DReference(t) }

// checkConv2DReference compares Conv2D on small random shapes, strides,
// dilations and paddings with nnConvReference.
func checkConv2DReference(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for it := 0; it < 40; it++ {
		n, h, w := 1+rng.Intn(2), 1+rng.Intn(12), 1+rng.Intn(12)
		c, o := 1+rng.Intn(5), 1+rng.Intn(9)
		kh, kw := 1+rng.Intn(4), 1+rng.Intn(4)
		sh, sw, dh, dw := 1+rng.Intn(3), 1+rng.Intn(3), 1+rng.Intn(2), 1+rng.Intn(2)
		padding := []string{"VALID", "SAME", "EXPLICIT"}[rng.Intn(3)]
		var pt, pb, pl, pr, oh, ow int
		switch padding {
		case "VALID":
			oh, ow = (h-(kh-1)*dh-1)/sh+1, (w-(kw-1)*dw-1)/sw+1
			if h < (kh-1)*dh+1 || w < (kw-1)*dw+1 {
				continue
			}
		case "SAME":
			oh, ow = (h+sh-1)/sh, (w+sw-1)/sw
			ph := max((oh-1)*sh+(kh-1)*dh+1-h, 0)
			pw := max((ow-1)*sw+(kw-1)*dw+1-w, 0)
			pt, pl = ph/2, pw/2
		case "EXPLICIT":
			pt, pb, pl, pr = rng.Intn(3), rng.Intn(3), rng.Intn(3), rng.Intn(3)
			if h+pt+pb < (kh-1)*dh+1 || w+pl+pr < (kw-1)*dw+1 {
				continue
			}
			oh, ow = (h+pt+pb-(kh-1)*dh-1)/sh+1, (w+pl+pr-(kw-1)*dw-1)/sw+1
		}
		name := fmt.Sprintf("x%dx%dx%dx%d_f%dx%dx%d_s%d%d_d%d%d_%s", n, h, w, c, kh, kw, o, sh, sw, dh, dw, padding)
		t.Run(name, func(t *testing.T) {
			x := make([]float64, n*h*w*c)
			f := make([]float64, kh*kw*c*o)
			for i := range x {
				x[i] = rng.NormFloat64()
			}
			for i := range f {
				f[i] = rng.NormFloat64()
			}
			want := nnConvReference(x, n, h, w, c, f, kh, kw, o, sh, sw, dh, dw, pt, pl, oh, ow)
			attrs := map[string]any{"strides": []int{1, sh, sw, 1}, "dilations": []int{1, dh, dw, 1}, "padding": padding}
			if padding == "EXPLICIT" {
				attrs["explicit_paddings"] = []int{0, 0, pt, pb, pl, pr, 0, 0}
			}
			for _, dt := range []string{"float32", "float64"} {
				out, err := nnRunOp("Conv2D", attrs, 1, nnTensor(t, dt, []int{n, h, w, c}, x), nnTensor(t, dt, []int{kh, kw, c, o}, f))
				require.NoError(t, err)
				require.Equal(t, []int{n, oh, ow, o}, out[0].Shape())
				tol := 1e-12
				if dt == "float32" {
					tol = 2e-5
				}
				nnAssertClose(t, want, nnFloats(out[0]), tol, tol, dt)
			}
		})
	}
}

func TestConv2DBackpropInputIsTheAdjointOfConv2D(t *testing.T) { checkBackpropAdjoint(t) }

// checkBackpropAdjoint checks Conv2DBackpropInput against Conv2D:
func checkBackpropAdjoint(t *testing.T) {
	// <conv(x), dy> == <x, conv_backprop_input(dy)> for every x and dy.
	rng := rand.New(rand.NewSource(3))
	for _, tc := range []struct {
		h, w, c, kh, kw, o, s int
		padding               string
	}{
		{9, 9, 2, 3, 3, 3, 2, "SAME"},
		{8, 7, 3, 2, 2, 4, 2, "VALID"},
		{6, 6, 1, 3, 3, 2, 1, "SAME"},
		{10, 9, 2, 4, 3, 2, 3, "VALID"},
	} {
		t.Run(fmt.Sprintf("%dx%d_k%dx%d_s%d_%s", tc.h, tc.w, tc.kh, tc.kw, tc.s, tc.padding), func(t *testing.T) {
			x := make([]float64, tc.h*tc.w*tc.c)
			f := make([]float64, tc.kh*tc.kw*tc.c*tc.o)
			for i := range x {
				x[i] = rng.NormFloat64()
			}
			for i := range f {
				f[i] = rng.NormFloat64()
			}
			attrs := map[string]any{"strides": []int{1, tc.s, tc.s, 1}, "padding": tc.padding}
			y, err := nnRunOp("Conv2D", attrs, 1, nnTensor(t, "float64", []int{1, tc.h, tc.w, tc.c}, x), nnTensor(t, "float64", []int{tc.kh, tc.kw, tc.c, tc.o}, f))
			require.NoError(t, err)
			dy := make([]float64, y[0].NumElements())
			for i := range dy {
				dy[i] = rng.NormFloat64()
			}
			for _, dt := range []string{"float32", "float64"} {
				dx, err := nnRunOp("Conv2DBackpropInput", attrs, 1,
					tfops.MustFromSlice([]int32{1, int32(tc.h), int32(tc.w), int32(tc.c)}, 4),
					nnTensor(t, dt, []int{tc.kh, tc.kw, tc.c, tc.o}, f), nnTensor(t, dt, y[0].Shape(), dy))
				require.NoError(t, err)
				lhs, rhs := 0.0, 0.0
				for i, v := range y[0].Float64s() {
					lhs += v * dy[i]
				}
				for i, v := range nnFloats(dx[0]) {
					rhs += x[i] * v
				}
				assert.InDelta(t, lhs, rhs, 1e-3*(1+math.Abs(lhs)), dt)
			}
		})
	}
}

func TestFusedBatchNormV3Outputs(t *testing.T) {
	x := tfops.MustFromSlice([]float32{1, 2, 3, 4}, 1, 1, 2, 2)
	scale := tfops.MustFromSlice([]float32{2, 1}, 2)
	offset := tfops.MustFromSlice([]float32{0.5, -1}, 2)
	mean := tfops.MustFromSlice([]float32{1, 2}, 2)
	variance := tfops.MustFromSlice([]float32{4, 0.25}, 2)
	outs, err := nnRunOp("FusedBatchNormV3", map[string]any{"epsilon": float32(0), "is_training": false}, 6, x, scale, offset, mean, variance)
	require.NoError(t, err)
	// (x - mean) / sqrt(var) * scale + offset per channel.
	assert.InDeltaSlice(t, []float32{0.5, -1, 2.5, 3}, outs[0].Float32s(), 1e-6)
	assert.Equal(t, mean.Float32s(), outs[1].Float32s())
	assert.Equal(t, variance.Float32s(), outs[2].Float32s())
	assert.Equal(t, []int{0}, outs[5].Shape())

	// Training mode: batch statistics per channel (NHWC: channel 0 holds
	// 1 and 3, channel 1 holds 2 and 4; mean 2 and 3, variance 1, Bessel
	// corrected 2).
	outs, err = nnRunOp("FusedBatchNormV3", map[string]any{"epsilon": float32(0), "is_training": true}, 6, x, scale, offset,
		tfops.MustFromSlice([]float32{}, 0), tfops.MustFromSlice([]float32{}, 0))
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float32{-1.5, -2, 2.5, 0}, outs[0].Float32s(), 1e-6)
	assert.Equal(t, []float32{2, 3}, outs[1].Float32s())
	assert.Equal(t, []float32{2, 2}, outs[2].Float32s())
	assert.Equal(t, []float32{1, 1}, outs[4].Float32s())
}

func TestResizeLegacyCoordinates(t *testing.T) {
	// Neither align_corners nor half_pixel_centers: src = dst · in/out.
	x := tfops.MustFromSlice([]float32{0, 10, 20, 30}, 1, 2, 2, 1)
	size := tfops.MustFromSlice([]int32{4, 4}, 2)
	out, err := nnRunOp("ResizeBilinear", nil, 1, x, size)
	require.NoError(t, err)
	// Rows sample y = 0, 0.5, 1, 1.5 (clamped to 1); columns likewise.
	assert.Equal(t, []float32{
		0, 5, 10, 10,
		10, 15, 20, 20,
		20, 25, 30, 30,
		20, 25, 30, 30,
	}, out[0].Float32s())
	out, err = nnRunOp("ResizeNearestNeighbor", map[string]any{"align_corners": true}, 1, x, tfops.MustFromSlice([]int32{3, 3}, 2))
	require.NoError(t, err)
	// align_corners: scale (2-1)/(3-1) = 0.5, round(0, 0.5, 1) = 0, 1, 1.
	assert.Equal(t, []float32{0, 10, 10, 20, 30, 30, 20, 30, 30}, out[0].Float32s())
}

// TestResizeNearestDTypes checks the nearest-neighbour resize's pixel
// copies on integer images of one and several channels: legacy
// coordinates (src = floor(dst · in/out)) from 2x2 to 4x3 take rows
// 0, 0, 1, 1 and columns 0, 0, 1.
func TestResizeNearestDTypes(t *testing.T) {
	size := tfops.MustFromSlice([]int32{4, 3}, 2)
	x := tfops.MustFromSlice([]int32{1, -1, 2, -2, 3, -3, 4, -4}, 1, 2, 2, 2)
	out, err := nnRunOp("ResizeNearestNeighbor", nil, 1, x, size)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 4, 3, 2}, out[0].Shape())
	top := []int32{1, -1, 1, -1, 2, -2}
	bot := []int32{3, -3, 3, -3, 4, -4}
	assert.Equal(t, slices.Concat(top, top, bot, bot), out[0].Data())
	g := tfops.MustFromSlice([]uint8{10, 20, 30, 40}, 1, 2, 2, 1)
	out, err = nnRunOp("ResizeNearestNeighbor", nil, 1, g, size)
	require.NoError(t, err)
	assert.Equal(t, []uint8{10, 10, 20, 10, 10, 20, 30, 30, 40, 30, 30, 40}, out[0].Data())
}

func TestNNKernelErrors(t *testing.T) {
	x := tfops.MustFromSlice(make([]float32, 2*5*5*3), 2, 5, 5, 3)
	f := tfops.MustFromSlice(make([]float32, 3*3*3*4), 3, 3, 3, 4)
	conv := map[string]any{"strides": []int{1, 1, 1, 1}, "padding": "SAME"}
	for _, tc := range []struct {
		name, op string
		attrs    map[string]any
		inputs   []*tfops.Tensor
		want     string
	}{
		{"nchw", "Conv2D", map[string]any{"strides": []int{1, 1, 1, 1}, "padding": "SAME", "data_format": "NCHW"}, []*tfops.Tensor{x, f}, "NCHW"},
		{"depth", "Conv2D", conv, []*tfops.Tensor{x, tfops.MustFromSlice(make([]float32, 3*3*2*4), 3, 3, 2, 4)}, "input depth must be evenly divisible by filter depth: 3 vs 2"},
		{"rank", "Conv2D", conv, []*tfops.Tensor{tfops.MustFromSlice(make([]float32, 3), 3), f}, "4-D"},
		{"padding", "Conv2D", map[string]any{"strides": []int{1, 1, 1, 1}, "padding": "FULL"}, []*tfops.Tensor{x, f}, `unknown padding "FULL"`},
		{"strides", "Conv2D", map[string]any{"strides": []int{2, 1, 1, 1}, "padding": "SAME"}, []*tfops.Tensor{x, f}, "strides"},
		{"dtype", "Conv2D", conv, []*tfops.Tensor{x, tfops.MustFromSlice(make([]float64, 3*3*3*4), 3, 3, 3, 4)}, "filter float64"},
		{"backprop_shape", "Conv2DBackpropInput", map[string]any{"strides": []int{1, 2, 2, 1}, "padding": "VALID"},
			[]*tfops.Tensor{tfops.MustFromSlice([]int32{2, 5, 5, 3}, 4), f, tfops.MustFromSlice(make([]float32, 2*3*3*4), 2, 3, 3, 4)}, "does not match the forward output 2x2"},
		{"pool_ksize", "MaxPool", map[string]any{"ksize": []int{2, 2, 2, 1}, "strides": []int{1, 1, 1, 1}, "padding": "VALID"}, []*tfops.Tensor{x}, "ksize"},
		{"matmul_inner", "MatMul", nil, []*tfops.Tensor{tfops.MustFromSlice(make([]float32, 6), 2, 3), tfops.MustFromSlice(make([]float32, 6), 2, 3)}, "inner dimensions differ"},
		{"bmm_batch", "BatchMatMulV2", nil, []*tfops.Tensor{tfops.MustFromSlice(make([]float32, 12), 2, 2, 3), tfops.MustFromSlice(make([]float32, 18), 3, 3, 2)}, "do not broadcast"},
		{"mirror_too_far", "MirrorPad", map[string]any{"mode": "REFLECT"}, []*tfops.Tensor{tfops.MustFromSlice(make([]float32, 3), 3), tfops.MustFromSlice([]int32{3, 0}, 1, 2)}, "at most 2"},
		{"bias_size", "BiasAdd", nil, []*tfops.Tensor{x, tfops.MustFromSlice(make([]float32, 4), 4)}, "bias of 4 elements"},
		{"resize_size", "ResizeBilinear", nil, []*tfops.Tensor{x, tfops.MustFromSlice([]int32{0, 3}, 2)}, "must be positive"},
		// A VALID window larger than the input by more than the stride:
		// TensorFlow's GetWindowedOutputSizeVerbose message, with sizes.
		{"conv_window_negative", "Conv2D", map[string]any{"strides": []int{1, 1, 1, 1}, "padding": "VALID"},
			[]*tfops.Tensor{tfops.MustFromSlice(make([]float32, 2*1*5*3), 2, 1, 5, 3), f}, "height: Computed output size would be negative: -1 [input_size: 1, effective_filter_size: 3, stride: 1]"},
		{"conv_dilated_negative", "Conv2D", map[string]any{"strides": []int{1, 1, 1, 1}, "dilations": []int{1, 1, 3, 1}, "padding": "VALID"},
			[]*tfops.Tensor{x, f}, "width: Computed output size would be negative: -1 [input_size: 5, effective_filter_size: 7, stride: 1]"},
		{"conv_explicit_negative", "Conv2D", map[string]any{"strides": []int{1, 1, 1, 1}, "padding": "EXPLICIT", "explicit_paddings": []int{0, 0, 0, 0, 0, 0, 0, 0}},
			[]*tfops.Tensor{tfops.MustFromSlice(make([]float32, 1*5*1*3), 1, 5, 1, 3), f}, "width: Computed output size would be negative: -1 [input_size: 1, effective_filter_size: 3, stride: 1]"},
		{"depthwise_window_negative", "DepthwiseConv2dNative", map[string]any{"strides": []int{1, 1, 1, 1}, "padding": "VALID"},
			[]*tfops.Tensor{tfops.MustFromSlice(make([]float32, 3), 1, 1, 1, 3), f}, "Computed output size would be negative: -1"},
		{"maxpool_window_negative", "MaxPool", map[string]any{"ksize": []int{1, 7, 7, 1}, "strides": []int{1, 1, 1, 1}, "padding": "VALID"}, []*tfops.Tensor{x}, "height: Computed output size would be negative: -1 [input_size: 5, effective_filter_size: 7, stride: 1]"},
		{"avgpool_window_negative", "AvgPool", map[string]any{"ksize": []int{1, 1, 8, 1}, "strides": []int{1, 1, 1, 1}, "padding": "VALID"}, []*tfops.Tensor{x}, "width: Computed output size would be negative: -2 [input_size: 5, effective_filter_size: 8, stride: 1]"},
		{"resize_flags", "ResizeBilinear", map[string]any{"align_corners": true, "half_pixel_centers": true}, []*tfops.Tensor{x, tfops.MustFromSlice([]int32{3, 3}, 2)}, "align_corners must be false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := nnRunOp(tc.op, tc.attrs, 1, tc.inputs...)
			require.Error(t, err)
			assert.ErrorIs(t, err, engine.ErrKernel)
			assert.ErrorContains(t, err, tc.want)
			assert.ErrorContains(t, err, `"op"`, "the error names the node")
			assert.ErrorContains(t, err, tc.op, "the error names the op")
		})
	}
}

func BenchmarkConv2D(b *testing.B) {
	for _, sz := range []struct{ h, c, o int }{{64, 16, 16}, {128, 32, 32}, {256, 1, 16}} {
		b.Run(fmt.Sprintf("size=%dx%dx%d_to_%d", sz.h, sz.h, sz.c, sz.o), func(b *testing.B) {
			x := tfops.MustFromSlice(make([]float32, sz.h*sz.h*sz.c), 1, sz.h, sz.h, sz.c)
			f := tfops.MustFromSlice(make([]float32, 9*sz.c*sz.o), 3, 3, sz.c, sz.o)
			s := tfops.NewScope()
			xi := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.UnknownShape())
			fc := tfops.Const(s.WithOpName("f"), f)
			op := s.AddOp(tfops.OpSpec{Type: "Conv2D", Name: "conv", Inputs: []any{xi, fc},
				Attrs:   map[string]any{"T": tfops.Float, "strides": []int{1, 1, 1, 1}, "padding": "VALID"},
				Outputs: []tfops.OutputInfo{{DType: tfops.Float, Shape: tfops.UnknownShape()}}})
			sess := goSession(b, s)
			flops := 2.0 * float64((sz.h-2)*(sz.h-2)*9*sz.c*sz.o)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := sess.Run(context.Background(), map[string]*tfops.Tensor{"x": x}, []string{op.Output(0).Name()}, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestPadAgainstReferenceLoops checks Pad and PadV2 (the row-copy path)
// on random shapes of rank 0 to 4, empty dimensions included, against a
// loop over output coordinates.
func TestPadAgainstReferenceLoops(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for trial := 0; trial < 300; trial++ {
		rank := r.Intn(5)
		in, out := make([]int, rank), make([]int, rank)
		pads := make([]int32, 2*rank)
		for i := range in {
			in[i] = r.Intn(4)
			if r.Intn(8) > 0 {
				in[i]++
			}
			pads[2*i], pads[2*i+1] = int32(r.Intn(3)), int32(r.Intn(3))
			out[i] = in[i] + int(pads[2*i]+pads[2*i+1])
		}
		x := make([]float32, tfops.NumElements(in))
		for i := range x {
			x[i] = float32(i + 1)
		}
		fill := float32(0)
		op, ins := "Pad", []*tfops.Tensor{tfops.MustFromSlice(x, in...), tfops.MustFromSlice(pads, rank, 2)}
		if trial%2 == 1 {
			fill = -7
			op, ins = "PadV2", append(ins, tfops.FromScalar(fill))
		}
		got, err := nnRunOp(op, map[string]any{"T": tfops.Float, "Tpaddings": tfops.Int32}, 1, ins...)
		require.NoError(t, err, "%s %v pads %v", op, in, pads)
		want := make([]float32, tfops.NumElements(out))
		idx := make([]int, rank)
		for f := range want {
			src, inside := 0, true
			for i := 0; i < rank; i++ {
				s := idx[i] - int(pads[2*i])
				if s < 0 || s >= in[i] {
					inside = false
					break
				}
				src = src*in[i] + s
			}
			want[f] = fill
			if inside {
				want[f] = x[src]
			}
			for i := rank - 1; i >= 0; i-- {
				idx[i]++
				if idx[i] < out[i] {
					break
				}
				idx[i] = 0
			}
		}
		require.Equal(t, out, got[0].Shape(), "%s %v pads %v", op, in, pads)
		require.Equal(t, want, got[0].Float32s(), "%s %v pads %v", op, in, pads)
	}
}
