package graphs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/savedmodel"
)

// TestExportReplace exports Tversky twice to one directory: the second
// export fails without WithReplace (saying how to replace) and leaves the
// first untouched; with it, the directory holds the new parameters.
func TestExportReplace(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tversky")
	require.NoError(t, Export(dir, "tversky", Config{"beta": "0.3"}))
	first, err := os.ReadFile(filepath.Join(dir, "saved_model.pb"))
	require.NoError(t, err)

	err = Export(dir, "tversky", Config{"beta": "0.7"})
	require.ErrorIs(t, err, savedmodel.ErrExport)
	assert.Contains(t, err.Error(), "pass graphs.WithReplace() to replace it")
	same, err := os.ReadFile(filepath.Join(dir, "saved_model.pb"))
	require.NoError(t, err)
	assert.Equal(t, first, same, "a failed export leaves the old one")

	require.NoError(t, Export(dir, "tversky", Config{"beta": "0.7"}, WithReplace()))
	second, err := os.ReadFile(filepath.Join(dir, "saved_model.pb"))
	require.NoError(t, err)
	assert.NotEqual(t, first, second, "β changed, so the graph's constants did")
	other := filepath.Join(t.TempDir(), "tversky")
	require.NoError(t, Export(other, "tversky", Config{"beta": "0.7"}))
	fresh, err := os.ReadFile(filepath.Join(other, "saved_model.pb"))
	require.NoError(t, err)
	assert.Equal(t, fresh, second, "the replaced export is the one a fresh export writes")
}
