package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/tfops"
)

// runCLI runs tfseg with args and returns exit code, stdout, stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &env{stdout: &out, stderr: &errb})
	return code, out.String(), errb.String()
}

type docTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

type docCase struct {
	Name     string               `json:"name"`
	Loss     string               `json:"loss"`
	Params   map[string]string    `json:"params"`
	Source   string               `json:"source"`
	Inputs   map[string]docTensor `json:"inputs"`
	Expected docTensor            `json:"expected"`
	Decimals int                  `json:"decimals"`
}

func writeNpy(t *testing.T, path string, d docTensor) {
	t.Helper()
	f := make([]float32, len(d.Data))
	for i, v := range d.Data {
		f[i] = float32(v)
	}
	tt, err := tfops.FromSlice(f, d.Shape...)
	require.NoError(t, err)
	require.NoError(t, npy.WriteFile(path, tt))
}

// TestLossReproducesKerasDocs runs `tfseg loss` on every example published
// in Keras 3's documentation and tests (graphs/testdata/keras_doc_cases.json)
// and checks the printed value against Keras' published number.
func TestLossReproducesKerasDocs(t *testing.T) {
	raw, err := os.ReadFile("../../graphs/testdata/keras_doc_cases.json")
	require.NoError(t, err)
	var doc struct {
		Cases []docCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.NotEmpty(t, doc.Cases)
	flags := map[string]string{"y_true": "--y-true", "y_pred": "--y-pred", "sample_weight": "--sample-weight", "weights": "--weights"}
	for _, c := range doc.Cases {
		t.Run(c.Name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"loss", c.Loss}
			for in, tensor := range c.Inputs {
				p := filepath.Join(dir, in+".npy")
				writeNpy(t, p, tensor)
				args = append(args, flags[in], p)
			}
			for k, v := range c.Params {
				args = append(args, "--set", k+"="+v)
			}
			out := filepath.Join(dir, "r.npy")
			args = append(args, "--out", out)
			code, stdout, stderr := runCLI(t, args...)
			require.Equal(t, 0, code, "stderr: %s", stderr)
			got, err := npy.ReadFile(out, npy.Options{})
			require.NoError(t, err)
			require.Equal(t, c.Expected.Shape, append([]int{}, got.Shape()...))
			tol := math.Pow(10, -float64(c.Decimals)) + 1e-6
			for i, want := range c.Expected.Data {
				assert.InDelta(t, want, float64(got.Float32s()[i]), tol, "%s (%s) element %d", c.Name, c.Source, i)
			}
			if len(c.Expected.Shape) == 0 {
				v, err := strconv.ParseFloat(strings.TrimSpace(stdout), 64)
				require.NoError(t, err, "a scalar prints as a plain number, got %q", stdout)
				assert.InDelta(t, c.Expected.Data[0], v, tol)
			}
		})
	}
}

func TestLossBadInput(t *testing.T) {
	dir := t.TempDir()
	yt := filepath.Join(dir, "t.npy")
	yp := filepath.Join(dir, "p.npy")
	small := filepath.Join(dir, "small.npy")
	rank2 := filepath.Join(dir, "rank2.npy")
	garbage := filepath.Join(dir, "garbage.npy")
	writeNpy(t, yt, docTensor{Shape: []int{1, 2, 2, 1}, Data: []float64{0, 1, 1, 0}})
	writeNpy(t, yp, docTensor{Shape: []int{1, 2, 2, 1}, Data: []float64{0.1, 0.8, 0.6, 0.3}})
	writeNpy(t, small, docTensor{Shape: []int{1, 1, 2, 1}, Data: []float64{0, 1}})
	writeNpy(t, rank2, docTensor{Shape: []int{2, 2}, Data: []float64{0, 1, 1, 0}})
	require.NoError(t, os.WriteFile(garbage, []byte("not a numpy file at all"), 0o644))
	out := filepath.Join(dir, "out.npy")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown loss", []string{"loss", "dyce", "--y-true", yt, "--y-pred", yp}, 1, "dice_image"},
		{"unknown param", []string{"loss", "focal", "--y-true", yt, "--y-pred", yp, "--set", "gama=2"}, 1, "alpha"},
		{"beta 1", []string{"loss", "balanced_ce", "--y-true", yt, "--y-pred", yp, "--set", "beta=1"}, 1, "beta"},
		{"missing required", []string{"loss", "wce", "--y-true", yt, "--y-pred", yp}, 1, "beta"},
		{"shape mismatch", []string{"loss", "dice", "--y-true", yt, "--y-pred", small}, 1, "shape"},
		{"wrong rank", []string{"loss", "dice_image", "--y-true", rank2, "--y-pred", rank2}, 1, "rank"},
		{"unreadable npy", []string{"loss", "dice", "--y-true", garbage, "--y-pred", yp}, 1, "garbage.npy"},
		{"missing file", []string{"loss", "dice", "--y-true", filepath.Join(dir, "nope.npy"), "--y-pred", yp}, 1, "nope.npy"},
		{"no y-pred", []string{"loss", "dice", "--y-true", yt}, 2, "--y-pred"},
		{"bad set", []string{"loss", "dice", "--y-true", yt, "--y-pred", yp, "--set", "oops"}, 2, "key=value"},
		{"unknown engine", []string{"loss", "dice", "--y-true", yt, "--y-pred", yp, "--engine", "cuda"}, 1, "cuda"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append(append([]string{}, c.args...), "--out", out)
			code, _, stderr := runCLI(t, args...)
			assert.Equal(t, c.code, code, "stderr: %s", stderr)
			assert.Contains(t, stderr, c.want)
			_, err := os.Stat(out)
			assert.True(t, os.IsNotExist(err), "no output file may be written on error")
		})
	}
}

func TestLossesList(t *testing.T) {
	code, out, _ := runCLI(t, "losses")
	require.Equal(t, 0, code)
	for _, name := range []string{"ce", "wce", "balanced_ce", "focal", "distance_ce", "dice", "dice_image", "tversky",
		"tversky_image", "lovasz_hinge", "lovasz_softmax", "ce_dice", "keras_bce", "keras_focal", "keras_dice",
		"keras_tversky", "keras_cce", "keras_scce"} {
		assert.Contains(t, out, name+" ")
	}
	// One line per loss and metric, each with its description.
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" || strings.HasPrefix(line, "tfseg losses NAME") {
			continue
		}
		f := strings.Fields(line)
		require.GreaterOrEqual(t, len(f), 4, "line %q: name, kind and a description", line)
	}
	code, out, _ = runCLI(t, "losses", "--json")
	require.Equal(t, 0, code)
	var specs []specJSON
	require.NoError(t, json.Unmarshal([]byte(out), &specs))
	assert.Greater(t, len(specs), 17)
	for _, s := range specs {
		assert.NotEmpty(t, s.Summary, s.Name)
		assert.NotEmpty(t, s.Output, s.Name)
	}
}

// TestLossesName: `tfseg losses NAME` gives the formula, parameters,
// inputs, output shape and, for a loss whose numbers changed between Keras
// releases, the releases each behaviour belongs to.
func TestLossesName(t *testing.T) {
	code, out, stderr := runCLI(t, "losses", "keras_tversky")
	require.Equal(t, 0, code, stderr)
	for _, want := range []string{"formula", "1 - TP / (TP + α·FP + β·FN + ε)", "inputs  y_true, y_pred, [sample_weight]",
		"output  scalar", "alpha  float, default 0.5", "keras  version, default 3.16",
		"Keras versions", "changed in Keras 3.16", "until 3.16: 3.3 to 3.15", "-0.29629636", "-0.94444442",
		"keras-team/keras#23333", "test: TestKerasVersions/tversky_alpha_beta", "changed in Keras 3.8"} {
		assert.Contains(t, out, want)
	}
	code, out, _ = runCLI(t, "losses", "ce")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "reduction  word {none|sum_over_batch_size|sum|mean}, default sum_over_batch_size")
	assert.Contains(t, out, "changed in Keras 3.0")
	assert.Contains(t, out, "TestKerasVersions/bce_log_epsilon")
	code, out, _ = runCLI(t, "losses", "dice_image")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "output  (B,) one per image")
	assert.NotContains(t, out, "Keras versions", "dice_image follows no Keras release")

	code, out, _ = runCLI(t, "losses", "keras_scce", "--json")
	require.Equal(t, 0, code)
	var one specJSON
	require.NoError(t, json.Unmarshal([]byte(out), &one))
	assert.Equal(t, "keras_scce", one.Name)
	var tests []string
	for _, c := range one.KerasChanges {
		tests = append(tests, c.Test)
	}
	assert.Contains(t, tests, "TestKerasVersions/scce_ignore_all")
	assert.Contains(t, tests, "TestKerasVersions/scce_ignore_epsilon")

	code, _, stderr = runCLI(t, "losses", "dyce")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "dice_image")
	code, _, _ = runCLI(t, "losses", "dice", "iou")
	assert.Equal(t, 2, code)
}

// scalarLoss runs `tfseg loss` and returns the plain number it prints.
func scalarLoss(t *testing.T, args ...string) float64 {
	t.Helper()
	code, stdout, stderr := runCLI(t, append([]string{"loss"}, args...)...)
	require.Equal(t, 0, code, "stderr: %s", stderr)
	v, err := strconv.ParseFloat(strings.TrimSpace(stdout), 64)
	require.NoError(t, err, "a scalar prints as a plain number, got %q", stdout)
	return v
}

// TestLossKerasTverskyRelease: Keras' test input for Tversky(alpha=0.2,
// beta=0.8) (keras/src/losses/losses_test.py, test_correctness_custom_coefficients)
// gives Keras 3.16's -0.94444442 by default and Keras 3.15's -0.29629636
// with keras=3.15 (or 3.15.1, or any release from 3.3 on before 3.16).
func TestLossKerasTverskyRelease(t *testing.T) {
	dir := t.TempDir()
	yt, yp := filepath.Join(dir, "t.npy"), filepath.Join(dir, "p.npy")
	writeNpy(t, yt, docTensor{Shape: []int{2, 2}, Data: []float64{1, 2, 1, 2}})
	writeNpy(t, yp, docTensor{Shape: []int{2, 2}, Data: []float64{4, 1, 6, 1}})
	base := []string{"keras_tversky", "--y-true", yt, "--y-pred", yp, "--set", "alpha=0.2", "--set", "beta=0.8"}
	assert.InDelta(t, -0.94444442, scalarLoss(t, base...), 1e-6)
	assert.InDelta(t, -0.94444442, scalarLoss(t, append(base, "--set", "keras=3.16")...), 1e-6)
	for _, old := range []string{"3.15", "3.15.1", "3.3"} {
		assert.InDelta(t, -0.29629636, scalarLoss(t, append(base, "--set", "keras="+old)...), 1e-6, "keras=%s", old)
	}
	code, _, stderr := runCLI(t, append([]string{"loss"}, append(base, "--set", "keras=3.2")...)...)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "first shipped in Keras 3.3")
}

// TestLossIoUAtThreshold: `tfseg loss iou` on a batch where 53 of 168
// predictions sit exactly at the threshold gives Keras' BinaryIoU number
// (target_class_ids=[1]): the confusion-matrix computation of Keras'
// IoU.result with y_pred >= threshold (keras/src/metrics/iou_metrics.py),
// written out here in float64.
func TestLossIoUAtThreshold(t *testing.T) {
	const n = 168
	z, p := make([]float64, n), make([]float64, n)
	atThreshold := 0
	for i := range n {
		z[i] = float64((i * 7 / 5) % 2)
		switch {
		case i%16 < 5 && atThreshold < 53:
			p[i] = 0.5
			atThreshold++
		case i%3 == 0:
			p[i] = 0.8
		default:
			p[i] = 0.3
		}
	}
	require.Equal(t, 53, atThreshold)
	// Keras' IoU: cm[true][pred]; iou_c = cm[c][c] / (row_c + col_c - cm[c][c]).
	kerasBinaryIoU := func(ge bool) float64 {
		var cm [2][2]float64
		for i := range n {
			pred := 0
			if p[i] > 0.5 || (ge && p[i] >= 0.5) {
				pred = 1
			}
			cm[int(z[i])][pred]++
		}
		return cm[1][1] / (cm[1][0] + cm[1][1] + cm[0][1] + cm[1][1] - cm[1][1])
	}
	want, wrongRule := kerasBinaryIoU(true), kerasBinaryIoU(false)
	require.Greater(t, math.Abs(want-wrongRule), 0.05, "the input must tell the two rules apart")
	dir := t.TempDir()
	yt, yp := filepath.Join(dir, "t.npy"), filepath.Join(dir, "p.npy")
	writeNpy(t, yt, docTensor{Shape: []int{2, 7, 12, 1}, Data: z})
	writeNpy(t, yp, docTensor{Shape: []int{2, 7, 12, 1}, Data: p})
	assert.InDelta(t, want, scalarLoss(t, "iou", "--y-true", yt, "--y-pred", yp), 1e-6, "Keras' BinaryIoU (>=)")
	iou := scalarLoss(t, "iou", "--y-true", yt, "--y-pred", yp)
	assert.InDelta(t, 2*iou/(1+iou), scalarLoss(t, "dice_coef", "--y-true", yt, "--y-pred", yp), 1e-6, "Dice = 2 IoU/(1 + IoU)")
	t.Logf("53 of 168 predictions at 0.5: iou %.4f (Keras' BinaryIoU, >=); the > rule would give %.4f", iou, wrongRule)
}

// TestLossCEDefault: ce gives Keras' one number by default (the mean over
// the (B, H, W) values reduction=none gives).
func TestLossCEDefault(t *testing.T) {
	dir := t.TempDir()
	yt, yp, out := filepath.Join(dir, "t.npy"), filepath.Join(dir, "p.npy"), filepath.Join(dir, "ce.npy")
	writeNpy(t, yt, docTensor{Shape: []int{2, 2, 2, 1}, Data: []float64{0, 1, 1, 0, 1, 1, 0, 0}})
	writeNpy(t, yp, docTensor{Shape: []int{2, 2, 2, 1}, Data: []float64{0.1, 0.8, 0.6, 0.3, 0.9, 0.4, 0.2, 0.7}})
	got := scalarLoss(t, "ce", "--y-true", yt, "--y-pred", yp)
	code, stdout, stderr := runCLI(t, "loss", "ce", "--y-true", yt, "--y-pred", yp, "--set", "reduction=none", "--out", out)
	require.Equal(t, 0, code, stderr)
	assert.True(t, strings.HasPrefix(stdout, "shape [2 2 2]"), stdout)
	tt, err := npy.ReadFile(out, npy.Options{})
	require.NoError(t, err)
	var sum float64
	for _, v := range tt.Float32s() {
		sum += float64(v)
	}
	assert.InDelta(t, sum/8, got, 1e-6)
	// The reference: -(z log p + (1 - z) log(1 - p)), mean over the 8 pixels.
	z := []float64{0, 1, 1, 0, 1, 1, 0, 0}
	p := []float64{0.1, 0.8, 0.6, 0.3, 0.9, 0.4, 0.2, 0.7}
	var ref float64
	for i := range z {
		ref -= z[i]*math.Log(p[i]) + (1-z[i])*math.Log(1-p[i])
	}
	assert.InDelta(t, ref/8, got, 1e-6)
}

func TestExport(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runCLI(t, "export", "focal", "--set", "gamma=3", "--out", filepath.Join(dir, "focal"))
	require.Equal(t, 0, code, stderr)
	_, err := os.Stat(filepath.Join(dir, "focal", "saved_model.pb"))
	require.NoError(t, err)
	// Exporting into a non-empty directory is refused and changes nothing.
	code, _, stderr = runCLI(t, "export", "dice", "--out", filepath.Join(dir, "focal"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "not empty")
	code, _, _ = runCLI(t, "export", "nope", "--out", filepath.Join(dir, "nope"))
	assert.Equal(t, 1, code)
	_, err = os.Stat(filepath.Join(dir, "nope"))
	assert.True(t, os.IsNotExist(err))

	all := filepath.Join(dir, "all")
	code, _, stderr = runCLI(t, "export", "--all", "--out", all)
	require.Equal(t, 0, code, stderr)
	entries, err := os.ReadDir(all)
	require.NoError(t, err)
	assert.Greater(t, len(entries), 15)
}
