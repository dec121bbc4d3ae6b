package goengine

import (
	"fmt"
	"math"

	"github.com/tfseg/tfseg/engine/goengine/internal/parallel"
	"github.com/tfseg/tfseg/tfops"
)

// Image resizing kernels, computing source coordinates exactly as
// TensorFlow's CPU kernels do (tensorflow/core/util/image_resizer_state.h,
// tensorflow/core/kernels/image/resize_bilinear_op.cc and
// resize_nearest_neighbor_op.cc), in float32:
//
//	scale = align_corners && out > 1 ? (in-1)/(out-1) : in/out
//	half_pixel_centers: src = (dst + 0.5)·scale - 0.5   (bilinear)
//	                    src = (dst + 0.5)·scale         (nearest, then floor)
//	legacy:             src = dst·scale
//
// Nearest neighbour rounds (align_corners) or floors the source coordinate
// and clamps it to [0, in-1]. Bilinear interpolates between floor(src)
// (clamped at 0) and ceil(src) (clamped at in-1) with weight src-floor(src),
// first along x, then along y, and always outputs float32.

func init() {
	Register("ResizeBilinear", resizeKernel(true))
	Register("ResizeNearestNeighbor", resizeKernel(false))
}

// resizeScale is CalculateResizeScale.
func resizeScale(in, out int, alignCorners bool) float32 {
	if alignCorners && out > 1 {
		return float32(in-1) / float32(out-1)
	}
	return float32(in) / float32(out)
}

// lerpIndex is one cached interpolation: lower and upper source indices and
// the weight of the upper one.
type lerpIndex struct {
	lo, hi int
	w      float32
}

// resizeSource is the source coordinate of output position i: the
// HalfPixelScaler's (i + 0.5)·scale - 0.5 or the LegacyScaler's i·scale,
// in float32.
func resizeSource(i int, scale float32, halfPixel bool) float32 {
	if halfPixel {
		return (float32(i)+0.5)*scale - 0.5
	}
	return float32(i) * scale
}

func bilinearIndices(in, out int, scale float32, halfPixel bool) []lerpIndex {
	idx := make([]lerpIndex, out)
	for i := range idx {
		src := resizeSource(i, scale, halfPixel)
		fl := float32(math.Floor(float64(src)))
		idx[i] = lerpIndex{
			lo: max(int(fl), 0),
			hi: min(int(math.Ceil(float64(src))), in-1),
			w:  src - fl,
		}
	}
	return idx
}

func nearestIndices(in, out int, scale float32, halfPixel, alignCorners bool) []int {
	idx := make([]int, out)
	for i := range idx {
		var src float32
		if halfPixel {
			src = (float32(i) + 0.5) * scale
		} else {
			src = float32(i) * scale
		}
		var x int
		if alignCorners {
			x = int(roundHalfAway(src))
		} else {
			x = int(math.Floor(float64(src)))
		}
		x = min(x, in-1)
		if halfPixel {
			x = max(x, 0)
		}
		idx[i] = x
	}
	return idx
}

// roundHalfAway is C's roundf: halves round away from zero.
func roundHalfAway(x float32) float32 {
	return float32(math.Round(float64(x)))
}

// resizeArgs checks the inputs (images, size) and the align_corners and
// half_pixel_centers attrs of a resize op, as ImageResizerState does.
func (c *Context) resizeArgs() (x *tfops.Tensor, align, half bool, oh, ow int, err error) {
	if err = c.CheckInputs(2); err != nil {
		return
	}
	if align, err = c.AttrBoolOr("align_corners", false); err != nil {
		return
	}
	if half, err = c.AttrBoolOr("half_pixel_centers", false); err != nil {
		return
	}
	if align && half {
		err = c.Errorf("if half_pixel_centers is true, align_corners must be false")
		return
	}
	x = c.Inputs[0]
	if x.Rank() != 4 {
		err = c.Errorf("images must be 4-D NHWC, got %v", x.StaticShape())
		return
	}
	size, serr := intList(c.Inputs[1])
	if serr != nil || len(size) != 2 || c.Inputs[1].DType() != tfops.Int32 {
		err = c.Errorf("size must be an int32 vector of 2 (height, width), got %v%v", c.Inputs[1].DType(), c.Inputs[1].StaticShape())
		return
	}
	xs := x.Shape()
	oh, ow = size[0], size[1]
	switch {
	case oh <= 0 || ow <= 0:
		err = c.Errorf("output size %dx%d must be positive", oh, ow)
	case xs[1] <= 0 || xs[2] <= 0:
		err = c.Errorf("input image %v must be of non-zero size", x.StaticShape())
	case xs[3] <= 0:
		err = c.Errorf("image %v must have at least one channel", x.StaticShape())
	}
	return
}

func resizeKernel(bilinear bool) Kernel {
	return func(c *Context) ([]*tfops.Tensor, error) {
		x, align, half, oh, ow, err := c.resizeArgs()
		if err != nil {
			return nil, err
		}
		xs := x.Shape()
		n, ih, iw, ch := xs[0], xs[1], xs[2], xs[3]
		hs, ws := resizeScale(ih, oh, align), resizeScale(iw, ow, align)
		if !bilinear {
			// Each output pixel is a copy of one input pixel's ch values,
			// picked row by row (pixelRows: an index per element, as a
			// gather takes, was twice the output's size, 32 MiB for corpus
			// seg-carlos-unet's 256x256x64 upsampling, allocated every run).
			out, err := c.AllocUninit(x.DType(), n, oh, ow, ch)
			if err != nil {
				return nil, err
			}
			ys := nearestIndices(ih, oh, hs, half, align)
			rows := make([]int, n*oh)
			for r := range rows {
				rows[r] = (r/oh*ih + ys[r%oh]) * iw * ch
			}
			elemsOf(out).pixelRows(c, out.Data(), x.Data(), rows, nearestIndices(iw, ow, ws, half, align), ch)
			return []*tfops.Tensor{out}, nil
		}
		in, out, err := c.floatImage(x, n, oh, ow, ch)
		if err != nil {
			return nil, err
		}
		od := out.Float32s()
		if oh == ih && ow == iw {
			copy(od, in)
			return []*tfops.Tensor{out}, nil
		}
		yl := bilinearIndices(ih, oh, hs, half)
		xl := bilinearIndices(iw, ow, ws, half)
		parallel.For(c.Threads(), n*oh, 8, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				b, y := r/oh, r%oh
				top := in[(b*ih+yl[y].lo)*iw*ch:]
				bot := in[(b*ih+yl[y].hi)*iw*ch:]
				yw := yl[y].w
				dst := od[r*ow*ch:]
				for xx := 0; xx < ow; xx++ {
					l, h, xw := xl[xx].lo*ch, xl[xx].hi*ch, xl[xx].w
					for q := 0; q < ch; q++ {
						tl, tr := top[l+q], top[h+q]
						bl, br := bot[l+q], bot[h+q]
						t := tl + (tr-tl)*xw
						bb := bl + (br-bl)*xw
						dst[xx*ch+q] = t + (bb-t)*yw
					}
				}
			}
		})
		return []*tfops.Tensor{out}, nil
	}
}

// floatImage returns x's values as float32 and a zeroed float32 output of
// shape [n, oh, ow, ch] (resize kernels always output float32).
func (c *Context) floatImage(x *tfops.Tensor, n, oh, ow, ch int) ([]float32, *tfops.Tensor, error) {
	in, err := toFloat32s(x)
	if err != nil {
		return nil, nil, c.Errorf("%w", err)
	}
	out, err := c.Alloc(tfops.Float, n, oh, ow, ch)
	return in, out, err
}

// toFloat32s returns the elements of a real tensor as float32.
func toFloat32s(t *tfops.Tensor) ([]float32, error) {
	switch d := t.Data().(type) {
	case []float32:
		return d, nil
	case []float64:
		return convertSlice[float64](d), nil
	case []int32:
		return convertSlice[int32](d), nil
	case []int64:
		return convertSlice[int64](d), nil
	case []uint8:
		return convertSlice[uint8](d), nil
	case []int8:
		return convertSlice[int8](d), nil
	case []int16:
		return convertSlice[int16](d), nil
	case []uint16:
		return convertSlice[uint16](d), nil
	}
	return nil, fmt.Errorf("unsupported dtype %v", t.DType())
}

func convertSlice[S ~float64 | ~int32 | ~int64 | ~uint8 | ~int8 | ~int16 | ~uint16](s []S) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = float32(v)
	}
	return out
}
