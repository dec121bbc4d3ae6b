package graphs

import _ "embed" // GoldensJSON

// GoldensJSON is testdata/goldens.json (written by scripts/goldens_losses.py):
// the golden cases' input arrays and their NumPy/PyTorch results, embedded
// so that tfseg verify reads the arrays that python/export_losses.py's
// keras_goldens.json refers to without a path into the repository.
//
//go:embed testdata/goldens.json
var GoldensJSON []byte
