// Package serve is a model server that speaks TensorFlow Serving's REST API
// (tensorflow_serving/g3doc/api_rest.md) on tfseg's engines: the pure-Go
// engine by default, so one static binary serves Keras and TensorFlow
// SavedModels with no libtensorflow.
//
// # API
//
//   - GET /v1/models/NAME[/versions/V|/labels/L]: the model's version
//     statuses (GetModelStatusResponse as JSON).
//   - GET /v1/models/NAME[/versions/V|/labels/L]/metadata: the signature
//     defs (GetModelMetadataResponse as JSON).
//   - POST /v1/models/NAME[/versions/V|/labels/L]:predict: the row
//     ("instances" -> "predictions") and columnar ("inputs" -> "outputs")
//     formats, "signature_name", {"b64": ...} strings, NaN and Infinity,
//     with the JSON reading and writing rules of
//     tensorflow_serving/util/json_tensor.cc.
//   - POST /v1/models/NAME[...]:evaluate (tfseg): images and masks in,
//     the per-image losses and metrics of `tfseg eval` out (package eval).
//   - POST /v1/losses/LOSS:compute (tfseg): a loss or metric of package
//     graphs on arrays.
//   - GET /healthz, GET /metrics (Prometheus).
//
// # Models and versions
//
// A model is a base path with numbered version subdirectories, as in
// TensorFlow Serving. By default the newest version is served; a
// ModelConfig's VersionPolicy can serve the latest N, all, or specific
// versions, and its Labels name versions. Base paths are polled: a new
// version is loaded while the old one keeps serving, then the old one is
// taken out of service, drained (its requests finish) and closed. A version
// that fails to load is reported (state END with its error in the status
// API) and does not disturb the versions being served.
//
// # Error policy
//
// Every error is answered as TensorFlow Serving answers it: {"error": msg}
// with the HTTP status its ToHTTPStatusCode gives the canonical code
// (INVALID_ARGUMENT and FAILED_PRECONDITION 400, NOT_FOUND 404,
// RESOURCE_EXHAUSTED 429, DEADLINE_EXCEEDED 504, UNAVAILABLE 503,
// UNIMPLEMENTED 501), and the messages TensorFlow Serving writes where it
// writes them ("Servable not found for request: Latest(half)", "JSON
// Parse error: ..."). A body over Options.MaxBodyBytes is answered 413
// (TensorFlow Serving has no such limit). A request tensor is checked
// against the signature's dtype while it is read, and against its shape
// by tfseg.Model.Run, with two documented adaptations (see
// Server.runAdapted in predict.go) that reproduce TensorFlow Serving's
// answers to its own examples. Classify and regress need tf.Example
// parsing, which the Go engine does not run: 501.
package serve
