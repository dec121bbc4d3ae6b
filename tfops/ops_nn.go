package tfops

// Neural-network ops from TensorFlow's nn_ops: activations, Softmax and
// LogSoftmax over the last axis, and TopKV2.

// Relu is max(x, 0).
func Relu(s *Scope, x Output) Output { return unaryOf(s, "Relu", x, realTypes, Invalid) }

// Relu6 is min(max(x, 0), 6).
func Relu6(s *Scope, x Output) Output { return unaryOf(s, "Relu6", x, realTypes, Invalid) }

// Elu is x for x > 0, e^x - 1 otherwise.
func Elu(s *Scope, x Output) Output { return unaryOf(s, "Elu", x, floatTypes, Invalid) }

// Softmax is exp(x) / sum(exp(x)) over the last axis, computed stably as
// TensorFlow does (x minus its row maximum first). x needs rank >= 1.
func Softmax(s *Scope, x Output) Output {
	if !checkValid(s, "Softmax", x) || !checkRank(s, "Softmax", "logits", x, 1, -1) {
		return Output{}
	}
	return unaryOf(s, "Softmax", x, floatTypes, Invalid)
}

// LogSoftmax is x - log(sum(exp(x))) over the last axis, computed stably.
// x needs rank >= 1.
func LogSoftmax(s *Scope, x Output) Output {
	if !checkValid(s, "LogSoftmax", x) || !checkRank(s, "LogSoftmax", "logits", x, 1, -1) {
		return Output{}
	}
	return unaryOf(s, "LogSoftmax", x, floatTypes, Invalid)
}

// TopKV2 returns the k largest entries along the last axis of x and their
// int32 indices; with sorted they come in descending order. Among equal
// values the lower index comes first. k is an int32 scalar.
func TopKV2(s *Scope, x, k Output, sorted bool) (values, indices Output) {
	const typ = "TopKV2"
	if !checkValid(s, typ, x, k) || !checkDType(s, typ, "input", x, realTypes) ||
		!checkDType(s, typ, "k", k, []DType{Int32}) || !checkRank(s, typ, "k", k, 0, 0) ||
		!checkRank(s, typ, "input", x, 1, -1) {
		return Output{}, Output{}
	}
	out := UnknownShape()
	if r := x.Shape().Rank(); r >= 1 {
		d := x.Shape().Dims()
		d[r-1] = -1
		if kv, ok := constScalarInt(k); ok {
			if kv < 0 || (x.Shape().Dim(r-1) >= 0 && kv > x.Shape().Dim(r-1)) {
				s.Errorf(ErrShape, "%s %q: k = %d, but input (%s) has shape %v (last dimension must be >= k >= 0)",
					typ, s.nodeName(typ), kv, x.Name(), x.Shape())
				return Output{}, Output{}
			}
			d[r-1] = kv
		}
		out = MakeShape(d...)
	}
	op := s.AddOp(OpSpec{Type: typ, Inputs: []any{x, k}, Attrs: map[string]any{"T": x.DType(), "sorted": sorted},
		Outputs: []OutputInfo{{x.DType(), out}, {Int32, out}}})
	return op.Output(0), op.Output(1)
}
