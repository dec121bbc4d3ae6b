package savedmodel

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tfseg/tfseg/internal/fixtures"
)

// fixturesDir is where the shared SavedModels written by real TensorFlow
// live, relative to this package's directory.
var fixturesDir = filepath.Join("..", "..", "shared", "fixtures", "savedmodels")

// fixture returns the path of the named fixture SavedModel. Outside CI a
// missing fixture skips the test with the reason; under CI=true it fails it.
func fixture(t testing.TB, name string) string {
	t.Helper()
	return fixtures.Require(t, filepath.Join(fixturesDir, name), ModelFilename)
}

// copyFixture copies the named fixture into a fresh temporary directory,
// for tests that damage it.
func copyFixture(t testing.TB, name string) string {
	t.Helper()
	src := fixture(t, name)
	dst := filepath.Join(t.TempDir(), name)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	require.NoError(t, err)
	return dst
}
