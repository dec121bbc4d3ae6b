package goengine

import (
	"github.com/tfseg/tfseg/tfops"
)

// Array ops of Keras inference graphs beyond kernels_array.go: ReverseV2
// (tf.reverse: Bidirectional and go_backwards recurrent layers),
// MatrixBandPart (tf.linalg.band_part: tf.keras 2.x MultiHeadAttention's
// causal mask), EnsureShape (tf.ensure_shape), DepthToSpace and
// SpaceToDepth (tf.nn.depth_to_space: sub-pixel upsampling in
// segmentation decoders). Op definitions: tensorflow/core/ops/array_ops.cc;
// kernels: tensorflow/core/kernels/reverse_op.cc, matrix_band_part_op.cc,
// shape_ops.h (EnsureShapeOp), depthtospace_op.cc, spacetodepth_op.cc;
// StridedSliceGrad (strided_slice_op.cc) for gradient functions.

func init() {
	Register("ReverseV2", reverseKernel)
	Register("MatrixBandPart", matrixBandPartKernel)
	Register("EnsureShape", ensureShapeKernel)
	Register("DepthToSpace", depthSpaceKernel(true))
	Register("SpaceToDepth", depthSpaceKernel(false))
	Register("StridedSliceGrad", stridedSliceGradKernel)
}

// stridedSliceGradKernel is StridedSliceGrad(shape, begin, end, strides,
// dy) (strided_slice_op.cc): a zero tensor of shape with dy written where
// StridedSlice of that shape would read (the gradient functions of saved
// Keras models hold it).
func stridedSliceGradKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(5); err != nil {
		return nil, err
	}
	shape, err := c.dimsInput(0, "shape")
	if err != nil {
		return nil, err
	}
	sizes, sv, dims, err := c.stridedSliceView(shape)
	if err != nil {
		return nil, err
	}
	dy := c.Inputs[4]
	if !equalDims(dy.Shape(), dims) {
		return nil, c.Errorf("shape of dy was %s instead of %s", dimsString(dy.Shape()), dimsString(dims))
	}
	out, err := c.Alloc(dy.DType(), shape...)
	if err != nil {
		return nil, err
	}
	if tfops.NumElements(sizes) > 0 {
		copyStrided(c, out, dy, sizes, sv, stridedView{0, rowMajorStrides(sizes)})
	}
	return []*tfops.Tensor{out}, nil
}

// reverseKernel reverses input 0 along the axes of input 1 (each at most
// once, negative counting from the end).
func reverseKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	axes, err := c.vectorIndexInput(1, "axis")
	if err != nil {
		return nil, err
	}
	xs := x.Shape()
	st := rowMajorStrides(xs)
	src := append([]int{}, st...)
	off := 0
	seen := make([]bool, len(xs))
	for _, a := range axes {
		d, err := c.normAxis(a, len(xs), "'axis'[i] must be in [-rank, rank); axis")
		if err != nil {
			return nil, err
		}
		if seen[d] {
			return nil, c.Errorf("axis %d specified more than once", d)
		}
		seen[d] = true
		if xs[d] > 0 {
			off += (xs[d] - 1) * st[d]
		}
		src[d] = -st[d]
	}
	out, err := c.AllocUninit(x.DType(), xs...)
	if err != nil {
		return nil, err
	}
	copyStrided(c, out, x, xs, stridedView{0, st}, stridedView{off, src})
	return []*tfops.Tensor{out}, nil
}

// matrixBandPartKernel keeps element (m, n) of each innermost matrix when
// (num_lower < 0 || m-n <= num_lower) && (num_upper < 0 || n-m <= num_upper)
// and zeroes the rest.
func matrixBandPartKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	if x.Rank() < 2 {
		return nil, c.Errorf("input must be at least 2-dim, received shape: %s", dimsString(x.Shape()))
	}
	xs := x.Shape()
	rows, cols := xs[len(xs)-2], xs[len(xs)-1]
	lower, err := c.scalarIndexInput(1, "num_lower")
	if err != nil {
		return nil, err
	}
	upper, err := c.scalarIndexInput(2, "num_upper")
	if err != nil {
		return nil, err
	}
	if lower > int64(rows) {
		return nil, c.Errorf("num_lower must be negative or less or equal to number of rows (%d) got: %d", rows, lower)
	}
	if upper > int64(cols) {
		return nil, c.Errorf("num_upper must be negative or less or equal to number of columns (%d) got: %d", cols, upper)
	}
	out, err := c.Alloc(x.DType(), xs...)
	if err != nil {
		return nil, err
	}
	var keep []int
	n := x.NumElements()
	for i := 0; i < n; i++ {
		m, k := (i/cols)%max(rows, 1), i%cols
		if (lower < 0 || int64(m-k) <= lower) && (upper < 0 || int64(k-m) <= upper) {
			keep = append(keep, i)
		}
	}
	scatter(out, x, keep, keep)
	return []*tfops.Tensor{out}, nil
}

// ensureShapeKernel passes its input through when its shape is compatible
// with attr shape.
func ensureShapeKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(1); err != nil {
		return nil, err
	}
	want, err := c.AttrShape("shape")
	if err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	if !want.CompatibleWith(x.StaticShape()) {
		return nil, c.Errorf("Shape of tensor %s %s is not compatible with expected shape %v.", c.Node.GetInput()[0], dimsString(x.Shape()), want)
	}
	return []*tfops.Tensor{x}, nil
}

// depthSpaceKernel returns DepthToSpace (toSpace) or SpaceToDepth for
// NHWC: with block b and C' = C/(b·b),
//
//	DepthToSpace: out[n, h·b+i, w·b+j, c] = in[n, h, w, (i·b+j)·C' + c]
//	SpaceToDepth: out[n, h, w, (i·b+j)·C + c] = in[n, h·b+i, w·b+j, c]
func depthSpaceKernel(toSpace bool) Kernel {
	return func(c *Context) ([]*tfops.Tensor, error) {
		if err := c.CheckInputs(1); err != nil {
			return nil, err
		}
		bs, err := c.AttrInt("block_size")
		if err != nil {
			return nil, err
		}
		if bs < 2 {
			return nil, c.Errorf("Block size should be > 1, but was: %d", bs)
		}
		if bs > 1<<15 {
			return nil, c.Errorf("block_size %d is too large (its square must fit in int32)", bs)
		}
		df, err := c.AttrStringOr("data_format", "NHWC")
		if err != nil {
			return nil, err
		}
		if df != "NHWC" {
			return nil, c.Errorf("data_format %q is not supported (TensorFlow's CPU kernels run NHWC only)", df)
		}
		x := c.Inputs[0]
		if x.Rank() != 4 {
			return nil, c.Errorf("Input rank should be: 4 instead of: %d", x.Rank())
		}
		b := int(bs)
		xs := x.Shape()
		n, h, w, ch := xs[0], xs[1], xs[2], xs[3]
		var od, dims, src []int
		if toSpace {
			if ch%(b*b) != 0 {
				return nil, c.Errorf("Input depth dimension %d should be divisible by: %d", ch, b*b)
			}
			cc := ch / (b * b)
			od = []int{n, h * b, w * b, cc}
			dims = []int{n, h, b, w, b, cc}
			src = []int{h * w * ch, w * ch, b * cc, ch, cc, 1}
		} else {
			if h%b != 0 || w%b != 0 {
				return nil, c.Errorf("Image width %d and height %d should be divisible by block_size: %d", w, h, b)
			}
			od = []int{n, h / b, w / b, ch * b * b}
			dims = []int{n, h / b, w / b, b, b, ch}
			src = []int{h * w * ch, b * w * ch, b * ch, w * ch, ch, 1}
		}
		out, err := c.AllocUninit(x.DType(), od...)
		if err != nil {
			return nil, err
		}
		copyStrided(c, out, x, dims, stridedView{0, rowMajorStrides(dims)}, stridedView{0, src})
		return []*tfops.Tensor{out}, nil
	}
}
