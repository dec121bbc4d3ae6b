package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/internal/fixtures"
	"github.com/tfseg/tfseg/npy"
)

// fixture returns the path of a shared SavedModel fixture; without
// ../shared it skips, except under CI where a missing fixture fails.
func fixture(t *testing.T, name string) string {
	t.Helper()
	return fixtures.Require(t, filepath.Join("..", "..", "..", "shared", "fixtures", "savedmodels", name), "")
}

func TestInspectJSON(t *testing.T) {
	dir := fixture(t, "keras-unet-circles")
	code, out, stderr := runCLI(t, "inspect", dir, "--json")
	require.Equal(t, 0, code, stderr)
	var r inspectReport
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	assert.Equal(t, "2.10.0", r.TFVersion)
	var sig *inspectSignature
	for i := range r.Signatures {
		if r.Signatures[i].Key == "serving_default" {
			sig = &r.Signatures[i]
		}
	}
	require.NotNil(t, sig)
	assert.Equal(t, []inspectTensor{{Name: "inputs", DType: "float32", Shape: "(?, ?, ?, 1)", Tensor: "serving_default_inputs:0"}}, sig.Inputs)
	assert.Equal(t, "(?, ?, ?, 2)", sig.Outputs[0].Shape)
	assert.Greater(t, r.Ops["Conv2D"], 0)
	assert.Greater(t, len(r.Variables), 20)
	assert.Empty(t, r.VariablesError)
	// ParseExampleV2 is in half-plus-two-tf2's classify signature; the Go
	// engine does not run it and inspect says so.
	code, out, _ = runCLI(t, "inspect", fixture(t, "half-plus-two-tf2"), "--json")
	require.Equal(t, 0, code)
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	assert.Contains(t, r.MissingGoOps, "ParseExampleV2")
}

func TestRunHalfPlusTwo(t *testing.T) {
	dir := fixture(t, "half-plus-two-tf1")
	tmp := t.TempDir()
	x := filepath.Join(tmp, "x.npy")
	writeNpy(t, x, docTensor{Shape: []int{2, 1}, Data: []float64{2, 4}})
	out := filepath.Join(tmp, "out")
	code, _, stderr := runCLI(t, "run", dir, "--in", "x="+x, "--out", out)
	require.Equal(t, 0, code, stderr)
	y, err := npy.ReadFile(filepath.Join(out, "y.npy"), npy.Options{})
	require.NoError(t, err)
	assert.Equal(t, []float32{3, 4}, y.Float32s())

	code, _, stderr = runCLI(t, "run", dir, "--signature", "regress_x2_to_y3", "--in", "inputs="+x, "--out", out)
	require.Equal(t, 0, code, stderr)
	y, err = npy.ReadFile(filepath.Join(out, "outputs.npy"), npy.Options{})
	require.NoError(t, err)
	assert.Equal(t, []float32{4, 5}, y.Float32s())
}

func TestRunBadInput(t *testing.T) {
	dir := fixture(t, "half-plus-two-tf1")
	tmp := t.TempDir()
	x := filepath.Join(tmp, "x.npy")
	writeNpy(t, x, docTensor{Shape: []int{2, 1}, Data: []float64{2, 4}})
	x3 := filepath.Join(tmp, "x3.npy")
	writeNpy(t, x3, docTensor{Shape: []int{1, 3}, Data: []float64{2, 4, 5}})
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown signature", []string{"run", dir, "--signature", "nope", "--in", "x=" + x}, 1, "serving_default"},
		{"unknown input", []string{"run", dir, "--in", "z=" + x}, 1, "its inputs: x"},
		{"wrong shape", []string{"run", dir, "--in", "x=" + x3}, 1, "shape"},
		{"missing input", []string{"run", dir}, 1, "missing input"},
		{"missing model", []string{"run", filepath.Join(tmp, "nomodel"), "--in", "x=" + x}, 1, "saved_model.pb"},
		{"bad --in", []string{"run", dir, "--in", "x"}, 2, "NAME=FILE.npy"},
		{"unknown tags", []string{"inspect", dir, "--tags", "gpu"}, 1, "serve"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(tmp, "out-"+c.name)
			args := c.args
			if c.args[0] == "run" {
				args = append(args, "--out", out)
			}
			code, _, stderr := runCLI(t, args...)
			assert.Equal(t, c.code, code, stderr)
			assert.Contains(t, stderr, c.want)
			_, err := os.Stat(out)
			assert.True(t, os.IsNotExist(err), "no output on error")
		})
	}
}

// copyModel copies a SavedModel directory (small fixtures only) to a
// temporary directory the test may break.
func copyModel(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	require.NoError(t, filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	}))
	return dst
}

// A broken variables bundle is reported by inspect with exit status 1, and
// run says the variables could not be restored instead of blaming an input.
func TestInspectBrokenVariables(t *testing.T) {
	src := fixture(t, "keras-dense-single")
	for _, tc := range []struct {
		name   string
		break_ func(t *testing.T, dir string)
		want   string
	}{
		{"no variables dir", func(t *testing.T, dir string) {
			require.NoError(t, os.RemoveAll(filepath.Join(dir, "variables")))
		}, "variables/variables.index does not exist"},
		{"corrupt index", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "variables", "variables.index")
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(p, b[:len(b)-20], 0o644))
		}, "variables.index"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyModel(t, src)
			tc.break_(t, dir)
			code, out, stderr := runCLI(t, "inspect", dir)
			assert.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", out, stderr)
			assert.Contains(t, stderr, "variables cannot be restored")
			assert.Contains(t, stderr, tc.want)
			assert.Contains(t, out, "signatures:", "the report is still printed")
			x := filepath.Join(t.TempDir(), "x.npy")
			writeNpy(t, x, docTensor{Shape: []int{1, 5}, Data: []float64{1, 2, 3, 4, 5}})
			code, _, stderr = runCLI(t, "run", dir, "--in", "test_in_input="+x, "--out", t.TempDir())
			assert.Equal(t, 1, code, stderr)
			assert.Contains(t, stderr, "variables")
			assert.NotContains(t, stderr, "test_in_input")
		})
	}
}

// inspect's per-signature "lacks" list is what a run needs: a signature
// with an empty list loads (every op it reaches has a kernel), one with a
// non-empty list is refused at load naming those ops.
// For every model of the corpus (models people published) the list is
// empty: each runs (TestZooGoEngine in the root package runs them).
func TestInspectLacksMatchLoad(t *testing.T) {
	dirs := []string{fixture(t, "half-plus-two-tf2"), fixture(t, "keras-unet-circles"), fixture(t, "half-plus-two-tf1")}
	corpus, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "fixtures", "corpus", "*", "saved_model.pb"))
	if len(corpus) != 10 && os.Getenv("CI") == "true" {
		t.Fatalf("the corpus has %d models under CI, want 10", len(corpus))
	}
	for _, c := range corpus {
		dirs = append(dirs, filepath.Dir(c))
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		corpusModel := strings.Contains(dir, "corpus")
		code, out, stderr := runCLI(t, "inspect", dir, "--json")
		require.Equal(t, 0, code, stderr)
		var r inspectReport
		require.NoError(t, json.Unmarshal([]byte(out), &r))
		for _, s := range r.Signatures {
			if s.Key == "__saved_model_init_op" {
				continue
			}
			if corpusModel {
				assert.Empty(t, s.MissingGoOps, "%s %s", name, s.Key)
				assert.Empty(t, r.LoadMissing, name)
			}
			_, err := tfseg.Load(dir, tfseg.WithSignatures(s.Key))
			if len(s.MissingGoOps) == 0 {
				assert.NoError(t, err, "%s %s", name, s.Key)
			} else {
				require.Error(t, err, "%s %s", name, s.Key)
				for _, m := range s.MissingGoOps {
					assert.Contains(t, err.Error(), m)
				}
			}
		}
	}
}
