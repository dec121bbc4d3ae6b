// Package bridge puts tfseg's losses and metrics into the TensorFlow graphs
// of programs that already use the TensorFlow Go bindings
// github.com/wamuir/graft: ImportLoss builds a loss from the graphs registry
// and imports it into the caller's *tf.Graph, on the caller's tensors.
//
// It exists only with the build tag `tensorflow` (it needs cgo and
// libtensorflow, see package engine/tfengine for which one); without the tag
// the package is empty, so the default build stays pure Go.
//
//	loss, err := bridge.ImportLoss(g, "train", "focal", graphs.Config{"gamma": "2"},
//		labels, probs, nil)
//
// The loss is imported with graft's Graph.ImportWithOptions: every node of
// the loss gets the given prefix ("train/Log1p", the result "train/loss"),
// and GraphImportOptions.AddInputMapping rewires the loss's y_true, y_pred
// (and weights, sample_weight) placeholders onto the caller's tensors. The
// placeholders themselves stay in the graph, unconnected, as
// "<prefix>/inputs/y_true" and so on; they are never run.
//
// Placeholders take the caller's dtypes and static shapes, so a shape or
// dtype mismatch is reported before anything is imported, as an error
// wrapping graphs.ErrInput that names the loss and the caller's tensors;
// a float64 y_pred keeps float64 arithmetic; labels of another dtype are
// cast to y_pred's. A failure inside TensorFlow's importer wraps ErrImport.
//
// # tfgo users
//
// Programs built with github.com/galeone/tfgo use the sibling package
// bridge/tfgobridge, whose ImportLoss adds the loss to an op.Scope of
// github.com/galeone/tensorflow. It lives apart because graft and galeone's
// fork each carry generated copies of TensorFlow's .proto files: a binary
// linking both (tfgobridge always does, since tfseg builds graphs with
// graft's protos) must relax the protobuf registration conflict check,
// which importing tfgobridge does (see its documentation). This package links only graft and needs
// nothing.
//
// # API (build tag tensorflow)
//
//	func ImportLoss(g *tf.Graph, prefix, name string, cfg graphs.Config, yTrue, yPred tf.Output, extra map[string]tf.Output) (tf.Output, error)
//	var ErrImport error
package bridge
