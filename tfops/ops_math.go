package tfops

// Elementwise math: unary functions, broadcasting binary arithmetic,
// comparisons and logic. Each emits TensorFlow's op of the same name with
// attr T (none for the Logical* ops) and the input's (or the broadcast)
// static shape. Inputs whose dtype TensorFlow's op registry rejects are
// reported when the graph is built, naming the node and both dtypes.

// Neg is -x.
func Neg(s *Scope, x Output) Output { return unaryOf(s, "Neg", x, signedTypes, Invalid) }

// Abs is |x|.
func Abs(s *Scope, x Output) Output { return unaryOf(s, "Abs", x, signedTypes, Invalid) }

// Exp is e^x.
func Exp(s *Scope, x Output) Output { return unaryOf(s, "Exp", x, floatTypes, Invalid) }

// Expm1 is e^x - 1, accurate for small x.
func Expm1(s *Scope, x Output) Output { return unaryOf(s, "Expm1", x, floatTypes, Invalid) }

// Log is the natural logarithm (-Inf at 0, NaN below 0).
func Log(s *Scope, x Output) Output { return unaryOf(s, "Log", x, floatTypes, Invalid) }

// Log1p is log(1 + x), accurate for small x.
func Log1p(s *Scope, x Output) Output { return unaryOf(s, "Log1p", x, floatTypes, Invalid) }

// Sigmoid is 1 / (1 + e^-x).
func Sigmoid(s *Scope, x Output) Output { return unaryOf(s, "Sigmoid", x, floatTypes, Invalid) }

// Tanh is the hyperbolic tangent.
func Tanh(s *Scope, x Output) Output { return unaryOf(s, "Tanh", x, floatTypes, Invalid) }

// Square is x*x.
func Square(s *Scope, x Output) Output { return unaryOf(s, "Square", x, signedTypes, Invalid) }

// Sqrt is the square root.
func Sqrt(s *Scope, x Output) Output { return unaryOf(s, "Sqrt", x, floatTypes, Invalid) }

// Rsqrt is 1 / sqrt(x).
func Rsqrt(s *Scope, x Output) Output { return unaryOf(s, "Rsqrt", x, floatTypes, Invalid) }

// Reciprocal is 1 / x.
func Reciprocal(s *Scope, x Output) Output {
	return unaryOf(s, "Reciprocal", x, signedTypes, Invalid)
}

// Floor rounds toward -Inf.
func Floor(s *Scope, x Output) Output { return unaryOf(s, "Floor", x, floatTypes, Invalid) }

// Ceil rounds toward +Inf.
func Ceil(s *Scope, x Output) Output { return unaryOf(s, "Ceil", x, floatTypes, Invalid) }

// Round rounds half to even, as TensorFlow's Round (banker's rounding).
func Round(s *Scope, x Output) Output { return unaryOf(s, "Round", x, signedTypes, Invalid) }

// Rint rounds to the nearest integer, half to even, as TensorFlow's Rint.
func Rint(s *Scope, x Output) Output { return unaryOf(s, "Rint", x, floatTypes, Invalid) }

// Sign is -1, 0 or 1 (NaN for NaN).
func Sign(s *Scope, x Output) Output { return unaryOf(s, "Sign", x, signedTypes, Invalid) }

// ZerosLike is a tensor of zeros with x's shape and dtype.
func ZerosLike(s *Scope, x Output) Output {
	return unaryOf(s, "ZerosLike", x, numBoolTypes, Invalid)
}

// OnesLike is a tensor of ones with x's shape and dtype.
func OnesLike(s *Scope, x Output) Output {
	return unaryOf(s, "OnesLike", x, numBoolTypes, Invalid)
}

// IsNan reports NaN elements.
func IsNan(s *Scope, x Output) Output { return unaryOf(s, "IsNan", x, floatTypes, Bool) }

// IsInf reports ±Inf elements.
func IsInf(s *Scope, x Output) Output { return unaryOf(s, "IsInf", x, floatTypes, Bool) }

// IsFinite reports elements that are neither NaN nor ±Inf.
func IsFinite(s *Scope, x Output) Output { return unaryOf(s, "IsFinite", x, floatTypes, Bool) }

// LogicalNot is !x for a bool tensor.
func LogicalNot(s *Scope, x Output) Output {
	if !checkValid(s, "LogicalNot", x) || !checkDType(s, "LogicalNot", "x", x, boolTypes) {
		return Output{}
	}
	op := s.AddOp(OpSpec{Type: "LogicalNot", Inputs: []any{x}, Outputs: []OutputInfo{{Bool, x.Shape()}}})
	return op.Output(0)
}

// AddV2 is x + y with broadcasting.
func AddV2(s *Scope, x, y Output) Output {
	return binaryOf(s, "AddV2", x, y, realTypes, Invalid, false)
}

// Sub is x - y with broadcasting.
func Sub(s *Scope, x, y Output) Output { return binaryOf(s, "Sub", x, y, realTypes, Invalid, false) }

// Mul is x * y with broadcasting.
func Mul(s *Scope, x, y Output) Output { return binaryOf(s, "Mul", x, y, realTypes, Invalid, false) }

// RealDiv is x / y with broadcasting.
func RealDiv(s *Scope, x, y Output) Output {
	return binaryOf(s, "RealDiv", x, y, realTypes, Invalid, false)
}

// DivNoNan is x / y, or 0 where y == 0 (even when x is 0, Inf or NaN).
func DivNoNan(s *Scope, x, y Output) Output {
	return binaryOf(s, "DivNoNan", x, y, floatTypes, Invalid, false)
}

// Maximum is max(x, y) with broadcasting.
func Maximum(s *Scope, x, y Output) Output {
	return binaryOf(s, "Maximum", x, y, realTypes, Invalid, false)
}

// Minimum is min(x, y) with broadcasting.
func Minimum(s *Scope, x, y Output) Output {
	return binaryOf(s, "Minimum", x, y, realTypes, Invalid, false)
}

// Pow is x^y with broadcasting.
func Pow(s *Scope, x, y Output) Output { return binaryOf(s, "Pow", x, y, signedTypes, Invalid, false) }

// SquaredDifference is (x - y)^2 with broadcasting.
func SquaredDifference(s *Scope, x, y Output) Output {
	return binaryOf(s, "SquaredDifference", x, y, signedTypes, Invalid, false)
}

// FloorDiv is floor(x / y) with broadcasting (Python's //).
func FloorDiv(s *Scope, x, y Output) Output {
	return binaryOf(s, "FloorDiv", x, y, realTypes, Invalid, false)
}

// FloorMod is x - floor(x / y) * y with broadcasting (Python's %: the
// result has y's sign).
func FloorMod(s *Scope, x, y Output) Output {
	return binaryOf(s, "FloorMod", x, y, realTypes, Invalid, false)
}

// LogicalAnd is x && y for bool tensors, with broadcasting.
func LogicalAnd(s *Scope, x, y Output) Output {
	return binaryOf(s, "LogicalAnd", x, y, boolTypes, Bool, true)
}

// LogicalOr is x || y for bool tensors, with broadcasting.
func LogicalOr(s *Scope, x, y Output) Output {
	return binaryOf(s, "LogicalOr", x, y, boolTypes, Bool, true)
}

// Equal is x == y elementwise (a bool tensor), with broadcasting.
func Equal(s *Scope, x, y Output) Output { return binaryOf(s, "Equal", x, y, anyTypes, Bool, false) }

// NotEqual is x != y elementwise, with broadcasting.
func NotEqual(s *Scope, x, y Output) Output {
	return binaryOf(s, "NotEqual", x, y, anyTypes, Bool, false)
}

// Greater is x > y elementwise, with broadcasting.
func Greater(s *Scope, x, y Output) Output {
	return binaryOf(s, "Greater", x, y, realTypes, Bool, false)
}

// GreaterEqual is x >= y elementwise, with broadcasting.
func GreaterEqual(s *Scope, x, y Output) Output {
	return binaryOf(s, "GreaterEqual", x, y, realTypes, Bool, false)
}

// Less is x < y elementwise, with broadcasting.
func Less(s *Scope, x, y Output) Output { return binaryOf(s, "Less", x, y, realTypes, Bool, false) }

// LessEqual is x <= y elementwise, with broadcasting.
func LessEqual(s *Scope, x, y Output) Output {
	return binaryOf(s, "LessEqual", x, y, realTypes, Bool, false)
}

// ClipByValue is min(max(x, lo), hi). lo and hi have x's dtype and are
// scalars or have x's shape (TensorFlow does not broadcast them further).
func ClipByValue(s *Scope, x, lo, hi Output) Output {
	const typ = "ClipByValue"
	if !checkValid(s, typ, x, lo, hi) || !checkDType(s, typ, "t", x, realTypes) ||
		!checkSameDType(s, typ, "t", x, "clip_value_min", lo) || !checkSameDType(s, typ, "t", x, "clip_value_max", hi) {
		return Output{}
	}
	for _, b := range []struct {
		name string
		o    Output
	}{{"clip_value_min", lo}, {"clip_value_max", hi}} {
		if b.o.Shape().Rank() != 0 && !b.o.Shape().CompatibleWith(x.Shape()) {
			s.Errorf(ErrShape, "%s %q: %s (%s) has shape %v, want a scalar or t's shape %v",
				typ, s.nodeName(typ), b.name, b.o.Name(), b.o.Shape(), x.Shape())
			return Output{}
		}
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x, lo, hi}, Attrs: map[string]any{"T": x.DType()},
		Outputs: []OutputInfo{{x.DType(), x.Shape()}}})
	return op.Output(0)
}

// Cast converts x to dtype to (C++ static_cast semantics, as TensorFlow:
// float to int truncates toward zero, bool is x != 0).
func Cast(s *Scope, x Output, to DType) Output {
	if !checkValid(s, "Cast", x) {
		return Output{}
	}
	op := s.AddOp(OpSpec{Type: "Cast", Inputs: []any{x}, Attrs: map[string]any{"SrcT": x.DType(), "DstT": to},
		Outputs: []OutputInfo{{to, x.Shape()}}})
	return op.Output(0)
}

// SelectV2 picks x where cond is true and y elsewhere; all three broadcast.
func SelectV2(s *Scope, cond, x, y Output) Output {
	const typ = "SelectV2"
	if !checkValid(s, typ, cond, x, y) || !checkDType(s, typ, "condition", cond, boolTypes) ||
		!checkSameDType(s, typ, "t", x, "e", y) {
		return Output{}
	}
	sh, err := BroadcastShapes(x.Shape(), y.Shape())
	if err == nil {
		sh, err = BroadcastShapes(cond.Shape(), sh)
	}
	if err != nil {
		s.Errorf(ErrShape, "%s %q: condition (%s) %v, t (%s) %v and e (%s) %v are not broadcastable",
			typ, s.nodeName(typ), cond.Name(), cond.Shape(), x.Name(), x.Shape(), y.Name(), y.Shape())
		return Output{}
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{cond, x, y}, Attrs: map[string]any{"T": x.DType()},
		Outputs: []OutputInfo{{x.DType(), sh}}})
	return op.Output(0)
}
