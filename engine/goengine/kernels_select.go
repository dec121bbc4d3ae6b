package goengine

import (
	"github.com/tfseg/tfseg/tfops"
)

// Select, SelectV2 and ClipByValue.

func init() {
	Register("Select", selectKernel)
	Register("SelectV2", selectV2Kernel)
	Register("ClipByValue", clipKernel)
}

// selectV2Kernel picks t where condition holds, else e, broadcasting all three.
func selectV2Kernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	cond, x, y := c.Inputs[0], c.Inputs[1], c.Inputs[2]
	if cond.DType() != tfops.Bool {
		return nil, c.Errorf("condition must be bool, got %v", cond.DType())
	}
	if x.DType() != y.DType() {
		return nil, c.Errorf("t is %v but e is %v", x.DType(), y.DType())
	}
	dims, err := broadcastDims(cond.Shape(), x.Shape(), y.Shape())
	if err != nil {
		return nil, c.Errorf("%w", err)
	}
	out, err := c.Alloc(x.DType(), dims...)
	if err != nil {
		return nil, err
	}
	p := newBcastPlan(dims, cond.Shape(), x.Shape(), y.Shape())
	elemsOf(out).selectInto(c, out.Data(), cond.Data(), x.Data(), y.Data(), &p)
	return []*tfops.Tensor{out}, nil
}

// selectKernel is TensorFlow 1's Select (select_op.cc): t and e have the
// same shape; the condition is a scalar, has their shape, or is a vector
// whose length is their first dimension (one choice per row). It does not
// broadcast otherwise: that is SelectV2.
func selectKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	cond, x, y := c.Inputs[0], c.Inputs[1], c.Inputs[2]
	if !equalDims(x.Shape(), y.Shape()) {
		return nil, c.Errorf("t has shape %v but e has shape %v; Select needs them equal", x.Shape(), y.Shape())
	}
	switch {
	case cond.Rank() == 0, equalDims(cond.Shape(), x.Shape()):
	case cond.Rank() == 1 && x.Rank() > 1:
		if cond.Shape()[0] != x.Shape()[0] {
			return nil, c.Errorf("condition has %d elements but t's first dimension is %d", cond.Shape()[0], x.Shape()[0])
		}
		dims := make([]int, x.Rank())
		for i := range dims {
			dims[i] = 1
		}
		dims[0] = cond.Shape()[0]
		rc, err := cond.Reshaped(dims...)
		if err != nil {
			return nil, c.Errorf("%w", err)
		}
		cond = rc
	default:
		return nil, c.Errorf("condition has shape %v; Select wants a scalar, t's shape %v, or a vector of its first dimension", cond.Shape(), x.Shape())
	}
	sub := *c
	sub.Inputs = []*tfops.Tensor{cond, x, y}
	return selectV2Kernel(&sub)
}

func selectInto[T any](c *Context, o []T, cond []bool, xs, ys []T, p *bcastPlan) {
	if len(o) == 0 {
		return // nothing to select; grainCheap/in below would divide by zero
	}
	in := p.inner()
	last := len(p.dims) - 1
	sc, sx, sy := p.strides[0][last], p.strides[1][last], p.strides[2][last]
	c.parallel(p.rows(), max(1, grainCheap/in), func(lo, hi int) {
		p.forRows(lo, hi, func(row int, offs []int) {
			o := o[row*in : (row+1)*in]
			oc, ox, oy := offs[0], offs[1], offs[2]
			for k := range o {
				if cond[oc+k*sc] {
					o[k] = xs[ox+k*sx]
				} else {
					o[k] = ys[oy+k*sy]
				}
			}
		})
	})
}

// clipKernel is TensorFlow's ClipOp: min(x, hi) then max(·, lo), so NaN
// in x stays NaN and lo wins when lo > hi. lo and hi are scalars or have
// x's shape.
func clipKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	x, lo, hi := dazTensor(c.Inputs[0]), dazTensor(c.Inputs[1]), dazTensor(c.Inputs[2])
	for _, b := range []*tfops.Tensor{lo, hi} {
		if b.DType() != x.DType() {
			return nil, c.Errorf("clip values are %v, t is %v", b.DType(), x.DType())
		}
		if b.NumElements() != 1 && !equalDims(b.Shape(), x.Shape()) {
			return nil, c.Errorf("clip_value_min and clip_value_max must be either scalars or have the same shape as the input: t shape %s, clip shape %s",
				dimsString(x.Shape()), dimsString(b.Shape()))
		}
	}
	var out *tfops.Tensor
	var err error
	switch x.DType() {
	case tfops.Float:
		out, err = clipOf[float32](c, x, lo, hi)
	case tfops.Double:
		out, err = clipOf[float64](c, x, lo, hi)
	case tfops.Int32:
		out, err = clipOf[int32](c, x, lo, hi)
	case tfops.Int64:
		out, err = clipOf[int64](c, x, lo, hi)
	default:
		return nil, c.unsupportedDType(x.DType())
	}
	if err != nil {
		return nil, err
	}
	ftz(out.Data())
	return []*tfops.Tensor{out}, nil
}

func clipOf[T number](c *Context, x, lo, hi *tfops.Tensor) (*tfops.Tensor, error) {
	out, err := c.Alloc(x.DType(), x.Shape()...)
	if err != nil {
		return nil, err
	}
	xs, ls, hs, o := tfops.Values[T](x), tfops.Values[T](lo), tfops.Values[T](hi), tfops.Values[T](out)
	ls1, hs1 := len(ls) == 1 && len(o) != 1, len(hs) == 1 && len(o) != 1
	c.parallel(len(o), grainCheap, func(a, b int) {
		for i := a; i < b; i++ {
			l, h := ls[0], hs[0]
			if !ls1 {
				l = ls[i]
			}
			if !hs1 {
				h = hs[i]
			}
			v := xs[i]
			if h < v {
				v = h
			}
			if v < l {
				v = l
			}
			o[i] = v
		}
	})
	return out, nil
}
