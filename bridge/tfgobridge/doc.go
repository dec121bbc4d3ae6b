// Package tfgobridge puts tfseg's losses and metrics into the graphs of
// programs built with github.com/galeone/tfgo: ImportLoss adds a loss from
// the graphs registry to an op.Scope of github.com/galeone/tensorflow (the
// fork of TensorFlow's Go bindings tfgo is built on), on the caller's
// tensors, and returns the loss tensor.
//
// It exists only with the build tag `tensorflow` (it needs cgo and
// libtensorflow, see package engine/tfengine for which one); without the tag
// the package is empty, so the default build stays pure Go. The versions
// tested are tfgo v0.0.0-20230715013254-16113111dc99 and galeone/tensorflow
// v0.0.0-20221023090153-6b7fa0680c3e; the module proxy refuses @latest for
// tfgo, so pin:
//
//	go get github.com/galeone/tfgo@v0.0.0-20230715013254-16113111dc99
//
// A tfgo program adds the loss where it builds its model:
//
//	root := tg.NewRoot()
//	...
//	loss, err := tfgobridge.ImportLoss(root, "focal", nil, labels, probs, nil)
//	out := tg.Exec(root, []tf.Output{loss}, feeds, nil)
//
// # How the loss gets into the scope
//
// An op.Scope does not expose its *tf.Graph (Finalize does, but leaves the
// scope unusable), so ImportLoss does not import a GraphDef: it adds the
// loss's ops one by one with Scope.AddOperation, under scope.SubScope(name)
// ("focal/Log1p", the result "focal/loss"; a second focal loss in the same
// scope gets "focal_1/..."), wiring the caller's tensors in where the loss
// reads y_true, y_pred, weights or sample_weight. The ops inherit the
// scope's device and control dependencies. Dtypes and static shapes are
// checked before the first op is added; an op TensorFlow still rejects
// sets the scope's sticky error (as any op constructor does) and ImportLoss
// returns it wrapped in ErrImport.
//
// # Protobuf registration conflict: handled by importing this package
//
// tfseg builds its graphs with the protobuf types of github.com/wamuir/graft;
// github.com/galeone/tensorflow carries its own generated copy of the same
// TensorFlow .proto files. Both register them under the same file names
// ("tensorflow/core/framework/full_type.proto", ...) in the process-wide
// protobuf registry, and google.golang.org/protobuf panics at start-up on
// the second registration by default:
//
//	panic: proto: file "tensorflow/core/framework/full_type.proto" is already registered
//
// This package's import of its internal package protowarn sets
// GOLANG_PROTOBUF_REGISTRATION_CONFLICT=ignore in the process environment
// during package initialization, before graft's copy registers, when the
// environment does not set the variable: a tfgo program that imports
// tfgobridge starts with no step of its own, no panic and no warning. (The
// variable stays set, so child processes inherit it; a value the
// environment already gives, such as "warn" or "panic", is kept.) The
// linker flag does the same without touching the environment:
//
//	go build -tags tensorflow -ldflags "-X google.golang.org/protobuf/reflect/protoregistry.conflictPolicy=ignore"
//
// With the conflict ignored, the second copy's files are left out of the
// global registry; both copies still marshal and unmarshal their own
// messages, which is all tfseg and galeone's bindings do. The only thing
// lost is looking up the second copy's descriptors by name through the
// global registry (protoregistry.GlobalFiles), which neither uses.
//
// Why the two copies cannot be kept apart: ImportLoss builds the loss with
// packages graphs and tfops, whose GraphDefs are graft's messages, so any
// binary that builds a loss links graft's generated packages, whatever
// form (messages or serialized bytes) the loss then takes on its way into
// the tfgo graph. The graft bridge (package bridge) links only graft and
// needs none of this.
//
// # API (build tag tensorflow)
//
//	func ImportLoss(scope *op.Scope, name string, cfg graphs.Config, yTrue, yPred tf.Output, extra map[string]tf.Output) (tf.Output, error)
//	var ErrImport error
package tfgobridge
