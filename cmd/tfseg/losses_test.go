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
	code, out, _ = runCLI(t, "losses", "--json")
	require.Equal(t, 0, code)
	var specs []specJSON
	require.NoError(t, json.Unmarshal([]byte(out), &specs))
	assert.Greater(t, len(specs), 17)
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
