package goengine

import "github.com/tfseg/tfseg/tfops"

// Grouped convolution: Keras Conv1D/Conv2D with groups > 1 write a Conv2D
// whose filter in-depth is the input depth / groups. TensorFlow 2's CPU
// kernel (LaunchGroupedConvolution in tensorflow/core/kernels/
// conv_ops_impl.h) convolves each group of input channels with its group
// of filters and concatenates the outputs; so does groupedConv, one
// ordinary convolution (conv2DFloat32 or conv2DGeneric) per group.
// TensorFlow 1.15 rejects such a Conv2D ("The Conv2D op currently does not
// support grouped convolutions on the CPU").

// groupedConv computes Conv2D(x, f) when f's in-depth divides x's depth
// into groups; grouped is false (and nothing is computed) otherwise.
func (c *Context) groupedConv(x, f *tfops.Tensor) (out *tfops.Tensor, grouped bool, err error) {
	if x.Rank() != 4 || f.Rank() != 4 || x.DType() != f.DType() {
		return nil, false, nil
	}
	xs, fs := x.Shape(), f.Shape()
	ch, cg, oc := xs[3], fs[2], fs[3]
	if ch == cg || cg == 0 || ch == 0 {
		return nil, false, nil // the ordinary path checks (and rejects) the depths
	}
	if ch%cg != 0 {
		return nil, true, c.Errorf("input depth must be evenly divisible by filter depth: %d vs %d (input %v, filter %v)", ch, cg, x.StaticShape(), f.StaticShape())
	}
	groups := ch / cg
	if oc%groups != 0 {
		return nil, true, c.Errorf("output depth must be evenly divisible by number of groups: %d vs %d (filter %v)", oc, groups, f.StaticShape())
	}
	strides, err := c.AttrInts("strides")
	if err != nil {
		return nil, true, err
	}
	wh, ww, err := c.nhwcWindows(xs[1], xs[2], fs[0], fs[1], strides, true)
	if err != nil {
		return nil, true, err
	}
	og := oc / groups
	if out, err = c.Alloc(x.DType(), xs[0], wh.out, ww.out, oc); err != nil {
		return nil, true, err
	}
	g := convGeom{n: xs[0], h: xs[1], w: xs[2], c: cg, kh: fs[0], kw: fs[1], o: og, wh: wh, ww: ww}
	xd := []int{xs[0], xs[1], xs[2], cg}
	fd := []int{fs[0], fs[1], cg, og}
	od := []int{xs[0], wh.out, ww.out, og}
	for k := 0; k < groups; k++ {
		xg, err := c.AllocUninit(x.DType(), xd...)
		if err != nil {
			return nil, true, err
		}
		copyStrided(c, xg, x, xd, stridedView{0, rowMajorStrides(xd)}, stridedView{k * cg, []int{xs[1] * xs[2] * ch, xs[2] * ch, ch, 1}})
		fg, err := c.AllocUninit(x.DType(), fd...)
		if err != nil {
			return nil, true, err
		}
		copyStrided(c, fg, f, fd, stridedView{0, rowMajorStrides(fd)}, stridedView{k * og, []int{fs[1] * cg * oc, cg * oc, oc, 1}})
		outg, err := c.Alloc(x.DType(), od...)
		if err != nil {
			return nil, true, err
		}
		switch x.DType() {
		case tfops.Float:
			if g.kh*g.kw*g.c > 0 {
				conv2DFloat32(g, xg.Float32s(), fg.Float32s(), outg.Float32s(), convEpilogue{}, c.Threads())
			}
		case tfops.Double:
			conv2DGeneric(g, xg.Float64s(), fg.Float64s(), outg.Float64s(), c.Threads())
		default:
			return nil, true, c.Errorf("unsupported dtype %v for a grouped convolution (want float32 or float64)", x.DType())
		}
		copyStrided(c, out, outg, od, stridedView{k * og, []int{wh.out * ww.out * oc, ww.out * oc, oc, 1}}, stridedView{0, rowMajorStrides(od)})
	}
	return out, true, nil
}
