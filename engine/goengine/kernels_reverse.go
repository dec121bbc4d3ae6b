package goengine

import (
	"github.com/tfseg/tfseg/tfops"
)

// ReverseV2 (tensorflow/core/ops/array_ops.cc; kernel
// tensorflow/core/kernels/reverse_op.cc): reverses x along the axes listed
// in the int32/int64 vector axis (negative axes count from the end; an axis
// listed twice is an error). Keras' Bidirectional layer and RNNs with
// go_backwards=True use it to run the sequence backwards.

func init() { Register("ReverseV2", reverseV2Kernel) }

func reverseV2Kernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	axes, err := c.vectorIndexInput(1, "axis")
	if err != nil {
		return nil, err
	}
	r := x.Rank()
	rev := make([]bool, r)
	for i, a := range axes {
		canon := a
		if canon < 0 {
			canon += int64(r)
		}
		if canon < 0 || canon >= int64(r) {
			return nil, c.Errorf("'axis'[%d] = %d is out of valid range [%d, %d]", i, a, -r, r-1)
		}
		if rev[canon] {
			return nil, c.Errorf("axis %d specified more than once", canon)
		}
		rev[canon] = true
	}
	dims := x.Shape()
	out, err := c.Alloc(x.DType(), dims...)
	if err != nil {
		return nil, err
	}
	xst := rowMajorStrides(dims)
	sst := make([]int, r)
	off := 0
	for d := 0; d < r; d++ {
		sst[d] = xst[d]
		if rev[d] && dims[d] > 0 {
			sst[d] = -xst[d]
			off += (dims[d] - 1) * xst[d]
		}
	}
	copyStrided(c, out, x, dims, stridedView{0, rowMajorStrides(dims)}, stridedView{off, sst})
	return []*tfops.Tensor{out}, nil
}
