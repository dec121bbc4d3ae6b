package goengine

import (
	"math"

	"github.com/tfseg/tfseg/tfops"
)

// ScaleAndTranslate: tf.image.resize with method lanczos3, lanczos5,
// gaussian or mitchellcubic (Keras Resizing), and any method with
// antialias=True. Op definition: tensorflow/core/ops/image_ops.cc
// (inputs images, size, scale, translation; attrs kernel_type, antialias);
// kernel: tensorflow/core/kernels/image/scale_and_translate_op.cc with the
// sampling kernels of sampling_kernels.h, followed here in float32 and in
// TensorFlow's order: per output row and column a span of source pixels
// with normalized kernel weights (ComputeSpansCore), rows gathered first
// into an intermediate image, then columns (GatherRows, GatherColumns).

func init() {
	Register("ScaleAndTranslate", scaleAndTranslateKernel)
}

// samplingKernel is one of sampling_kernels.h's kernels.
type samplingKernel struct {
	radius float32
	f      func(x float32) float32
}

// lanczosPI is kPI, the float constant LanczosKernelFunc uses.
const lanczosPI = float32(3.14159265359)

func sinf(x float32) float32 { return float32(math.Sin(float64(x))) }

func lanczosKernel(radius float32) samplingKernel {
	return samplingKernel{radius, func(x float32) float32 {
		x = float32(math.Abs(float64(x)))
		if x > radius {
			return 0
		}
		if x <= 1e-3 {
			return 1
		}
		return radius * sinf(lanczosPI*x) * sinf(lanczosPI*x/radius) / (lanczosPI * lanczosPI * x * x)
	}}
}

// samplingKernels maps kernel_type to its kernel (SamplingKernelTypeFromString).
var samplingKernels = map[string]samplingKernel{
	"lanczos1": lanczosKernel(1),
	"lanczos3": lanczosKernel(3),
	"lanczos5": lanczosKernel(5),
	// GaussianKernelFunc(1.5): sigma = radius/3, exp evaluated in double.
	"gaussian": {1.5, func(x float32) float32 {
		x = float32(math.Abs(float64(x)))
		const sigma = float32(1.5) / 3
		if x >= 1.5 {
			return 0
		}
		return float32(math.Exp(float64(-x*x) / (2.0 * float64(sigma) * float64(sigma))))
	}},
	"box": {1, func(x float32) float32 {
		x = float32(math.Abs(float64(x)))
		switch {
		case x < 0.5:
			return 1
		case x == 0.5:
			return 0.5
		}
		return 0
	}},
	"triangle": {1, func(x float32) float32 {
		x = float32(math.Abs(float64(x)))
		if x < 1 {
			return 1 - x
		}
		return 0
	}},
	"keyscubic": {2, cubicKernel(
		func(x float32) float32 { return ((1.5*x-2.5)*x)*x + 1.0 },
		func(x float32) float32 { return ((-0.5*x+2.5)*x-4.0)*x + 2.0 })},
	"mitchellcubic": {2, cubicKernel(
		func(x float32) float32 { return (((float32(7.0)/6.0)*x-2.0)*x)*x + float32(8.0)/9.0 },
		func(x float32) float32 {
			return (((float32(-7.0)/18.0)*x+2.0)*x-float32(10.0)/3.0)*x + float32(16.0)/9.0
		})},
}

// cubicKernel is a piecewise cubic of radius 2: near on [0, 1), far on
// [1, 2), zero beyond.
func cubicKernel(near, far func(float32) float32) func(float32) float32 {
	return func(x float32) float32 {
		x = float32(math.Abs(float64(x)))
		switch {
		case x >= 2:
			return 0
		case x >= 1:
			return far(x)
		}
		return near(x)
	}
}

// spans are ComputeSpansCore's output: per output position the first
// source index and spanSize weights (zero past the span).
type spans struct {
	size    int
	starts  []int
	weights []float32
}

// gather adds to dst the weighted sum over output position x's span of
// the source vectors src[i·stride : i·stride+len(dst)] (i < limit), in
// span order, in float32 (GatherRows' AddScaledVector, GatherColumns).
func (s spans) gather(dst, src []float32, x, limit, stride int) {
	st := s.starts[x]
	n := min(st+s.size, limit) - st
	for j, w := range s.weights[x*s.size : x*s.size+n] {
		v := src[(st+j)*stride:][:len(dst)]
		for i, e := range v {
			dst[i] += w * e
		}
	}
}

func computeSpans(c *Context, k samplingKernel, outSize, inSize int, scale, translate float32, antialias bool) (spans, error) {
	invScale := float32(1.0 / float64(scale))
	invTranslate := -invScale * translate
	kernelScale := float32(1)
	if antialias {
		kernelScale = max(invScale, 1)
	}
	size := inSize
	if half := math.Ceil(float64(k.radius * kernelScale)); half < float64(inSize) {
		size = min(2*int(half)+1, inSize)
	}
	s := spans{size: size, starts: make([]int, outSize), weights: make([]float32, size*outSize)}
	oneOver := 1 / kernelScale
	tmp := make([]float32, 0, size)
	for x := 0; x < outSize; x++ {
		sample := (float32(x)+0.5)*invScale + invTranslate
		if sample < 0 || sample > float32(inSize) {
			continue
		}
		start := int(math.Ceil(float64(sample - k.radius*kernelScale - 0.5)))
		end := int(math.Floor(float64(sample + k.radius*kernelScale - 0.5)))
		start = min(max(start, 0), inSize-1)
		end = min(max(end, 0), inSize-1) + 1
		if end-start > size {
			return s, c.Errorf("Span is too large: %d vs %d.", end-start, size)
		}
		var total float32
		tmp = tmp[:0]
		for src := start; src < end; src++ {
			pos := float32(src) + 0.5 - sample
			w := k.f(float32(math.Abs(float64(pos * oneOver))))
			total += w
			tmp = append(tmp, w)
		}
		if float32(math.Abs(float64(total))) >= 1000*float32(0x1p-126) {
			inv := 1 / total
			for i, w := range tmp {
				s.weights[size*x+i] = w * inv
			}
		}
		s.starts[x] = start
	}
	return s, nil
}

// floatPair reads input i, a float32 vector of two.
func (c *Context) floatPair(i int, what string) (float32, float32, error) {
	t := c.Inputs[i]
	if t.DType() != tfops.Float || t.Rank() != 1 || t.NumElements() != 2 {
		return 0, 0, c.Errorf("%s must be a float32 vector of two elements, got %v%v", what, t.DType(), t.StaticShape())
	}
	v := t.Float32s()
	return v[0], v[1], nil
}

func scaleAndTranslateKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(4); err != nil {
		return nil, err
	}
	kt, err := c.AttrStringOr("kernel_type", "lanczos3")
	if err != nil {
		return nil, err
	}
	k, ok := samplingKernels[kt]
	if !ok {
		return nil, c.Errorf("Unrecognized kernel type: %s", kt)
	}
	antialias, err := c.AttrBoolOr("antialias", true)
	if err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	if x.Rank() != 4 {
		return nil, c.Errorf("input must be 4-dimensional, got %v", x.StaticShape())
	}
	size, err := intList(c.Inputs[1])
	if err != nil || len(size) != 2 || c.Inputs[1].DType() != tfops.Int32 {
		return nil, c.Errorf("size must be an int32 vector of 2 (height, width), got %v%v", c.Inputs[1].DType(), c.Inputs[1].StaticShape())
	}
	xs := x.Shape()
	n, ih, iw, ch := xs[0], xs[1], xs[2], xs[3]
	oh, ow := size[0], size[1]
	switch {
	case oh <= 0 || ow <= 0:
		return nil, c.Errorf("output dimensions must be positive, got %dx%d", oh, ow)
	case ch <= 0:
		return nil, c.Errorf("image must have at least one channel, got %v", x.StaticShape())
	case ih <= 0 || iw <= 0:
		return nil, c.Errorf("input image must be of non-zero size, got %v", x.StaticShape())
	}
	rs, cs, err := c.floatPair(2, "scale")
	if err != nil {
		return nil, err
	}
	if !(rs > 0 && cs > 0) {
		return nil, c.Errorf("Scale must be greater than zero, got %v, %v", rs, cs)
	}
	rt, ct, err := c.floatPair(3, "translation")
	if err != nil {
		return nil, err
	}
	in, out, err := c.floatImage(x, n, oh, ow, ch)
	if err != nil {
		return nil, err
	}
	colSp, err := computeSpans(c, k, ow, iw, cs, ct, antialias)
	if err != nil {
		return nil, err
	}
	rowSp, err := computeSpans(c, k, oh, ih, rs, rt, antialias)
	if err != nil {
		return nil, err
	}
	od := out.Float32s()
	inRow, midRow, outRow := iw*ch, iw*ch, ow*ch
	c.parallel(n, 1, func(lo, hi int) {
		mid := make([]float32, oh*midRow)
		for b := lo; b < hi; b++ {
			img := in[b*ih*inRow : (b+1)*ih*inRow]
			// GatherRows: mid[y] = Σ_j w_j · img[start_y + j].
			clear(mid)
			for y := 0; y < oh; y++ {
				rowSp.gather(mid[y*midRow:(y+1)*midRow], img, y, ih, inRow)
			}
			// GatherColumns: out[y, x] = Σ_j w_j · mid[y, start_x + j].
			o := od[b*oh*outRow : (b+1)*oh*outRow]
			for y := 0; y < oh; y++ {
				m := mid[y*midRow : (y+1)*midRow]
				for xx := 0; xx < ow; xx++ {
					colSp.gather(o[y*outRow+xx*ch:y*outRow+(xx+1)*ch], m, xx, iw, ch)
				}
			}
		}
	})
	return []*tfops.Tensor{out}, nil
}
