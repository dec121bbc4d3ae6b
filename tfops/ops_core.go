package tfops

// This file holds the op constructors every other file builds on and the
// helpers they share. Each constructor emits the NodeDef TensorFlow expects
// (the op's registered name and every required attr) and infers the static
// output shape where the inputs' shapes allow.

// Placeholder is a graph input of the given dtype and (possibly partial) shape.
func Placeholder(s *Scope, dtype DType, shape Shape) Output {
	op := s.AddOp(OpSpec{Type: "Placeholder", Attrs: map[string]any{"dtype": dtype, "shape": shape},
		Outputs: []OutputInfo{{dtype, shape}}})
	return op.Output(0)
}

// PlaceholderWithDefault is input whose value is def unless fed.
func PlaceholderWithDefault(s *Scope, def Output, shape Shape) Output {
	if s.Err() != nil {
		return Output{}
	}
	if !shape.CompatibleWith(def.Shape()) {
		s.Errorf(ErrShape, "PlaceholderWithDefault: default has shape %v, declared %v", def.Shape(), shape)
		return Output{}
	}
	op := s.AddOp(OpSpec{Type: "PlaceholderWithDefault", Inputs: []any{def},
		Attrs:   map[string]any{"dtype": def.DType(), "shape": shape},
		Outputs: []OutputInfo{{def.DType(), shape}}})
	return op.Output(0)
}

// Const embeds a concrete tensor in the graph.
func Const(s *Scope, t *Tensor) Output {
	if s.Err() != nil {
		return Output{}
	}
	if t == nil {
		s.Errorf(ErrArg, "Const: nil tensor")
		return Output{}
	}
	op := s.AddOp(OpSpec{Type: "Const", Attrs: map[string]any{"dtype": t.DType(), "value": t},
		Outputs: []OutputInfo{{t.DType(), t.StaticShape()}}})
	return op.Output(0)
}

// Scalar is Const of a rank-0 tensor of dtype d holding v (float32, float64,
// int32 or int64 as d says).
func Scalar(s *Scope, d DType, v float64) Output {
	switch d {
	case Float:
		return Const(s, FromScalar(float32(v)))
	case Double:
		return Const(s, FromScalar(v))
	case Int32:
		return Const(s, FromScalar(int32(v)))
	case Int64:
		return Const(s, FromScalar(int64(v)))
	}
	s.Errorf(ErrDType, "Scalar: unsupported dtype %v", d)
	return Output{}
}

// Int32s is Const of an int32 vector (axes, shapes, perms).
func Int32s(s *Scope, v ...int32) Output {
	return Const(s, MustFromSlice(append([]int32{}, v...), len(v)))
}

// unary adds an elementwise op with attr T whose output equals the input's type.
func unary(s *Scope, typ string, x Output) Output {
	if s.Err() != nil {
		return Output{}
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x}, Attrs: map[string]any{"T": x.DType()},
		Outputs: []OutputInfo{{x.DType(), x.Shape()}}})
	return op.Output(0)
}

// binaryShape checks dtypes and broadcasts shapes for a two-input op.
func binaryShape(s *Scope, typ string, x, y Output) (Shape, bool) {
	if s.Err() != nil {
		return Shape{}, false
	}
	if !x.Valid() || !y.Valid() {
		s.Errorf(ErrScope, "%s: invalid input", typ)
		return Shape{}, false
	}
	if x.DType() != y.DType() {
		s.Errorf(ErrDType, "%s: x (%s) is %v but y (%s) is %v", typ, x.Name(), x.DType(), y.Name(), y.DType())
		return Shape{}, false
	}
	sh, err := BroadcastShapes(x.Shape(), y.Shape())
	if err != nil {
		s.Errorf(ErrShape, "%s: x (%s) has shape %v, y (%s) has shape %v: not broadcastable",
			typ, x.Name(), x.Shape(), y.Name(), y.Shape())
		return Shape{}, false
	}
	return sh, true
}

// binaryOp adds a broadcasting two-input op with attr T; outDType overrides the
// output type (Bool for comparisons) when not Invalid.
func binaryOp(s *Scope, typ string, x, y Output, outDType DType) Output {
	sh, ok := binaryShape(s, typ, x, y)
	if !ok {
		return Output{}
	}
	if outDType == Invalid {
		outDType = x.DType()
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x, y}, Attrs: map[string]any{"T": x.DType()},
		Outputs: []OutputInfo{{outDType, sh}}})
	return op.Output(0)
}

// Identity returns its input.
func Identity(s *Scope, x Output) Output { return unary(s, "Identity", x) }

// AddV2 is x + y with broadcasting.
func AddV2(s *Scope, x, y Output) Output { return binaryOp(s, "AddV2", x, y, Invalid) }

// Log1p is log(1 + x), accurate for small x.
func Log1p(s *Scope, x Output) Output { return unary(s, "Log1p", x) }

// reduction adds Sum/Mean/Max/Min/Prod/All/Any over the axes in axes (an
// int32 vector; negative entries count from the end).
func reduction(s *Scope, typ string, x Output, axes []int, keepDims bool) Output {
	if s.Err() != nil {
		return Output{}
	}
	r := x.Shape().Rank()
	out := UnknownShape()
	ax32 := make([]int32, len(axes))
	if r >= 0 {
		drop := make([]bool, r)
		for i, a := range axes {
			if a < -r || a >= r || (r == 0 && a != 0 && a != -1) {
				s.Errorf(ErrShape, "%s: axis %d out of range for %s of rank %d", typ, a, x.Name(), r)
				return Output{}
			}
			if a < 0 {
				a += r
			}
			if r > 0 {
				drop[a] = true
			}
			ax32[i] = int32(axes[i])
		}
		var dims []int64
		for i := 0; i < r; i++ {
			switch {
			case !drop[i]:
				dims = append(dims, x.Shape().Dim(i))
			case keepDims:
				dims = append(dims, 1)
			}
		}
		out = MakeShape(dims...)
	} else {
		for i, a := range axes {
			ax32[i] = int32(a)
		}
	}
	idx := Const(s.SubScope(typ+"_axes"), MustFromSlice(ax32, len(ax32)))
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x, idx},
		Attrs:   map[string]any{"T": x.DType(), "Tidx": Int32, "keep_dims": keepDims},
		Outputs: []OutputInfo{{x.DType(), out}}})
	return op.Output(0)
}

// AllAxes returns [0, 1, ..., rank-1] for x, or nil when its rank is unknown.
func AllAxes(x Output) []int {
	r := x.Shape().Rank()
	if r < 0 {
		return nil
	}
	a := make([]int, r)
	for i := range a {
		a[i] = i
	}
	return a
}

// Sum reduces x over axes.
func Sum(s *Scope, x Output, axes []int, keepDims bool) Output {
	return reduction(s, "Sum", x, axes, keepDims)
}
