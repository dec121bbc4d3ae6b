package goengine

import (
	"math"

	"github.com/tfseg/tfseg/tfops"
)

// SpaceToBatchND and BatchToSpaceND: tf.nn.depthwise_conv2d,
// separable_conv2d and atrous convolutions with a dilation rate (Keras
// DepthwiseConv2D and SeparableConv2D with dilation_rate > 1, DeepLab's
// atrous separable convolutions) run as SpaceToBatchND, a dense
// convolution and BatchToSpaceND (with_space_to_batch in
// tensorflow/python/ops/nn_ops.py). Op definitions:
// tensorflow/core/ops/array_ops.cc; kernels:
// tensorflow/core/kernels/spacetobatch_op.cc and batchtospace_op.cc.
//
// SpaceToBatchND(x[batch, s_1..s_M, rest...], block b, paddings p) pads
// each s_k to s_k + p_k0 + p_k1 (a multiple of b_k) with zeros, then moves
// the offset within each block to the batch dimension: output
// [prod(b)·batch, (s_k+p_k0+p_k1)/b_k..., rest...], output batch index
// (o_1..o_M)·batch + n (o row-major over b). BatchToSpaceND is its
// inverse followed by cropping crops[k] = (start, end) from each spatial
// dimension.

func init() {
	Register("SpaceToBatchND", spaceToBatchKernel)
	Register("BatchToSpaceND", batchToSpaceKernel)
}

// blockArgs reads block_shape (input 1) and the M×2 paddings or crops
// (input 2) for an input of rank r.
func (c *Context) blockArgs(r int, what string) (block []int, pads [][2]int, err error) {
	b, err := c.vectorIndexInput(1, "block_shape")
	if err != nil {
		return nil, nil, err
	}
	m := len(b)
	p, err := c.indexInput(2, what)
	if err != nil {
		return nil, nil, err
	}
	if ps := c.Inputs[2].Shape(); len(ps) != 2 || ps[0] != m || ps[1] != 2 {
		return nil, nil, c.Errorf("%s should have shape [%d, 2] instead of %s", what, m, dimsString(ps))
	}
	if m < 1 || r < 1+m {
		return nil, nil, c.Errorf("input rank should be >= %d instead of %d (block_shape %v)", 1+m, r, b)
	}
	block = make([]int, m)
	pads = make([][2]int, m)
	prod := int64(1)
	for k := range block {
		if b[k] < 1 {
			return nil, nil, c.Errorf("block_shape[%d] = %d must be positive", k, b[k])
		}
		if prod *= b[k]; prod > math.MaxInt32 {
			return nil, nil, c.Errorf("the product of block_shape %v is too large", b)
		}
		if p[2*k] > math.MaxInt32 || p[2*k+1] > math.MaxInt32 {
			return nil, nil, c.Errorf("%s %v are too large", what, p)
		}
		if p[2*k] < 0 || p[2*k+1] < 0 {
			return nil, nil, c.Errorf("%s must be non-negative, got %v", what, p)
		}
		block[k], pads[k] = int(b[k]), [2]int{int(p[2*k]), int(p[2*k+1])}
	}
	return block, pads, nil
}

func spaceToBatchKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	xs := x.Shape()
	block, pads, err := c.blockArgs(len(xs), "paddings")
	if err != nil {
		return nil, err
	}
	m := len(block)
	// The zero-padded input P.
	pd := append([]int{}, xs...)
	for k := 0; k < m; k++ {
		pd[1+k] = xs[1+k] + pads[k][0] + pads[k][1]
		if pd[1+k]%block[k] != 0 {
			return nil, c.Errorf("padded_shape[%d]=%d is not divisible by block_shape[%d]=%d", k, pd[1+k], k, block[k])
		}
	}
	pst := rowMajorStrides(pd)
	off := 0
	for k := 0; k < m; k++ {
		off += pads[k][0] * pst[1+k]
	}
	p, err := c.Alloc(x.DType(), pd...)
	if err != nil {
		return nil, err
	}
	copyStrided(c, p, x, xs, stridedView{off, pst}, stridedView{0, rowMajorStrides(xs)})
	// Walk [b_1..b_M, batch, q_1..q_M, rest...] in output order.
	var dims, src []int
	for k := 0; k < m; k++ {
		dims, src = append(dims, block[k]), append(src, pst[1+k])
	}
	dims, src = append(dims, xs[0]), append(src, pst[0])
	for k := 0; k < m; k++ {
		dims, src = append(dims, pd[1+k]/block[k]), append(src, block[k]*pst[1+k])
	}
	dims, src = append(dims, xs[1+m:]...), append(src, pst[1+m:]...)
	od := []int{xs[0] * tfops.NumElements(block)}
	for k := 0; k < m; k++ {
		od = append(od, pd[1+k]/block[k])
	}
	od = append(od, xs[1+m:]...)
	out, err := c.AllocUninit(x.DType(), od...)
	if err != nil {
		return nil, err
	}
	copyStrided(c, out, p, dims, stridedView{0, rowMajorStrides(dims)}, stridedView{0, src})
	return []*tfops.Tensor{out}, nil
}

func batchToSpaceKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	xs := x.Shape()
	block, crops, err := c.blockArgs(len(xs), "crops")
	if err != nil {
		return nil, err
	}
	m := len(block)
	nb := tfops.NumElements(block)
	if xs[0]%nb != 0 {
		return nil, c.Errorf("Input batch dimension (%d) is not divisible by product of block sizes (%d)", xs[0], nb)
	}
	batch := xs[0] / nb
	// X viewed as [b_1..b_M, batch, i_1..i_M, rest...].
	view := append(append(append([]int{}, block...), batch), xs[1:]...)
	vst := rowMajorStrides(view)
	// Uncropped U [batch, i_1·b_1, ..., rest...].
	ud := append([]int{batch}, xs[1:]...)
	for k := 0; k < m; k++ {
		ud[1+k] = xs[1+k] * block[k]
	}
	ust := rowMajorStrides(ud)
	u, err := c.AllocUninit(x.DType(), ud...)
	if err != nil {
		return nil, err
	}
	// Walk [batch, i_1, b_1, ..., i_M, b_M, rest...].
	dims, dst, src := []int{batch}, []int{ust[0]}, []int{vst[m]}
	for k := 0; k < m; k++ {
		dims = append(dims, xs[1+k], block[k])
		dst = append(dst, block[k]*ust[1+k], ust[1+k])
		src = append(src, vst[m+1+k], vst[k])
	}
	dims, dst, src = append(dims, xs[1+m:]...), append(dst, ust[1+m:]...), append(src, vst[2*m+1:]...)
	copyStrided(c, u, x, dims, stridedView{0, dst}, stridedView{0, src})
	// Crop.
	od := append([]int{}, ud...)
	off := 0
	for k := 0; k < m; k++ {
		od[1+k] = ud[1+k] - crops[k][0] - crops[k][1]
		if od[1+k] < 0 {
			return nil, c.Errorf("Cropped size must be non-negative: start: %d end: %d size %d", crops[k][0], crops[k][1], ud[1+k])
		}
		off += crops[k][0] * ust[1+k]
	}
	out, err := c.AllocUninit(x.DType(), od...)
	if err != nil {
		return nil, err
	}
	copyStrided(c, out, u, od, stridedView{0, rowMajorStrides(od)}, stridedView{off, ust})
	return []*tfops.Tensor{out}, nil
}
