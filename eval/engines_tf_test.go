//go:build tensorflow

package eval

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/baseline"
	"github.com/tfseg/tfseg/dataset"
	_ "github.com/tfseg/tfseg/engine/tfengine"
)

// evalOn evaluates the model in dir on engine name.
func evalOn(t *testing.T, dir, name string, l *dataset.Listing) *Report {
	t.Helper()
	m, err := Load(dir, LoadOptions{Engine: name})
	require.NoError(t, err, "engine %s", name)
	defer m.Close()
	rep, err := Run(context.Background(), m, l, Options{BatchSize: 3})
	require.NoError(t, err, "engine %s", name)
	return rep
}

// sameReports checks that two engines gave the same per-image numbers
// (1e-5 relative, 1e-6 absolute near zero; NaN where the other has NaN).
func sameReports(t *testing.T, a, b *Report) {
	t.Helper()
	require.Equal(t, len(a.Columns), len(b.Columns))
	require.Equal(t, len(a.Images), len(b.Images))
	for i := range a.Images {
		for k, c := range a.Columns {
			x, y := a.Images[i].Values[k], b.Images[i].Values[k]
			if math.IsNaN(x) || math.IsNaN(y) {
				assert.True(t, math.IsNaN(x) && math.IsNaN(y), "%s %s: go %v, tensorflow %v", a.Images[i].Name, c.Name, x, y)
				continue
			}
			assert.InDelta(t, x, y, 1e-6+1e-5*math.Abs(y), "%s %s: go %v, tensorflow %v", a.Images[i].Name, c.Name, x, y)
		}
	}
}

// TestEnginesAgreeKerasUNet evaluates the Keras U-Net fixture (logits
// rewired through its nested functions) on both engines.
func TestEnginesAgreeKerasUNet(t *testing.T) {
	dir := fixture(t, "keras-unet-circles")
	c := baseline.DefaultCircles
	c.Height, c.Width = 100, 100
	_, l := circles(t, c, 5)
	g := evalOn(t, dir, "go", l)
	tf := evalOn(t, dir, "tensorflow", l)
	sameReports(t, g, tf)
	assert.Equal(t, g.Model.Logits, tf.Model.Logits)
	assert.Equal(t, tf.Ranked, tf.Failing, "the fixture fails on real TensorFlow too")
}

// TestEnginesAgreeBaseline evaluates the baseline model (variables
// restored by the TF1-style saver Write adds) on both engines.
func TestEnginesAgreeBaseline(t *testing.T) {
	dir := baselineModel(t)
	_, l := circles(t, baseline.DefaultCircles, 5)
	g := evalOn(t, dir, "go", l)
	tf := evalOn(t, dir, "tensorflow", l)
	sameReports(t, g, tf)
	assert.Greater(t, tf.Mean("dice_coef"), 0.9)
}
