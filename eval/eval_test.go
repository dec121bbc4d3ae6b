package eval

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/baseline"
	"github.com/tfseg/tfseg/dataset"
)

// circles writes n default noisy-circles images and masks and lists them.
func circles(t testing.TB, c baseline.Circles, n int) (string, *dataset.Listing) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, c.WriteDir(dir, n))
	l, err := dataset.Match(filepath.Join(dir, "images"), filepath.Join(dir, "masks"), dataset.MatchOptions{})
	require.NoError(t, err)
	return dir, l
}

func TestSmoke(t *testing.T) {
	m, err := Load(baselineModel(t), LoadOptions{})
	require.NoError(t, err)
	defer m.Close()
	_, l := circles(t, baseline.DefaultCircles, 20)
	rep, err := Run(context.Background(), m, l, Options{})
	require.NoError(t, err)
	require.NoError(t, rep.WriteText(os.Stdout))
}
