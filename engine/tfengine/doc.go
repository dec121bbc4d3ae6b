// Package tfengine runs tfseg graphs and SavedModels on real TensorFlow, through
// libtensorflow's C API and the Go bindings github.com/wamuir/graft/tensorflow.
//
// The engine exists only when the module is built with the build tag
// `tensorflow` (it needs cgo and libtensorflow); a blank import then registers
// it with the engine registry as "tensorflow":
//
//	import _ "github.com/tfseg/tfseg/engine/tfengine"
//
//	e, err := engine.Get("tensorflow")
//
// Without the tag this package is empty and engine.Get("tensorflow") reports
// engine.ErrUnknownEngine, so the default build stays pure Go.
//
// # Which libtensorflow
//
// graft v0.10.0 compiles against TensorFlow 2.18's C headers. Users with
// libtensorflow 2.x point CGO_CFLAGS and CGO_LDFLAGS at it. Everyone else (and
// CI) runs scripts/install-libtensorflow.sh, which installs the real
// libtensorflow 1.15 CPU build from the npm package tfjs-node-lambda-releases
// and prints the environment to export:
//
//	eval "$(scripts/install-libtensorflow.sh --env)"
//	go test -tags tensorflow ./...
//
// Graph building, sessions, SavedModel loading (TF1 and Keras SavedModels
// whose ops TensorFlow 1.15 knows) all work against 1.15. String tensors do
// not: TensorFlow 2.x changed their in-memory layout (TF_TString), so this
// engine refuses to feed or fetch them.
//
// # Sessions
//
// Engine.NewSession imports a GraphDef (as tfops.Scope.Finalize builds it)
// into a TensorFlow graph; Engine.LoadSavedModel loads a SavedModel with
// TensorFlow's own loader (variables restored, init ops run). Both return a
// *Session, whose Run feeds and fetches tensors by name ("node" or
// "node:index"), converts between tfops.Tensor and TensorFlow tensors, and is
// safe for concurrent use. Errors wrap the engine package's sentinels
// (engine.ErrUnknownNode, engine.ErrFeed, engine.ErrInvalidGraph,
// engine.ErrUnsupportedOp, engine.ErrKernel, engine.ErrClosed) and name the
// node, feed or fetch at fault.
package tfengine

// Name is the name under which the engine registers itself when the package
// is built with the `tensorflow` build tag.
const Name = "tensorflow"
