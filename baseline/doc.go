// Package baseline holds tfseg's built-in segmentation model and the
// noisy-circles dataset it is evaluated on, so that `tfseg demo` shows the
// whole job (a SavedModel with variables, a dataset, an evaluation) on a
// fresh machine with nothing downloaded.
package baseline
