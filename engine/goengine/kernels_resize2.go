package goengine

import (
	"math"

	"github.com/tfseg/tfseg/tfops"
)

// ResizeBicubic and ResizeArea (tf.image.resize with method bicubic or
// area: Keras Resizing and UpSampling2D), computed in float32 in
// TensorFlow's order: tensorflow/core/kernels/image/resize_bicubic_op.cc
// and resize_area_op.cc (op definitions in tensorflow/core/ops/
// image_ops.cc). Both always output float32.

func init() {
	Register("ResizeBicubic", resizeBicubicKernel)
	Register("ResizeArea", resizeAreaKernel)
}

// bicubicTableSize is kTableSize: the cubic kernel is tabulated at 1024
// fractional offsets.
const bicubicTableSize = 1 << 10

// bicubicTables holds InitCoeffsTable(-0.75) (legacy) and (-0.5) (Keys'
// cubic, half_pixel_centers).
var bicubicTables = [2][]float32{bicubicTable(-0.75), bicubicTable(-0.5)}

// bicubicTable is InitCoeffsTable(a): entry 2i is the kernel at distance
// x = i/1024 and 2i+1 at x + 1, computed in double and stored as float.
func bicubicTable(a float64) []float32 {
	t := make([]float32, (bicubicTableSize+1)*2)
	for i := 0; i <= bicubicTableSize; i++ {
		x := float32(float64(i) * 1.0 / bicubicTableSize)
		xd := float64(x)
		t[i*2] = float32(((a+2)*xd-(a+3))*xd*xd + 1)
		x += 1.0
		xd = float64(x)
		t[i*2+1] = float32(((a*xd-5*a)*xd+8*a)*xd - 4*a)
	}
	return t
}

// cubicTaps is WeightsAndIndices: four source indices and their weights.
type cubicTaps struct {
	w   [4]float32
	idx [4]int
}

func boundIndex(v, limit int) int { return min(limit-1, max(0, v)) }

// bicubicTaps is GetWeightsAndIndices for output position out.
func bicubicTaps(scale float32, out, limit int, keys bool) cubicTaps {
	in := resizeSource(out, scale, keys)
	loc := int(math.Floor(float64(in)))
	delta := in - float32(loc)
	off := int(math.RoundToEven(float64(delta * bicubicTableSize))) // lrintf
	tab := bicubicTables[0]
	if keys {
		tab = bicubicTables[1]
	}
	w := [4]float32{tab[off*2+1], tab[off*2], tab[(bicubicTableSize-off)*2], tab[(bicubicTableSize-off)*2+1]}
	var t cubicTaps
	for k := range t.idx {
		t.idx[k] = boundIndex(loc-1+k, limit)
		t.w[k] = w[k]
		if keys && t.idx[k] != loc-1+k {
			t.w[k] = 0
		}
	}
	if keys {
		sum := t.w[0] + t.w[1] + t.w[2] + t.w[3]
		if float32(math.Abs(float64(sum))) >= 1000*float32(0x1p-126) {
			inv := 1 / sum
			for k := range t.w {
				t.w[k] *= inv
			}
		}
	}
	return t
}

// resizeBicubicKernel: for each output pixel, the y interpolation of the
// 4×4 patch's four columns, then the x interpolation of those (the
// order of interpolate_with_caching), each a float32 sum left to right.
func resizeBicubicKernel(c *Context) ([]*tfops.Tensor, error) {
	r, err := c.resizeFloat()
	if err != nil {
		return nil, err
	}
	in, out, n, ih, iw, ch, oh, ow, hs, ws, half := r.in, r.out, r.n, r.ih, r.iw, r.ch, r.oh, r.ow, r.hs, r.ws, r.half
	xt := make([]cubicTaps, ow)
	for i := range xt {
		xt[i] = bicubicTaps(ws, i, iw, half)
	}
	od := out.Float32s()
	c.parallel(n*oh, 1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, y := r/oh, r%oh
			yt := bicubicTaps(hs, y, ih, half)
			var rows [4][]float32
			for k := range rows {
				rows[k] = in[(b*ih+yt.idx[k])*iw*ch:][:iw*ch]
			}
			dst := od[r*ow*ch:][:ow*ch]
			for xx, t := range xt {
				for q := 0; q < ch; q++ {
					var col [4]float32
					for k, xi := range t.idx {
						p := xi*ch + q
						col[k] = rows[0][p]*yt.w[0] + rows[1][p]*yt.w[1] + rows[2][p]*yt.w[2] + rows[3][p]*yt.w[3]
					}
					dst[xx*ch+q] = col[0]*t.w[0] + col[1]*t.w[1] + col[2]*t.w[2] + col[3]*t.w[3]
				}
			}
		}
	})
	return []*tfops.Tensor{out}, nil
}

// areaSpan is CachedInterpolation: source cells [start, end) and the
// coverage of the first and last.
type areaSpan struct {
	start, end      int
	startScale      float32
	endMinusOneScal float32
}

// areaScale is the coverage of source cell v by [in0, in1) as
// ResizeAreaOp computes it.
func areaScale(v int, in0, in1, scale float32) float32 {
	fv := float32(v)
	if fv < in0 {
		if fv+1 > in1 {
			return scale
		}
		return fv + 1 - in0
	}
	if fv+1 > in1 {
		return in1 - fv
	}
	return 1
}

func areaSpanOf(o int, scale float32) areaSpan {
	in0, in1 := float32(o)*scale, float32(o+1)*scale
	s := areaSpan{start: int(math.Floor(float64(in0))), end: int(math.Ceil(float64(in1)))}
	s.startScale = areaScale(s.start, in0, in1, scale)
	s.endMinusOneScal = areaScale(s.end-1, in0, in1, scale)
	return s
}

// resizeAreaKernel: each output pixel is the coverage-weighted sum of the
// source cells under it times 1/(height_scale·width_scale), summed per row
// then over rows in float32 (ComputePatchSum). align_corners changes the
// scales only; half_pixel_centers does not apply.
func resizeAreaKernel(c *Context) ([]*tfops.Tensor, error) {
	r, err := c.resizeFloat()
	if err != nil {
		return nil, err
	}
	in, out, n, ih, iw, ch, oh, ow, hs, ws := r.in, r.out, r.n, r.ih, r.iw, r.ch, r.oh, r.ow, r.hs, r.ws
	scale := float32(1.0 / float64(hs*ws))
	xsp := make([]areaSpan, ow)
	for i := range xsp {
		xsp[i] = areaSpanOf(i, ws)
	}
	od := out.Float32s()
	c.parallel(n*oh, 1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, y := r/oh, r%oh
			in0, in1 := float32(y)*hs, float32(y+1)*hs
			y0, y1 := int(math.Floor(float64(in0))), int(math.Ceil(float64(in1)))
			dst := od[r*ow*ch:][:ow*ch]
			for xx, sp := range xsp {
				for q := 0; q < ch; q++ {
					var sum float32
					for i := y0; i < y1; i++ {
						row := in[(b*ih+boundIndex(i, ih))*iw*ch:]
						at := func(v int) float32 { return row[boundIndex(v, iw)*ch+q] }
						sy := at(sp.start) * sp.startScale
						if sp.start+1 != sp.end {
							for v := sp.start + 1; v < sp.end-1; v++ {
								sy += at(v)
							}
							sy += at(sp.end-1) * sp.endMinusOneScal
						}
						sum += sy * areaScale(i, in0, in1, hs)
					}
					dst[xx*ch+q] = sum * scale
				}
			}
		}
	})
	return []*tfops.Tensor{out}, nil
}

// resizeFloatSetup is a checked resize with float32 input values, its
// float32 output allocated and its scales computed.
type resizeFloatSetup struct {
	in                    []float32
	out                   *tfops.Tensor
	n, ih, iw, ch, oh, ow int
	hs, ws                float32
	half                  bool
}

func (c *Context) resizeFloat() (r resizeFloatSetup, err error) {
	x, align, half, oh, ow, err := c.resizeArgs()
	if err != nil {
		return r, err
	}
	xs := x.Shape()
	r = resizeFloatSetup{n: xs[0], ih: xs[1], iw: xs[2], ch: xs[3], oh: oh, ow: ow, half: half,
		hs: resizeScale(xs[1], oh, align), ws: resizeScale(xs[2], ow, align)}
	r.in, r.out, err = c.floatImage(x, r.n, oh, ow, r.ch)
	return r, err
}
