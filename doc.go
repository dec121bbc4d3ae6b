// Package tfseg gives Go programs the segmentation losses Keras users train
// with, as real TensorFlow graphs, and runs Keras-trained segmentation models
// from Go, on a pure-Go engine or on real TensorFlow, with the two agreeing
// to the last digits.
//
// # Running a SavedModel
//
// Load opens a SavedModel directory (saved_model.pb plus variables/) and
// Model.Run calls one of its signatures:
//
//	m, err := tfseg.Load("unet")                       // the Go engine, tags "serve"
//	if err != nil { ... }
//	defer m.Close()
//	for _, s := range m.Signatures() { fmt.Println(s.Key, s.Inputs, s.Outputs) }
//	out, err := m.Run(ctx, "serving_default", map[string]*tfops.Tensor{"inputs": img})
//
// Inputs are checked against the signature (unknown or missing names,
// dtypes and shapes are errors that list what the signature accepts), and
// a Model is safe for concurrent Runs. Options pick the engine (WithEngine),
// the MetaGraphDef (WithTags), resource limits for untrusted models
// (WithLimits) and the thread budget (WithThreads).
//
// # Losses and metrics on tensors
//
// NewLoss compiles a loss or metric of package graphs by name, with typed
// or string parameters, on any engine (the default "go" needs no import):
//
//	l, err := tfseg.NewLoss("focal", tfseg.Params{"gamma": 2.0})
//	defer l.Close()
//	v, err := l.Value(ctx, mask, probs) // masks may be uint8, int32, int64 or bool
//
// The graph and session are built on the first Run for a set of input
// shapes and reused after; Run, Value and PerImage (one value per image)
// are safe for concurrent use. Eval is the one-shot form. NewMetrics and
// Metrics.Score give per-image IoU, Dice, precision, recall and pixel
// accuracy, per class and mean, the numbers `tfseg eval` reports, for a
// batch of model outputs and masks in memory; package dataset converts
// image.Image values and encoded bytes to tensors and model outputs back
// to masks and images.
//
// # Engines
//
// Graphs run on an engine chosen by name from the registry in package
// engine:
//
//   - "go" (package engine/goengine), the default: a pure-Go executor with
//     kernels for the ops of the losses and of Keras models (convolutions,
//     pooling, resizing, variables, function calls, the optimizers of
//     training graphs). No cgo: `go get` and go.
//   - "tensorflow" (package engine/tfengine): real TensorFlow through
//     libtensorflow and github.com/wamuir/graft, compiled in with the build
//     tag `tensorflow`; scripts/install-libtensorflow.sh installs the
//     library where no TensorFlow 2.x C library is at hand.
//
// Both engines pass the same op-level conformance suite (package
// engine/enginetest), and the tests compare them on real Keras SavedModels.
//
// # The rest of the module
//
//   - tfops: tensors, dtypes, shapes and the graph builder (a Scope with a
//     sticky error) whose op constructors carry TensorFlow's names.
//   - graphs: the losses and metrics (cross entropy variants, the U-Net
//     distance-weighted loss, Dice, Tversky, Lovász, ...), a registry by
//     name, and Export to a SavedModel.
//   - savedmodel: reading and writing saved_model.pb and variables bundles
//     without TensorFlow.
//   - weightmap: U-Net weight maps from masks (exact Euclidean distance
//     transform, connected components).
//   - dataset, eval, overlay: images and masks from disk, the evaluation
//     loop and its report (losses and metrics per image, worst images),
//     overlay pictures; baseline: the demo's model and noisy-circles data.
//   - npy: .npy files as tensors.
//   - bridge, bridge/tfgobridge: a loss imported into a graft or tfgo graph
//     (build tag tensorflow).
//   - cmd/tfseg: the command line (demo, eval, verify, loss, export,
//     weightmap, inspect, run).
package tfseg
