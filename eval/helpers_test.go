package eval

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/baseline"
)

// fixturesDir is where the shared SavedModels written by real TensorFlow
// live, relative to this package's directory.
var fixturesDir = filepath.Join("..", "..", "shared", "fixtures", "savedmodels")

// fixture returns the path of the named fixture SavedModel. Outside CI a
// missing fixture skips the test with the reason; under CI=true it fails it.
func fixture(t testing.TB, name string) string {
	t.Helper()
	d := filepath.Join(fixturesDir, name)
	if _, err := os.Stat(filepath.Join(d, "saved_model.pb")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("fixture %s is missing under CI: %v", d, err)
		}
		t.Skipf("fixture %s not available (%v); the SavedModels written by real TensorFlow live in ../shared/fixtures next to the repository", d, err)
	}
	return d
}

// baselineModel writes the default baseline SavedModel into a temporary directory.
func baselineModel(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "baseline")
	require.NoError(t, baseline.WriteModel(dir, baseline.DefaultCalibration))
	return dir
}
