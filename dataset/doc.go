// Package dataset reads segmentation datasets: images and masks stored as
// PNG, JPEG or NumPy .npy files in two directories, paired by file name.
//
// Images become float32 pixels in height x width x channels order (HWC, as
// Keras models take them); 8-bit and 16-bit PNG/JPEG samples are scaled to
// [0, 1] by default (ScaleUnit), .npy arrays keep their values. Masks become
// one class index per pixel: binary masks stored as 0/1 or 0/255 give 0 and
// 1, class-index masks (grey values or a paletted PNG's indices) give the
// stored index.
//
// Batches streams a dataset in batches of equally sized images: only the
// batches in flight are in memory, never the whole dataset, and images of
// different sizes simply start a new batch.
package dataset

import "errors"

// Sentinel errors; messages name the file at fault. Test with errors.Is.
var (
	// ErrFormat: the file cannot be decoded (not a PNG/JPEG/.npy, corrupt,
	// unsupported element type or extension).
	ErrFormat = errors.New("dataset: unreadable file")
	// ErrImage: the file decodes but is not an image tfseg can feed
	// (bad rank, too many channels, too large).
	ErrImage = errors.New("dataset: bad image")
	// ErrMask: the file decodes but is not a usable mask (colour, not
	// integer, negative, wrong size).
	ErrMask = errors.New("dataset: bad mask")
	// ErrUnpaired: an image has no mask.
	ErrUnpaired = errors.New("dataset: image without mask")
	// ErrAmbiguous: two files in one directory share a name (a.png, a.npy).
	ErrAmbiguous = errors.New("dataset: ambiguous file name")
)
