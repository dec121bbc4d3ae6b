package modelset

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// committed is models/ at the module root, relative to this package.
const committed = "../../../models"

func files(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		out[filepath.ToSlash(rel)] = data
		return err
	})
	require.NoError(t, err)
	return out
}

// TestModelsNotStale regenerates models/ into a temporary directory and
// requires the committed files to be byte-identical: run go generate ./...
// after changing a loss.
func TestModelsNotStale(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Generate(dir))
	want := files(t, dir)
	got := files(t, committed)
	for name, data := range want {
		c, ok := got[name]
		if assert.True(t, ok, "models/%s missing: run go generate ./...", name) {
			assert.True(t, string(c) == string(data), "models/%s is stale: run go generate ./...", name)
		}
	}
	for name := range got {
		_, ok := want[name]
		assert.True(t, ok, "models/%s is not generated any more: run go generate ./...", name)
	}
}

// TestGenerateReplaces checks that generating twice into the same
// directory works and removes models that are no longer registered.
func TestGenerateReplaces(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "old_loss"), 0o755))
	require.NoError(t, Generate(dir))
	first := files(t, dir)
	require.NoError(t, Generate(dir))
	assert.Equal(t, first, files(t, dir))
	_, err := os.Stat(filepath.Join(dir, "old_loss"))
	assert.True(t, os.IsNotExist(err), "old_loss should be removed")
}
