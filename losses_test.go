package tfseg_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/engine"
	_ "github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/tfops"
)

// Every loss and metric x every golden case x every engine built in,
// against the float64 references of scripts/goldens_losses.py (NumPy and
// PyTorch) and Keras' published numbers.

const (
	goldenRelTol = 1e-5 // docs/losses.md section 4: <= 1e-5 relative against independent references
	goldenAbsTol = 1e-6 // absolute, near zero
)

// goldenTensor is a tensor in goldens.json: NaN and infinities are strings.
type goldenTensor struct {
	Shape []int `json:"shape"`
	Data  []any `json:"data"`
}

func (g goldenTensor) float64s(t *testing.T) []float64 {
	out := make([]float64, len(g.Data))
	for i, v := range g.Data {
		switch x := v.(type) {
		case float64:
			out[i] = x
		case string:
			switch x {
			case "NaN":
				out[i] = math.NaN()
			case "Inf":
				out[i] = math.Inf(1)
			case "-Inf":
				out[i] = math.Inf(-1)
			default:
				t.Fatalf("golden value %q", x)
			}
		default:
			t.Fatalf("golden value %v (%T)", v, v)
		}
	}
	return out
}

func (g goldenTensor) tensor(t *testing.T) *tfops.Tensor {
	v := g.float64s(t)
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	tt, err := tfops.FromSlice(f, g.Shape...)
	require.NoError(t, err)
	return tt
}

type goldenResult struct {
	Loss     string            `json:"loss"`
	Params   map[string]string `json:"params"`
	Case     string            `json:"case"`
	Inputs   map[string]string `json:"inputs"`
	Expected goldenTensor      `json:"expected"`
}

type goldenFile struct {
	Cases     map[string]map[string]goldenTensor `json:"cases"`
	Results   []goldenResult                     `json:"results"`
	KerasDocs []struct {
		Name  string       `json:"name"`
		Value goldenTensor `json:"value"`
	} `json:"keras_docs"`
}

type kerasDocCase struct {
	Name     string                  `json:"name"`
	Loss     string                  `json:"loss"`
	Params   map[string]string       `json:"params"`
	Source   string                  `json:"source"`
	Inputs   map[string]goldenTensor `json:"inputs"`
	Expected goldenTensor            `json:"expected"`
	Decimals int                     `json:"decimals"`
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("graphs", "testdata", name))
	require.NoError(t, err, "run /usr/bin/python3 scripts/goldens_losses.py")
	require.NoError(t, json.Unmarshal(data, v), name)
}

// closeEnough compares one element: NaN must match NaN, otherwise within
// relTol relative or absTol absolute. It returns the relative error (the
// absolute one when want is 0).
func closeEnough(got, want, relTol, absTol float64) (float64, bool) {
	if math.IsNaN(want) || math.IsNaN(got) {
		return 0, math.IsNaN(want) && math.IsNaN(got)
	}
	if math.IsInf(want, 0) {
		return 0, got == want
	}
	d := math.Abs(got - want)
	rel := d
	if want != 0 {
		rel = d / math.Abs(want)
	}
	return rel, d <= absTol || rel <= relTol
}

func outputFloat64s(t *testing.T, tt *tfops.Tensor) []float64 {
	switch tt.DType() {
	case tfops.Float:
		f := tt.Float32s()
		out := make([]float64, len(f))
		for i, x := range f {
			out[i] = float64(x)
		}
		return out
	case tfops.Double:
		return tt.Float64s()
	}
	t.Fatalf("output dtype %v", tt.DType())
	return nil
}

// errorStats collects, per loss, the largest relative error over the
// elements whose expected magnitude is at least statsFloor, and the largest
// absolute error over the others (where the absolute tolerance decides).
type errorStats map[string]*[2]float64

const statsFloor = 1e-2

func (s errorStats) add(loss string, got, want float64) {
	e, ok := s[loss]
	if !ok {
		e = &[2]float64{}
		s[loss] = e
	}
	if math.IsNaN(want) || math.IsInf(want, 0) {
		return
	}
	d := math.Abs(got - want)
	if math.Abs(want) >= statsFloor {
		e[0] = math.Max(e[0], d/math.Abs(want))
	} else {
		e[1] = math.Max(e[1], d)
	}
}

func (s errorStats) report(t *testing.T, what string) {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "\n  %-20s rel %.3g   abs %.3g", n, s[n][0], s[n][1])
	}
	t.Logf("%s: max relative error (|want| >= %g) and max absolute error (|want| < %g) per loss:%s", what, statsFloor, statsFloor, b.String())
}

// paramString is "k=v,..." sorted by key (graphs.FormatLoss without a name).
func paramString(p map[string]string) string {
	return strings.TrimPrefix(graphs.FormatLoss("", p), ":")
}

func TestLossGoldens(t *testing.T) {
	var gf goldenFile
	readJSON(t, "goldens.json", &gf)
	require.NotEmpty(t, gf.Results)
	covered := map[string]bool{}
	for _, r := range gf.Results {
		covered[r.Loss] = true
	}
	for _, name := range graphs.Names() {
		assert.True(t, covered[name], "no golden for %s: add a config to scripts/goldens_losses.py", name)
	}
	ctx := context.Background()
	for _, engName := range engine.Names() {
		eng, err := engine.Get(engName)
		require.NoError(t, err)
		t.Run(engName, func(t *testing.T) {
			stats := errorStats{}
			for _, r := range gf.Results {
				r := r
				name := fmt.Sprintf("%s(%s)/%s", r.Loss, paramString(r.Params), r.Case)
				t.Run(name, func(t *testing.T) {
					inputs := map[string]*tfops.Tensor{}
					for in, src := range r.Inputs {
						arr, ok := gf.Cases[r.Case][src]
						require.True(t, ok, "case %s has no array %s", r.Case, src)
						inputs[in] = arr.tensor(t)
					}
					got, err := tfseg.Eval(ctx, eng, r.Loss, graphs.Config(r.Params), inputs)
					require.NoError(t, err)
					require.Equal(t, r.Expected.Shape, got.Shape(), "result shape")
					want := r.Expected.float64s(t)
					for i, g := range outputFloat64s(t, got) {
						rel, ok := closeEnough(g, want[i], goldenRelTol, goldenAbsTol)
						stats.add(r.Loss, g, want[i])
						assert.True(t, ok, "element %d: got %.9g, want %.9g (relative error %.3g)", i, g, want[i], rel)
					}
				})
			}
			stats.report(t, "engine "+engName+" vs goldens")
		})
	}
}

func TestKerasPublishedNumbers(t *testing.T) {
	var doc struct {
		Cases []kerasDocCase `json:"cases"`
	}
	readJSON(t, "keras_doc_cases.json", &doc)
	var gf goldenFile
	readJSON(t, "goldens.json", &gf)
	ref := map[string]goldenTensor{}
	for _, k := range gf.KerasDocs {
		ref[k.Name] = k.Value
	}
	ctx := context.Background()
	for _, engName := range engine.Names() {
		eng, err := engine.Get(engName)
		require.NoError(t, err)
		for _, c := range doc.Cases {
			c := c
			t.Run(engName+"/"+c.Name, func(t *testing.T) {
				inputs := map[string]*tfops.Tensor{}
				for in, v := range c.Inputs {
					inputs[in] = v.tensor(t)
				}
				got, err := tfseg.Eval(ctx, eng, c.Loss, graphs.Config(c.Params), inputs)
				require.NoError(t, err)
				require.Equal(t, c.Expected.Shape, got.Shape(), "result shape (%s)", c.Source)
				published := c.Expected.float64s(t)
				reference := ref[c.Name].float64s(t)
				require.Len(t, reference, len(published), "goldens.json keras_docs entry for %s", c.Name)
				tol := math.Pow(10, -float64(c.Decimals)) + 1e-6
				for i, g := range outputFloat64s(t, got) {
					assert.InDelta(t, published[i], g, tol, "element %d vs Keras' published value (%s)", i, c.Source)
					_, ok := closeEnough(g, reference[i], goldenRelTol, goldenAbsTol)
					assert.True(t, ok, "element %d: got %.9g, reference %.9g", i, g, reference[i])
				}
			})
		}
	}
}

func TestLossBadInputs(t *testing.T) {
	eng, err := engine.Get(engine.Default)
	require.NoError(t, err)
	ctx := context.Background()
	f := func(dims ...int) *tfops.Tensor {
		tt, err := tfops.Zeros(tfops.Float, dims...)
		require.NoError(t, err)
		return tt
	}
	for _, tc := range []struct {
		name   string
		loss   string
		cfg    graphs.Config
		inputs map[string]*tfops.Tensor
		target error
		msg    string
	}{
		{"unknown loss", "dise", nil, nil, graphs.ErrUnknown, "valid names: "},
		{"unknown param", "dice", graphs.Config{"smooth": "1"}, nil, graphs.ErrParam, "valid parameters: reduction"},
		{"missing required", "wce", nil, nil, graphs.ErrParam, "needs parameter beta"},
		{"beta one", "balanced_ce", graphs.Config{"beta": "1"}, nil, graphs.ErrParam, "beta = 1"},
		{"bad number", "focal", graphs.Config{"gamma": "two"}, nil, graphs.ErrParam, "gamma"},
		{"bad word", "dice_image", graphs.Config{"empty": "maybe"}, nil, graphs.ErrParam, "one, zero, nan, skip"},
		{"shape mismatch", "dice", nil, map[string]*tfops.Tensor{"y_true": f(1, 4, 4, 1), "y_pred": f(1, 4, 5, 1)},
			graphs.ErrInput, "y_true has shape (1, 4, 4, 1) but y_pred has shape (1, 4, 5, 1)"},
		{"per-image rank", "dice_image", nil, map[string]*tfops.Tensor{"y_true": f(4, 4), "y_pred": f(4, 4)},
			graphs.ErrInput, "rank 4"},
		{"missing weights", "distance_ce", graphs.Config{"beta": "0.5"}, map[string]*tfops.Tensor{"y_true": f(1, 2, 2, 1), "y_pred": f(1, 2, 2, 1)},
			graphs.ErrInput, "needs input weights"},
		{"unknown input", "dice", nil, map[string]*tfops.Tensor{"y_true": f(1, 2, 2, 1), "y_pred": f(1, 2, 2, 1), "mask": f(1, 2, 2, 1)},
			graphs.ErrInput, `no input "mask"`},
		{"sparse labels shape", "keras_scce", nil, map[string]*tfops.Tensor{"y_true": f(2, 3, 3), "y_pred": f(2, 3, 4, 5)},
			graphs.ErrInput, "class indices"},
		{"sample weight shape", "keras_bce", nil, map[string]*tfops.Tensor{"y_true": f(2, 3, 3, 1), "y_pred": f(2, 3, 3, 1), "sample_weight": f(5)},
			graphs.ErrInput, "sample_weight has shape (5,)"},
		{"binary metric channels", "iou", nil, map[string]*tfops.Tensor{"y_true": f(1, 2, 2, 3), "y_pred": f(1, 2, 2, 3)},
			graphs.ErrInput, "task=binary"},
		{"class weights count", "multiclass_dice", graphs.Config{"class_weights": "1,2"}, map[string]*tfops.Tensor{"y_true": f(1, 2, 2, 3), "y_pred": f(1, 2, 2, 3)},
			graphs.ErrInput, "class_weights has 2 entries"},
		{"ignore with one-hot", "multiclass_dice", graphs.Config{"ignore": "255"}, nil, graphs.ErrParam, "labels=sparse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inputs := tc.inputs
			if inputs == nil {
				inputs = map[string]*tfops.Tensor{"y_true": f(1, 2, 2, 1), "y_pred": f(1, 2, 2, 1)}
			}
			_, err := tfseg.Eval(ctx, eng, tc.loss, tc.cfg, inputs)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.target)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

// TestKerasGoldens compares every loss with the values Keras/TensorFlow 2
// computes (python/export_losses.py, run where TensorFlow 2.x is
// installed), when TFSEG_KERAS_GOLDENS names its keras_goldens.json.
func TestKerasGoldens(t *testing.T) {
	path := os.Getenv("TFSEG_KERAS_GOLDENS")
	if path == "" {
		t.Skip("TFSEG_KERAS_GOLDENS not set: run python/export_losses.py where TensorFlow 2.x is installed and point it at keras_goldens.json")
	}
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var kg struct {
		Results []goldenResult `json:"results"`
	}
	require.NoError(t, json.Unmarshal(data, &kg))
	var gf goldenFile
	readJSON(t, "goldens.json", &gf)
	eng, err := engine.Get(engine.Default)
	require.NoError(t, err)
	stats := errorStats{}
	for _, r := range kg.Results {
		r := r
		t.Run(fmt.Sprintf("%s(%s)/%s", r.Loss, paramString(r.Params), r.Case), func(t *testing.T) {
			inputs := map[string]*tfops.Tensor{}
			for in, src := range r.Inputs {
				inputs[in] = gf.Cases[r.Case][src].tensor(t)
			}
			got, err := tfseg.Eval(context.Background(), eng, r.Loss, graphs.Config(r.Params), inputs)
			require.NoError(t, err)
			want := r.Expected.float64s(t)
			require.Len(t, want, got.NumElements())
			for i, g := range outputFloat64s(t, got) {
				rel, ok := closeEnough(g, want[i], goldenRelTol, goldenAbsTol)
				stats.add(r.Loss, g, want[i])
				assert.True(t, ok, "element %d: go %.9g, Keras %.9g (relative %.3g)", i, g, want[i], rel)
			}
		})
	}
	stats.report(t, "engine "+engine.Default+" vs Keras")
}
