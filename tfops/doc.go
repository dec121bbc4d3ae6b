// Package tfops is the ground floor of tfseg: tensors, dtypes and shapes,
// and a TensorFlow graph builder whose op constructors carry TensorFlow's
// op names. Every other package of the module speaks its types.
//
// # Tensors
//
// A *Tensor is a concrete, dense, row-major array: a DType (Float for
// float32, Double, Int32, Int64, Uint8, Bool, String, ...), a fully known
// shape and the element slice. FromSlice wraps a Go slice without copying,
// FromScalar and Zeros make new ones, Values[T] and Float32s, Int32s, ...
// give the elements back. Images travel as NHWC batches (batch, height,
// width, channels), as Keras models take them: NHWC and At(n, y, x, c)
// index them, Image(n) and Batch(lo, hi) slice the batch axis without
// copying, Stack joins tensors along a new first axis. ToProto and
// FromProto convert to and from TensorFlow's TensorProto, bounded by
// DefaultMaxTensorBytes for untrusted input.
//
// # Shapes
//
// A Shape is a static shape as TensorFlow's shape inference knows it: an
// unknown rank, or dimensions of which some may be unknown (-1).
// MakeShape, ShapeOf and UnknownShapeOfRank build them; CompatibleWith,
// Merge and BroadcastShapes combine them.
//
// # Graphs
//
// NewScope starts a graph. Op constructors take a *Scope and their inputs
// and return an Output, named as TensorFlow names the op (Placeholder,
// Const, AddV2, Log1p, Sigmoid, Sum,
// StridedSlice, TopKV2, ...): each adds one NodeDef with TensorFlow's attrs
// and infers the output's dtype and static shape. The scope holds a sticky
// error: the first invalid construction (a dtype TensorFlow's op registry
// rejects, incompatible shapes, a nil input) is recorded, later
// constructors become no-ops, and Finalize returns the error or the
// GraphDef, so graph code reads like the math and checks one error at the
// end:
//
//	s := tfops.NewScope()
//	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.UnknownShapeOfRank(4))
//	y := tfops.Identity(s.WithOpName("y"), tfops.Sigmoid(s, x))
//	gd, err := s.Finalize() // a GraphDef any TensorFlow (or engine) runs
//
// SubScope, WithOpName, WithControlDependencies and WithDevice name and
// place ops as TensorFlow's C++ and Go scopes do. GraphDefs use the
// generated protobuf types of github.com/wamuir/graft and the producer
// version of TensorFlow 1.15 (GraphProducerVersion), which every later
// TensorFlow reads.
package tfops
