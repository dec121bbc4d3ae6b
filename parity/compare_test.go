package parity_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/parity"
	"github.com/tfseg/tfseg/tfops"
)

func TestCompare(t *testing.T) {
	got := tfops.MustFromSlice([]float32{1, 2, float32(math.NaN()), 0}, 2, 2)
	want := tfops.MustFromSlice([]float32{1, math.Nextafter32(2, 3), float32(math.NaN()), 1e-7}, 2, 2)
	c, err := parity.Compare(got, want, parity.Tolerance{Atol: 1e-6})
	require.NoError(t, err)
	assert.True(t, c.OK())
	assert.Equal(t, []int{2, 1, 0, 0, 0, 0, 1, 0}, c.ULPHist, "1 and NaN equal; 2 one ulp apart; 0 vs 1e-7 far in ulps")
	assert.Equal(t, []int{0, 1}, c.Index(c.MaxAbsAt))
	assert.InDelta(t, 2.384185791015625e-07, c.MaxAbs, 0, "one float32 ulp at 2")
	assert.Equal(t, []int{1, 1}, c.Index(c.MaxRelAt), "0 against 1e-7 is 100% off")
	assert.InDelta(t, 1, c.MaxRel, 0)

	c, err = parity.Compare(got, tfops.MustFromSlice([]float32{1, 2, 0, 0}, 2, 2), parity.DefaultTolerance)
	require.NoError(t, err)
	assert.Equal(t, 1, c.Outside, "NaN against a number")
	assert.Equal(t, 2, c.Worst)
	assert.Equal(t, 1, c.ULPHist[len(parity.ULPBuckets)], "counted as a NaN/Inf mismatch")

	// A zero tolerance: any difference is outside; the worst is the largest.
	c, err = parity.Compare(tfops.MustFromSlice([]float64{1, 2, 3}, 3), tfops.MustFromSlice([]float64{1, 2.5, 3.25}, 3), parity.Tolerance{})
	require.NoError(t, err)
	assert.Equal(t, 2, c.Outside)
	assert.Equal(t, 1, c.Worst, "both are infinitely far in units of a zero tolerance; the first is kept")
	// float64 ulps: 2 and 2.5 are 2^50 steps apart (spacing 2^-51 in
	// [2, 4)), 3 and 3.25 2^49: both beyond the last bound.
	assert.Equal(t, []int{1, 0, 0, 0, 0, 0, 2, 0}, c.ULPHist)

	_, err = parity.Compare(got, tfops.MustFromSlice([]float32{1, 2}, 2), parity.Tolerance{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "shape [2 2], Keras' is [2]")

	_, err = parity.Compare(got, got, parity.Tolerance{Rtol: math.NaN()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "must be >= 0")

	// Integers compare as float64 (ulps in float64).
	c, err = parity.Compare(tfops.MustFromSlice([]int32{3, 4}, 2), tfops.MustFromSlice([]float64{3, 4}, 2), parity.Tolerance{})
	require.NoError(t, err)
	assert.True(t, c.OK())
}

func TestULPLabel(t *testing.T) {
	var labels []string
	for i := 0; i <= len(parity.ULPBuckets); i++ {
		labels = append(labels, parity.ULPLabel(i))
	}
	assert.Equal(t, []string{"0", "1", "2", "3-4", "5-16", "17-256", ">256", "NaN/Inf mismatch"}, labels)
}

func TestCast(t *testing.T) {
	f, err := parity.Cast(tfops.MustFromSlice([]uint8{0, 255}, 2), tfops.Float)
	require.NoError(t, err)
	assert.Equal(t, []float32{0, 255}, f.Float32s())
	_, err = parity.Cast(tfops.MustFromSlice([]int64{1 << 25}, 1), tfops.Float)
	require.ErrorContains(t, err, "int64 element 0 (33554432) is not exact in float32")
	_, err = parity.Cast(tfops.MustFromSlice([]int32{1<<24 + 1}, 1), tfops.Float)
	require.ErrorContains(t, err, "not exact in float32")
	_, err = parity.Cast(tfops.MustFromSlice([]uint64{1}, 1), tfops.Double)
	require.ErrorContains(t, err, "uint64")
}

// writeCase writes a case directory with the given inputs and outputs.
func writeCase(t *testing.T, dir string, inputs, outputs map[string]*tfops.Tensor) {
	t.Helper()
	for sub, ts := range map[string]map[string]*tfops.Tensor{parity.InputsDir: inputs, parity.OutputsDir: outputs} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, sub), 0o755))
		for name, x := range ts {
			require.NoError(t, npy.WriteFile(filepath.Join(dir, sub, name+".npy"), x))
		}
	}
}

func TestReadCaseDirs(t *testing.T) {
	root := t.TempDir()
	x := tfops.MustFromSlice([]float32{1, 2}, 2)
	writeCase(t, filepath.Join(root, "b"), map[string]*tfops.Tensor{"x": x}, map[string]*tfops.Tensor{"y": x})
	writeCase(t, filepath.Join(root, "a"), map[string]*tfops.Tensor{"x": x}, map[string]*tfops.Tensor{"y": x, "z": x})
	require.NoError(t, os.Mkdir(filepath.Join(root, "not a case"), 0o755))

	cases, err := parity.ReadCaseDirs(root)
	require.NoError(t, err)
	require.Len(t, cases, 2)
	assert.Equal(t, "a", cases[0].Name)
	assert.Len(t, cases[0].Want, 2)
	assert.Equal(t, filepath.Join(root, "a", "outputs", "z.npy"), cases[0].Source["z"])

	one, err := parity.ReadCaseDirs(filepath.Join(root, "b"))
	require.NoError(t, err)
	require.Len(t, one, 1)
	assert.Equal(t, "b", one[0].Name)

	_, err = parity.ReadCaseDirs(filepath.Join(root, "not a case"))
	require.ErrorContains(t, err, "has no case")

	empty := filepath.Join(root, "empty")
	require.NoError(t, os.MkdirAll(filepath.Join(empty, parity.InputsDir), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(empty, parity.OutputsDir), 0o755))
	_, err = parity.ReadCaseDirs(empty)
	require.ErrorContains(t, err, "no .npy file in "+filepath.Join(empty, parity.InputsDir))
}

func TestReadKerasGoldens(t *testing.T) {
	dir := t.TempDir()
	kg := filepath.Join(dir, "keras_goldens.json")
	// Two results on a case of the built-in goldens.json, one of another loss.
	require.NoError(t, os.WriteFile(kg, []byte(`{"results": [
	 {"case": "clip_boundary", "loss": "dice", "params": {}, "inputs": {"y_true": "y_true", "y_pred": "probs"}, "expected": {"shape": [], "data": [0.5]}},
	 {"case": "clip_boundary", "loss": "focal", "params": {"gamma": "2"}, "inputs": {"y_true": "y_true", "y_pred": "probs"}, "expected": {"shape": [2], "data": ["NaN", "-Inf"]}}]}`), 0o644))
	cases, err := parity.ReadKerasGoldens(kg, "", "")
	require.NoError(t, err)
	require.Len(t, cases, 2)
	assert.Equal(t, "1 focal clip_boundary", cases[1].Name)
	assert.Equal(t, graphs.Config{"gamma": "2"}, cases[1].Params)
	w := cases[1].Want["loss"].Float32s()
	assert.True(t, math.IsNaN(float64(w[0])))
	assert.True(t, math.IsInf(float64(w[1]), -1))
	assert.Contains(t, cases[0].Inputs, graphs.InputPred)

	focal, err := parity.ReadKerasGoldens(kg, "", "focal")
	require.NoError(t, err)
	assert.Len(t, focal, 1)
	assert.Len(t, parity.WithParams(cases, graphs.Config{"gamma": "2"}), 1)
	assert.Len(t, parity.WithParams(cases, graphs.Config{"gamma": "3"}), 0)

	_, err = parity.ReadKerasGoldens(kg, "", "iou")
	require.ErrorContains(t, err, `has no result for loss "iou"`)

	require.NoError(t, os.WriteFile(kg, []byte(`{"results": [{"case": "nope", "loss": "dice"}]}`), 0o644))
	_, err = parity.ReadKerasGoldens(kg, "", "")
	require.ErrorContains(t, err, `uses case "nope", which the built-in goldens.json does not have`)
}

func TestVerify(t *testing.T) {
	x := tfops.MustFromSlice([]float32{1, 2}, 2)
	off := tfops.MustFromSlice([]float32{1, 3}, 2)
	mk := func(name string) parity.Case {
		return parity.Case{Name: name, Want: map[string]*tfops.Tensor{"b": x, "a": x}, Source: map[string]string{"a": "a.npy", "b": "b.npy"}}
	}
	outs := map[string]map[string]*tfops.Tensor{
		"good": {"a": x, "b": x},
		"bad":  {"a": off, "b": x},
		"none": {"a": x},
	}
	r := parity.Runner{What: "fake", Run: func(_ context.Context, c parity.Case) (map[string]*tfops.Tensor, error) {
		if c.Name == "fail" {
			return nil, errors.New("boom")
		}
		return outs[c.Name], nil
	}}
	var seen []string
	res, err := parity.Verify(context.Background(), []parity.Case{mk("good"), mk("bad")}, r, parity.DefaultTolerance,
		func(r parity.Result) { seen = append(seen, r.Name()) })
	require.ErrorIs(t, err, parity.ErrTolerance)
	assert.EqualError(t, err, "out of tolerance: bad/a")
	assert.Equal(t, []string{"good / a", "good / b", "bad / a", "bad / b"}, seen)
	require.Len(t, res, 4)
	assert.Equal(t, 1, res[2].Outside)

	_, err = parity.Verify(context.Background(), []parity.Case{mk("none")}, r, parity.DefaultTolerance, nil)
	assert.EqualError(t, err, `case none: fake has no output "b"`)
	_, err = parity.Verify(context.Background(), []parity.Case{mk("fail")}, r, parity.DefaultTolerance, nil)
	assert.EqualError(t, err, "boom")

	short := tfops.MustFromSlice([]float32{1}, 1)
	outs["short"] = map[string]*tfops.Tensor{"a": short, "b": x}
	_, err = parity.Verify(context.Background(), []parity.Case{mk("short")}, r, parity.DefaultTolerance, nil)
	assert.EqualError(t, err, "case short, output a (a.npy): shape [1], Keras' is [2]")
	assert.True(t, strings.HasPrefix(parity.DefaultTolerance.String(), "|got - want| <= 1e-06 + 1e-05*|want|"))
}
