package goengine

import (
	"fmt"
	"math"
	"strings"

	"github.com/tfseg/tfseg/tfops"
)

// Array kernels: shapes, reshapes, slicing, joining, tiling, padding,
// gathering (Pad, PadV2 and MirrorPad live in kernels_nn.go). Error messages follow TensorFlow's wording where it has one.

func init() {
	Register("Shape", shapeKernel)
	Register("Size", sizeKernel)
	Register("Rank", rankKernel)
	Register("Reshape", reshapeKernel)
	Register("ExpandDims", expandDimsKernel)
	Register("Squeeze", squeezeKernel)
	Register("Fill", fillKernel)
	Register("ZerosLike", zerosLikeKernel)
	Register("OnesLike", onesLikeKernel)
	RegisterOp("Pack", OpDef{Kernel: packKernel})
	RegisterOp("Unpack", OpDef{Kernel: unpackKernel, OutputArgs: []OutputArg{{Name: "output", NumberAttr: "num"}}})
	Register("ConcatV2", concatKernel)
	Register("StridedSlice", stridedSliceKernel)
	Register("Slice", sliceKernel)
	Register("Range", rangeKernel)
	Register("Tile", tileKernel)
	Register("Transpose", transposeKernel)
	Register("BroadcastTo", broadcastToKernel)
}

// indexInput returns input i, an int32 or int64 tensor, as int64s.
func (c *Context) indexInput(i int, what string) ([]int64, error) {
	if i >= len(c.Inputs) {
		return nil, c.Errorf("missing input %d (%s)", i, what)
	}
	if v, ok := c.Inputs[i].IndexValues(); ok {
		return v, nil
	}
	return nil, c.Errorf("%s must be int32 or int64, got %v", what, c.Inputs[i].DType())
}

// scalarIndexInput returns input i, a scalar (or one-element) int32/int64.
func (c *Context) scalarIndexInput(i int, what string) (int64, error) {
	v, err := c.indexInput(i, what)
	if err != nil {
		return 0, err
	}
	if len(v) != 1 || c.Inputs[i].Rank() > 1 {
		return 0, c.Errorf("%s must be a scalar, got shape %s", what, dimsString(c.Inputs[i].Shape()))
	}
	return v[0], nil
}

// vectorIndexInput returns input i, an int32/int64 vector.
func (c *Context) vectorIndexInput(i int, what string) ([]int64, error) {
	v, err := c.indexInput(i, what)
	if err != nil {
		return nil, err
	}
	if c.Inputs[i].Rank() != 1 {
		return nil, c.Errorf("%s must be a vector, got shape %s", what, dimsString(c.Inputs[i].Shape()))
	}
	return v, nil
}

// outIndexType returns the int32/int64 type in attr.
// The executor fills omitted attrs with their OpDef defaults (opdefaults.go),
// so the int32 fallback below applies only to ops outside that table.
func (c *Context) outIndexType(attr string) (tfops.DType, error) {
	if c.Attr(attr) == nil {
		return tfops.Int32, nil
	}
	d, err := c.AttrType(attr)
	if err != nil {
		return 0, err
	}
	if d != tfops.Int32 && d != tfops.Int64 {
		return 0, c.Errorf("%s must be int32 or int64, got %v", attr, d)
	}
	return d, nil
}

// indexTensor builds an int32 or int64 tensor of the given values.
func (c *Context) indexTensor(d tfops.DType, v []int64, dims ...int) (*tfops.Tensor, error) {
	out, err := c.Alloc(d, dims...)
	if err != nil {
		return nil, err
	}
	switch o := out.Data().(type) {
	case []int32:
		for i, e := range v {
			if e != int64(int32(e)) {
				return nil, c.Errorf("value %d does not fit in int32", e)
			}
			o[i] = int32(e)
		}
	case []int64:
		copy(o, v)
	}
	return out, nil
}

func shapeKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(1); err != nil {
		return nil, err
	}
	d, err := c.outIndexType("out_type")
	if err != nil {
		return nil, err
	}
	sh := c.Inputs[0].Shape()
	v := make([]int64, len(sh))
	for i, e := range sh {
		v[i] = int64(e)
	}
	out, err := c.indexTensor(d, v, len(v))
	return []*tfops.Tensor{out}, err
}

func sizeKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(1); err != nil {
		return nil, err
	}
	d, err := c.outIndexType("out_type")
	if err != nil {
		return nil, err
	}
	out, err := c.indexTensor(d, []int64{int64(c.Inputs[0].NumElements())})
	return []*tfops.Tensor{out}, err
}

func rankKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(1); err != nil {
		return nil, err
	}
	return []*tfops.Tensor{tfops.FromScalar(int32(c.Inputs[0].Rank()))}, nil
}

func reshapeKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	sh, err := c.vectorIndexInput(1, "shape")
	if err != nil {
		return nil, err
	}
	dims := make([]int, len(sh))
	infer := -1
	known := 1
	for i, d := range sh {
		switch {
		case d == -1 && infer >= 0:
			return nil, c.Errorf("Only one input size may be -1, not both %d and %d", infer, i)
		case d == -1:
			infer = i
		case d < 0:
			return nil, c.Errorf("Size %d must be non-negative, not %d", i, d)
		case d > math.MaxInt32:
			return nil, c.Errorf("Size %d is too large: %d", i, d)
		default:
			dims[i] = int(d)
			known *= int(d)
		}
	}
	n := x.NumElements()
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			return nil, c.Errorf("Input to reshape is a tensor with %d values, but the requested shape requires a multiple of %d", n, known)
		}
		dims[infer] = n / known
	} else if known != n {
		return nil, c.Errorf("Input to reshape is a tensor with %d values, but the requested shape has %d", n, known)
	}
	out, err := x.Reshaped(dims...)
	if err != nil {
		return nil, c.Errorf("%w", err)
	}
	return []*tfops.Tensor{out}, nil
}

func expandDimsKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	a, err := c.scalarIndexInput(1, "dim")
	if err != nil {
		return nil, err
	}
	r := int64(x.Rank())
	if a < -r-1 || a > r {
		return nil, c.Errorf("Tried to expand dim index %d for tensor with %d dimensions.", a, r)
	}
	if a < 0 {
		a += r + 1
	}
	dims := append(append(append([]int{}, x.Shape()[:a]...), 1), x.Shape()[a:]...)
	out, _ := x.Reshaped(dims...)
	return []*tfops.Tensor{out}, nil
}

func squeezeKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(1); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	axes, err := c.AttrInts("squeeze_dims")
	if err != nil {
		return nil, err
	}
	r := x.Rank()
	drop := make([]bool, r)
	for _, a := range axes {
		if a < -int64(r) || a >= int64(r) {
			return nil, c.Errorf("Tried to squeeze dim index %d for tensor with %d dimensions.", a, r)
		}
		if a < 0 {
			a += int64(r)
		}
		if x.Shape()[a] != 1 {
			return nil, c.Errorf("Can not squeeze dim[%d], expected a dimension of 1, got %d", a, x.Shape()[a])
		}
		drop[a] = true
	}
	dims := []int{}
	for i, d := range x.Shape() {
		if (len(axes) == 0 && d == 1) || drop[i] {
			continue
		}
		dims = append(dims, d)
	}
	out, _ := x.Reshaped(dims...)
	return []*tfops.Tensor{out}, nil
}

// dimsInput reads a shape vector input, checking for negative sizes.
func (c *Context) dimsInput(i int, what string) ([]int, error) {
	v, err := c.vectorIndexInput(i, what)
	if err != nil {
		return nil, err
	}
	dims := make([]int, len(v))
	for k, d := range v {
		if d < 0 || d > math.MaxInt32 {
			return nil, c.Errorf("%s %v has invalid size %d at %d", what, v, d, k)
		}
		dims[k] = int(d)
	}
	return dims, nil
}

func fillKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	dims, err := c.dimsInput(0, "dims")
	if err != nil {
		return nil, err
	}
	v := c.Inputs[1]
	if v.NumElements() != 1 || v.Rank() != 0 {
		return nil, c.Errorf("value must be a scalar, got shape %s", dimsString(v.Shape()))
	}
	out, err := c.Alloc(v.DType(), dims...)
	if err != nil {
		return nil, err
	}
	copyStrided(c, out, v, dims, stridedView{0, rowMajorStrides(dims)}, stridedView{0, make([]int, len(dims))})
	return []*tfops.Tensor{out}, nil
}

func zerosLikeKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(1); err != nil {
		return nil, err
	}
	out, err := c.Alloc(c.Inputs[0].DType(), c.Inputs[0].Shape()...)
	return []*tfops.Tensor{out}, err
}

func onesLikeKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(1); err != nil {
		return nil, err
	}
	out, err := c.Alloc(c.Inputs[0].DType(), c.Inputs[0].Shape()...)
	if err != nil {
		return nil, err
	}
	switch o := out.Data().(type) {
	case []float32:
		fillAll(o, 1)
	case []float64:
		fillAll(o, 1)
	case []int32:
		fillAll(o, 1)
	case []int64:
		fillAll(o, 1)
	case []uint8:
		fillAll(o, 1)
	case []int8:
		fillAll(o, 1)
	case []int16:
		fillAll(o, 1)
	case []uint16:
		fillAll(o, 1)
	case []uint32:
		fillAll(o, 1)
	case []uint64:
		fillAll(o, 1)
	case []bool:
		fillAll(o, true)
	default:
		return nil, c.unsupportedDType(out.DType())
	}
	return []*tfops.Tensor{out}, nil
}

func fillAll[T any](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}

// normAxis maps axis in [-n, n) to [0, n).
func (c *Context) normAxis(a int64, n int, what string) (int, error) {
	if a < -int64(n) || a >= int64(n) {
		return 0, c.Errorf("%s %d is out of range [%d, %d)", what, a, -n, n)
	}
	if a < 0 {
		a += int64(n)
	}
	return int(a), nil
}

func packKernel(c *Context) ([]*tfops.Tensor, error) {
	if len(c.Inputs) == 0 {
		return nil, c.Errorf("Pack needs at least one input")
	}
	axis, err := c.AttrIntOr("axis", 0)
	if err != nil {
		return nil, err
	}
	first := c.Inputs[0]
	r := first.Rank()
	a, err := c.normAxis(axis, r+1, "axis")
	if err != nil {
		return nil, err
	}
	for i, x := range c.Inputs {
		if x.DType() != first.DType() || !equalDims(x.Shape(), first.Shape()) {
			return nil, c.Errorf("Shapes of all inputs must match: values[0].shape = %s (%v) != values[%d].shape = %s (%v)",
				dimsString(first.Shape()), first.DType(), i, dimsString(x.Shape()), x.DType())
		}
	}
	n := len(c.Inputs)
	dims := append(append(append([]int{}, first.Shape()[:a]...), n), first.Shape()[a:]...)
	out, err := c.Alloc(first.DType(), dims...)
	if err != nil {
		return nil, err
	}
	outer := tfops.NumElements(first.Shape()[:a])
	inner := tfops.NumElements(first.Shape()[a:])
	for i, x := range c.Inputs {
		copyStrided(c, out, x, []int{outer, inner}, stridedView{i * inner, []int{n * inner, 1}}, stridedView{0, []int{inner, 1}})
	}
	return []*tfops.Tensor{out}, nil
}

func unpackKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(1); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	num, err := c.AttrInt("num")
	if err != nil {
		return nil, err
	}
	axis, err := c.AttrIntOr("axis", 0)
	if err != nil {
		return nil, err
	}
	a, err := c.normAxis(axis, x.Rank(), "axis")
	if err != nil {
		return nil, err
	}
	n := x.Shape()[a]
	if int64(n) != num {
		return nil, c.Errorf("Input shape axis %d must equal %d, got shape %s", a, num, dimsString(x.Shape()))
	}
	dims := append(append([]int{}, x.Shape()[:a]...), x.Shape()[a+1:]...)
	outer := tfops.NumElements(x.Shape()[:a])
	inner := tfops.NumElements(x.Shape()[a+1:])
	outs := make([]*tfops.Tensor, n)
	for i := range outs {
		o, err := c.Alloc(x.DType(), dims...)
		if err != nil {
			return nil, err
		}
		copyStrided(c, o, x, []int{outer, inner}, stridedView{0, []int{inner, 1}}, stridedView{i * inner, []int{n * inner, 1}})
		outs[i] = o
	}
	return outs, nil
}

func concatKernel(c *Context) ([]*tfops.Tensor, error) {
	if len(c.Inputs) < 2 {
		return nil, c.Errorf("ConcatV2 needs at least one value and an axis")
	}
	values := c.Inputs[:len(c.Inputs)-1]
	axis, err := c.scalarIndexInput(len(c.Inputs)-1, "axis")
	if err != nil {
		return nil, err
	}
	first := values[0]
	r := first.Rank()
	if r == 0 {
		return nil, c.Errorf("Can't concatenate scalars (use tf.stack instead)")
	}
	a, err := c.normAxis(axis, r, "ConcatOp : Expected concatenating dimensions in the range, but got")
	if err != nil {
		return nil, err
	}
	total := 0
	for i, v := range values {
		if v.DType() != first.DType() {
			return nil, c.Errorf("values[%d] is %v, values[0] is %v", i, v.DType(), first.DType())
		}
		if v.Rank() != r {
			return nil, c.Errorf("ConcatOp : Ranks of all input tensors should match: shape[0] = %s vs. shape[%d] = %s",
				dimsString(first.Shape()), i, dimsString(v.Shape()))
		}
		for d := 0; d < r; d++ {
			if d != a && v.Shape()[d] != first.Shape()[d] {
				return nil, c.Errorf("ConcatOp : Dimensions of inputs should match: shape[0] = %s vs. shape[%d] = %s",
					dimsString(first.Shape()), i, dimsString(v.Shape()))
			}
		}
		total += v.Shape()[a]
	}
	dims := append([]int{}, first.Shape()...)
	dims[a] = total
	out, err := c.AllocUninit(first.DType(), dims...)
	if err != nil {
		return nil, err
	}
	outer := tfops.NumElements(dims[:a])
	outInner := tfops.NumElements(dims[a:])
	off := 0
	for _, v := range values {
		inner := tfops.NumElements(v.Shape()[a:])
		copyStrided(c, out, v, []int{outer, inner}, stridedView{off, []int{outInner, 1}}, stridedView{0, []int{inner, 1}})
		off += inner
	}
	return []*tfops.Tensor{out}, nil
}

func stridedSliceKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(4); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	sizes, sv, dims, err := c.stridedSliceView(x.Shape())
	if err != nil {
		return nil, err
	}
	out, err := c.AllocUninit(x.DType(), dims...)
	if err != nil {
		return nil, err
	}
	if tfops.NumElements(sizes) > 0 {
		copyStrided(c, out, x, sizes, stridedView{0, rowMajorStrides(sizes)}, sv)
	}
	return []*tfops.Tensor{out}, nil
}

// stridedSliceView computes the slice of a tensor of shape in that inputs
// 1 to 3 (begin, end, strides) and the mask attrs of a StridedSlice or
// StridedSliceGrad select: the sizes walked, the strided view of the
// sliced tensor, and the output shape (with new and shrunk axes).
func (c *Context) stridedSliceView(in []int) (sizes []int, sv stridedView, dims []int, err error) {
	var vals [3][]int64
	for i, what := range []string{"begin", "end", "strides"} {
		v, err := c.vectorIndexInput(i+1, what)
		if err != nil {
			return nil, sv, nil, err
		}
		vals[i] = v
	}
	var m tfops.StridedSliceMasks
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"begin_mask", &m.Begin}, {"end_mask", &m.End}, {"ellipsis_mask", &m.Ellipsis},
		{"new_axis_mask", &m.NewAxis}, {"shrink_axis_mask", &m.ShrinkAxis}} {
		v, err := c.AttrIntOr(f.name, 0)
		if err != nil {
			return nil, sv, nil, err
		}
		*f.dst = v
	}
	in64 := make([]int64, len(in))
	for i, d := range in {
		in64[i] = int64(d)
	}
	spec, err := tfops.ComputeStridedSlice(in64, vals[0], vals[1], vals[2], m)
	if err != nil {
		return nil, sv, nil, c.Errorf("input of shape %s: %w", dimsString(in), err)
	}
	st := rowMajorStrides(in)
	sizes = make([]int, len(spec.Sizes))
	sv = stridedView{strides: make([]int, len(st))}
	for d := range st {
		sizes[d] = int(spec.Sizes[d])
		if sizes[d] > 0 {
			sv.off += int(spec.Begin[d]) * st[d]
		}
		sv.strides[d] = int(spec.Strides[d]) * st[d]
	}
	dims = make([]int, len(spec.Shape))
	for i, d := range spec.Shape {
		dims[i] = int(d)
	}
	return sizes, sv, dims, nil
}

func sliceKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	begin, err := c.vectorIndexInput(1, "begin")
	if err != nil {
		return nil, err
	}
	size, err := c.vectorIndexInput(2, "size")
	if err != nil {
		return nil, err
	}
	r := x.Rank()
	if len(begin) != r || len(size) != r {
		return nil, c.Errorf("Expected begin and size arguments to be 1-D tensors of size %d, but got shapes [%d] and [%d] instead.",
			r, len(begin), len(size))
	}
	dims := make([]int, r)
	st := rowMajorStrides(x.Shape())
	sv := stridedView{strides: st}
	for d := 0; d < r; d++ {
		dim := int64(x.Shape()[d])
		b, s := begin[d], size[d]
		if s == -1 {
			s = dim - b
		}
		if b < 0 || b > dim || s < 0 || b+s > dim {
			return nil, c.Errorf("Expected size[%d] in [0, %d], but got %d", d, dim-b, size[d])
		}
		dims[d] = int(s)
		sv.off += int(b) * st[d]
	}
	out, err := c.Alloc(x.DType(), dims...)
	if err != nil {
		return nil, err
	}
	copyStrided(c, out, x, dims, stridedView{0, rowMajorStrides(dims)}, sv)
	return []*tfops.Tensor{out}, nil
}

func rangeKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	for i, what := range []string{"start", "limit", "delta"} {
		if c.Inputs[i].NumElements() != 1 || c.Inputs[i].Rank() != 0 {
			return nil, c.Errorf("%s must be a scalar, not shape %s", what, dimsString(c.Inputs[i].Shape()))
		}
		if c.Inputs[i].DType() != c.Inputs[0].DType() {
			return nil, c.Errorf("%s is %v, start is %v", what, c.Inputs[i].DType(), c.Inputs[0].DType())
		}
	}
	switch c.Inputs[0].DType() {
	case tfops.Float:
		return rangeOf[float32](c)
	case tfops.Double:
		return rangeOf[float64](c)
	case tfops.Int32:
		return rangeOf[int32](c)
	case tfops.Int64:
		return rangeOf[int64](c)
	}
	return nil, c.unsupportedDType(c.Inputs[0].DType())
}

// rangeOf is TensorFlow's RangeOp: the size is computed in T and the
// values by repeated addition of delta, as TensorFlow does.
func rangeOf[T number](c *Context) ([]*tfops.Tensor, error) {
	start := tfops.Values[T](c.Inputs[0])[0]
	limit := tfops.Values[T](c.Inputs[1])[0]
	delta := tfops.Values[T](c.Inputs[2])[0]
	switch {
	case delta == 0:
		return nil, c.Errorf("Requires delta != 0: %v", delta)
	case delta > 0 && start > limit:
		return nil, c.Errorf("Requires start <= limit when delta > 0: %v/%v", start, limit)
	case delta < 0 && start < limit:
		return nil, c.Errorf("Requires start >= limit when delta < 0: %v/%v", start, limit)
	}
	var size float64
	switch any(start).(type) {
	case int32, int64:
		a, b := int64(limit-start), int64(delta)
		if a < 0 {
			a = -a
		}
		if b < 0 {
			b = -b
		}
		size = float64((a + b - 1) / b)
	default:
		size = math.Ceil(math.Abs(float64((limit - start) / delta)))
	}
	if size > math.MaxInt32 || size != size {
		return nil, c.Errorf("Requires the range size to be at most %d, got %v", math.MaxInt32, size)
	}
	out, err := c.Alloc(c.Inputs[0].DType(), int(size))
	if err != nil {
		return nil, err
	}
	o := tfops.Values[T](out)
	v := start
	for i := range o {
		o[i] = v
		v += delta
	}
	return []*tfops.Tensor{out}, nil
}

func tileKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	m, err := c.vectorIndexInput(1, "multiples")
	if err != nil {
		return nil, err
	}
	r := x.Rank()
	if len(m) != r {
		return nil, c.Errorf("Expected multiples argument to be a vector of length %d but got length %d", r, len(m))
	}
	dims := make([]int, r)
	cdims := make([]int, 0, 2*r)
	var ds, ss []int
	xst := rowMajorStrides(x.Shape())
	for d := 0; d < r; d++ {
		if m[d] < 0 || m[d] > math.MaxInt32 {
			return nil, c.Errorf("Expected multiples[%d] >= 0, but got %d", d, m[d])
		}
		dims[d] = x.Shape()[d] * int(m[d])
	}
	ost := rowMajorStrides(dims)
	for d := 0; d < r; d++ {
		cdims = append(cdims, int(m[d]), x.Shape()[d])
		ds = append(ds, x.Shape()[d]*ost[d], ost[d])
		ss = append(ss, 0, xst[d])
	}
	out, err := c.AllocUninit(x.DType(), dims...) // copyStrided writes every element
	if err != nil {
		return nil, err
	}
	copyStrided(c, out, x, cdims, stridedView{0, ds}, stridedView{0, ss})
	return []*tfops.Tensor{out}, nil
}

func transposeKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	perm, err := c.vectorIndexInput(1, "perm")
	if err != nil {
		return nil, err
	}
	r := x.Rank()
	if len(perm) != r {
		return nil, c.Errorf("transpose expects a vector of size %d. But input(1) is a vector of size %d", r, len(perm))
	}
	seen := make([]bool, r)
	dims := make([]int, r)
	xst := rowMajorStrides(x.Shape())
	sst := make([]int, r)
	for i, p := range perm {
		if p < 0 || p >= int64(r) || seen[p] {
			return nil, c.Errorf("%v is not a valid permutation of %d dimensions", perm, r)
		}
		seen[p] = true
		dims[i] = x.Shape()[p]
		sst[i] = xst[p]
	}
	out, err := c.Alloc(x.DType(), dims...)
	if err != nil {
		return nil, err
	}
	copyStrided(c, out, x, dims, stridedView{0, rowMajorStrides(dims)}, stridedView{0, sst})
	return []*tfops.Tensor{out}, nil
}

// broadcastStrides returns x's element strides in the index space of dims
// (0 along repeated dimensions), or an error when x does not broadcast.
func broadcastStrides(x, dims []int) ([]int, bool) {
	if len(x) > len(dims) {
		return nil, false
	}
	xst := rowMajorStrides(x)
	st := make([]int, len(dims))
	for d := range dims {
		k := d - (len(dims) - len(x))
		switch {
		case k < 0:
		case x[k] == dims[d]:
			st[d] = xst[k]
			if x[k] == 1 {
				st[d] = 0
			}
		case x[k] == 1:
		default:
			return nil, false
		}
	}
	return st, true
}

func broadcastToKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	dims, err := c.dimsInput(1, "shape")
	if err != nil {
		return nil, err
	}
	st, ok := broadcastStrides(x.Shape(), dims)
	if !ok {
		return nil, c.Errorf("Unable to broadcast tensor of shape %s to tensor of shape %s", dimsString(x.Shape()), dimsString(dims))
	}
	out, err := c.Alloc(x.DType(), dims...)
	if err != nil {
		return nil, err
	}
	copyStrided(c, out, x, dims, stridedView{0, rowMajorStrides(dims)}, stridedView{0, st})
	return []*tfops.Tensor{out}, nil
}

// multiIndex formats flat index i of shape dims as "1,2".
func multiIndex(i int, dims []int) string {
	parts := make([]string, len(dims))
	for d := len(dims) - 1; d >= 0; d-- {
		parts[d] = fmt.Sprint(i % max(dims[d], 1))
		i /= max(dims[d], 1)
	}
	return strings.Join(parts, ",")
}
