package goengine

import (
	"fmt"

	"github.com/tfseg/tfseg/engine/goengine/internal/gemm"
	"github.com/tfseg/tfseg/engine/goengine/internal/parallel"
	"github.com/tfseg/tfseg/engine/goengine/internal/vec"
	"github.com/tfseg/tfseg/tfops"
)

// Kernels of neural-network layers: convolutions (Conv2D, its transpose
// Conv2DBackpropInput, DepthwiseConv2dNative), pooling (MaxPool, AvgPool),
// BiasAdd, FusedBatchNorm (inference), matrix products (MatMul,
// BatchMatMul*), padding (Pad, PadV2, MirrorPad) and LeakyRelu.
//
// Layouts are TensorFlow's CPU layouts: images NHWC, filters
// [height, width, in, out]. Float32 convolutions and matrix products run as
// GEMMs with SIMD micro-kernels split over goroutines (internal/gemm; Conv2D
// reads its patches in place and the stride-k transposed convolution
// writes its pixels in place, conv.go); other dtypes use plain loops.

func init() {
	Register("Conv2D", conv2DKernel)
	Register("_FusedConv2D", fusedConv2DKernel)
	Register("_FusedConcatConv2D", fusedConcatConv2DKernel)
	Register("_FusedConvPair2D", fusedConvPair2DKernel)
	Register("Conv2DBackpropInput", conv2DBackpropInputKernel)
	Register("_FusedConv2DBackpropInput", fusedConv2DBackpropInputKernel)
	Register("DepthwiseConv2dNative", depthwiseConv2DKernel)
	Register("MaxPool", poolKernel(false, false))
	Register("MaxPoolV2", poolKernel(false, true))
	Register("AvgPool", poolKernel(true, false))
	Register("BiasAdd", biasAddKernel)
	Register("BiasAddV1", biasAddKernel)
	fbn := []OutputArg{{Name: "y"}, {Name: "batch_mean"}, {Name: "batch_variance"}, {Name: "reserve_space_1"}, {Name: "reserve_space_2"}}
	RegisterOp("FusedBatchNorm", OpDef{Kernel: fusedBatchNormKernel(5), OutputArgs: fbn})
	RegisterOp("FusedBatchNormV2", OpDef{Kernel: fusedBatchNormKernel(5), OutputArgs: fbn})
	RegisterOp("FusedBatchNormV3", OpDef{Kernel: fusedBatchNormKernel(6), OutputArgs: append(append([]OutputArg{}, fbn...), OutputArg{Name: "reserve_space_3"})})
	Register("MatMul", matMulKernel)
	Register("BatchMatMul", batchMatMulKernel(false))
	Register("BatchMatMulV2", batchMatMulKernel(true))
	Register("BatchMatMulV3", batchMatMulKernel(true))
	Register("Pad", padKernel(padConstant))
	Register("PadV2", padKernel(padConstant))
	Register("MirrorPad", padKernel(padMirror))
	Register("LeakyRelu", leakyReluKernel)
}

// ---------------------------------------------------------------------------
// Window geometry shared by convolutions and pooling.

// window describes one spatial dimension of a sliding window.
type window struct {
	in, k, stride, dilation int
	out, padBefore          int
}

// computeWindow computes the output size and leading padding of one spatial
// dimension as TensorFlow's GetWindowedOutputSizeVerbose does:
//
//	VALID:    out = (in - eff + s) / s, no padding
//	SAME:     out = (in + s - 1) / s, pad = max((out-1)*s + eff - in, 0), before = pad/2
//	EXPLICIT: out = (in + before + after - eff + s) / s
//
// with eff = (k-1)*d + 1 and C's truncating division. A negative size is
// an error with TensorFlow's message (tensorflow/core/framework/
// kernel_shape_util.cc, GetWindowedOutputSizeVerboseV2; common_shape_fns.cc
// in TensorFlow 1.15); a size of 0 gives an empty output, as there.
func computeWindow(in, k, stride, dil int, padding string, before, after int) (window, error) {
	w := window{in: in, k: k, stride: stride, dilation: dil}
	if stride < 1 || dil < 1 || k < 1 {
		return w, fmt.Errorf("window size %d, stride %d and dilation %d must be positive", k, stride, dil)
	}
	eff := (k-1)*dil + 1
	switch padding {
	case "VALID":
		w.out = (in - eff + stride) / stride
	case "SAME":
		w.out = (in + stride - 1) / stride
		pad := max((w.out-1)*stride+eff-in, 0)
		w.padBefore = pad / 2
	case "EXPLICIT":
		if before < 0 || after < 0 {
			return w, fmt.Errorf("explicit paddings (%d, %d) must be non-negative", before, after)
		}
		w.out = (in + before + after - eff + stride) / stride
		w.padBefore = before
	default:
		return w, fmt.Errorf("unknown padding %q (want SAME, VALID or EXPLICIT)", padding)
	}
	if w.out < 0 {
		//lint:ignore ST1005 TensorFlow's message, verbatim
		return w, fmt.Errorf("Computed output size would be negative: %d [input_size: %d, effective_filter_size: %d, stride: %d]", w.out, in, eff, stride)
	}
	return w, nil
}

// nhwcWindows reads the strides, dilations, padding and explicit_paddings
// attrs of a 4-D NHWC op and computes both spatial windows for an input of
// height h and width w and a kh×kw window.
func (c *Context) nhwcWindows(h, w, kh, kw int, stridesAttr []int64, useDilations bool) (window, window, error) {
	df, err := c.AttrStringOr("data_format", "NHWC")
	if err != nil {
		return window{}, window{}, err
	}
	if df != "NHWC" {
		return window{}, window{}, c.Errorf("data_format %q is not supported (TensorFlow's CPU kernels run NHWC only)", df)
	}
	if len(stridesAttr) != 4 || stridesAttr[0] != 1 || stridesAttr[3] != 1 {
		return window{}, window{}, c.Errorf("strides %v must be [1, h, w, 1]", stridesAttr)
	}
	dh, dw := int64(1), int64(1)
	if useDilations {
		dil, err := c.AttrInts("dilations")
		if err != nil {
			return window{}, window{}, err
		}
		if dil != nil {
			if len(dil) != 4 || dil[0] != 1 || dil[3] != 1 {
				return window{}, window{}, c.Errorf("dilations %v must be [1, h, w, 1]", dil)
			}
			dh, dw = dil[1], dil[2]
		}
	}
	padding, err := c.AttrStringOr("padding", "")
	if err != nil {
		return window{}, window{}, err
	}
	var ep []int64
	if padding == "EXPLICIT" {
		if ep, err = c.AttrInts("explicit_paddings"); err != nil {
			return window{}, window{}, err
		}
		if len(ep) != 8 || ep[0] != 0 || ep[1] != 0 || ep[6] != 0 || ep[7] != 0 {
			return window{}, window{}, c.Errorf("explicit_paddings %v must have 8 entries, zero for batch and depth", ep)
		}
	} else {
		ep = make([]int64, 8)
	}
	wh, err := computeWindow(h, kh, int(stridesAttr[1]), int(dh), padding, int(ep[2]), int(ep[3]))
	if err != nil {
		return window{}, window{}, c.Errorf("height: %w", err)
	}
	ww, err := computeWindow(w, kw, int(stridesAttr[2]), int(dw), padding, int(ep[4]), int(ep[5]))
	if err != nil {
		return window{}, window{}, c.Errorf("width: %w", err)
	}
	return wh, ww, nil
}

// ---------------------------------------------------------------------------
// Conv2D

// conv2DKernel computes
//
//	out[n, i, j, o] = Σ_{a, b, q} x[n, i*sh + a*dh - pt, j*sw + b*dw - pl, q] · f[a, b, q, o]
//
// with out-of-range x reading as zero (TensorFlow's Conv2D, NHWC).
func conv2DKernel(c *Context) ([]*tfops.Tensor, error) {
	if len(c.Inputs) == 2 {
		if out, grouped, err := c.groupedConv(c.Inputs[0], c.Inputs[1]); grouped || err != nil {
			return []*tfops.Tensor{out}, err
		}
	}
	x, f, g, out, err := c.convSetup(false)
	if err != nil {
		return nil, err
	}
	switch x.DType() {
	case tfops.Float:
		conv2DFloat32(g, x.Float32s(), f.Float32s(), out.Float32s(), convEpilogue{}, c.Threads())
	case tfops.Double:
		conv2DGeneric(g, x.Float64s(), f.Float64s(), out.Float64s(), c.Threads())
	case tfops.Int32:
		conv2DGeneric(g, x.Int32s(), f.Int32s(), out.Int32s(), c.Threads())
	default:
		return nil, c.Errorf("unsupported dtype %v (want float32, float64 or int32)", x.DType())
	}
	return []*tfops.Tensor{out}, nil
}

// convSetup checks the input and filter of Conv2D (depthwise false) or
// DepthwiseConv2dNative (true), computes the geometry from the attrs and
// allocates the output: out-depth f[3] for Conv2D, f[2]·f[3] for depthwise.
func (c *Context) convSetup(depthwise bool) (x, f *tfops.Tensor, g convGeom, out *tfops.Tensor, err error) {
	if err = c.CheckInputs(2); err != nil {
		return
	}
	x, f = c.Inputs[0], c.Inputs[1]
	g, out, err = c.convGeometry(x, f, depthwise)
	return
}

// convGeometry checks input x and filter f of a convolution (see
// convSetup), computes its geometry and allocates its output.
func (c *Context) convGeometry(x, f *tfops.Tensor, depthwise bool) (g convGeom, out *tfops.Tensor, err error) {
	if x.Rank() != 4 || f.Rank() != 4 {
		err = c.Errorf("input must be 4-D NHWC and filter 4-D [h, w, in, out], got %v and %v", x.StaticShape(), f.StaticShape())
		return
	}
	if x.DType() != f.DType() {
		err = c.Errorf("input is %v, filter %v", x.DType(), f.DType())
		return
	}
	xs, fs := x.Shape(), f.Shape()
	if xs[3] != fs[2] {
		err = c.Errorf("input depth %d does not match filter in-depth %d (input %v, filter %v)", xs[3], fs[2], x.StaticShape(), f.StaticShape())
		return
	}
	strides, err := c.AttrInts("strides")
	if err != nil {
		return
	}
	wh, ww, err := c.nhwcWindows(xs[1], xs[2], fs[0], fs[1], strides, true)
	if err != nil {
		return
	}
	depth := fs[3]
	if depthwise {
		depth = fs[2] * fs[3]
	}
	g = convGeom{n: xs[0], h: xs[1], w: xs[2], c: xs[3], kh: fs[0], kw: fs[1], o: fs[3], wh: wh, ww: ww}
	if !depthwise && x.DType() == tfops.Float && g.kh*g.kw*g.c > 0 {
		// conv2DFloat32's GEMM stores every output element.
		out, err = c.AllocUninit(x.DType(), xs[0], wh.out, ww.out, depth)
		return
	}
	out, err = c.Alloc(x.DType(), xs[0], wh.out, ww.out, depth)
	return
}

// convGeom is the geometry of a 2-D convolution.
type convGeom struct {
	n, h, w, c, kh, kw, o int
	wh, ww                window
}

// im2colRow writes the receptive field of output pixel r (row-major over
// n, out-height, out-width) into dst[kh*kw*c].
func (g convGeom) im2colRow(x []float32, r int, dst []float32) {
	ow := r % g.ww.out
	oh := (r / g.ww.out) % g.wh.out
	n := r / (g.ww.out * g.wh.out)
	p := 0
	for a := 0; a < g.kh; a++ {
		ih := oh*g.wh.stride + a*g.wh.dilation - g.wh.padBefore
		for b := 0; b < g.kw; b++ {
			iw := ow*g.ww.stride + b*g.ww.dilation - g.ww.padBefore
			seg := dst[p : p+g.c]
			if ih < 0 || ih >= g.h || iw < 0 || iw >= g.w {
				clear(seg)
			} else {
				off := ((n*g.h+ih)*g.w + iw) * g.c
				copy(seg, x[off:off+g.c])
			}
			p += g.c
		}
	}
}

type convElem interface {
	~float32 | ~float64 | ~int32 | ~int64
}

func conv2DGeneric[T convElem](g convGeom, x, f, out []T, threads int) {
	rows := g.n * g.wh.out
	parallel.For(threads, rows, 1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n, oh := r/g.wh.out, r%g.wh.out
			for ow := 0; ow < g.ww.out; ow++ {
				dst := out[((n*g.wh.out+oh)*g.ww.out+ow)*g.o:][:g.o]
				for a := 0; a < g.kh; a++ {
					ih := oh*g.wh.stride + a*g.wh.dilation - g.wh.padBefore
					if ih < 0 || ih >= g.h {
						continue
					}
					for b := 0; b < g.kw; b++ {
						iw := ow*g.ww.stride + b*g.ww.dilation - g.ww.padBefore
						if iw < 0 || iw >= g.w {
							continue
						}
						src := x[((n*g.h+ih)*g.w+iw)*g.c:][:g.c]
						for q, v := range src {
							fr := f[((a*g.kw+b)*g.c+q)*g.o:][:g.o]
							for o := range dst {
								dst[o] += v * fr[o]
							}
						}
					}
				}
			}
		}
	})
}

// ---------------------------------------------------------------------------
// Conv2DBackpropInput (the transposed convolution of Keras Conv2DTranspose)

// conv2DBackpropInputKernel computes the gradient of Conv2D with respect to
// its input: for an input of shape input_sizes and a filter f[kh, kw, in, out],
//
//	dx[n, y, z, q] = Σ over (i, j, a, b) with y = i*sh + a*dh - pt, z = j*sw + b*dw - pl
//	                 of dy[n, i, j, o] · f[a, b, q, o]
//
// computed as a GEMM (dy · fᵀ) followed by col2im, as TensorFlow's CPU
// kernel does, or for float32 filters as large as their stride (Keras'
// Conv2DTranspose(k, strides=k)) as one GEMM writing dx in place (conv.go).
func conv2DBackpropInputKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	out, _, err := c.backpropInput(c.Inputs[0], c.Inputs[1], c.Inputs[2], convEpilogue{})
	if err != nil {
		return nil, err
	}
	return []*tfops.Tensor{out}, nil
}

// backpropGeom checks Conv2DBackpropInput's inputs (input_sizes, filter,
// out_backprop) against each other and the strides attr, and returns the
// geometry of the forward convolution they describe.
func (c *Context) backpropGeom(sizes, f, dy *tfops.Tensor) (convGeom, error) {
	dims, err := intList(sizes)
	if err != nil || len(dims) != 4 {
		return convGeom{}, c.Errorf("input_sizes must be an int32 vector of 4, got %v%v", sizes.DType(), sizes.StaticShape())
	}
	if f.Rank() != 4 || dy.Rank() != 4 {
		return convGeom{}, c.Errorf("filter must be 4-D [h, w, in, out] and out_backprop 4-D NHWC, got %v and %v", f.StaticShape(), dy.StaticShape())
	}
	if f.DType() != dy.DType() {
		return convGeom{}, c.Errorf("filter is %v, out_backprop %v", f.DType(), dy.DType())
	}
	for _, d := range dims {
		if d < 0 {
			return convGeom{}, c.Errorf("input_sizes %v has a negative dimension", dims)
		}
	}
	fs, ds := f.Shape(), dy.Shape()
	if dims[3] != fs[2] {
		return convGeom{}, c.Errorf("input_sizes depth %d does not match filter in-depth %d (filter %v)", dims[3], fs[2], f.StaticShape())
	}
	if ds[3] != fs[3] {
		return convGeom{}, c.Errorf("out_backprop depth %d does not match filter out-depth %d (out_backprop %v, filter %v)", ds[3], fs[3], dy.StaticShape(), f.StaticShape())
	}
	if ds[0] != dims[0] {
		return convGeom{}, c.Errorf("out_backprop batch %d does not match input_sizes batch %d", ds[0], dims[0])
	}
	strides, err := c.AttrInts("strides")
	if err != nil {
		return convGeom{}, err
	}
	wh, ww, err := c.nhwcWindows(dims[1], dims[2], fs[0], fs[1], strides, true)
	if err != nil {
		return convGeom{}, err
	}
	if wh.out != ds[1] || ww.out != ds[2] {
		return convGeom{}, c.Errorf("out_backprop %v does not match the forward output %dx%d of input_sizes %v with filter %v",
			dy.StaticShape(), wh.out, ww.out, dims, f.StaticShape())
	}
	return convGeom{n: dims[0], h: dims[1], w: dims[2], c: dims[3], kh: fs[0], kw: fs[1], o: fs[3], wh: wh, ww: ww}, nil
}

// backpropInput checks the inputs of Conv2DBackpropInput and computes it,
// with the epilogue applied in the GEMM where it can be (float32, filter
// as large as its stride and tiling the output); applied reports whether
// it was.
func (c *Context) backpropInput(sizes, f, dy *tfops.Tensor, epi convEpilogue) (out *tfops.Tensor, applied bool, err error) {
	g, err := c.backpropGeom(sizes, f, dy)
	if err != nil {
		return nil, false, err
	}
	dims := []int{g.n, g.h, g.w, g.c}
	if f.DType() == tfops.Float && g.n*g.wh.out*g.ww.out > 0 && g.kh*g.kw*g.c > 0 && g.tilesExactly() {
		// The product rows of the pixel shuffle store every element.
		out, err = c.AllocUninit(f.DType(), dims...)
	} else {
		out, err = c.Alloc(f.DType(), dims...)
	}
	if err != nil {
		return nil, false, err
	}
	switch f.DType() {
	case tfops.Float:
		if applied, err = conv2DBackpropInputFloat32(c, g, f.Float32s(), dy.Float32s(), out.Float32s(), epi); err != nil {
			return nil, false, err
		}
	case tfops.Double:
		conv2DBackpropInputGeneric(g, f.Float64s(), dy.Float64s(), out.Float64s(), c.Threads())
	default:
		return nil, false, c.Errorf("unsupported dtype %v (want float32 or float64)", f.DType())
	}
	return out, applied, nil
}

func conv2DBackpropInputGeneric[T convElem](g convGeom, f, dy, dx []T, threads int) {
	per := g.wh.out * g.ww.out
	parallel.For(threads, g.n, 1, func(n0, n1 int) {
		for n := n0; n < n1; n++ {
			img := dx[n*g.h*g.w*g.c : (n+1)*g.h*g.w*g.c]
			for r := 0; r < per; r++ {
				oh, ow := r/g.ww.out, r%g.ww.out
				src := dy[(n*per+r)*g.o:][:g.o]
				for a := 0; a < g.kh; a++ {
					y := oh*g.wh.stride + a*g.wh.dilation - g.wh.padBefore
					if y < 0 || y >= g.h {
						continue
					}
					for b := 0; b < g.kw; b++ {
						z := ow*g.ww.stride + b*g.ww.dilation - g.ww.padBefore
						if z < 0 || z >= g.w {
							continue
						}
						d := img[(y*g.w+z)*g.c:][:g.c]
						for q := range d {
							fr := f[((a*g.kw+b)*g.c+q)*g.o:][:g.o]
							var s T
							for o, v := range src {
								s += v * fr[o]
							}
							d[q] += s
						}
					}
				}
			}
		}
	})
}

// intList returns the elements of an int32 or int64 vector.
func intList(t *tfops.Tensor) ([]int, error) {
	if t.Rank() > 1 {
		return nil, fmt.Errorf("not a vector: %v", t.StaticShape())
	}
	switch d := t.Data().(type) {
	case []int32:
		out := make([]int, len(d))
		for i, v := range d {
			out[i] = int(v)
		}
		return out, nil
	case []int64:
		out := make([]int, len(d))
		for i, v := range d {
			out[i] = int(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("not an integer tensor: %v", t.DType())
}

// ---------------------------------------------------------------------------
// DepthwiseConv2dNative

// depthwiseConv2DKernel computes, for a filter f[kh, kw, c, m],
//
//	out[n, i, j, q*m + k] = Σ_{a, b} x[n, i*sh + a*dh - pt, j*sw + b*dw - pl, q] · f[a, b, q, k]
func depthwiseConv2DKernel(c *Context) ([]*tfops.Tensor, error) {
	x, f, g, out, err := c.convSetup(true)
	if err != nil {
		return nil, err
	}
	switch x.DType() {
	case tfops.Float:
		depthwiseGeneric(g, x.Float32s(), f.Float32s(), out.Float32s(), c.Threads())
	case tfops.Double:
		depthwiseGeneric(g, x.Float64s(), f.Float64s(), out.Float64s(), c.Threads())
	default:
		return nil, c.Errorf("unsupported dtype %v (want float32 or float64)", x.DType())
	}
	return []*tfops.Tensor{out}, nil
}

func depthwiseGeneric[T convElem](g convGeom, x, f, out []T, threads int) {
	mult := g.o
	oc := g.c * mult
	parallel.For(threads, g.n*g.wh.out, 1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n, oh := r/g.wh.out, r%g.wh.out
			for ow := 0; ow < g.ww.out; ow++ {
				dst := out[((n*g.wh.out+oh)*g.ww.out+ow)*oc:][:oc]
				for a := 0; a < g.kh; a++ {
					ih := oh*g.wh.stride + a*g.wh.dilation - g.wh.padBefore
					if ih < 0 || ih >= g.h {
						continue
					}
					for b := 0; b < g.kw; b++ {
						iw := ow*g.ww.stride + b*g.ww.dilation - g.ww.padBefore
						if iw < 0 || iw >= g.w {
							continue
						}
						src := x[((n*g.h+ih)*g.w+iw)*g.c:][:g.c]
						fr := f[(a*g.kw+b)*oc:][:oc]
						for q, v := range src {
							for k := 0; k < mult; k++ {
								dst[q*mult+k] += v * fr[q*mult+k]
							}
						}
					}
				}
			}
		}
	})
}

// ---------------------------------------------------------------------------
// Pooling

// poolKernel returns MaxPool (avg false), AvgPool (avg true) or MaxPoolV2
// (ksize and strides as inputs 1 and 2). Windows are NHWC and never span
// batch or depth. Padding positions are ignored: a SAME max pool takes the
// max over the window's valid elements, and a SAME average pool divides by
// their count, as TensorFlow does. A max pool propagates NaN and takes +0
// as the max of -0 and +0.
func poolKernel(avg, v2 bool) Kernel {
	return func(c *Context) ([]*tfops.Tensor, error) {
		var ksize, strides []int64
		if v2 {
			if err := c.CheckInputs(3); err != nil {
				return nil, err
			}
			k, err1 := intList(c.Inputs[1])
			s, err2 := intList(c.Inputs[2])
			if err1 != nil || err2 != nil {
				return nil, c.Errorf("ksize and strides must be int32 vectors")
			}
			for _, v := range k {
				ksize = append(ksize, int64(v))
			}
			for _, v := range s {
				strides = append(strides, int64(v))
			}
		} else {
			if err := c.CheckInputs(1); err != nil {
				return nil, err
			}
			var err error
			if ksize, err = c.AttrInts("ksize"); err != nil {
				return nil, err
			}
			if strides, err = c.AttrInts("strides"); err != nil {
				return nil, err
			}
		}
		x := c.Inputs[0]
		if x.Rank() != 4 {
			return nil, c.Errorf("input must be 4-D NHWC, got %v", x.StaticShape())
		}
		if len(ksize) != 4 || ksize[0] != 1 || ksize[3] != 1 {
			return nil, c.Errorf("ksize %v must be [1, h, w, 1] (pooling over batch or depth is not supported)", ksize)
		}
		xs := x.Shape()
		wh, ww, err := c.nhwcWindows(xs[1], xs[2], int(ksize[1]), int(ksize[2]), strides, false)
		if err != nil {
			return nil, err
		}
		// Every SAME or VALID window holds an input element, so
		// poolGeneric writes every output element.
		out, err := c.AllocUninit(x.DType(), xs[0], wh.out, ww.out, xs[3])
		if err != nil {
			return nil, err
		}
		g := convGeom{n: xs[0], h: xs[1], w: xs[2], c: xs[3], kh: wh.k, kw: ww.k, wh: wh, ww: ww}
		switch x.DType() {
		case tfops.Float:
			poolGeneric(g, x.Float32s(), out.Float32s(), avg, c.Threads())
		case tfops.Double:
			poolGeneric(g, x.Float64s(), out.Float64s(), avg, c.Threads())
		default:
			if avg {
				return nil, c.Errorf("unsupported dtype %v (want float32 or float64)", x.DType())
			}
			switch x.DType() {
			case tfops.Int32:
				poolGeneric(g, x.Int32s(), out.Int32s(), false, c.Threads())
			case tfops.Int64:
				poolGeneric(g, x.Int64s(), out.Int64s(), false, c.Threads())
			default:
				return nil, c.Errorf("unsupported dtype %v", x.DType())
			}
		}
		return []*tfops.Tensor{out}, nil
	}
}

func poolGeneric[T convElem](g convGeom, x, out []T, avg bool, threads int) {
	if !avg && maxPool2x2(g, x, out, threads) {
		return
	}
	parallel.For(threads, g.n*g.wh.out, 1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n, oh := r/g.wh.out, r%g.wh.out
			h0 := oh*g.wh.stride - g.wh.padBefore
			h1 := min(h0+g.kh, g.h)
			h0 = max(h0, 0)
			for ow := 0; ow < g.ww.out; ow++ {
				w0 := ow*g.ww.stride - g.ww.padBefore
				w1 := min(w0+g.kw, g.w)
				w0 = max(w0, 0)
				dst := out[((n*g.wh.out+oh)*g.ww.out+ow)*g.c:][:g.c]
				first := true
				for ih := h0; ih < h1; ih++ {
					for iw := w0; iw < w1; iw++ {
						src := x[((n*g.h+ih)*g.w+iw)*g.c:][:g.c]
						switch {
						case first:
							copy(dst, src)
							first = false
						case avg:
							for q, v := range src {
								dst[q] += v
							}
						default:
							// Branch-free: NaN propagates, max(-0, +0) is +0.
							for q, v := range src {
								dst[q] = max(dst[q], v)
							}
						}
					}
				}
				if avg {
					cnt := T((h1 - h0) * (w1 - w0))
					if cnt > 0 {
						for q := range dst {
							dst[q] /= cnt
						}
					}
				}
			}
		}
	})
}

// ---------------------------------------------------------------------------
// BiasAdd

// biasAddKernel adds bias[c] along the channel axis: the last axis for
// NHWC (any rank ≥ 2), axis 1 for NCHW.
func biasAddKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	x, b := c.Inputs[0], c.Inputs[1]
	if x.DType() != b.DType() {
		return nil, c.Errorf("value is %v, bias %v", x.DType(), b.DType())
	}
	if x.Rank() < 2 || b.Rank() != 1 {
		return nil, c.Errorf("value must have rank ≥ 2 and bias rank 1, got %v and %v", x.StaticShape(), b.StaticShape())
	}
	df, err := c.AttrStringOr("data_format", "NHWC")
	if err != nil {
		return nil, err
	}
	xs := x.Shape()
	axis := len(xs) - 1
	switch df {
	case "NHWC":
	case "NCHW":
		axis = 1
	default:
		return nil, c.Errorf("unknown data_format %q", df)
	}
	if xs[axis] != b.Shape()[0] {
		return nil, c.Errorf("bias of %d elements does not match dimension %d (%d) of value %v", b.Shape()[0], axis, xs[axis], x.StaticShape())
	}
	inner := 1
	for _, d := range xs[axis+1:] {
		inner *= d
	}
	out, err := c.AllocUninit(x.DType(), xs...)
	if err != nil {
		return nil, err
	}
	nc := xs[axis]
	switch x.DType() {
	case tfops.Float:
		if inner == 1 && nc > 0 {
			biasAddFloat32(x.Float32s(), b.Float32s(), out.Float32s(), c.Threads())
		} else {
			biasAddGeneric(x.Float32s(), b.Float32s(), out.Float32s(), nc, inner, c.Threads())
		}
	case tfops.Double:
		biasAddGeneric(x.Float64s(), b.Float64s(), out.Float64s(), nc, inner, c.Threads())
	case tfops.Int32:
		biasAddGeneric(x.Int32s(), b.Int32s(), out.Int32s(), nc, inner, c.Threads())
	case tfops.Int64:
		biasAddGeneric(x.Int64s(), b.Int64s(), out.Int64s(), nc, inner, c.Threads())
	default:
		return nil, c.Errorf("unsupported dtype %v", x.DType())
	}
	return []*tfops.Tensor{out}, nil
}

// biasAddFloat32 adds the bias along the last axis of x with the vector
// add kernel (flush-to-zero, as TensorFlow's float32 arithmetic), over
// blocks of whole rows against a bias repeated to the block's length.
func biasAddFloat32(x, b, out []float32, threads int) {
	nc := len(b)
	rows := max(1, 4096/nc)
	rep := make([]float32, rows*nc)
	for r := 0; r < rows; r++ {
		copy(rep[r*nc:], b)
	}
	add := vec.Current().Add
	blocks := (len(x) + len(rep) - 1) / len(rep)
	parallel.For(threads, blocks, max(1, grainCheap/len(rep)), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			e0, e1 := i*len(rep), min((i+1)*len(rep), len(x))
			add(out[e0:e1], x[e0:e1], rep[:e1-e0])
		}
	})
}

func biasAddGeneric[T convElem](x, b, out []T, nc, inner, threads int) {
	if nc == 0 || inner == 0 {
		return
	}
	// Split over runs of inner elements that share one bias value.
	runs := len(x) / inner
	parallel.For(threads, runs, max(1, grainCheap/inner), func(lo, hi int) {
		if inner == 1 {
			// NHWC: whole rows of nc channels where possible.
			for r := lo; r < hi; {
				q := r % nc
				n := min(nc-q, hi-r)
				xr, or, br := x[r:r+n], out[r:r+n], b[q:q+n]
				for i, v := range xr {
					or[i] = v + br[i]
				}
				r += n
			}
			return
		}
		for r := lo; r < hi; r++ {
			v := b[r%nc]
			xr, or := x[r*inner:(r+1)*inner], out[r*inner:(r+1)*inner]
			for i, e := range xr {
				or[i] = e + v
			}
		}
	})
}

// ---------------------------------------------------------------------------
// FusedBatchNorm (inference; is_training = true in kernels_bntrain.go)

// fusedBatchNormKernel normalizes with the given population statistics
// (is_training = false), exactly as TensorFlow's CPU kernel computes it:
//
//	y = (x - mean) · (rsqrt(variance + epsilon) · scale) + offset
//
// batch_mean and batch_variance echo mean and variance; the reserve spaces
// hold copies of them (and an empty reserve_space_3 for V3).
func fusedBatchNormKernel(nout int) Kernel {
	return func(c *Context) ([]*tfops.Tensor, error) {
		if err := c.CheckInputs(5); err != nil {
			return nil, err
		}
		training, err := c.AttrBoolOr("is_training", true)
		if err != nil {
			return nil, err
		}
		eps, err := c.AttrFloatOr("epsilon", 1e-4)
		if err != nil {
			return nil, err
		}
		df, err := c.AttrStringOr("data_format", "NHWC")
		if err != nil {
			return nil, err
		}
		x := c.Inputs[0]
		if x.Rank() != 4 {
			return nil, c.Errorf("x must be 4-D, got %v", x.StaticShape())
		}
		if x.DType() != tfops.Float {
			return nil, c.Errorf("x is %v; only float32 is supported", x.DType())
		}
		xs := x.Shape()
		var depth, inner int
		switch df {
		case "NHWC":
			depth, inner = xs[3], 1
		case "NCHW":
			depth, inner = xs[1], xs[2]*xs[3]
		default:
			return nil, c.Errorf("data_format %q is not supported (want NHWC or NCHW)", df)
		}
		var p [4][]float32
		for i, name := range []string{"scale", "offset", "mean", "variance"} {
			t := c.Inputs[1+i]
			if training && i >= 2 && t.DType() == tfops.Float && t.NumElements() == 0 {
				continue // training without running statistics
			}
			if t.DType() != tfops.Float || t.Rank() != 1 || t.Shape()[0] != depth {
				return nil, c.Errorf("%s must be a float32 vector of %d (the depth of x %v), got %v%v", name, depth, x.StaticShape(), t.DType(), t.StaticShape())
			}
			p[i] = t.Float32s()
		}
		if training {
			return fusedBatchNormTraining(c, nout, eps, depth, inner, x, p)
		}
		bn := newBatchNorm32(c.Inputs[1:5], eps)
		y, err := c.AllocUninit(tfops.Float, xs...)
		if err != nil {
			return nil, err
		}
		xd, yd := x.Float32s(), y.Float32s()
		if inner == 1 { // NHWC: pixels of depth channels, in parallel
			bn.run(c, yd, xd, "", 0)
		} else {
			mean, factor, offset := bn.mean, bn.factor, bn.offset
			for i, v := range xd {
				q := (i / inner) % depth
				yd[i] = float32((v-mean[q])*factor[q]) + offset[q] // as batchNorm32.apply
			}
		}
		outs := []*tfops.Tensor{y, c.Inputs[3].Clone(), c.Inputs[4].Clone(), c.Inputs[3].Clone(), c.Inputs[4].Clone()}
		if nout == 6 {
			r3, _ := tfops.Zeros(tfops.Float, 0)
			outs = append(outs, r3)
		}
		return outs, nil
	}
}

// ---------------------------------------------------------------------------
// Matrix products

// matMulKernel computes op(a)·op(b) for 2-D a and b, op transposing when
// transpose_a / transpose_b is set.
func matMulKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	a, b := c.Inputs[0], c.Inputs[1]
	if a.Rank() != 2 || b.Rank() != 2 {
		return nil, c.Errorf("a and b must be matrices, got %v and %v", a.StaticShape(), b.StaticShape())
	}
	ta, err := c.AttrBoolOr("transpose_a", false)
	if err != nil {
		return nil, err
	}
	tb, err := c.AttrBoolOr("transpose_b", false)
	if err != nil {
		return nil, err
	}
	out, err := c.batchMatMul(a, b, ta, tb, false)
	if err != nil {
		return nil, err
	}
	return []*tfops.Tensor{out}, nil
}

// batchMatMulKernel computes adj(x)·adj(y) over the leading batch
// dimensions; broadcast (V2, V3) lets batch dimensions of size 1 stretch.
func batchMatMulKernel(broadcast bool) Kernel {
	return func(c *Context) ([]*tfops.Tensor, error) {
		if err := c.CheckInputs(2); err != nil {
			return nil, err
		}
		x, y := c.Inputs[0], c.Inputs[1]
		if x.Rank() < 2 || y.Rank() < 2 {
			return nil, c.Errorf("x and y must have rank ≥ 2, got %v and %v", x.StaticShape(), y.StaticShape())
		}
		if !broadcast && x.Rank() != y.Rank() {
			return nil, c.Errorf("x %v and y %v must have the same rank", x.StaticShape(), y.StaticShape())
		}
		ax, err := c.AttrBoolOr("adj_x", false)
		if err != nil {
			return nil, err
		}
		ay, err := c.AttrBoolOr("adj_y", false)
		if err != nil {
			return nil, err
		}
		if !broadcast && !equalDims(x.Shape()[:x.Rank()-2], y.Shape()[:y.Rank()-2]) {
			return nil, c.Errorf("batch dimensions of x %v and y %v differ", x.StaticShape(), y.StaticShape())
		}
		out, err := c.batchMatMul(x, y, ax, ay, true)
		if err != nil {
			return nil, err
		}
		return []*tfops.Tensor{out}, nil
	}
}

// batchMatMul multiplies the trailing matrices of a and b, broadcasting the
// leading dimensions NumPy-style.
func (c *Context) batchMatMul(a, b *tfops.Tensor, ta, tb, batched bool) (*tfops.Tensor, error) {
	if a.DType() != b.DType() {
		return nil, c.Errorf("operands are %v and %v", a.DType(), b.DType())
	}
	as, bs := a.Shape(), b.Shape()
	ra, rb := len(as), len(bs)
	am, ak := as[ra-2], as[ra-1]
	if ta {
		am, ak = ak, am
	}
	bk, bn := bs[rb-2], bs[rb-1]
	if tb {
		bk, bn = bn, bk
	}
	if ak != bk {
		return nil, c.Errorf("inner dimensions differ: %v%s · %v%s", a.StaticShape(), tMark(ta), b.StaticShape(), tMark(tb))
	}
	// Broadcast batch dimensions.
	ab, bb := as[:ra-2], bs[:rb-2]
	nb := max(len(ab), len(bb))
	batch := make([]int, nb)
	for i := 0; i < nb; i++ {
		da, db := 1, 1
		if j := i - (nb - len(ab)); j >= 0 {
			da = ab[j]
		}
		if j := i - (nb - len(bb)); j >= 0 {
			db = bb[j]
		}
		switch {
		case da == db, db == 1:
			batch[i] = da
		case da == 1:
			batch[i] = db
		default:
			return nil, c.Errorf("batch dimensions of %v and %v do not broadcast", a.StaticShape(), b.StaticShape())
		}
	}
	outDims := append(append([]int{}, batch...), am, bn)
	out, err := c.Alloc(a.DType(), outDims...)
	if err != nil {
		return nil, err
	}
	nbatch := tfops.NumElements(batch)
	// Flat batch index -> offsets into a and b.
	offA := broadcastOffsets(batch, ab, am*ak)
	offB := broadcastOffsets(batch, bb, bk*bn)
	// Element strides of op(a) and op(b).
	ars, acs := ak, 1
	if ta {
		ars, acs = 1, am
	}
	brs, bcs := bn, 1
	if tb {
		brs, bcs = 1, bk
	}
	mm := gemm.MatDims{M: am, K: ak, N: bn, ARS: ars, ACS: acs, BRS: brs, BCS: bcs}
	switch a.DType() {
	case tfops.Float:
		gemm.MatMul(mm, nbatch, offA, offB, a.Float32s(), b.Float32s(), out.Float32s(), c.Threads())
	case tfops.Double:
		matMulGeneric(mm, nbatch, offA, offB, a.Float64s(), b.Float64s(), out.Float64s())
	case tfops.Int32:
		matMulGeneric(mm, nbatch, offA, offB, a.Int32s(), b.Int32s(), out.Int32s())
	case tfops.Int64:
		matMulGeneric(mm, nbatch, offA, offB, a.Int64s(), b.Int64s(), out.Int64s())
	default:
		return nil, c.Errorf("unsupported dtype %v", a.DType())
	}
	return out, nil
}

func tMark(t bool) string {
	if t {
		return "ᵀ"
	}
	return ""
}

func matMulGeneric[T convElem](mm gemm.MatDims, nbatch int, offA, offB []int, a, b, out []T) {
	for i := 0; i < nbatch; i++ {
		ab, bb := a[offA[i]:], b[offB[i]:]
		o := out[i*mm.M*mm.N:]
		for r := 0; r < mm.M; r++ {
			for j := 0; j < mm.N; j++ {
				var s T
				for p := 0; p < mm.K; p++ {
					s += ab[r*mm.ARS+p*mm.ACS] * bb[p*mm.BRS+j*mm.BCS]
				}
				o[r*mm.N+j] = s
			}
		}
	}
}

// broadcastOffsets maps each flat index of the broadcast batch shape to the
// element offset of the matching matrix in an operand with batch dims dims
// (right-aligned, size-1 dims repeating) and matrices of size matSize.
func broadcastOffsets(batch, dims []int, matSize int) []int {
	n := tfops.NumElements(batch)
	out := make([]int, n)
	lead := len(batch) - len(dims)
	idx := make([]int, len(batch))
	for f := 0; f < n; f++ {
		off, stride := 0, matSize
		for i := len(dims) - 1; i >= 0; i-- {
			if dims[i] != 1 {
				off += idx[lead+i] * stride
			}
			stride *= dims[i]
		}
		out[f] = off
		for i := len(batch) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < batch[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Padding

type padMode int

const (
	padConstant padMode = iota
	padMirror
)

// padKernel returns Pad / PadV2 (constant padding; PadV2 takes the value as
// input 2) or MirrorPad (attr mode REFLECT or SYMMETRIC). paddings is an
// int32 or int64 [rank, 2] matrix of (before, after) counts.
func padKernel(mode padMode) Kernel {
	return func(c *Context) ([]*tfops.Tensor, error) {
		if len(c.Inputs) < 2 || len(c.Inputs) > 3 {
			return nil, c.Errorf("expects 2 or 3 inputs, got %d", len(c.Inputs))
		}
		x, pt := c.Inputs[0], c.Inputs[1]
		pads, err := intList(flatten(pt))
		if err != nil || pt.Rank() != 2 || pt.Shape()[0] != x.Rank() || pt.Shape()[1] != 2 {
			return nil, c.Errorf("paddings must be an integer [%d, 2] matrix for input %v, got %v%v", x.Rank(), x.StaticShape(), pt.DType(), pt.StaticShape())
		}
		reflect := false
		if mode == padMirror {
			m, err := c.AttrStringOr("mode", "")
			if err != nil {
				return nil, err
			}
			switch m {
			case "REFLECT":
				reflect = true
			case "SYMMETRIC":
			default:
				return nil, c.Errorf("mode %q must be REFLECT or SYMMETRIC", m)
			}
		}
		xs := x.Shape()
		outDims := make([]int, len(xs))
		for i, d := range xs {
			b, a := pads[2*i], pads[2*i+1]
			if b < 0 || a < 0 {
				return nil, c.Errorf("paddings %v must be non-negative", pads)
			}
			if mode == padMirror {
				lim := d
				if reflect {
					lim = d - 1
				}
				if b > lim || a > lim {
					return nil, c.Errorf("paddings (%d, %d) of dimension %d must be at most %d for %s mode on input %v", b, a, i, lim, map[bool]string{true: "REFLECT", false: "SYMMETRIC"}[reflect], x.StaticShape())
				}
			}
			outDims[i] = d + b + a
		}
		out, err := c.Alloc(x.DType(), outDims...)
		if err != nil {
			return nil, err
		}
		if len(c.Inputs) == 3 {
			v := c.Inputs[2]
			if v.DType() != x.DType() || v.NumElements() != 1 {
				return nil, c.Errorf("constant_values must be a %v scalar, got %v%v", x.DType(), v.DType(), v.StaticShape())
			}
			if err := fillWith(out, v); err != nil {
				return nil, c.Errorf("%w", err)
			}
		}
		if mode == padConstant && padRowsInto(out, x, pads) {
			return []*tfops.Tensor{out}, nil
		}
		// Source index along each dim for each output coordinate (-1: pad).
		maps := make([][]int, len(xs))
		for i, d := range xs {
			b := pads[2*i]
			m := make([]int, outDims[i])
			for o := range m {
				s := o - b
				if mode == padMirror {
					for s < 0 || s >= d {
						if s < 0 {
							if reflect {
								s = -s
							} else {
								s = -s - 1
							}
						} else {
							if reflect {
								s = 2*(d-1) - s
							} else {
								s = 2*d - 1 - s
							}
						}
					}
				} else if s < 0 || s >= d {
					s = -1
				}
				m[o] = s
			}
			maps[i] = m
		}
		// Gathered a block of padPixelBlock output elements at a time, so
		// that the index map is not as large as the output.
		total := out.NumElements()
		src := make([]int, min(total, padPixelBlock))
		for f0 := 0; f0 < total; f0 += len(src) {
			blk := src[:min(len(src), total-f0)]
			fillPadIndex(blk, f0, maps, xs, outDims)
			if err := gatherInto(out, x, blk, f0); err != nil {
				return nil, c.Errorf("%w", err)
			}
		}
		return []*tfops.Tensor{out}, nil
	}
}

// padRowsInto copies x into out (already filled with the padding value)
// at offsets pads[2i] along each dimension i, one innermost row at a time;
// false when out's dtype has no fast path.
func padRowsInto(out, x *tfops.Tensor, pads []int) bool {
	switch o := out.Data().(type) {
	case []float32:
		padRows(o, x.Data().([]float32), x.Shape(), out.Shape(), pads)
	case []float64:
		padRows(o, x.Data().([]float64), x.Shape(), out.Shape(), pads)
	case []int32:
		padRows(o, x.Data().([]int32), x.Shape(), out.Shape(), pads)
	case []int64:
		padRows(o, x.Data().([]int64), x.Shape(), out.Shape(), pads)
	default:
		return false
	}
	return true
}

// padRows copies the rows of src (dims in) into dst (dims out) shifted by
// the "before" paddings.
func padRows[T any](dst, src []T, in, out, pads []int) {
	rank := len(in)
	if len(src) == 0 {
		return
	}
	if rank == 0 {
		dst[0] = src[0]
		return
	}
	inner := in[rank-1]
	// Output strides, and the offset of the first copied element.
	stride := make([]int, rank)
	s, base := 1, 0
	for i := rank - 1; i >= 0; i-- {
		stride[i] = s
		base += pads[2*i] * s
		s *= out[i]
	}
	idx := make([]int, rank) // index over in[:rank-1]
	off := base
	for r := 0; r < len(src); r += inner {
		copy(dst[off:off+inner], src[r:r+inner])
		for i := rank - 2; i >= 0; i-- {
			idx[i]++
			off += stride[i]
			if idx[i] < in[i] {
				break
			}
			off -= in[i] * stride[i]
			idx[i] = 0
		}
	}
}

// flatten views t as a vector.
func flatten(t *tfops.Tensor) *tfops.Tensor {
	v, err := t.Reshaped(t.NumElements())
	if err != nil {
		return t
	}
	return v
}

// fillPadIndex writes, for output elements f0, f0+1, ..., the flat source
// index (or -1 for a padding position) into dst.
func fillPadIndex(dst []int, f0 int, maps [][]int, in, out []int) {
	rank := len(out)
	if rank == 0 {
		if len(dst) > 0 {
			dst[0] = 0
		}
		return
	}
	inStride := make([]int, rank)
	s := 1
	for i := rank - 1; i >= 0; i-- {
		inStride[i] = s
		s *= in[i]
	}
	idx := make([]int, rank)
	for i, r := rank-1, f0; i >= 0; i-- { // the coordinates of element f0
		idx[i], r = r%out[i], r/out[i]
	}
	for f := range dst {
		off := 0
		for i := 0; i < rank; i++ {
			m := maps[i][idx[i]]
			if m < 0 {
				off = -1
				break
			}
			off += m * inStride[i]
		}
		dst[f] = off
		for i := rank - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < out[i] {
				break
			}
			idx[i] = 0
		}
	}
}

// gatherInto sets out[off+i] = x[src[i]] where src[i] >= 0.
func gatherInto(out, x *tfops.Tensor, src []int, off int) error {
	switch o := out.Data().(type) {
	case []float32:
		gatherSlice(o[off:], x.Data().([]float32), src)
	case []float64:
		gatherSlice(o[off:], x.Data().([]float64), src)
	case []int32:
		gatherSlice(o[off:], x.Data().([]int32), src)
	case []int64:
		gatherSlice(o[off:], x.Data().([]int64), src)
	case []uint8:
		gatherSlice(o[off:], x.Data().([]uint8), src)
	case []int8:
		gatherSlice(o[off:], x.Data().([]int8), src)
	case []int16:
		gatherSlice(o[off:], x.Data().([]int16), src)
	case []uint16:
		gatherSlice(o[off:], x.Data().([]uint16), src)
	case []uint32:
		gatherSlice(o[off:], x.Data().([]uint32), src)
	case []uint64:
		gatherSlice(o[off:], x.Data().([]uint64), src)
	case []bool:
		gatherSlice(o[off:], x.Data().([]bool), src)
	case []string:
		gatherSlice(o[off:], x.Data().([]string), src)
	default:
		return fmt.Errorf("unsupported dtype %v", out.DType())
	}
	return nil
}

func gatherSlice[T any](dst, src []T, idx []int) {
	for i, j := range idx {
		if j >= 0 {
			dst[i] = src[j]
		}
	}
}

// fillWith sets every element of t to the scalar v.
func fillWith(t, v *tfops.Tensor) error {
	n := t.NumElements()
	idx := make([]int, min(n, padPixelBlock)) // all 0: element 0 of v
	for off := 0; off < n; off += len(idx) {
		if err := gatherInto(t, v, idx[:min(len(idx), n-off)], off); err != nil {
			return err
		}
	}
	return nil
}

// padPixelBlock is how many output elements Pad and MirrorPad map at a
// time on their general path (an index buffer of this many ints).
const padPixelBlock = 4096

// ---------------------------------------------------------------------------
// LeakyRelu

// leakyReluKernel computes x > 0 ? x : alpha·x (attr alpha, default 0.2).
func leakyReluKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(1); err != nil {
		return nil, err
	}
	alpha, err := c.AttrFloatOr("alpha", 0.2)
	if err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	out, err := c.Alloc(x.DType(), x.Shape()...)
	if err != nil {
		return nil, err
	}
	switch x.DType() {
	case tfops.Float:
		o, a := out.Float32s(), alpha
		for i, v := range x.Float32s() {
			if v > 0 {
				o[i] = v
			} else {
				o[i] = v * a
			}
		}
	case tfops.Double:
		o, a := out.Float64s(), float64(alpha)
		for i, v := range x.Float64s() {
			if v > 0 {
				o[i] = v
			} else {
				o[i] = v * a
			}
		}
	default:
		return nil, c.Errorf("unsupported dtype %v (want float32 or float64)", x.DType())
	}
	return []*tfops.Tensor{out}, nil
}
