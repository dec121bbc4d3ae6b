package tfops

import (
	"fmt"
	"math"
)

// Array ops: shapes, reshaping, gathering, slicing, joining and
// broadcasting. Index-like inputs (shapes, axes, perms, paddings) may be
// int32 or int64; when they are Consts the output's static shape is
// inferred and inconsistent values are reported at build time.

// ShapeOp is TensorFlow's Shape op: x's shape as a 1-D tensor of dtype
// outType (Int32 or Int64). (Go cannot name it Shape: that is the static
// shape type.)
func ShapeOp(s *Scope, x Output, outType DType) Output {
	return shapeOp(s, "Shape", x, outType, MakeShape(int64(x.Shape().Rank())))
}

// Size is x's element count as a scalar of dtype outType (Int32 or Int64).
func Size(s *Scope, x Output, outType DType) Output {
	return shapeOp(s, "Size", x, outType, ScalarShape())
}

func shapeOp(s *Scope, typ string, x Output, outType DType, out Shape) Output {
	if !checkValid(s, typ, x) {
		return Output{}
	}
	if outType != Int32 && outType != Int64 {
		s.Errorf(ErrDType, "%s %q: out_type is %v, want int32 or int64", typ, s.nodeName(typ), outType)
		return Output{}
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x}, Attrs: map[string]any{"T": x.DType(), "out_type": outType},
		Outputs: []OutputInfo{{outType, out}}})
	return op.Output(0)
}

// Rank is x's rank as an int32 scalar.
func Rank(s *Scope, x Output) Output {
	if !checkValid(s, "Rank", x) {
		return Output{}
	}
	op := s.AddOp(OpSpec{Type: "Rank", Inputs: []any{x}, Attrs: map[string]any{"T": x.DType()},
		Outputs: []OutputInfo{{Int32, ScalarShape()}}})
	return op.Output(0)
}

// Reshape gives x the shape held by the int32/int64 vector shape; one entry
// may be -1, inferred from x's element count.
func Reshape(s *Scope, x, shape Output) Output {
	const typ = "Reshape"
	if !checkValid(s, typ, x, shape) || !checkDType(s, typ, "shape", shape, indexTypes) ||
		!checkRank(s, typ, "shape", shape, 1, 1) {
		return Output{}
	}
	out := shapeFromTensor(shape)
	if v, ok := constInts(shape); ok {
		infer := -1
		known := int64(1)
		for i, d := range v {
			switch {
			case d == -1 && infer >= 0:
				s.Errorf(ErrShape, "%s %q: shape %v has more than one -1", typ, s.nodeName(typ), v)
				return Output{}
			case d == -1:
				infer = i
			case d < 0:
				s.Errorf(ErrShape, "%s %q: shape %v has negative size %d", typ, s.nodeName(typ), v, d)
				return Output{}
			default:
				known *= d
			}
		}
		dims := out.Dims()
		if n := x.Shape().NumElements(); n >= 0 {
			switch {
			case infer >= 0 && known > 0 && n%known == 0:
				dims[infer] = n / known
			case infer >= 0 && known == 0 && n == 0:
				s.Errorf(ErrShape, "%s %q: cannot infer the -1 in %v for an empty input (%s) of shape %v",
					typ, s.nodeName(typ), v, x.Name(), x.Shape())
				return Output{}
			case (infer >= 0 && (known == 0 || n%known != 0)) || (infer < 0 && known != n):
				s.Errorf(ErrShape, "%s %q: cannot reshape input (%s) of shape %v (%d elements) to %v",
					typ, s.nodeName(typ), x.Name(), x.Shape(), n, v)
				return Output{}
			}
		}
		out = MakeShape(dims...)
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x, shape}, Attrs: map[string]any{"T": x.DType(), "Tshape": shape.DType()},
		Outputs: []OutputInfo{{x.DType(), out}}})
	return op.Output(0)
}

// ReshapeTo is Reshape to a Const shape (int32 unless a dimension needs
// int64); one dimension may be -1.
func ReshapeTo(s *Scope, x Output, dims ...int64) Output {
	if s.Err() != nil {
		return Output{}
	}
	sub := s.SubScope("Reshape_shape")
	return Reshape(s, x, indexConst(sub, dims))
}

// indexConst is an int32 vector Const of v, or int64 when a value needs it.
func indexConst(s *Scope, v []int64) Output {
	small := true
	for _, d := range v {
		if d != int64(int32(d)) {
			small = false
		}
	}
	if !small {
		return Const(s, MustFromSlice(append([]int64{}, v...), len(v)))
	}
	v32 := make([]int32, len(v))
	for i, d := range v {
		v32[i] = int32(d)
	}
	return Const(s, MustFromSlice(v32, len(v)))
}

// GatherV2 gathers slices of params along axis (a scalar) at indices.
// With batchDims b > 0 the first b dimensions of params and indices are
// batch dimensions gathered pairwise. The output shape is
// params[:axis] + indices[b:] + params[axis+1:]. Indices out of range are
// an error when the graph runs (TensorFlow's CPU kernel behaviour).
func GatherV2(s *Scope, params, indices, axis Output, batchDims int) Output {
	const typ = "GatherV2"
	if !checkValid(s, typ, params, indices, axis) || !checkDType(s, typ, "indices", indices, indexTypes) ||
		!checkDType(s, typ, "axis", axis, indexTypes) || !checkRank(s, typ, "axis", axis, 0, 0) {
		return Output{}
	}
	pr, ir := params.Shape().Rank(), indices.Shape().Rank()
	b := int64(batchDims)
	if b < 0 {
		if ir < 0 {
			s.Errorf(ErrShape, "%s %q: negative batch_dims %d needs indices (%s) of known rank", typ, s.nodeName(typ), b, indices.Name())
			return Output{}
		}
		b += int64(ir)
	}
	if b < 0 || (ir >= 0 && b > int64(ir)) {
		s.Errorf(ErrShape, "%s %q: batch_dims %d out of range for indices (%s) of shape %v", typ, s.nodeName(typ), batchDims, indices.Name(), indices.Shape())
		return Output{}
	}
	out := UnknownShape()
	if pr >= 0 && ir >= 0 && pr > 0 {
		out = UnknownShapeOfRank(pr + ir - 1 - int(b))
	}
	if a, ok := constScalarInt(axis); ok && pr >= 0 {
		if a < -int64(pr) || a >= int64(pr) {
			s.Errorf(ErrShape, "%s %q: axis %d out of range for params (%s) of shape %v", typ, s.nodeName(typ), a, params.Name(), params.Shape())
			return Output{}
		}
		if a < 0 {
			a += int64(pr)
		}
		if b > a {
			s.Errorf(ErrShape, "%s %q: batch_dims %d must be <= axis %d", typ, s.nodeName(typ), b, a)
			return Output{}
		}
		if ir >= 0 {
			for i := 0; i < int(b); i++ {
				if p, q := params.Shape().Dim(i), indices.Shape().Dim(i); p >= 0 && q >= 0 && p != q {
					s.Errorf(ErrShape, "%s %q: batch dimension %d differs: params (%s) %v, indices (%s) %v",
						typ, s.nodeName(typ), i, params.Name(), params.Shape(), indices.Name(), indices.Shape())
					return Output{}
				}
			}
			pd, id := params.Shape().Dims(), indices.Shape().Dims()
			dims := append(append(append([]int64{}, pd[:a]...), id[b:]...), pd[a+1:]...)
			out = MakeShape(dims...)
		}
	}
	if pr == 0 {
		s.Errorf(ErrShape, "%s %q: params (%s) must have rank >= 1, has shape %v", typ, s.nodeName(typ), params.Name(), params.Shape())
		return Output{}
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{params, indices, axis},
		Attrs: map[string]any{"Tparams": params.DType(), "Tindices": indices.DType(), "Taxis": axis.DType(),
			"batch_dims": int64(batchDims)},
		Outputs: []OutputInfo{{params.DType(), out}}})
	return op.Output(0)
}

// OneHot expands integer indices to one-hot vectors of length depth (an
// int32 scalar) along a new axis (-1: last), holding on where the index
// matches and off elsewhere (on and off are scalars of the output dtype).
// Indices outside [0, depth) give all-off vectors.
func OneHot(s *Scope, indices, depth, on, off Output, axis int) Output {
	const typ = "OneHot"
	if !checkValid(s, typ, indices, depth, on, off) || !checkDType(s, typ, "indices", indices, []DType{Uint8, Int32, Int64}) ||
		!checkDType(s, typ, "depth", depth, []DType{Int32}) || !checkRank(s, typ, "depth", depth, 0, 0) ||
		!checkSameDType(s, typ, "on_value", on, "off_value", off) ||
		!checkRank(s, typ, "on_value", on, 0, 0) || !checkRank(s, typ, "off_value", off, 0, 0) {
		return Output{}
	}
	r := indices.Shape().Rank()
	if axis < -1 || (r >= 0 && axis > r) {
		s.Errorf(ErrShape, "%s %q: axis %d out of range for indices (%s) of shape %v", typ, s.nodeName(typ), axis, indices.Name(), indices.Shape())
		return Output{}
	}
	out := UnknownShape()
	if r >= 0 {
		d := int64(-1)
		if v, ok := constScalarInt(depth); ok {
			if v < 0 {
				s.Errorf(ErrShape, "%s %q: depth %d is negative", typ, s.nodeName(typ), v)
				return Output{}
			}
			d = v
		}
		dims := indices.Shape().Dims()
		at := axis
		if at == -1 {
			at = r
		}
		dims = append(dims[:at], append([]int64{d}, dims[at:]...)...)
		out = MakeShape(dims...)
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{indices, depth, on, off},
		Attrs:   map[string]any{"T": on.DType(), "TI": indices.DType(), "axis": int64(axis)},
		Outputs: []OutputInfo{{on.DType(), out}}})
	return op.Output(0)
}

// ExpandDims inserts a dimension of size 1 at axis (a scalar in
// [-rank-1, rank]).
func ExpandDims(s *Scope, x, axis Output) Output {
	const typ = "ExpandDims"
	if !checkValid(s, typ, x, axis) || !checkDType(s, typ, "dim", axis, indexTypes) || !checkRank(s, typ, "dim", axis, 0, 1) {
		return Output{}
	}
	out := UnknownShape()
	r := x.Shape().Rank()
	if a, ok := constScalarInt(axis); ok && r >= 0 {
		if a < -int64(r)-1 || a > int64(r) {
			s.Errorf(ErrShape, "%s %q: axis %d out of range for input (%s) of shape %v", typ, s.nodeName(typ), a, x.Name(), x.Shape())
			return Output{}
		}
		if a < 0 {
			a += int64(r) + 1
		}
		d := x.Shape().Dims()
		out = MakeShape(append(d[:a], append([]int64{1}, d[a:]...)...)...)
	} else if r >= 0 {
		out = UnknownShapeOfRank(r + 1)
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x, axis}, Attrs: map[string]any{"T": x.DType(), "Tdim": axis.DType()},
		Outputs: []OutputInfo{{x.DType(), out}}})
	return op.Output(0)
}

// Squeeze removes the dimensions of size 1 listed in axes (every size-1
// dimension when axes is empty).
func Squeeze(s *Scope, x Output, axes []int) Output {
	const typ = "Squeeze"
	if !checkValid(s, typ, x) {
		return Output{}
	}
	out := UnknownShape()
	if r := x.Shape().Rank(); r >= 0 {
		drop := make([]bool, r)
		for _, a := range axes {
			if a < -r || a >= r {
				s.Errorf(ErrShape, "%s %q: axis %d out of range for input (%s) of shape %v", typ, s.nodeName(typ), a, x.Name(), x.Shape())
				return Output{}
			}
			if a < 0 {
				a += r
			}
			if d := x.Shape().Dim(a); d >= 0 && d != 1 {
				s.Errorf(ErrShape, "%s %q: cannot squeeze axis %d of size %d of input (%s) of shape %v",
					typ, s.nodeName(typ), a, d, x.Name(), x.Shape())
				return Output{}
			}
			drop[a] = true
		}
		dims := []int64{}
		known := true
		for i := 0; i < r; i++ {
			d := x.Shape().Dim(i)
			switch {
			case len(axes) > 0 && drop[i]:
			case len(axes) > 0:
				dims = append(dims, d)
			case d == 1:
			case d < 0:
				known = false
			default:
				dims = append(dims, d)
			}
		}
		if known {
			out = MakeShape(dims...)
		}
	}
	sq := make([]int64, len(axes))
	for i, a := range axes {
		sq[i] = int64(a)
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x}, Attrs: map[string]any{"T": x.DType(), "squeeze_dims": sq},
		Outputs: []OutputInfo{{x.DType(), out}}})
	return op.Output(0)
}

// Fill is a tensor of shape dims (an int32/int64 vector) filled with the
// scalar value.
func Fill(s *Scope, dims, value Output) Output {
	const typ = "Fill"
	if !checkValid(s, typ, dims, value) || !checkDType(s, typ, "dims", dims, indexTypes) ||
		!checkRank(s, typ, "dims", dims, 1, 1) || !checkRank(s, typ, "value", value, 0, 0) {
		return Output{}
	}
	out := shapeFromTensor(dims)
	if v, ok := constInts(dims); ok {
		for _, d := range v {
			if d < 0 {
				s.Errorf(ErrShape, "%s %q: dims %v has a negative entry", typ, s.nodeName(typ), v)
				return Output{}
			}
		}
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{dims, value}, Attrs: map[string]any{"T": value.DType(), "index_type": dims.DType()},
		Outputs: []OutputInfo{{value.DType(), out}}})
	return op.Output(0)
}

// mergeShapes merges the static shapes of values, naming the first
// mismatch.
func mergeShapes(s *Scope, typ string, values []Output) (Shape, bool) {
	sh := values[0].Shape()
	for i, v := range values[1:] {
		if !checkSameDType(s, typ, "values[0]", values[0], "values["+itoa(i+1)+"]", v) {
			return Shape{}, false
		}
		m, err := sh.Merge(v.Shape())
		if err != nil {
			s.Errorf(ErrShape, "%s %q: values[%d] (%s) has shape %v, incompatible with %v of the earlier values",
				typ, s.nodeName(typ), i+1, v.Name(), v.Shape(), sh)
			return Shape{}, false
		}
		sh = m
	}
	return sh, true
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + itoa(i%10)
}

// Pack stacks values (same dtype and shape) along a new axis in
// [-rank-1, rank].
func Pack(s *Scope, values []Output, axis int) Output {
	const typ = "Pack"
	if s.Err() != nil {
		return Output{}
	}
	if len(values) == 0 {
		s.Errorf(ErrArg, "%s %q: no values", typ, s.nodeName(typ))
		return Output{}
	}
	if !checkValid(s, typ, values...) {
		return Output{}
	}
	sh, ok := mergeShapes(s, typ, values)
	if !ok {
		return Output{}
	}
	out := UnknownShape()
	if r := sh.Rank(); r >= 0 {
		if axis < -r-1 || axis > r {
			s.Errorf(ErrShape, "%s %q: axis %d out of range for values of shape %v", typ, s.nodeName(typ), axis, sh)
			return Output{}
		}
		a := axis
		if a < 0 {
			a += r + 1
		}
		d := sh.Dims()
		out = MakeShape(append(d[:a], append([]int64{int64(len(values))}, d[a:]...)...)...)
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{values},
		Attrs:   map[string]any{"T": values[0].DType(), "N": len(values), "axis": int64(axis)},
		Outputs: []OutputInfo{{values[0].DType(), out}}})
	return op.Output(0)
}

// Unpack splits x along axis into num tensors of rank one less.
func Unpack(s *Scope, x Output, num, axis int) []Output {
	const typ = "Unpack"
	if !checkValid(s, typ, x) {
		return nil
	}
	out := UnknownShape()
	if r := x.Shape().Rank(); r >= 0 {
		if axis < -r || axis >= r {
			s.Errorf(ErrShape, "%s %q: axis %d out of range for value (%s) of shape %v", typ, s.nodeName(typ), axis, x.Name(), x.Shape())
			return nil
		}
		a := axis
		if a < 0 {
			a += r
		}
		if d := x.Shape().Dim(a); d >= 0 && d != int64(num) {
			s.Errorf(ErrShape, "%s %q: num = %d but value (%s) has shape %v (dimension %d is %d)",
				typ, s.nodeName(typ), num, x.Name(), x.Shape(), a, d)
			return nil
		}
		d := x.Shape().Dims()
		out = MakeShape(append(d[:a:a], d[a+1:]...)...)
	}
	if num < 0 {
		s.Errorf(ErrArg, "%s %q: num = %d is negative", typ, s.nodeName(typ), num)
		return nil
	}
	infos := make([]OutputInfo, num)
	for i := range infos {
		infos[i] = OutputInfo{x.DType(), out}
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x},
		Attrs:   map[string]any{"T": x.DType(), "num": num, "axis": int64(axis)},
		Outputs: infos})
	if op == nil {
		return nil
	}
	res := make([]Output, num)
	for i := range res {
		res[i] = op.Output(i)
	}
	return res
}

// ConcatV2 joins values (same dtype, equal shapes except along axis) along
// axis (an int32/int64 scalar). A single value is returned through Identity,
// since TensorFlow's ConcatV2 needs at least two.
func ConcatV2(s *Scope, values []Output, axis Output) Output {
	const typ = "ConcatV2"
	if s.Err() != nil {
		return Output{}
	}
	if len(values) == 0 {
		s.Errorf(ErrArg, "%s %q: no values", typ, s.nodeName(typ))
		return Output{}
	}
	if !checkValid(s, typ, append(append([]Output{}, values...), axis)...) ||
		!checkDType(s, typ, "axis", axis, indexTypes) || !checkRank(s, typ, "axis", axis, 0, 0) {
		return Output{}
	}
	if len(values) == 1 {
		return Identity(s, values[0])
	}
	r := -1
	for _, v := range values {
		if v.Shape().Rank() >= 0 {
			r = v.Shape().Rank()
			break
		}
	}
	out := UnknownShape()
	if r >= 0 {
		out = UnknownShapeOfRank(r)
	}
	if a, ok := constScalarInt(axis); ok && r >= 0 {
		if a < -int64(r) || a >= int64(r) {
			s.Errorf(ErrShape, "%s %q: axis %d out of range for values of rank %d", typ, s.nodeName(typ), a, r)
			return Output{}
		}
		if a < 0 {
			a += int64(r)
		}
		dims := make([]int64, r)
		for i := range dims {
			dims[i] = -1
		}
		dims[a] = 0
		for k, v := range values {
			if !checkSameDType(s, typ, "values[0]", values[0], "values["+itoa(k)+"]", v) {
				return Output{}
			}
			if v.Shape().Rank() < 0 {
				dims[a] = -1
				continue
			}
			if v.Shape().Rank() != r {
				s.Errorf(ErrShape, "%s %q: values[%d] (%s) has shape %v, want rank %d", typ, s.nodeName(typ), k, v.Name(), v.Shape(), r)
				return Output{}
			}
			for i := 0; i < r; i++ {
				d := v.Shape().Dim(i)
				if int64(i) == a {
					if d < 0 || dims[a] < 0 {
						dims[a] = -1
					} else {
						dims[a] += d
					}
					continue
				}
				if dims[i] >= 0 && d >= 0 && dims[i] != d {
					s.Errorf(ErrShape, "%s %q: values[%d] (%s) has shape %v; dimension %d must be %d",
						typ, s.nodeName(typ), k, v.Name(), v.Shape(), i, dims[i])
					return Output{}
				}
				if dims[i] < 0 {
					dims[i] = d
				}
			}
		}
		out = MakeShape(dims...)
	} else if _, ok := mergeDTypes(s, typ, values); !ok {
		return Output{}
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{values, axis},
		Attrs:   map[string]any{"T": values[0].DType(), "N": len(values), "Tidx": axis.DType()},
		Outputs: []OutputInfo{{values[0].DType(), out}}})
	return op.Output(0)
}

func mergeDTypes(s *Scope, typ string, values []Output) (DType, bool) {
	for k, v := range values[1:] {
		if !checkSameDType(s, typ, "values[0]", values[0], "values["+itoa(k+1)+"]", v) {
			return Invalid, false
		}
	}
	return values[0].DType(), true
}

// StridedSlice is x[begin:end:strides] with TensorFlow's masks (see
// StridedSliceMasks); begin, end and strides are int32/int64 vectors of one
// length.
func StridedSlice(s *Scope, x, begin, end, strides Output, m StridedSliceMasks) Output {
	const typ = "StridedSlice"
	if !checkValid(s, typ, x, begin, end, strides) || !checkDType(s, typ, "begin", begin, indexTypes) ||
		!checkSameDType(s, typ, "begin", begin, "end", end) || !checkSameDType(s, typ, "begin", begin, "strides", strides) {
		return Output{}
	}
	for _, v := range []struct {
		n string
		o Output
	}{{"begin", begin}, {"end", end}, {"strides", strides}} {
		if !checkRank(s, typ, v.n, v.o, 1, 1) {
			return Output{}
		}
	}
	out := UnknownShape()
	bv, ok1 := constInts(begin)
	ev, ok2 := constInts(end)
	sv, ok3 := constInts(strides)
	if ok1 && ok2 && ok3 && x.Shape().Rank() >= 0 {
		spec, err := ComputeStridedSlice(x.Shape().Dims(), bv, ev, sv, m)
		if err != nil {
			s.SetErr(fmt.Errorf("%s %q: input (%s) of shape %v, begin %v, end %v, strides %v: %w",
				typ, s.nodeName(typ), x.Name(), x.Shape(), bv, ev, sv, err))
			return Output{}
		}
		out = MakeShape(spec.Shape...)
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x, begin, end, strides},
		Attrs: map[string]any{"T": x.DType(), "Index": begin.DType(), "begin_mask": m.Begin, "end_mask": m.End,
			"ellipsis_mask": m.Ellipsis, "new_axis_mask": m.NewAxis, "shrink_axis_mask": m.ShrinkAxis},
		Outputs: []OutputInfo{{x.DType(), out}}})
	return op.Output(0)
}

// Slice takes size[i] elements of x from begin[i] in each dimension
// (size -1: to the end); begin and size are int32/int64 vectors.
func Slice(s *Scope, x, begin, size Output) Output {
	const typ = "Slice"
	if !checkValid(s, typ, x, begin, size) || !checkDType(s, typ, "begin", begin, indexTypes) ||
		!checkSameDType(s, typ, "begin", begin, "size", size) ||
		!checkRank(s, typ, "begin", begin, 1, 1) || !checkRank(s, typ, "size", size, 1, 1) {
		return Output{}
	}
	out := shapeFromTensor(size)
	r := x.Shape().Rank()
	if out.Rank() >= 0 && r >= 0 && out.Rank() != r {
		s.Errorf(ErrShape, "%s %q: size (%s) has %d entries for input (%s) of shape %v", typ, s.nodeName(typ), size.Name(), out.Rank(), x.Name(), x.Shape())
		return Output{}
	}
	bv, okb := constInts(begin)
	if sv, ok := constInts(size); ok {
		dims := make([]int64, len(sv))
		for i, d := range sv {
			dim := x.Shape().Dim(i)
			var b int64 = -1
			if okb && i < len(bv) {
				b = bv[i]
			}
			switch {
			case d == -1 && b >= 0 && dim >= 0:
				dims[i] = dim - b
			case d == -1:
				dims[i] = -1
			default:
				dims[i] = d
			}
			if d < -1 || (okb && dim >= 0 && (b < 0 || (d >= 0 && b+d > dim) || b > dim)) {
				s.Errorf(ErrShape, "%s %q: begin %v, size %v out of bounds for input (%s) of shape %v",
					typ, s.nodeName(typ), bv, sv, x.Name(), x.Shape())
				return Output{}
			}
		}
		out = MakeShape(dims...)
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x, begin, size}, Attrs: map[string]any{"T": x.DType(), "Index": begin.DType()},
		Outputs: []OutputInfo{{x.DType(), out}}})
	return op.Output(0)
}

// Range is the vector start, start+delta, ... up to (not including) limit;
// the three are scalars of one dtype (float32, float64, int32 or int64).
func Range(s *Scope, start, limit, delta Output) Output {
	const typ = "Range"
	if !checkValid(s, typ, start, limit, delta) || !checkDType(s, typ, "start", start, []DType{Float, Double, Int32, Int64}) ||
		!checkSameDType(s, typ, "start", start, "limit", limit) || !checkSameDType(s, typ, "start", start, "delta", delta) {
		return Output{}
	}
	for _, v := range []struct {
		n string
		o Output
	}{{"start", start}, {"limit", limit}, {"delta", delta}} {
		if !checkRank(s, typ, v.n, v.o, 0, 0) {
			return Output{}
		}
	}
	n := int64(-1)
	st, l, d := constFloat(start), constFloat(limit), constFloat(delta)
	if st != nil && l != nil && d != nil {
		var err error
		n, err = RangeSize(*st, *l, *d, start.DType().IsInteger())
		if err != nil {
			s.SetErr(fmt.Errorf("%s %q: %w", typ, s.nodeName(typ), err))
			return Output{}
		}
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{start, limit, delta}, Attrs: map[string]any{"Tidx": start.DType()},
		Outputs: []OutputInfo{{start.DType(), MakeShape(n)}}})
	return op.Output(0)
}

// RangeSize is the length of Range(start, limit, delta), as TensorFlow
// computes it: ceil(|limit-start| / |delta|) for integers, ceil(|(limit-start)
// / delta|) for floats. delta must be nonzero and point from start to limit.
func RangeSize(start, limit, delta float64, integer bool) (int64, error) {
	switch {
	case delta == 0:
		return 0, fmt.Errorf("%w: Range: delta must be nonzero", ErrArg)
	case delta > 0 && start > limit:
		return 0, fmt.Errorf("%w: Range: requires start <= limit when delta > 0: %v/%v", ErrArg, start, limit)
	case delta < 0 && start < limit:
		return 0, fmt.Errorf("%w: Range: requires start >= limit when delta < 0: %v/%v", ErrArg, start, limit)
	}
	var n float64
	if integer {
		a, b := math.Abs(limit-start), math.Abs(delta)
		n = math.Floor((a + b - 1) / b)
	} else {
		n = math.Ceil(math.Abs((limit - start) / delta))
	}
	if n > math.MaxInt32*float64(1<<16) || math.IsNaN(n) {
		return 0, fmt.Errorf("%w: Range: %v elements", ErrTooBig, n)
	}
	return int64(n), nil
}

// constFloat returns the value of a numeric scalar Const.
func constFloat(x Output) *float64 {
	t := constTensor(x)
	if t == nil || t.NumElements() != 1 {
		return nil
	}
	var v float64
	switch d := t.Data().(type) {
	case []float32:
		v = float64(d[0])
	case []float64:
		v = d[0]
	case []int32:
		v = float64(d[0])
	case []int64:
		v = float64(d[0])
	default:
		return nil
	}
	return &v
}

// Tile repeats x multiples[i] times along dimension i (multiples is an
// int32/int64 vector of length rank(x)).
func Tile(s *Scope, x, multiples Output) Output {
	const typ = "Tile"
	if !checkValid(s, typ, x, multiples) || !checkDType(s, typ, "multiples", multiples, indexTypes) ||
		!checkRank(s, typ, "multiples", multiples, 1, 1) {
		return Output{}
	}
	m := shapeFromTensor(multiples)
	r := x.Shape().Rank()
	if m.Rank() >= 0 && r >= 0 && m.Rank() != r {
		s.Errorf(ErrShape, "%s %q: multiples (%s) has %d entries for input (%s) of shape %v", typ, s.nodeName(typ), multiples.Name(), m.Rank(), x.Name(), x.Shape())
		return Output{}
	}
	out := UnknownShape()
	if m.Rank() >= 0 {
		dims := make([]int64, m.Rank())
		for i := range dims {
			a, b := x.Shape().Dim(i), m.Dim(i)
			dims[i] = -1
			if a >= 0 && b >= 0 {
				dims[i] = a * b
			}
		}
		out = MakeShape(dims...)
	} else if r >= 0 {
		out = UnknownShapeOfRank(r)
	}
	if v, ok := constInts(multiples); ok {
		for _, e := range v {
			if e < 0 {
				s.Errorf(ErrShape, "%s %q: multiples %v has a negative entry", typ, s.nodeName(typ), v)
				return Output{}
			}
		}
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x, multiples}, Attrs: map[string]any{"T": x.DType(), "Tmultiples": multiples.DType()},
		Outputs: []OutputInfo{{x.DType(), out}}})
	return op.Output(0)
}

// Transpose permutes the dimensions of x: output dimension i is input
// dimension perm[i].
func Transpose(s *Scope, x, perm Output) Output {
	const typ = "Transpose"
	if !checkValid(s, typ, x, perm) || !checkDType(s, typ, "perm", perm, indexTypes) || !checkRank(s, typ, "perm", perm, 1, 1) {
		return Output{}
	}
	out := UnknownShape()
	r := x.Shape().Rank()
	if p, ok := constInts(perm); ok {
		seen := make([]bool, len(p))
		bad := r >= 0 && len(p) != r
		for _, e := range p {
			if e < 0 || e >= int64(len(p)) || seen[e] {
				bad = true
				break
			}
			seen[e] = true
		}
		if bad {
			s.Errorf(ErrShape, "%s %q: perm %v is not a permutation of the dimensions of x (%s) of shape %v",
				typ, s.nodeName(typ), p, x.Name(), x.Shape())
			return Output{}
		}
		dims := make([]int64, len(p))
		for i, e := range p {
			dims[i] = x.Shape().Dim(int(e))
		}
		out = MakeShape(dims...)
	} else if r >= 0 {
		out = UnknownShapeOfRank(r)
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x, perm}, Attrs: map[string]any{"T": x.DType(), "Tperm": perm.DType()},
		Outputs: []OutputInfo{{x.DType(), out}}})
	return op.Output(0)
}

// BroadcastTo broadcasts x to shape (an int32/int64 vector) by NumPy's
// rules; x's dimensions must each be 1 or equal the target's.
func BroadcastTo(s *Scope, x, shape Output) Output {
	const typ = "BroadcastTo"
	if !checkValid(s, typ, x, shape) || !checkDType(s, typ, "shape", shape, indexTypes) || !checkRank(s, typ, "shape", shape, 1, 1) {
		return Output{}
	}
	out := shapeFromTensor(shape)
	if out.Rank() >= 0 && x.Shape().Rank() >= 0 {
		b, err := BroadcastShapes(x.Shape(), out)
		if err != nil || b.Rank() != out.Rank() || !b.CompatibleWith(out) {
			s.Errorf(ErrShape, "%s %q: input (%s) of shape %v cannot broadcast to %v", typ, s.nodeName(typ), x.Name(), x.Shape(), out)
			return Output{}
		}
		for i := 0; i < out.Rank(); i++ {
			if xd := x.Shape().Dim(i - out.Rank() + x.Shape().Rank()); i-out.Rank()+x.Shape().Rank() >= 0 && xd >= 0 && xd != 1 && out.Dim(i) >= 0 && xd != out.Dim(i) {
				s.Errorf(ErrShape, "%s %q: input (%s) of shape %v cannot broadcast to %v", typ, s.nodeName(typ), x.Name(), x.Shape(), out)
				return Output{}
			}
		}
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x, shape}, Attrs: map[string]any{"T": x.DType(), "Tidx": shape.DType()},
		Outputs: []OutputInfo{{x.DType(), out}}})
	return op.Output(0)
}

// Pad adds zeros around x: paddings is an int32/int64 [rank, 2] matrix of
// (before, after) counts per dimension.
func Pad(s *Scope, x, paddings Output) Output {
	const typ = "Pad"
	if !checkValid(s, typ, x, paddings) || !checkDType(s, typ, "paddings", paddings, indexTypes) ||
		!checkRank(s, typ, "paddings", paddings, 2, 2) {
		return Output{}
	}
	r := x.Shape().Rank()
	ps := paddings.Shape()
	if (ps.Dim(1) >= 0 && ps.Dim(1) != 2) || (r >= 0 && ps.Dim(0) >= 0 && ps.Dim(0) != int64(r)) {
		s.Errorf(ErrShape, "%s %q: paddings (%s) has shape %v, want (%d, 2) for input (%s) of shape %v",
			typ, s.nodeName(typ), paddings.Name(), ps, r, x.Name(), x.Shape())
		return Output{}
	}
	out := UnknownShape()
	if r < 0 && ps.Dim(0) >= 0 {
		r = int(ps.Dim(0))
	}
	if r >= 0 {
		out = UnknownShapeOfRank(r)
	}
	if p, ok := constInts(paddings); ok && r >= 0 {
		dims := make([]int64, r)
		for i := range dims {
			if p[2*i] < 0 || p[2*i+1] < 0 {
				s.Errorf(ErrShape, "%s %q: paddings %v has a negative entry", typ, s.nodeName(typ), p)
				return Output{}
			}
			dims[i] = -1
			if d := x.Shape().Dim(i); d >= 0 {
				dims[i] = d + p[2*i] + p[2*i+1]
			}
		}
		out = MakeShape(dims...)
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x, paddings}, Attrs: map[string]any{"T": x.DType(), "Tpaddings": paddings.DType()},
		Outputs: []OutputInfo{{x.DType(), out}}})
	return op.Output(0)
}
