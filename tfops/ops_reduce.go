package tfops

// Reductions (Sum, Mean, Max, Min, Prod, All, Any), ArgMax/ArgMin and
// Cumsum. Reductions emit TensorFlow's op with attrs T (not for All/Any),
// Tidx and keep_dims; the axes become an int32 Const input.

// reductionTypes gives the dtypes each reduction accepts.
var reductionTypes = map[string][]DType{
	"Sum": realTypes, "Mean": realTypes, "Prod": realTypes,
	"Max": realTypes, "Min": realTypes, "All": boolTypes, "Any": boolTypes,
}

// reducedShape is the static shape of reducing x over axes (already
// checked to lie in range) with keepDims.
func reducedShape(in Shape, axes []int64, keepDims bool) Shape {
	r := in.Rank()
	if r < 0 {
		return UnknownShape()
	}
	drop := make([]bool, r)
	for _, a := range axes {
		if a < 0 {
			a += int64(r)
		}
		if r > 0 {
			drop[a] = true
		}
	}
	dims := []int64{}
	for i := 0; i < r; i++ {
		switch {
		case !drop[i]:
			dims = append(dims, in.Dim(i))
		case keepDims:
			dims = append(dims, 1)
		}
	}
	return MakeShape(dims...)
}

// checkAxes records an error unless every axis lies in [-rank, rank) (a
// scalar accepts 0 and -1, as TensorFlow does). Unknown rank passes.
func checkAxes(s *Scope, typ string, x Output, axes []int64) bool {
	r := int64(x.Shape().Rank())
	if r < 0 {
		return true
	}
	lo, hi := -r, r
	if r == 0 {
		lo, hi = -1, 1
	}
	for _, a := range axes {
		if a < lo || a >= hi {
			s.Errorf(ErrShape, "%s %q: axis %d out of range for input (%s) of shape %v (rank %d)",
				typ, s.nodeName(typ), a, x.Name(), x.Shape(), r)
			return false
		}
	}
	return true
}

// reduction adds Sum/Mean/Max/Min/Prod/All/Any over the static axes
// (negative entries count from the end; nil means every axis).
func reduction(s *Scope, typ string, x Output, axes []int, keepDims bool) Output {
	if !checkValid(s, typ, x) {
		return Output{}
	}
	if axes == nil {
		if x.Shape().Rank() < 0 {
			sub := s.SubScope(typ + "_axes")
			all := Range(sub, Scalar(sub, Int32, 0), Rank(sub, x), Scalar(sub, Int32, 1))
			return Reduce(s, typ, x, all, keepDims)
		}
		axes = AllAxes(x)
	}
	ax32 := make([]int32, len(axes))
	ax64 := make([]int64, len(axes))
	for i, a := range axes {
		ax32[i], ax64[i] = int32(a), int64(a)
	}
	if !checkAxes(s, typ, x, ax64) {
		return Output{}
	}
	idx := Const(s.SubScope(typ+"_axes"), MustFromSlice(ax32, len(ax32)))
	return Reduce(s, typ, x, idx, keepDims)
}

// Reduce adds the reduction op typ ("Sum", "Mean", "Max", "Min", "Prod",
// "All", "Any") of x over the axes held by the int32/int64 tensor axes
// (a scalar or a vector; negative entries count from the end).
func Reduce(s *Scope, typ string, x, axes Output, keepDims bool) Output {
	allowed, ok := reductionTypes[typ]
	if !ok {
		if s.Err() == nil {
			s.Errorf(ErrArg, "Reduce: %q is not a reduction (want Sum, Mean, Max, Min, Prod, All or Any)", typ)
		}
		return Output{}
	}
	if !checkValid(s, typ, x, axes) || !checkDType(s, typ, "input", x, allowed) ||
		!checkDType(s, typ, "reduction_indices", axes, indexTypes) || !checkRank(s, typ, "reduction_indices", axes, 0, 1) {
		return Output{}
	}
	out := UnknownShape()
	if v, ok := constInts(axes); ok {
		if !checkAxes(s, typ, x, v) {
			return Output{}
		}
		out = reducedShape(x.Shape(), v, keepDims)
	} else if keepDims && x.Shape().Rank() >= 0 {
		out = UnknownShapeOfRank(x.Shape().Rank())
	}
	attrs := map[string]any{"Tidx": axes.DType(), "keep_dims": keepDims}
	if typ != "All" && typ != "Any" {
		attrs["T"] = x.DType()
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x, axes}, Attrs: attrs, Outputs: []OutputInfo{{x.DType(), out}}})
	return op.Output(0)
}

// Sum reduces x over axes by addition (nil axes: every axis).
func Sum(s *Scope, x Output, axes []int, keepDims bool) Output {
	return reduction(s, "Sum", x, axes, keepDims)
}

// Mean reduces x over axes by the arithmetic mean (nil axes: every axis).
func Mean(s *Scope, x Output, axes []int, keepDims bool) Output {
	return reduction(s, "Mean", x, axes, keepDims)
}

// Max reduces x over axes by the maximum (nil axes: every axis).
func Max(s *Scope, x Output, axes []int, keepDims bool) Output {
	return reduction(s, "Max", x, axes, keepDims)
}

// Min reduces x over axes by the minimum (nil axes: every axis).
func Min(s *Scope, x Output, axes []int, keepDims bool) Output {
	return reduction(s, "Min", x, axes, keepDims)
}

// Prod reduces x over axes by multiplication (nil axes: every axis).
func Prod(s *Scope, x Output, axes []int, keepDims bool) Output {
	return reduction(s, "Prod", x, axes, keepDims)
}

// All reduces a bool x over axes by logical and (nil axes: every axis).
func All(s *Scope, x Output, axes []int, keepDims bool) Output {
	return reduction(s, "All", x, axes, keepDims)
}

// Any reduces a bool x over axes by logical or (nil axes: every axis).
func Any(s *Scope, x Output, axes []int, keepDims bool) Output {
	return reduction(s, "Any", x, axes, keepDims)
}

// argReduce adds ArgMax or ArgMin over the scalar axis with output dtype
// outType (Int32 or Int64).
func argReduce(s *Scope, typ string, x, axis Output, outType DType) Output {
	if !checkValid(s, typ, x, axis) || !checkDType(s, typ, "input", x, realTypes) ||
		!checkDType(s, typ, "dimension", axis, indexTypes) || !checkRank(s, typ, "dimension", axis, 0, 0) {
		return Output{}
	}
	if outType != Int32 && outType != Int64 {
		s.Errorf(ErrDType, "%s %q: output_type is %v, want int32 or int64", typ, s.nodeName(typ), outType)
		return Output{}
	}
	if !checkRank(s, typ, "input", x, 1, -1) {
		return Output{}
	}
	out := UnknownShape()
	if a, ok := constScalarInt(axis); ok {
		if !checkAxes(s, typ, x, []int64{a}) {
			return Output{}
		}
		out = reducedShape(x.Shape(), []int64{a}, false)
	} else if r := x.Shape().Rank(); r > 0 {
		out = UnknownShapeOfRank(r - 1)
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x, axis},
		Attrs:   map[string]any{"T": x.DType(), "Tidx": axis.DType(), "output_type": outType},
		Outputs: []OutputInfo{{outType, out}}})
	return op.Output(0)
}

// ArgMax is the index of the largest element along axis (the first one
// among ties; NaN counts as larger than everything, as in TensorFlow).
func ArgMax(s *Scope, x, axis Output, outType DType) Output {
	return argReduce(s, "ArgMax", x, axis, outType)
}

// ArgMin is the index of the smallest element along axis (the first one
// among ties).
func ArgMin(s *Scope, x, axis Output, outType DType) Output {
	return argReduce(s, "ArgMin", x, axis, outType)
}

// Cumsum is the running sum of x along the scalar axis. exclusive leaves
// out each element itself (the first output is 0); reverse sums from the end.
func Cumsum(s *Scope, x, axis Output, exclusive, reverse bool) Output {
	const typ = "Cumsum"
	if !checkValid(s, typ, x, axis) || !checkDType(s, typ, "x", x, realTypes) ||
		!checkDType(s, typ, "axis", axis, indexTypes) || !checkRank(s, typ, "axis", axis, 0, 0) ||
		!checkRank(s, typ, "x", x, 1, -1) {
		return Output{}
	}
	if a, ok := constScalarInt(axis); ok && !checkAxes(s, typ, x, []int64{a}) {
		return Output{}
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x, axis},
		Attrs:   map[string]any{"T": x.DType(), "Tidx": axis.DType(), "exclusive": exclusive, "reverse": reverse},
		Outputs: []OutputInfo{{x.DType(), x.Shape()}}})
	return op.Output(0)
}
