package eval

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/baseline"
	"github.com/tfseg/tfseg/internal/fixtures"
)

// fixturesDir is where the shared SavedModels written by real TensorFlow
// live, relative to this package's directory.
var fixturesDir = filepath.Join("..", "..", "shared", "fixtures", "savedmodels")

// fixture returns the path of the named fixture SavedModel. Outside CI a
// missing fixture skips the test with the reason; under CI=true it fails it.
func fixture(t testing.TB, name string) string {
	t.Helper()
	return fixtures.Require(t, filepath.Join(fixturesDir, name), "saved_model.pb")
}

// baselineModel writes the default baseline SavedModel into a temporary directory.
func baselineModel(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "baseline")
	require.NoError(t, baseline.WriteModel(dir, baseline.DefaultCalibration))
	return dir
}
