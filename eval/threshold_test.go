package eval

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/tfops"
)

// TestMetricsAtThreshold: the report's binary metrics follow Keras' rules
// for a probability exactly at 0.5: iou and dice_coef count it as
// foreground (BinaryIoU: y_pred >= threshold), precision, recall and
// pixel_accuracy do not (Precision, Recall, BinaryAccuracy: >). Expected
// values from the counting loop below.
func TestMetricsAtThreshold(t *testing.T) {
	eng, err := engine.Get(engine.Default)
	require.NoError(t, err)
	ms, err := buildMeasures(eng, nil, DefaultMetrics, 1, false)
	require.NoError(t, err)
	defer ms.close()
	truth := []int32{1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0}
	p := []float32{0.5, 0.5, 0.5, 0.1, 0.9, 0.95, 0.2, 0.5, 0.5, 0.6, 0.2, 0.5}
	prob := tfops.MustFromSlice(p, 1, 3, 4, 1)
	got, err := ms.compute(context.Background(), truth, prob, nil)
	require.NoError(t, err)
	count := func(ge bool) (tp, fp, fn, tn float64) {
		for i, z := range truth {
			fg := p[i] > 0.5 || (ge && p[i] >= 0.5)
			switch {
			case fg && z == 1:
				tp++
			case fg:
				fp++
			case z == 1:
				fn++
			default:
				tn++
			}
		}
		return
	}
	tp, fp, fn, _ := count(true)
	want := map[string]float64{"iou": tp / (tp + fp + fn), "dice_coef": 2 * tp / (2*tp + fp + fn)}
	tp, fp, fn, tn := count(false)
	want["precision"] = tp / (tp + fp)
	want["recall"] = tp / (tp + fn)
	want["pixel_accuracy"] = (tp + tn) / (tp + fp + fn + tn)
	require.Len(t, got, len(ms.columns))
	for i, c := range ms.columns {
		w, ok := want[c.name]
		require.True(t, ok, "column %s", c.name)
		assert.InDelta(t, w, got[i], 1e-6, c.name)
	}
	iou, dice := got[0], got[1]
	assert.InDelta(t, 2*iou/(1+iou), dice, 1e-6, "Dice = 2 IoU/(1 + IoU)")
}
