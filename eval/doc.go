// Package eval evaluates a segmentation model on a dataset: it runs the
// model in batches on an engine, computes the requested losses and
// metrics (built by package graphs, run on the same engine) for every
// image, and summarises them (mean, standard deviation, minimum, maximum,
// the worst images by name, the pixel confusion matrix), with text, CSV,
// JSON and self-contained HTML outputs (Report.WriteHTML) and overlay cards
// of the worst images (package overlay). Compare sets two reports on the
// same images side by side, with paired bootstrap intervals.
//
// Memory is bounded by the batches in flight, not by the dataset: images
// are read as they are needed (dataset.Batches), and only the per-image
// numbers are kept, with the material of the few worst images' cards.
//
// Errors: a bad image or mask wraps ErrBadInput and names the file; a
// model that misbehaves wraps ErrModel; reports that cannot be compared
// wrap ErrCompare; a model that cannot be brought up (variables, init op)
// wraps tfseg.ErrLoad, as tfseg.Load does (they share internal/smload).
// Each wraps its cause too (%w), so errors.Is finds savedmodel's and the
// engine's sentinels through it. Run writes its overlay directory beside its destination
// and moves it into place only on success: an error or a cancelled context
// leaves nothing.
package eval
