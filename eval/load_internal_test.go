package eval

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/internal/smload"
	"github.com/tfseg/tfseg/savedmodel"
)

// TestLoadBadVariables: eval.Load brings a model up through the same path
// as tfseg.Load, so a variables index that is not a table fails before any
// session runs, wrapping both tfseg.ErrLoad and savedmodel.ErrFormat.
func TestLoadBadVariables(t *testing.T) {
	dir := baselineModel(t)
	index := filepath.Join(dir, savedmodel.VariablesDirectory, savedmodel.VariablesFilename+".index")
	_, err := os.Stat(index)
	require.NoError(t, err, "the baseline model has variables")
	require.NoError(t, os.WriteFile(index, []byte("not a table"), 0o644))
	_, err = Load(dir, LoadOptions{})
	require.Error(t, err)
	assert.ErrorIs(t, err, smload.ErrLoad)
	assert.ErrorIs(t, err, savedmodel.ErrFormat)
	assert.Contains(t, err.Error(), "the variables cannot be restored")
}
