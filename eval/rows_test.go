package eval_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/baseline"
	"github.com/tfseg/tfseg/dataset"
	"github.com/tfseg/tfseg/eval"
)

// TestEvaluatorSameAsRun: batches evaluated one Evaluate call at a time,
// in another batch size and order, give Run's per-image values, skipped
// images and header, bit for bit.
func TestEvaluatorSameAsRun(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "model")
	require.NoError(t, baseline.WriteModel(model, baseline.DefaultCalibration))
	require.NoError(t, baseline.DefaultCircles.WriteDir(filepath.Join(dir, "data"), 9))
	images, masks := filepath.Join(dir, "data", "images"), filepath.Join(dir, "data", "masks")
	require.NoError(t, os.Remove(filepath.Join(masks, "circle_00004.png")))
	m, err := eval.Load(model, eval.LoadOptions{})
	require.NoError(t, err)
	defer m.Close()
	l, err := dataset.Match(images, masks, dataset.MatchOptions{})
	require.NoError(t, err)
	opts := eval.Options{SkipBad: true, Metrics: []eval.Measure{{Name: "iou"}, {Name: "dice_coef"}}}
	rep, err := eval.Run(context.Background(), m, l, opts)
	require.NoError(t, err)

	ev, err := eval.NewEvaluator(m, opts)
	require.NoError(t, err)
	defer ev.Close()
	got := map[string][]float64{}
	var skipped []eval.Skipped
	pairs := append([]dataset.Pair(nil), l.Pairs...)
	for i, j := 0, len(pairs)-1; i < j; i, j = i+1, j-1 {
		pairs[i], pairs[j] = pairs[j], pairs[i]
	}
	for b := range dataset.Batches(pairs, dataset.BatchOptions{Size: 3}) {
		rows, err := ev.Evaluate(context.Background(), b)
		require.NoError(t, err)
		for _, im := range rows.Images {
			got[im.Name] = im.Values
		}
		skipped = append(skipped, rows.Skipped...)
	}
	require.Len(t, got, len(rep.Images))
	for _, im := range rep.Images {
		assert.Equal(t, fmt.Sprintf("%x", im.Values), fmt.Sprintf("%x", got[im.Name]), im.Name)
	}
	assert.Equal(t, rep.Skipped, skipped)
	h, ok := ev.Header()
	require.True(t, ok)
	assert.Equal(t, rep.Columns, h.Columns)
	assert.Equal(t, rep.Model, h.Model)
	assert.Equal(t, rep.Classes, h.Classes)

	opts.SkipBad = false
	strict, err := eval.NewEvaluator(m, opts)
	require.NoError(t, err)
	defer strict.Close()
	_, err = strict.Evaluate(context.Background(), &dataset.Batch{Failed: []*dataset.Sample{dataset.Read(l.Pairs[4], dataset.ImageOptions{}, dataset.MaskOptions{})}})
	assert.ErrorIs(t, err, eval.ErrBadInput)
	assert.ErrorContains(t, err, "circle_00004.png")
}

// An Evaluator scores batches as they come, for a caller that schedules
// the work itself (a distributed pipeline): the values are Run's.
func ExampleEvaluator() {
	dir, _ := os.MkdirTemp("", "eval")
	defer os.RemoveAll(dir)
	model := filepath.Join(dir, "model")
	if err := baseline.WriteModel(model, baseline.DefaultCalibration); err != nil {
		fmt.Println(err)
		return
	}
	if err := baseline.DefaultCircles.WriteDir(filepath.Join(dir, "data"), 3); err != nil {
		fmt.Println(err)
		return
	}
	m, err := eval.Load(model, eval.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	ev, err := eval.NewEvaluator(m, eval.Options{Metrics: []eval.Measure{{Name: "dice_coef"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()
	pair := dataset.Pair{Name: "circle_00000",
		Image: filepath.Join(dir, "data", "images", "circle_00000.png"),
		Mask:  filepath.Join(dir, "data", "masks", "circle_00000.png")}
	b := &dataset.Batch{Samples: []*dataset.Sample{dataset.Read(pair, dataset.ImageOptions{}, dataset.MaskOptions{})}}
	rows, err := ev.Evaluate(context.Background(), b)
	if err != nil {
		fmt.Println(err)
		return
	}
	h, _ := ev.Header()
	for k, c := range h.Columns {
		if c.Kind == "metric" {
			fmt.Printf("%s %s above 0.9: %v\n", rows.Images[0].Name, c.Name, rows.Images[0].Values[k] > 0.9)
		}
	}
	// Output: circle_00000 dice_coef above 0.9: true
}
