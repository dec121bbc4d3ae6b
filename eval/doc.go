// Package eval evaluates a segmentation model on a dataset: it runs the
// model in batches on an engine, computes the requested losses and
// metrics (built by package graphs, run on the same engine) for every
// image, and summarises them (mean, standard deviation, minimum, maximum,
// the worst images by name), with CSV, JSON and text outputs and optional
// overlays.
//
// Memory is bounded by the batches in flight, not by the dataset: images
// are read as they are needed (dataset.Batches), and only the per-image
// numbers are kept.
package eval
