// Package parity checks Go against Keras: it reads saved cases (inputs and
// the outputs Keras computed), runs them on a SavedModel or a loss of
// package graphs on any engine, and compares element by element with
// NumPy's allclose rule, |got - want| <= atol + rtol*|want|, reporting the
// largest absolute and relative errors, the worst element (the largest
// error in units of the tolerance) and a histogram of the distance in
// units in the last place (ulps, counted in the precision Go computed in).
// It is what `tfseg verify` runs.
//
// Cases come in two layouts (ReadCaseDirs, ReadKerasGoldens):
//
//   - a case directory holds inputs/NAME.npy (one per signature input, or
//     y_true, y_pred, weights, sample_weight for a loss) and
//     outputs/NAME.npy (what Keras computed: one per signature output, or
//     one file for a loss); a directory of such directories is read whole;
//   - keras_goldens.json, as python/export_losses.py writes it, lists
//     results {case, loss, params, inputs: {input: array}, expected, npy}:
//     the input arrays are the cases of a goldens.json (graphs.GoldensJSON
//     by default), the Keras values are in the .npy file named by "npy"
//     (relative to the JSON file), else in "expected".
//
// Errors name the case, the output and the file; a run whose outputs fall
// outside the tolerance is an ErrTolerance error listing them.
package parity
