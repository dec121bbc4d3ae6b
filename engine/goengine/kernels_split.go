package goengine

import (
	"github.com/tfseg/tfseg/tfops"
)

// Split and SplitV (Keras' tf.split, LSTM gates, repeat_elements), AddN
// (gradients and Keras Add of many inputs), and the shape helpers
// ConcatOffset and InvertPermutation that gradient functions of saved
// models contain. Op definitions: tensorflow/core/ops/array_ops.cc (Split,
// SplitV, ConcatOffset, InvertPermutation) and math_ops.cc (AddN); kernels:
// tensorflow/core/kernels/split_op.cc, split_v_op.cc, aggregate_ops.cc,
// concat_op.cc (ConcatOffsetOp), transpose_op.cc (InvertPermutationOp).

func init() {
	RegisterOp("Split", OpDef{Kernel: splitKernel, OutputArgs: []OutputArg{{Name: "output", NumberAttr: "num_split"}}})
	RegisterOp("SplitV", OpDef{Kernel: splitVKernel, OutputArgs: []OutputArg{{Name: "output", NumberAttr: "num_split"}}})
	Register("AddN", addNKernel)
	RegisterOp("ConcatOffset", OpDef{Kernel: concatOffsetKernel, OutputArgs: []OutputArg{{Name: "offset", NumberAttr: "N"}}})
	Register("InvertPermutation", invertPermutationKernel)
}

// splitKernel is Split(split_dim, value): num_split equal pieces along
// split_dim, which must divide evenly (split_op.cc).
func splitKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	dim, err := c.scalarIndexInput(0, "split_dim")
	if err != nil {
		return nil, err
	}
	x := c.Inputs[1]
	num, err := c.AttrInt("num_split")
	if err != nil {
		return nil, err
	}
	if num < 1 {
		return nil, c.Errorf("num_split %d must be at least 1", num)
	}
	a, err := c.normAxis(dim, x.Rank(), "split_dim")
	if err != nil {
		return nil, err
	}
	n := x.Shape()[a]
	if int64(n)%num != 0 {
		return nil, c.Errorf("Number of ways to split should evenly divide the split dimension, but got split_dim %d (size = %d) and num_split %d", dim, n, num)
	}
	sizes := make([]int, num)
	for i := range sizes {
		sizes[i] = n / int(num)
	}
	return c.splitAlong(x, a, sizes)
}

// splitVKernel is SplitV(value, size_splits, split_dim): pieces of the
// given sizes, one of which may be -1 (the rest of the dimension).
func splitVKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	ss, err := c.vectorIndexInput(1, "size_splits")
	if err != nil {
		return nil, err
	}
	dim, err := c.scalarIndexInput(2, "split_dim")
	if err != nil {
		return nil, err
	}
	num, err := c.AttrInt("num_split")
	if err != nil {
		return nil, err
	}
	if int64(len(ss)) != num {
		return nil, c.Errorf("size_splits has %d entries, num_split is %d", len(ss), num)
	}
	a, err := c.normAxis(dim, x.Rank(), "split_dim")
	if err != nil {
		return nil, err
	}
	n := x.Shape()[a]
	sizes := make([]int, len(ss))
	neg, sum := -1, int64(0)
	for i, s := range ss {
		switch {
		case s == -1:
			if neg >= 0 {
				return nil, c.Errorf("There can only be one -1 in the input (size_splits %v)", ss)
			}
			neg = i
		case s < 0:
			return nil, c.Errorf("Split size at index %d must be >= 0. Got: %d", i, s)
		default:
			sum += s
			sizes[i] = int(s)
		}
	}
	if (neg < 0 && sum != int64(n)) || (neg >= 0 && sum > int64(n)) {
		return nil, c.Errorf("Determined shape must either match input shape along split_dim exactly if fully specified, or be less than the size of the input along split_dim if not fully specified.  Got: %d (size_splits %v, input shape %s, split_dim %d)", sum, ss, dimsString(x.Shape()), dim)
	}
	if neg >= 0 {
		sizes[neg] = n - int(sum)
	}
	return c.splitAlong(x, a, sizes)
}

// splitAlong cuts x along axis a into pieces of the given sizes (summing
// to x's dimension a).
func (c *Context) splitAlong(x *tfops.Tensor, a int, sizes []int) ([]*tfops.Tensor, error) {
	xs := x.Shape()
	outer := tfops.NumElements(xs[:a])
	inner := tfops.NumElements(xs[a+1:])
	rowIn := xs[a] * inner
	outs := make([]*tfops.Tensor, len(sizes))
	off := 0
	for i, s := range sizes {
		dims := append([]int{}, xs...)
		dims[a] = s
		o, err := c.AllocUninit(x.DType(), dims...)
		if err != nil {
			return nil, err
		}
		copyStrided(c, o, x, []int{outer, s * inner}, stridedView{0, []int{s * inner, 1}}, stridedView{off, []int{rowIn, 1}})
		off += s * inner
		outs[i] = o
	}
	return outs, nil
}

// addNKernel sums its inputs elementwise. They must have one shape
// (aggregate_ops.cc); the sum runs left to right in the dtype, as the
// Add2..Add8 and Add8p functors evaluate it.
func addNKernel(c *Context) ([]*tfops.Tensor, error) {
	if len(c.Inputs) == 0 {
		return nil, c.Errorf("AddN needs at least one input")
	}
	x0 := c.Inputs[0]
	for i, x := range c.Inputs[1:] {
		if x.DType() != x0.DType() {
			return nil, c.Errorf("input %d is %v, input 0 is %v", i+1, x.DType(), x0.DType())
		}
		if !equalDims(x.Shape(), x0.Shape()) {
			return nil, c.Errorf("Inputs to operation AddN must have the same size and shape.  Input 0: %s != input %d: %s",
				dimsString(x0.Shape()), i+1, dimsString(x.Shape()))
		}
	}
	out, err := c.AllocUninit(x0.DType(), x0.Shape()...)
	if err != nil {
		return nil, err
	}
	switch o := out.Data().(type) {
	case []float32:
		addNInto(c, o, c.Inputs, func(a, b float32) float32 { return out32(float64(flush32(a)) + float64(flush32(b))) })
	case []float64:
		addNInto(c, o, c.Inputs, func(a, b float64) float64 { return flush64(flush64(a) + flush64(b)) })
	case []int32:
		addNInto(c, o, c.Inputs, add[int32])
	case []int64:
		addNInto(c, o, c.Inputs, add[int64])
	default:
		return nil, c.unsupportedDType(x0.DType())
	}
	return []*tfops.Tensor{out}, nil
}

func addNInto[T number](c *Context, o []T, in []*tfops.Tensor, add func(a, b T) T) {
	xs := make([][]T, len(in))
	for i, x := range in {
		xs[i] = tfops.Values[T](x)
	}
	c.parallel(len(o), grainCheap/len(in)+1, func(lo, hi int) {
		if len(xs) == 1 {
			// A single input is copied unchanged (AddN's num == 1 case).
			copy(o[lo:hi], xs[0][lo:hi])
			return
		}
		for k := lo; k < hi; k++ {
			s := add(xs[0][k], xs[1][k])
			for _, x := range xs[2:] {
				s = add(s, x[k])
			}
			o[k] = s
		}
	})
}

// concatOffsetKernel is ConcatOffset(concat_dim, shape...): the offset of
// each input of a ConcatV2 along concat_dim (the gradient of ConcatV2).
func concatOffsetKernel(c *Context) ([]*tfops.Tensor, error) {
	if len(c.Inputs) < 2 {
		return nil, c.Errorf("ConcatOffset needs concat_dim and at least one shape")
	}
	dim, err := c.scalarIndexInput(0, "concat_dim")
	if err != nil {
		return nil, err
	}
	s0, err := c.vectorIndexInput(1, "shape[0]")
	if err != nil {
		return nil, err
	}
	r := len(s0)
	a := dim
	if a < 0 {
		a += int64(r)
	}
	if a < 0 || a >= int64(r) {
		return nil, c.Errorf("Concat dim is out of range: %d vs. %d", dim, r)
	}
	outs := make([]*tfops.Tensor, len(c.Inputs)-1)
	var off int64
	for i := range outs {
		s, err := c.vectorIndexInput(i+1, "shape")
		if err != nil {
			return nil, err
		}
		if len(s) != r {
			return nil, c.Errorf("input %d should contain %d elements, but got %d", i, r, len(s))
		}
		v := make([]int64, r)
		for d := range s {
			if int64(d) == a {
				v[d] = off
				off += s[d]
			} else if s[d] != s0[d] {
				return nil, c.Errorf("All dimensions except %d must match. Input %d has shape %v and doesn't match input 0 with shape %v.", a, i, s, s0)
			}
		}
		if outs[i], err = c.indexTensor(c.Inputs[i+1].DType(), v, r); err != nil {
			return nil, err
		}
	}
	return outs, nil
}

// invertPermutationKernel: y[x[i]] = i for a permutation x of 0..n-1.
func invertPermutationKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(1); err != nil {
		return nil, err
	}
	x, err := c.vectorIndexInput(0, "x")
	if err != nil {
		return nil, err
	}
	n := int64(len(x))
	y := make([]int64, n)
	seen := make([]bool, n)
	for i, d := range x {
		if d < 0 || d >= n {
			return nil, c.Errorf("%d is not between 0 and %d", d, n)
		}
		if seen[d] {
			return nil, c.Errorf("%d is duplicated in the input.", d)
		}
		seen[d] = true
		y[d] = int64(i)
	}
	out, err := c.indexTensor(c.Inputs[0].DType(), y, len(y))
	if err != nil {
		return nil, err
	}
	return []*tfops.Tensor{out}, nil
}
