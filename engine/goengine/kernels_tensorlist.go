package goengine

import (
	"fmt"
	"strings"

	"github.com/tfseg/tfseg/tfops"
)

// TensorList ops (TensorFlow 2's list_ops), as Keras recurrent layers use
// them: the input sequence is unstacked into a list with
// TensorListFromTensor, a While body reads step t with TensorListGetItem and
// writes its output to a list from TensorListReserve with
// TensorListSetItem, and TensorListStack makes the output sequence.
//
// Semantics and error messages follow TensorFlow's kernels,
// tensorflow/core/kernels/list_kernels.{h,cc}, and the op definitions in
// tensorflow/core/ops/list_ops.cc (TensorFlow 2.x; where 1.x lacks a check,
// as for negative indices, the newer kernel's check is used).
//
// A list is a DT_VARIANT scalar whose single element is a *tensorList. Lists
// are values: an op that changes a list returns a new one and never
// modifies its input, which other consumers (the next loop iteration, a
// second reader) may still hold.

// tensorList is TensorFlow's TensorList: the items (nil for an item not set
// yet, TensorFlow's DT_INVALID tensor), the element shape every item must be
// compatible with, the element dtype and an optional maximum length.
type tensorList struct {
	items     []*tfops.Tensor
	elemShape tfops.Shape
	dtype     tfops.DType
	maxNum    int // -1: unbounded
}

// String describes the list, for debugging output.
func (l *tensorList) String() string {
	return fmt.Sprintf("TensorList<%v>%s[%d]", l.dtype, tfShapeString(l.elemShape), len(l.items))
}

// clone returns a copy of l whose items slice may be changed.
func (l *tensorList) clone() *tensorList {
	c := *l
	c.items = append(make([]*tfops.Tensor, 0, len(l.items)+1), l.items...)
	return &c
}

func init() {
	Register("TensorListReserve", tensorListReserveKernel)
	Register("EmptyTensorList", emptyTensorListKernel)
	Register("TensorListFromTensor", tensorListFromTensorKernel)
	Register("TensorListGetItem", tensorListGetItemKernel)
	Register("TensorListSetItem", tensorListSetItemKernel)
	Register("TensorListStack", tensorListStackKernel)
	Register("TensorListGather", tensorListGatherKernel)
	Register("TensorListLength", tensorListLengthKernel)
	Register("TensorListElementShape", tensorListElementShapeKernel)
	Register("TensorListPushBack", tensorListPushBackKernel)
	Register("TensorListResize", tensorListResizeKernel)
	RegisterOp("TensorListPopBack", OpDef{Kernel: tensorListPopBackKernel,
		OutputArgs: []OutputArg{{Name: "output_handle"}, {Name: "tensor"}}})
}

// tfShapeString formats a partial shape as TensorFlow's
// PartialTensorShape::DebugString does: [2,?,3], <unknown>.
func tfShapeString(s tfops.Shape) string {
	if !s.RankKnown() {
		return "<unknown>"
	}
	parts := make([]string, s.Rank())
	for i, d := range s.Dims() {
		if d < 0 {
			parts[i] = "?"
		} else {
			parts[i] = fmt.Sprint(d)
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// listTensor wraps l in a variant scalar.
func listTensor(l *tensorList) *tfops.Tensor {
	t, _ := tfops.Zeros(tfops.Variant)
	t.Data().([]any)[0] = l
	return t
}

// listInput returns input i, which must be a TensorList scalar
// (GetInputList in list_kernels.cc).
func (c *Context) listInput(i int) (*tensorList, error) {
	if i >= len(c.Inputs) {
		return nil, c.Errorf("missing input %d (the list)", i)
	}
	t := c.Inputs[i]
	if t.Rank() != 0 {
		return nil, c.Errorf("Input list must be a scalar saw: %s", dimsString(t.Shape()))
	}
	if d, ok := t.Data().([]any); ok && len(d) == 1 {
		if l, ok := d[0].(*tensorList); ok {
			return l, nil
		}
	}
	return nil, c.Errorf("Input handle is not a list. Saw: %v tensor %v", t.DType(), t)
}

// listOfDType is listInput that also checks the list's element dtype
// against attr element_dtype.
func (c *Context) listOfDType(i int) (*tensorList, error) {
	l, err := c.listInput(i)
	if err != nil {
		return nil, err
	}
	d, err := c.AttrType("element_dtype")
	if err != nil {
		return nil, err
	}
	if d != l.dtype {
		return nil, c.Errorf("Invalid data types; op elements %v but list elements %v", d, l.dtype)
	}
	return l, nil
}

// shapeInput decodes input i as a partial shape (TensorShapeFromTensor):
// an int32/int64 vector with -1 for unknown dimensions, or the scalar -1
// for an unknown rank.
func (c *Context) shapeInput(i int, what string) (tfops.Shape, error) {
	v, err := c.indexInput(i, what)
	if err != nil {
		return tfops.Shape{}, err
	}
	t := c.Inputs[i]
	switch t.Rank() {
	case 0:
		if v[0] == -1 {
			return tfops.UnknownShape(), nil
		}
		return tfops.Shape{}, c.Errorf("%s: The only valid scalar shape tensor is the fully unknown shape specified as -1.", what)
	case 1:
		for _, d := range v {
			if d < -1 {
				return tfops.Shape{}, c.Errorf("%s: dimension %d must be >= -1", what, d)
			}
		}
		return tfops.MakeShape(v...), nil
	}
	return tfops.Shape{}, c.Errorf("%s must be a vector or the scalar -1, got shape %s", what, dimsString(t.Shape()))
}

// mergeShapes is PartialTensorShape::MergeWith with TensorFlow's message.
func (c *Context) mergeShapes(a, b tfops.Shape) (tfops.Shape, error) {
	m, err := a.Merge(b)
	if err != nil {
		return tfops.Shape{}, c.Errorf("Incompatible shapes during merge: %s vs. %s", tfShapeString(a), tfShapeString(b))
	}
	return m, nil
}

// elementShape is GetElementShapeFromInput: input i merged with the
// list's element shape.
func (c *Context) elementShape(l *tensorList, i int) (tfops.Shape, error) {
	s, err := c.shapeInput(i, "element_shape")
	if err != nil {
		return tfops.Shape{}, err
	}
	return c.mergeShapes(s, l.elemShape)
}

// keep stops the executor from recycling t's buffer: t lives on in a list.
func (c *Context) keep(t *tfops.Tensor) { c.arena.pin([]*tfops.Tensor{t}) }

// listIndex returns input i, an int32 scalar index.
func (c *Context) listIndex(i int) (int, error) {
	if c.Inputs[i].DType() != tfops.Int32 {
		return 0, c.Errorf("index must be int32, got %v", c.Inputs[i].DType())
	}
	v, err := c.scalarIndexInput(i, "index")
	return int(v), err
}

// newListArgs reads what TensorListReserve and EmptyTensorList share: two
// inputs, attr element_dtype and the element_shape input.
func (c *Context) newListArgs() (tfops.DType, tfops.Shape, error) {
	if err := c.CheckInputs(2); err != nil {
		return 0, tfops.Shape{}, err
	}
	d, err := c.AttrType("element_dtype")
	if err != nil {
		return 0, tfops.Shape{}, err
	}
	shape, err := c.shapeInput(0, "element_shape")
	return d, shape, err
}

// tensorListReserveKernel: TensorListReserve(element_shape, num_elements)
// makes a list of num_elements unset items.
func tensorListReserveKernel(c *Context) ([]*tfops.Tensor, error) {
	d, shape, err := c.newListArgs()
	if err != nil {
		return nil, err
	}
	if c.Inputs[1].DType() != tfops.Int32 {
		return nil, c.Errorf("num_elements must be int32, got %v", c.Inputs[1].DType())
	}
	n, err := c.scalarIndexInput(1, "num_elements")
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, c.Errorf("The num_elements to reserve must be a non negative number, but got %d", n)
	}
	if err := c.checkAlloc(tfops.Variant, []int{int(n)}); err != nil {
		return nil, err
	}
	return []*tfops.Tensor{listTensor(&tensorList{items: make([]*tfops.Tensor, n), elemShape: shape, dtype: d, maxNum: -1})}, nil
}

// emptyTensorListKernel: EmptyTensorList(element_shape, max_num_elements).
func emptyTensorListKernel(c *Context) ([]*tfops.Tensor, error) {
	d, shape, err := c.newListArgs()
	if err != nil {
		return nil, err
	}
	if c.Inputs[1].Rank() != 0 {
		return nil, c.Errorf("max_num_elements expected to be a scalar but got shape: %s", dimsString(c.Inputs[1].Shape()))
	}
	m, err := c.scalarIndexInput(1, "max_num_elements")
	if err != nil {
		return nil, err
	}
	if m < -1 {
		return nil, c.Errorf("max_num_elements must be >= -1, got %d", m)
	}
	return []*tfops.Tensor{listTensor(&tensorList{elemShape: shape, dtype: d, maxNum: int(m)})}, nil
}

// tensorListFromTensorKernel: TensorListFromTensor(tensor, element_shape)
// unstacks tensor along its first dimension.
func tensorListFromTensorKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	t := c.Inputs[0]
	if d, err := c.AttrType("element_dtype"); err == nil && d != t.DType() {
		return nil, c.Errorf("tensor is %v, attr element_dtype says %v", t.DType(), d)
	}
	shape, err := c.shapeInput(1, "element_shape")
	if err != nil {
		return nil, err
	}
	if t.Rank() < 1 {
		return nil, c.Errorf("Tensor must be at least a vector, but saw shape: %s", dimsString(t.Shape()))
	}
	elem := t.Shape()[1:]
	if !shape.CompatibleWith(tfops.ShapeOf(elem)) {
		return nil, c.Errorf("Specified a list with shape %s from a tensor with shape %s", tfShapeString(shape), dimsString(elem))
	}
	n := t.Shape()[0]
	items := make([]*tfops.Tensor, n)
	for i := range items {
		it, err := sliceRow(t, i)
		if err != nil {
			return nil, c.Errorf("%w", err)
		}
		items[i] = it
	}
	return []*tfops.Tensor{listTensor(&tensorList{items: items, elemShape: shape, dtype: t.DType(), maxNum: -1})}, nil
}

// sliceRow copies t[i] (along the first dimension) into a new tensor.
func sliceRow(t *tfops.Tensor, i int) (*tfops.Tensor, error) {
	elem := t.Shape()[1:]
	out, err := tfops.Zeros(t.DType(), elem...)
	if err != nil {
		return nil, err
	}
	m := tfops.NumElements(elem)
	copyRange(out, 0, t, i*m, m)
	return out, nil
}

// copyRange copies n elements of src from so to dst at do; the dtypes match.
func copyRange(dst *tfops.Tensor, do int, src *tfops.Tensor, so, n int) {
	switch d := dst.Data().(type) {
	case []float32:
		copy(d[do:do+n], src.Data().([]float32)[so:so+n])
	case []float64:
		copy(d[do:do+n], src.Data().([]float64)[so:so+n])
	case []int32:
		copy(d[do:do+n], src.Data().([]int32)[so:so+n])
	case []int64:
		copy(d[do:do+n], src.Data().([]int64)[so:so+n])
	case []uint8:
		copy(d[do:do+n], src.Data().([]uint8)[so:so+n])
	case []int8:
		copy(d[do:do+n], src.Data().([]int8)[so:so+n])
	case []int16:
		copy(d[do:do+n], src.Data().([]int16)[so:so+n])
	case []uint16:
		copy(d[do:do+n], src.Data().([]uint16)[so:so+n])
	case []uint32:
		copy(d[do:do+n], src.Data().([]uint32)[so:so+n])
	case []uint64:
		copy(d[do:do+n], src.Data().([]uint64)[so:so+n])
	case []bool:
		copy(d[do:do+n], src.Data().([]bool)[so:so+n])
	case []string:
		copy(d[do:do+n], src.Data().([]string)[so:so+n])
	case []any:
		copy(d[do:do+n], src.Data().([]any)[so:so+n])
	}
}

// uninitShape is the shape of the zeros TensorFlow reads for unset items:
// the element_shape input merged with the list's, and, when that is not
// fully defined, with the shapes of the set items (TensorListGetItem,
// TensorListStack, TensorListGather).
func (c *Context) uninitShape(l *tensorList, shapeInput int, items []*tfops.Tensor) (tfops.Shape, error) {
	s, err := c.elementShape(l, shapeInput)
	if err != nil {
		return tfops.Shape{}, err
	}
	if !s.FullyDefined() {
		for _, it := range items {
			if it != nil {
				if s, err = c.mergeShapes(s, it.StaticShape()); err != nil {
					return tfops.Shape{}, err
				}
			}
		}
	}
	return s, nil
}

// tensorListGetItemKernel: TensorListGetItem(input_handle, index,
// element_shape) returns item index, or zeros of the element shape when
// the item was never set.
func tensorListGetItemKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	l, err := c.listOfDType(0)
	if err != nil {
		return nil, err
	}
	i, err := c.listIndex(1)
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(l.items) {
		return nil, c.Errorf("Trying to access element %d in a list with %d elements.", i, len(l.items))
	}
	if it := l.items[i]; it != nil {
		return []*tfops.Tensor{it}, nil
	}
	s, err := c.uninitShape(l, 2, l.items)
	if err != nil {
		return nil, err
	}
	if !s.FullyDefined() {
		return nil, c.Errorf("Trying to read an uninitialized tensor but element_shape is not fully defined: %s and no list element is set.", tfShapeString(s))
	}
	z, err := c.Alloc(l.dtype, s.IntDims()...)
	if err != nil {
		return nil, err
	}
	return []*tfops.Tensor{z}, nil
}

// checkItem checks a tensor stored into l: dtype and shape.
func (c *Context) checkItem(l *tensorList, item *tfops.Tensor, verb string) error {
	if item.DType() != l.dtype {
		return c.Errorf("Invalid data types; list elements %v but tried to %s %v", l.dtype, verb, item.DType())
	}
	if !l.elemShape.CompatibleWith(item.StaticShape()) {
		return c.Errorf("Tried to %s a tensor with incompatible shape to a list. Item element shape: %s list shape: %s",
			verb, dimsString(item.Shape()), tfShapeString(l.elemShape))
	}
	return nil
}

// tensorListSetItemKernel: TensorListSetItem(input_handle, index, item)
// returns a list whose item index is item. With attr
// resize_if_index_out_of_bounds (TensorFlow 2.12+) an index past the end
// grows the list.
func tensorListSetItemKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	l, err := c.listOfDType(0)
	if err != nil {
		return nil, err
	}
	i, err := c.listIndex(1)
	if err != nil {
		return nil, err
	}
	resize, err := c.AttrBoolOr("resize_if_index_out_of_bounds", false)
	if err != nil {
		return nil, err
	}
	if i < 0 || (!resize && i >= len(l.items)) {
		return nil, c.Errorf("Trying to modify element %d in a list with %d elements.", i, len(l.items))
	}
	item := c.Inputs[2]
	if err := c.checkItem(l, item, "set"); err != nil {
		return nil, err
	}
	out := l.clone()
	if i >= len(out.items) {
		if err := c.checkAlloc(tfops.Variant, []int{i + 1}); err != nil {
			return nil, err
		}
		out.items = append(out.items, make([]*tfops.Tensor, i+1-len(out.items))...)
	}
	out.items[i] = item
	c.keep(item)
	return []*tfops.Tensor{listTensor(out)}, nil
}

// tensorListPushBackKernel: TensorListPushBack(input_handle, tensor).
func tensorListPushBackKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	l, err := c.listOfDType(0)
	if err != nil {
		return nil, err
	}
	item := c.Inputs[1]
	if err := c.checkItem(l, item, "append"); err != nil {
		return nil, err
	}
	if l.maxNum != -1 && len(l.items) >= l.maxNum {
		return nil, c.Errorf("Tried to push item into a full list list size: %d max_num_elements: %d", len(l.items), l.maxNum)
	}
	if err := c.checkAlloc(tfops.Variant, []int{len(l.items) + 1}); err != nil {
		return nil, err
	}
	out := l.clone()
	out.items = append(out.items, item)
	c.keep(item)
	return []*tfops.Tensor{listTensor(out)}, nil
}

// tensorListPopBackKernel: TensorListPopBack(input_handle, element_shape)
// returns the list without its last item, and that item (zeros when unset).
func tensorListPopBackKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	l, err := c.listOfDType(0)
	if err != nil {
		return nil, err
	}
	if len(l.items) == 0 {
		return nil, c.Errorf("Trying to pop from an empty list.")
	}
	item := l.items[len(l.items)-1]
	if item == nil {
		s, err := c.elementShape(l, 1)
		if err != nil {
			return nil, err
		}
		if !s.FullyDefined() {
			return nil, c.Errorf("Trying to read an uninitialized tensor but element_shape is not fully defined.%s", tfShapeString(s))
		}
		if item, err = c.Alloc(l.dtype, s.IntDims()...); err != nil {
			return nil, err
		}
	}
	out := l.clone()
	out.items = out.items[:len(out.items)-1]
	return []*tfops.Tensor{listTensor(out), item}, nil
}

// tensorListLengthKernel: TensorListLength(input_handle), an int32 scalar.
func tensorListLengthKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(1); err != nil {
		return nil, err
	}
	l, err := c.listInput(0)
	if err != nil {
		return nil, err
	}
	return []*tfops.Tensor{tfops.FromScalar(int32(len(l.items)))}, nil
}

// tensorListElementShapeKernel: TensorListElementShape(input_handle) is the
// list's element shape as attr shape_type, -1 for unknown dimensions, the
// scalar -1 for an unknown rank.
func tensorListElementShapeKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(1); err != nil {
		return nil, err
	}
	l, err := c.listInput(0)
	if err != nil {
		return nil, err
	}
	d, err := c.outIndexType("shape_type")
	if err != nil {
		return nil, err
	}
	if !l.elemShape.RankKnown() {
		return c.single(c.indexTensor(d, []int64{-1}))
	}
	return c.single(c.indexTensor(d, l.elemShape.Dims(), l.elemShape.Rank()))
}

// single wraps one output.
func (c *Context) single(t *tfops.Tensor, err error) ([]*tfops.Tensor, error) {
	if err != nil {
		return nil, err
	}
	return []*tfops.Tensor{t}, nil
}

// tensorListResizeKernel: TensorListResize(input_handle, size) truncates the
// list or pads it with unset items.
func tensorListResizeKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	l, err := c.listInput(0)
	if err != nil {
		return nil, err
	}
	n, err := c.scalarIndexInput(1, "size")
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, c.Errorf("TensorListSlice expects size to be non-negative. Got: %d", n)
	}
	if err := c.checkAlloc(tfops.Variant, []int{int(n)}); err != nil {
		return nil, err
	}
	out := *l
	out.items = make([]*tfops.Tensor, n)
	copy(out.items, l.items)
	return []*tfops.Tensor{listTensor(&out)}, nil
}

// tensorListStackKernel: TensorListStack(input_handle, element_shape)
// stacks the items into one tensor, zeros for unset items; attr
// num_elements (-1: any) must match the list's length.
func tensorListStackKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	l, err := c.listOfDType(0)
	if err != nil {
		return nil, err
	}
	num, err := c.AttrIntOr("num_elements", -1)
	if err != nil {
		return nil, err
	}
	if num != -1 && int(num) != len(l.items) {
		return nil, c.Errorf("Operation expected a list with %d elements but got a list with %d elements.", num, len(l.items))
	}
	s, err := c.elementShape(l, 1)
	if err != nil {
		return nil, err
	}
	if !s.FullyDefined() && len(l.items) == 0 {
		return nil, c.Errorf("Tried to stack elements of an empty list with non-fully-defined element_shape: %s", tfShapeString(s))
	}
	return c.stackItems(l, l.items, s, "Tried to stack list which only contains uninitialized tensors and has a non-fully-defined element_shape: %s")
}

// stackItems concatenates items (nil: zeros) into a tensor of shape
// [len(items)] + element shape, s merged with the items' shapes.
func (c *Context) stackItems(l *tensorList, items []*tfops.Tensor, s tfops.Shape, undefined string) ([]*tfops.Tensor, error) {
	if !l.elemShape.FullyDefined() {
		for _, it := range items {
			if it != nil {
				var err error
				if s, err = c.mergeShapes(s, it.StaticShape()); err != nil {
					return nil, err
				}
			}
		}
	}
	if !s.FullyDefined() {
		return nil, c.Errorf(undefined, tfShapeString(s))
	}
	elem := s.IntDims()
	m := tfops.NumElements(elem)
	out, err := c.Alloc(l.dtype, append([]int{len(items)}, elem...)...)
	if err != nil {
		return nil, err
	}
	for i, it := range items {
		if it == nil {
			continue // zeros
		}
		if it.NumElements() != m {
			return nil, c.Errorf("list element %d has shape %s, expected %s", i, dimsString(it.Shape()), dimsString(elem))
		}
		copyRange(out, i*m, it, 0, m)
	}
	return []*tfops.Tensor{out}, nil
}

// tensorListGatherKernel: TensorListGather(input_handle, indices,
// element_shape) stacks the items at indices.
func tensorListGatherKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	l, err := c.listOfDType(0)
	if err != nil {
		return nil, err
	}
	if c.Inputs[1].DType() != tfops.Int32 {
		return nil, c.Errorf("indices must be int32, got %v", c.Inputs[1].DType())
	}
	idx := c.Inputs[1].Int32s()
	s, err := c.elementShape(l, 2)
	if err != nil {
		return nil, err
	}
	if !s.FullyDefined() && len(idx) == 0 {
		return nil, c.Errorf("Tried to gather 0-elements from a list with non-fully-defined shape: %s", tfShapeString(s))
	}
	items := make([]*tfops.Tensor, len(idx))
	for k, i := range idx {
		if i < 0 || int(i) >= len(l.items) {
			return nil, c.Errorf("Index %d out o range; list only has %d elements.", i, len(l.items))
		}
		items[k] = l.items[i]
	}
	return c.stackItems(l, items, s, "Tried to gather uninitialized tensors from a list with non-fully-defined element_shape: %s")
}
