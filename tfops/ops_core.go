package tfops

import (
	"fmt"
	"strings"
)

// This file holds the op constructors every other file builds on and the
// helpers they share. Each constructor emits the NodeDef TensorFlow expects
// (the op's registered name and every required attr) and infers the static
// output shape where the inputs' shapes allow. Attrs that have a default in
// TensorFlow's op registry and that TensorFlow 1.15 may not know are left
// out, so the GraphDefs import into every TensorFlow from 1.15 on.

// Placeholder is a graph input of the given dtype and (possibly partial) shape.
func Placeholder(s *Scope, dtype DType, shape Shape) Output {
	op := s.AddOp(OpSpec{Type: "Placeholder", Attrs: map[string]any{"dtype": dtype, "shape": shape},
		Outputs: []OutputInfo{{dtype, shape}}})
	return op.Output(0)
}

// PlaceholderWithDefault is input whose value is def unless fed.
func PlaceholderWithDefault(s *Scope, def Output, shape Shape) Output {
	if !checkValid(s, "PlaceholderWithDefault", def) {
		return Output{}
	}
	if !shape.CompatibleWith(def.Shape()) {
		s.Errorf(ErrShape, "PlaceholderWithDefault %q: default %s has shape %v, declared %v",
			s.nodeName("PlaceholderWithDefault"), def.Name(), def.Shape(), shape)
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
		s.Errorf(ErrArg, "Const %q: nil tensor", s.nodeName("Const"))
		return Output{}
	}
	op := s.AddOp(OpSpec{Type: "Const", Attrs: map[string]any{"dtype": t.DType(), "value": t},
		Outputs: []OutputInfo{{t.DType(), t.StaticShape()}}})
	return op.Output(0)
}

// Scalar is Const of a rank-0 tensor of dtype d holding v (float32, float64,
// int32, int64 or bool as d says; bool is v != 0).
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
	case Bool:
		return Const(s, FromScalar(v != 0))
	}
	s.Errorf(ErrDType, "Scalar: unsupported dtype %v", d)
	return Output{}
}

// Int32s is Const of an int32 vector (axes, shapes, perms).
func Int32s(s *Scope, v ...int32) Output {
	return Const(s, MustFromSlice(append([]int32{}, v...), len(v)))
}

// nodeName is the name the next op of type typ would get in s; error
// messages use it to name the node at fault.
func (s *Scope) nodeName(typ string) string {
	if s.opName != "" {
		return s.uniqueName(s.opName)
	}
	return s.uniqueName(typ)
}

// Sets of dtypes the op constructors accept, as TensorFlow's op registry
// constrains attr T.
var (
	floatTypes   = []DType{Float, Double, Half}
	indexTypes   = []DType{Int32, Int64}
	realTypes    = []DType{Float, Double, Half, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64}
	signedTypes  = []DType{Float, Double, Half, Int8, Int16, Int32, Int64}
	boolTypes    = []DType{Bool}
	anyTypes     []DType // nil: every dtype
	numBoolTypes = append(append([]DType{}, realTypes...), Bool)
)

func typeList(ts []DType) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.String()
	}
	return strings.Join(parts, ", ")
}

// checkValid records an error unless every input is a valid output.
func checkValid(s *Scope, typ string, xs ...Output) bool {
	if s.Err() != nil {
		return false
	}
	for i, x := range xs {
		if !x.Valid() {
			s.Errorf(ErrScope, "%s %q: input %d is not a valid output", typ, s.nodeName(typ), i)
			return false
		}
	}
	return true
}

// checkDType records an error unless x's dtype is one of allowed (nil: any).
func checkDType(s *Scope, typ, arg string, x Output, allowed []DType) bool {
	if allowed == nil {
		return true
	}
	for _, d := range allowed {
		if x.DType() == d {
			return true
		}
	}
	s.Errorf(ErrDType, "%s %q: %s (%s) is %v, want one of %s", typ, s.nodeName(typ), arg, x.Name(), x.DType(), typeList(allowed))
	return false
}

// checkSameDType records an error unless y has x's dtype.
func checkSameDType(s *Scope, typ, xArg string, x Output, yArg string, y Output) bool {
	if x.DType() != y.DType() {
		s.Errorf(ErrDType, "%s %q: %s (%s) is %v but %s (%s) is %v", typ, s.nodeName(typ),
			xArg, x.Name(), x.DType(), yArg, y.Name(), y.DType())
		return false
	}
	return true
}

// checkRank records an error unless x's rank, when known, lies in [lo, hi]
// (hi < 0: no upper bound).
func checkRank(s *Scope, typ, arg string, x Output, lo, hi int) bool {
	r := x.Shape().Rank()
	if r < 0 || (r >= lo && (hi < 0 || r <= hi)) {
		return true
	}
	want := fmt.Sprintf("rank %d", lo)
	switch {
	case hi < 0:
		want = fmt.Sprintf("rank >= %d", lo)
	case hi != lo:
		want = fmt.Sprintf("rank %d..%d", lo, hi)
	}
	s.Errorf(ErrShape, "%s %q: %s (%s) has shape %v, want %s", typ, s.nodeName(typ), arg, x.Name(), x.Shape(), want)
	return false
}

// constTensor returns the value of x when x is the output of a Const node.
func constTensor(x Output) *Tensor {
	if !x.Valid() || x.Op.typ != "Const" {
		return nil
	}
	a := x.Op.attrs["value"]
	if a == nil || a.GetTensor() == nil {
		return nil
	}
	t, err := FromProto(a.GetTensor())
	if err != nil {
		return nil
	}
	return t
}

// constInts returns the elements of an int32/int64 Const as int64s.
func constInts(x Output) ([]int64, bool) {
	t := constTensor(x)
	if t == nil {
		return nil, false
	}
	return t.IndexValues()
}

// constScalarInt returns the value of a scalar (or one-element) integer Const.
func constScalarInt(x Output) (int64, bool) {
	v, ok := constInts(x)
	if !ok || len(v) != 1 {
		return 0, false
	}
	return v[0], true
}

// shapeFromTensor is the static shape a 1-D shape tensor describes: its
// value when it is a Const, else a shape of its length when that is known.
func shapeFromTensor(x Output) Shape {
	if v, ok := constInts(x); ok {
		d := make([]int64, len(v))
		for i, e := range v {
			d[i] = max(e, -1)
		}
		return MakeShape(d...)
	}
	if n := x.Shape().Dim(0); x.Shape().Rank() == 1 && n >= 0 {
		return UnknownShapeOfRank(int(n))
	}
	return UnknownShape()
}

// unaryOf adds an elementwise op with attr T whose output has the input's
// shape and dtype out (x's dtype when Invalid), after checking x's dtype is
// in allowed.
func unaryOf(s *Scope, typ string, x Output, allowed []DType, out DType) Output {
	if !checkValid(s, typ, x) || !checkDType(s, typ, "x", x, allowed) {
		return Output{}
	}
	if out == Invalid {
		out = x.DType()
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x}, Attrs: map[string]any{"T": x.DType()},
		Outputs: []OutputInfo{{out, x.Shape()}}})
	return op.Output(0)
}

// unary adds an elementwise op with attr T whose output equals the input's type.
func unary(s *Scope, typ string, x Output) Output { return unaryOf(s, typ, x, anyTypes, Invalid) }

// binaryShape checks dtypes and broadcasts shapes for a two-input op.
func binaryShape(s *Scope, typ string, x, y Output) (Shape, bool) {
	if !checkValid(s, typ, x, y) || !checkSameDType(s, typ, "x", x, "y", y) {
		return Shape{}, false
	}
	sh, err := BroadcastShapes(x.Shape(), y.Shape())
	if err != nil {
		s.Errorf(ErrShape, "%s %q: x (%s) has shape %v, y (%s) has shape %v: not broadcastable",
			typ, s.nodeName(typ), x.Name(), x.Shape(), y.Name(), y.Shape())
		return Shape{}, false
	}
	return sh, true
}

// binaryOf adds a broadcasting two-input op with attr T (no attrs when
// noT); out overrides the output dtype (Bool for comparisons) when not
// Invalid.
func binaryOf(s *Scope, typ string, x, y Output, allowed []DType, out DType, noT bool) Output {
	sh, ok := binaryShape(s, typ, x, y)
	if !ok || !checkDType(s, typ, "x", x, allowed) {
		return Output{}
	}
	if out == Invalid {
		out = x.DType()
	}
	attrs := map[string]any{"T": x.DType()}
	if noT {
		attrs = nil
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x, y}, Attrs: attrs,
		Outputs: []OutputInfo{{out, sh}}})
	return op.Output(0)
}

// Identity returns its input.
func Identity(s *Scope, x Output) Output { return unary(s, "Identity", x) }

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
