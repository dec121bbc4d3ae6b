package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/baseline"
	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/tfops"
)

// baselineCase writes a verify case from scripts/goldens_baseline.py's
// SciPy result for the default calibration: the image as inputs/image.npy
// and SciPy's probability (float32) as outputs/probability.npy; scale
// multiplies the expected output (1: untouched).
func baselineCase(t *testing.T, dir string, scale float64) {
	t.Helper()
	raw, err := os.ReadFile("../../baseline/testdata/goldens.json")
	require.NoError(t, err)
	var g struct {
		Cases []struct {
			Sigma, Gain, Bias float64
			Height, Width     int
			Image             []float32
			Probability       []float64
		}
	}
	require.NoError(t, json.Unmarshal(raw, &g))
	c := g.Cases[0]
	require.Equal(t, baseline.DefaultCalibration, baseline.Calibration{Sigma: c.Sigma, Gain: c.Gain, Bias: c.Bias})
	for _, d := range []string{"inputs", "outputs"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	require.NoError(t, npy.WriteFile(filepath.Join(dir, "inputs", "image.npy"), tfops.MustFromSlice(c.Image, 1, c.Height, c.Width, 1)))
	p := make([]float32, len(c.Probability))
	for i, v := range c.Probability {
		p[i] = float32(v * scale)
	}
	require.NoError(t, npy.WriteFile(filepath.Join(dir, "outputs", "probability.npy"), tfops.MustFromSlice(p, 1, c.Height, c.Width, 1)))
}

func TestVerifyModel(t *testing.T) {
	root := t.TempDir()
	model := filepath.Join(root, "model")
	require.NoError(t, baseline.WriteModel(model, baseline.DefaultCalibration))

	good := filepath.Join(root, "good")
	baselineCase(t, good, 1)
	code, stdout, stderr := runCLI(t, "verify", "--model", model, "--cases", good, "--atol", "2e-6")
	require.Equal(t, 0, code, stderr+stdout)
	assert.Contains(t, stdout, "good / probability: shape [1 9 13 1], 117 elements: OK")
	assert.Contains(t, stdout, "ulp distance histogram: 0: ")
	assert.Contains(t, stdout, "all outputs within tolerance")

	// Two cases in one directory, one of them off by 1e-3 relative.
	many := filepath.Join(root, "many")
	baselineCase(t, filepath.Join(many, "a"), 1)
	baselineCase(t, filepath.Join(many, "b"), 1.001)
	code, stdout, stderr = runCLI(t, "verify", "--model", model, "--cases", many, "--atol", "2e-6")
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "a / probability: shape [1 9 13 1], 117 elements: OK")
	assert.Contains(t, stdout, "b / probability: shape [1 9 13 1], 117 elements: OUT OF TOLERANCE")
	assert.Contains(t, stdout, "worst element [0 ")
	assert.Contains(t, stderr, "out of tolerance: b/probability")

	code, _, stderr = runCLI(t, "verify", "--model", model, "--cases", many, "--rtol", "2e-3", "--atol", "2e-6")
	assert.Equal(t, 0, code, "within a looser tolerance: %s", stderr)
}

func TestVerifyLoss(t *testing.T) {
	raw, err := os.ReadFile("../../graphs/testdata/keras_doc_cases.json")
	require.NoError(t, err)
	var doc struct {
		Cases []docCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	c := doc.Cases[0] // Keras' documented BinaryCrossentropy(from_logits=True) example
	dir := t.TempDir()
	for _, d := range []string{"inputs", "outputs"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	for in, tensor := range c.Inputs {
		writeNpy(t, filepath.Join(dir, "inputs", in+".npy"), tensor)
	}
	writeNpy(t, filepath.Join(dir, "outputs", "loss.npy"), c.Expected)
	name := c.Loss
	for k, v := range c.Params {
		name += ":" + k + "=" + v
	}
	// numpy.testing.assert_almost_equal(decimal=d): abs(desired - actual) < 1.5 * 10**-d.
	atol := fmt.Sprint(1.5 * math.Pow(10, -float64(c.Decimals)))
	code, stdout, stderr := runCLI(t, "verify", "--loss", name, "--cases", dir, "--atol", atol, "--rtol", "0")
	require.Equal(t, 0, code, stderr+stdout)
	assert.Contains(t, stdout, "/ loss: shape [], 1 elements: OK")
}

func TestVerifyUsage(t *testing.T) {
	dir := t.TempDir()
	runCLICases(t, []cliCase{
		{"neither", []string{"verify", "--cases", dir}, 2, "--model or --loss"},
		{"unknown loss", []string{"verify", "--cases", dir, "--loss", "nope"}, 2, "unknown loss"},
		{"missing keras goldens", []string{"verify", "--cases", filepath.Join(dir, "keras_goldens.json"), "--loss", "dice"}, 1, "keras_goldens.json"},
		{"no cases", []string{"verify", "--loss", "dice"}, 2, "needs --cases"},
		{"negative tolerance", []string{"verify", "--loss", "dice", "--cases", dir, "--rtol", "-1"}, 2, "--rtol"},
		{"empty case dir", []string{"verify", "--loss", "dice", "--cases", dir}, 1, "has no case"},
	})
}

// kerasGoldens writes a keras_goldens.json in python/export_losses.py's
// layout from graphs/testdata/goldens.json's results for loss, with the
// NumPy/PyTorch reference values standing in for Keras' (alternately as
// npy/NNNN.npy files and inline), each multiplied by scale.
func kerasGoldens(t *testing.T, loss string, scale float64) string {
	t.Helper()
	raw, err := os.ReadFile("../../graphs/testdata/goldens.json")
	require.NoError(t, err)
	var gold struct {
		Results []map[string]any `json:"results"`
	}
	require.NoError(t, json.Unmarshal(raw, &gold))
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "npy"), 0o755))
	var results []map[string]any
	for _, r := range gold.Results {
		if r["loss"] != loss {
			continue
		}
		exp := r["expected"].(map[string]any)
		data := exp["data"].([]any)
		for i, v := range data {
			if f, ok := v.(float64); ok {
				data[i] = f * scale
			}
		}
		if n := len(results); n%2 == 0 {
			var shape []int
			for _, d := range exp["shape"].([]any) {
				shape = append(shape, int(d.(float64)))
			}
			vals := make([]float64, len(data))
			for i, v := range data {
				vals[i] = math.NaN()
				if f, ok := v.(float64); ok {
					vals[i] = f
				}
			}
			name := fmt.Sprintf("npy/%04d.npy", n)
			x := tfops.FromScalar(vals[0])
			if len(shape) > 0 {
				x = tfops.MustFromSlice(vals, shape...)
			}
			require.NoError(t, npy.WriteFile(filepath.Join(dir, name), x))
			r["npy"] = name
		}
		results = append(results, r)
	}
	require.NotEmpty(t, results)
	out, err := json.Marshal(map[string]any{"results": results})
	require.NoError(t, err)
	path := filepath.Join(dir, "keras_goldens.json")
	require.NoError(t, os.WriteFile(path, out, 0o644))
	return path
}

// TestVerifyKerasGoldens reads python/export_losses.py's layout, for a loss
// on the Go engine and for the SavedModel exported for it (models/dice).
func TestVerifyKerasGoldens(t *testing.T) {
	goldens := "../../graphs/testdata/goldens.json"
	kg := kerasGoldens(t, "dice", 1)
	code, stdout, stderr := runCLI(t, "verify", "--loss", "dice", "--cases", kg, "--goldens", goldens)
	require.Equal(t, 0, code, stderr+stdout)
	assert.Contains(t, stdout, "dice clip_boundary / loss")
	assert.Contains(t, stdout, "all outputs within tolerance")

	code, stdout, stderr = runCLI(t, "verify", "--model", "../../models/dice", "--cases", kg, "--goldens", goldens)
	require.Equal(t, 0, code, stderr+stdout)
	assert.Contains(t, stdout, "verify model ../../models/dice, signature serving_default")

	off := kerasGoldens(t, "dice", 1.01)
	code, stdout, _ = runCLI(t, "verify", "--loss", "dice", "--cases", off, "--goldens", goldens)
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "OUT OF TOLERANCE")

	// Without --goldens, from another directory: the built-in copy.
	abs, err := filepath.Abs(kg)
	require.NoError(t, err)
	t.Chdir(t.TempDir())
	code, stdout, stderr = runCLI(t, "verify", "--loss", "dice", "--cases", abs)
	require.Equal(t, 0, code, stderr+stdout)
	assert.Contains(t, stdout, "all outputs within tolerance")
}
