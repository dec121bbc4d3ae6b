package goengine

import (
	"math"

	"github.com/tfseg/tfseg/tfops"
)

// 3-D convolution, its transpose and pooling (Keras Conv3D,
// Conv3DTranspose, MaxPooling3D, AveragePooling3D) on NDHWC inputs with
// plain loops. Op definitions:
// tensorflow/core/ops/nn_ops.cc (Conv3D, Conv3DBackpropInputV2, MaxPool3D,
// AvgPool3D); kernels: tensorflow/core/kernels/conv_ops_3d.cc,
// conv_grad_ops_3d.cc and pooling_ops_3d.cc. The window
// geometry is computeWindow's (TensorFlow's GetWindowedOutputSizeVerbose),
// so a negative output size is an error here too. AvgPool3D divides by the
// number of window elements inside the input, as Eigen's cuboid pooling
// does.

func init() {
	Register("Conv3D", conv3DKernel)
	Register("MaxPool3D", pool3DKernel(false))
	Register("AvgPool3D", pool3DKernel(true))
	Register("Conv3DBackpropInputV2", conv3DBackpropInputKernel)
}

// ndhwcWindows reads strides (and dilations) and padding of a 5-D NDHWC
// op and computes the three spatial windows for kernel sizes k.
func (c *Context) ndhwcWindows(in, k []int, useDilations bool) ([3]window, error) {
	var ws [3]window
	df, err := c.AttrStringOr("data_format", "NDHWC")
	if err != nil {
		return ws, err
	}
	if df != "NDHWC" {
		return ws, c.Errorf("data_format %q is not supported (TensorFlow's CPU kernels run NDHWC only)", df)
	}
	strides, err := c.AttrInts("strides")
	if err != nil {
		return ws, err
	}
	if len(strides) != 5 || strides[0] != 1 || strides[4] != 1 {
		return ws, c.Errorf("strides %v must be [1, d, h, w, 1]", strides)
	}
	dil := []int64{1, 1, 1, 1, 1}
	if useDilations {
		if d, err := c.AttrInts("dilations"); err != nil {
			return ws, err
		} else if d != nil {
			if len(d) != 5 || d[0] != 1 || d[4] != 1 {
				return ws, c.Errorf("dilations %v must be [1, d, h, w, 1]", d)
			}
			dil = d
		}
	}
	padding, err := c.AttrStringOr("padding", "")
	if err != nil {
		return ws, err
	}
	if padding != "SAME" && padding != "VALID" {
		return ws, c.Errorf("padding %q must be SAME or VALID", padding)
	}
	for i, name := range []string{"depth", "height", "width"} {
		if ws[i], err = computeWindow(in[i], k[i], int(strides[i+1]), int(dil[i+1]), padding, 0, 0); err != nil {
			return ws, c.Errorf("%s: %w", name, err)
		}
	}
	return ws, nil
}

// conv3DKernel: out[n,p,i,j,o] = Σ x[n, p*sd+a*dd-pd, i*sh+b*dh-ph, j*sw+e*dw-pw, q]·f[a,b,e,q,o].
func conv3DKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	x, f := c.Inputs[0], c.Inputs[1]
	if x.Rank() != 5 || f.Rank() != 5 {
		return nil, c.Errorf("input must be 5-D NDHWC and filter 5-D [d, h, w, in, out], got %v and %v", x.StaticShape(), f.StaticShape())
	}
	if x.DType() != f.DType() {
		return nil, c.Errorf("input is %v, filter %v", x.DType(), f.DType())
	}
	xs, fs := x.Shape(), f.Shape()
	if xs[4] != fs[3] {
		return nil, c.Errorf("input depth %d does not match filter in-depth %d (input %v, filter %v)", xs[4], fs[3], x.StaticShape(), f.StaticShape())
	}
	ws, err := c.ndhwcWindows(xs[1:4], fs[0:3], true)
	if err != nil {
		return nil, err
	}
	out, err := c.Alloc(x.DType(), xs[0], ws[0].out, ws[1].out, ws[2].out, fs[4])
	if err != nil {
		return nil, err
	}
	switch x.DType() {
	case tfops.Float:
		conv3D(c, ws, xs, fs, x.Float32s(), f.Float32s(), out.Float32s())
	case tfops.Double:
		conv3D(c, ws, xs, fs, x.Float64s(), f.Float64s(), out.Float64s())
	default:
		return nil, c.Errorf("unsupported dtype %v (want float32 or float64)", x.DType())
	}
	return []*tfops.Tensor{out}, nil
}

// src returns the input coordinate of window tap t at output position o
// of window w, and whether it is inside the input.
func (w window) src(o, t int) (int, bool) {
	i := o*w.stride + t*w.dilation - w.padBefore
	return i, i >= 0 && i < w.in
}

func conv3D[T float](c *Context, ws [3]window, xs, fs []int, x, f, out []T) {
	oc, ic := fs[4], xs[4]
	rows := xs[0] * ws[0].out * ws[1].out * ws[2].out
	acc := func(lo, hi int) {
		sum := make([]float64, oc)
		for r := lo; r < hi; r++ {
			n, p, i, j := unravel3(ws, r)
			clear(sum)
			forTaps3(ws, p, i, j, func(a, b, e, z, y, v int) {
				px := x[(((n*xs[1]+z)*xs[2]+y)*xs[3]+v)*ic:][:ic]
				for q, xv := range px {
					fr := f[((((a*fs[1]+b)*fs[2]+e)*ic)+q)*oc:][:oc]
					for o, fv := range fr {
						sum[o] += float64(xv) * float64(fv)
					}
				}
			})
			dst := out[r*oc : (r+1)*oc]
			for o, s := range sum {
				dst[o] = fromF64[T](s)
			}
		}
	}
	c.parallel(rows, max(1, grainHeavy/max(1, oc*ic*fs[0]*fs[1]*fs[2])), acc)
}

// pool3DKernel returns MaxPool3D (avg false) or AvgPool3D.
func pool3DKernel(avg bool) Kernel {
	return func(c *Context) ([]*tfops.Tensor, error) {
		if err := c.CheckInputs(1); err != nil {
			return nil, err
		}
		x := c.Inputs[0]
		if x.Rank() != 5 {
			return nil, c.Errorf("input must be 5-D NDHWC, got %v", x.StaticShape())
		}
		ksize, err := c.AttrInts("ksize")
		if err != nil {
			return nil, err
		}
		if len(ksize) != 5 || ksize[0] != 1 || ksize[4] != 1 {
			return nil, c.Errorf("ksize %v must be [1, d, h, w, 1] (pooling over batch or depth is not supported)", ksize)
		}
		xs := x.Shape()
		ws, err := c.ndhwcWindows(xs[1:4], []int{int(ksize[1]), int(ksize[2]), int(ksize[3])}, false)
		if err != nil {
			return nil, err
		}
		out, err := c.Alloc(x.DType(), xs[0], ws[0].out, ws[1].out, ws[2].out, xs[4])
		if err != nil {
			return nil, err
		}
		switch x.DType() {
		case tfops.Float:
			pool3D(c, ws, xs, x.Float32s(), out.Float32s(), avg)
		case tfops.Double:
			pool3D(c, ws, xs, x.Float64s(), out.Float64s(), avg)
		default:
			return nil, c.Errorf("unsupported dtype %v (want float32 or float64)", x.DType())
		}
		return []*tfops.Tensor{out}, nil
	}
}

func pool3D[T float](c *Context, ws [3]window, xs []int, x, out []T, avg bool) {
	ch := xs[4]
	rows := xs[0] * ws[0].out * ws[1].out * ws[2].out
	c.parallel(rows, max(1, grainCheap/max(1, ch*ws[0].k*ws[1].k*ws[2].k)), func(lo, hi int) {
		acc := make([]float64, ch)
		for r := lo; r < hi; r++ {
			n, p, i, j := unravel3(ws, r)
			for q := range acc {
				acc[q] = math.Inf(-1)
				if avg {
					acc[q] = 0
				}
			}
			cnt := 0
			forTaps3(ws, p, i, j, func(_, _, _, z, y, v int) {
				cnt++
				px := x[(((n*xs[1]+z)*xs[2]+y)*xs[3]+v)*ch:][:ch]
				for q, xv := range px {
					if avg {
						acc[q] += float64(xv)
					} else if xv64 := float64(xv); xv64 > acc[q] || xv64 != xv64 {
						acc[q] = xv64
					}
				}
			})
			dst := out[r*ch : (r+1)*ch]
			for q, s := range acc {
				if avg {
					s /= float64(cnt)
				}
				dst[q] = fromF64[T](s)
			}
		}
	})
}

// unravel3 splits output row r (row-major over n, depth, height, width)
// into its coordinates.
func unravel3(ws [3]window, r int) (n, p, i, j int) {
	j = r % ws[2].out
	i = (r / ws[2].out) % ws[1].out
	p = (r / (ws[2].out * ws[1].out)) % ws[0].out
	n = r / (ws[2].out * ws[1].out * ws[0].out)
	return
}

// conv3DBackpropInputKernel is Conv3DBackpropInputV2(input_sizes, filter,
// out_backprop), the gradient of Conv3D with respect to its input:
//
//	dx[n,z,y,v,q] = Σ dy[n,p,i,j,o]·f[a,b,e,q,o] over z = p·sd + a·dd - pd, ...
//
// out_backprop must have the forward output's shape for input_sizes.
func conv3DBackpropInputKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	dims, err := intList(c.Inputs[0])
	if err != nil || len(dims) != 5 {
		return nil, c.Errorf("input_sizes must be an int vector of 5, got %v%v", c.Inputs[0].DType(), c.Inputs[0].StaticShape())
	}
	for _, d := range dims {
		if d < 0 {
			return nil, c.Errorf("input_sizes %v has a negative dimension", dims)
		}
	}
	f, dy := c.Inputs[1], c.Inputs[2]
	if f.Rank() != 5 || dy.Rank() != 5 {
		return nil, c.Errorf("filter must be 5-D [d, h, w, in, out] and out_backprop 5-D NDHWC, got %v and %v", f.StaticShape(), dy.StaticShape())
	}
	if f.DType() != dy.DType() {
		return nil, c.Errorf("filter is %v, out_backprop %v", f.DType(), dy.DType())
	}
	fs, ds := f.Shape(), dy.Shape()
	if dims[4] != fs[3] || ds[4] != fs[4] || ds[0] != dims[0] {
		return nil, c.Errorf("input_sizes %v, filter %v and out_backprop %v do not fit together (depths %d/%d, %d/%d, batch %d/%d)",
			dims, f.StaticShape(), dy.StaticShape(), dims[4], fs[3], ds[4], fs[4], dims[0], ds[0])
	}
	ws, err := c.ndhwcWindows(dims[1:4], fs[0:3], true)
	if err != nil {
		return nil, err
	}
	if ws[0].out != ds[1] || ws[1].out != ds[2] || ws[2].out != ds[3] {
		return nil, c.Errorf("out_backprop %v does not match the forward output %dx%dx%d of input_sizes %v with filter %v",
			dy.StaticShape(), ws[0].out, ws[1].out, ws[2].out, dims, f.StaticShape())
	}
	out, err := c.Alloc(f.DType(), dims...)
	if err != nil {
		return nil, err
	}
	switch f.DType() {
	case tfops.Float:
		conv3DBackpropInput(c, ws, dims, fs, f.Float32s(), dy.Float32s(), out.Float32s())
	case tfops.Double:
		conv3DBackpropInput(c, ws, dims, fs, f.Float64s(), dy.Float64s(), out.Float64s())
	default:
		return nil, c.Errorf("unsupported dtype %v (want float32 or float64)", f.DType())
	}
	return []*tfops.Tensor{out}, nil
}

// conv3DBackpropInput accumulates in float64 per input image (images run
// in parallel) and rounds once.
func conv3DBackpropInput[T float](c *Context, ws [3]window, xs, fs []int, f, dy, dx []T) {
	ic, oc := fs[3], fs[4]
	img := xs[1] * xs[2] * xs[3] * ic
	per := ws[0].out * ws[1].out * ws[2].out
	c.parallel(xs[0], 1, func(lo, hi int) {
		acc := make([]float64, img)
		for n := lo; n < hi; n++ {
			clear(acc)
			for r := 0; r < per; r++ {
				_, p, i, j := unravel3(ws, r)
				src := dy[(n*per+r)*oc:][:oc]
				forTaps3(ws, p, i, j, func(a, b, e, z, y, v int) {
					d := acc[((z*xs[2]+y)*xs[3]+v)*ic:][:ic]
					for q := range d {
						fr := f[((((a*fs[1]+b)*fs[2]+e)*ic)+q)*oc:][:oc]
						var s float64
						for o, g := range src {
							s += float64(g) * float64(fr[o])
						}
						d[q] += s
					}
				})
			}
			o := dx[n*img : (n+1)*img]
			for k, s := range acc {
				o[k] = fromF64[T](s)
			}
		}
	})
}

// forTaps3 calls fn for every tap (a, b, e) of the window at output
// position (p, i, j) that lies inside the input, with its input
// coordinates (z, y, v).
func forTaps3(ws [3]window, p, i, j int, fn func(a, b, e, z, y, v int)) {
	for a := 0; a < ws[0].k; a++ {
		z, ok := ws[0].src(p, a)
		if !ok {
			continue
		}
		for b := 0; b < ws[1].k; b++ {
			y, ok := ws[1].src(i, b)
			if !ok {
				continue
			}
			for e := 0; e < ws[2].k; e++ {
				if v, ok := ws[2].src(j, e); ok {
					fn(a, b, e, z, y, v)
				}
			}
		}
	}
}
