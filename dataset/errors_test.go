package dataset

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/npy"
)

// TestErrorsWrapCause: the sentinel and the cause are both wrapped, and
// the message is the sentinel's then the cause's.
func TestErrorsWrapCause(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.npy")
	_, err := ReadImage(missing, ImageOptions{})
	require.ErrorIs(t, err, ErrFormat)
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), ErrFormat.Error()+": open "+missing)

	bad := filepath.Join(dir, "bad.npy")
	require.NoError(t, os.WriteFile(bad, []byte("not an npy file"), 0o644))
	_, err = ReadImage(bad, ImageOptions{})
	require.ErrorIs(t, err, ErrFormat)
	require.ErrorIs(t, err, npy.ErrFormat)
}
