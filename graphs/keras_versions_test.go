package graphs

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/tfops"
)

func TestParseKerasVersion(t *testing.T) {
	for raw, want := range map[string]string{"3.16": "3.16", "3.15.1": "3.15", "3": NewestKeras, "2": "2", "2.15": "2.15", "3.0": "3.0", "3.17": "3.17"} {
		got, err := parseKerasVersion(raw)
		require.NoError(t, err, raw)
		assert.Equal(t, want, got, raw)
	}
	for _, raw := range []string{"", "4", "1.2", "3.x", "v3.15", "3.15.1.2", "latest"} {
		_, err := parseKerasVersion(raw)
		assert.Error(t, err, raw)
	}
	assert.True(t, kerasBefore("3.15", "3.16"))
	assert.True(t, kerasBefore("2", "3.0"))
	assert.True(t, kerasBefore("2.15", "3.0"))
	assert.False(t, kerasBefore("3.16", "3.16"))
	assert.False(t, kerasBefore("3.17", "3.16"))
	assert.True(t, kerasBefore("3.9", "3.13"), "minor releases compare as numbers")
}

// publishedCase is a case of keras_doc_cases.json.
type publishedCase struct {
	Name   string            `json:"name"`
	Loss   string            `json:"loss"`
	Params map[string]string `json:"params"`
	Source string            `json:"source"`
	Change string            `json:"change"`
	Inputs map[string]struct {
		Shape []int     `json:"shape"`
		Data  []float64 `json:"data"`
	} `json:"inputs"`
	Expected struct {
		Shape []int     `json:"shape"`
		Data  []float64 `json:"data"`
	} `json:"expected"`
	Decimals int `json:"decimals"`
}

func evalF64(t *testing.T, loss string, cfg Config, inputs map[string]*tfops.Tensor) []float64 {
	t.Helper()
	// The run wiring lives in the root package (tfseg.Eval), which this
	// package's own tests cannot import: build, open a session, run.
	specs := map[string]InputSpec{}
	for k, v := range inputs {
		specs[k] = InputSpec{DType: v.DType(), Shape: v.StaticShape()}
	}
	g, err := BuildFor(loss, cfg, specs)
	require.NoError(t, err)
	eng, err := engine.Get(engine.Default)
	require.NoError(t, err)
	sess, err := eng.NewSession(g.GraphDef, engine.SessionOptions{})
	require.NoError(t, err)
	defer sess.Close()
	feeds := map[string]*tfops.Tensor{}
	for k, v := range inputs {
		feeds[g.Inputs[k]] = v
	}
	res, err := sess.Run(context.Background(), feeds, []string{g.Output}, nil)
	require.NoError(t, err)
	got := res[0]
	switch got.DType() {
	case tfops.Double:
		return got.Float64s()
	default:
		f := got.Float32s()
		out := make([]float64, len(f))
		for i, x := range f {
			out[i] = float64(x)
		}
		return out
	}
}

// sparseInputs makes (1, 2, n/2) class labels and float64 probabilities
// over 3 classes (each row p_c ∝ c + 1 + i mod 3), with the pixels whose
// index is in ignored labelled 255.
func sparseInputs(t *testing.T, n int, ignored func(i int) bool) (map[string]*tfops.Tensor, []float64, []float64) {
	lab := make([]float64, n)
	p := make([]float64, 3*n)
	for i := range lab {
		lab[i] = float64(i % 3)
		s := 0.0
		for c := range 3 {
			p[3*i+c] = float64(c + 1 + i%3)
			s += p[3*i+c]
		}
		for c := range 3 {
			p[3*i+c] /= s
		}
		if ignored(i) {
			lab[i] = 255
		}
	}
	yt, err := tfops.FromSlice(lab, 1, 2, n/2)
	require.NoError(t, err)
	yp, err := tfops.FromSlice(p, 1, 2, n/2, 3)
	require.NoError(t, err)
	return map[string]*tfops.Tensor{InputTrue: yt, InputPred: yp}, lab, p
}

// TestKerasVersions checks both sides of every change in KerasChanges: the
// numbers against Keras' published test values (keras_doc_cases.json,
// cases with "change") or a float64 reference loop here, and the
// availability changes against the parameter check.
func TestKerasVersions(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "keras_doc_cases.json"))
	require.NoError(t, err)
	var doc struct {
		Cases []publishedCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))

	published := func(t *testing.T, c KerasChange) {
		sides := map[bool]int{}
		for _, pc := range doc.Cases {
			if pc.Change != c.ID {
				continue
			}
			ver := pc.Params["keras"]
			if ver == "" {
				ver = NewestKeras
			}
			v, err := parseKerasVersion(ver)
			require.NoError(t, err)
			sides[kerasBefore(v, c.Since)]++
			t.Run(pc.Name, func(t *testing.T) {
				inputs := map[string]*tfops.Tensor{}
				for in, x := range pc.Inputs {
					f := make([]float32, len(x.Data))
					for i, d := range x.Data {
						f[i] = float32(d)
					}
					inputs[in] = tfops.MustFromSlice(f, x.Shape...)
				}
				got := evalF64(t, pc.Loss, Config(pc.Params), inputs)
				tol := math.Pow(10, -float64(pc.Decimals)) + 1e-6
				require.Len(t, got, len(pc.Expected.Data))
				for i, want := range pc.Expected.Data {
					assert.InDelta(t, want, got[i], tol, "%s element %d vs Keras' published value (%s)", pc.Name, i, pc.Source)
				}
			})
		}
		assert.Positive(t, sides[true], "%s: no published case for a release before %s", c.ID, c.Since)
		assert.Positive(t, sides[false], "%s: no published case for %s or later", c.ID, c.Since)
	}
	available := func(loss string, cfg Config) func(t *testing.T, c KerasChange) {
		return func(t *testing.T, c KerasChange) {
			s, err := Lookup(loss)
			require.NoError(t, err)
			with := func(ver string) Config {
				out := Config{"keras": ver}
				for k, v := range cfg {
					out[k] = v
				}
				return out
			}
			old := releaseNumbers(c.Since)
			before := "2"
			if old[0] == 3 && old[1] > 0 {
				before = "3." + itoa(old[1]-1)
			}
			_, err = s.Parse(with(before))
			require.ErrorIs(t, err, ErrParam, "keras=%s", before)
			assert.Contains(t, err.Error(), "first shipped in Keras "+c.Since)
			_, err = s.Parse(with(c.Since))
			assert.NoError(t, err, "keras=%s", c.Since)
			_, err = s.Parse(cfg)
			assert.NoError(t, err, "default keras")
		}
	}
	checks := map[string]func(t *testing.T, c KerasChange){
		"tversky_alpha_beta": published,
		"bce_log_epsilon":    published,
		"scce_ignore_all": func(t *testing.T, c KerasChange) {
			// Every pixel ignored: tf.keras 2.x divides by valid = 0 (NaN),
			// Keras 3 gives 0.
			in, _, _ := sparseInputs(t, 6, func(int) bool { return true })
			for ver, want := range map[string]float64{"2": math.NaN(), "2.15": math.NaN(), "3.0": 0, "3.12": 0, "3.13": 0, NewestKeras: 0} {
				got := evalF64(t, "keras_scce", Config{"ignore_class": "255", "keras": ver}, in)
				if math.IsNaN(want) {
					assert.True(t, math.IsNaN(got[0]), "keras=%s: got %v, want NaN", ver, got[0])
				} else {
					assert.Equal(t, want, got[0], "keras=%s", ver)
				}
			}
			// Some pixels valid: every release gives the mean over them.
			in, lab, p := sparseInputs(t, 8, func(i int) bool { return i%4 == 1 })
			sum, n := 0.0, 0
			for i, l := range lab {
				if l != 255 {
					sum -= math.Log(p[3*i+int(l)])
					n++
				}
			}
			for _, ver := range []string{"2", "3.12", NewestKeras} {
				got := evalF64(t, "keras_scce", Config{"ignore_class": "255", "keras": ver}, in)
				assert.InEpsilon(t, sum/float64(n), got[0], 1e-6, "keras=%s", ver)
			}
		},
		"scce_ignore_epsilon": func(t *testing.T, c KerasChange) {
			// One valid pixel of 8, in float64: 3.12 weighs it 8/(1 + ε),
			// 3.13 8/1, so the results differ by the factor 1/(1 + ε).
			in, lab, p := sparseInputs(t, 8, func(i int) bool { return i != 5 })
			want := -math.Log(p[3*5+int(lab[5])])
			got313 := evalF64(t, "keras_scce", Config{"ignore_class": "255", "keras": "3.13"}, in)[0]
			got312 := evalF64(t, "keras_scce", Config{"ignore_class": "255", "keras": "3.12"}, in)[0]
			assert.InEpsilon(t, want, got313, 1e-12, "3.13: the valid pixel's loss")
			assert.InEpsilon(t, want/(1+Epsilon), got312, 1e-12, "3.12: times 1/(1 + ε)")
			assert.NotEqual(t, got313, got312)
		},
		"reduction_mean": func(t *testing.T, c KerasChange) {
			available("keras_bce", Config{"reduction": "mean_with_sample_weight"})(t, c)
			available("keras_scce", Config{"reduction": "mean"})(t, c)
		},
		"dice_since":    available("keras_dice", nil),
		"dice_axis":     available("keras_dice", Config{"axis": "1,2,3"}),
		"tversky_since": available("keras_tversky", nil),
		"tversky_axis":  available("keras_tversky", Config{"axis": "1,2,3"}),
	}
	for _, c := range KerasChanges() {
		check, ok := checks[c.ID]
		if !assert.True(t, ok, "change %s has no test: add one to TestKerasVersions", c.ID) {
			continue
		}
		for _, l := range c.Losses {
			s, err := Lookup(l)
			require.NoError(t, err, "%s lists %s", c.ID, l)
			_, ok := s.Param("keras")
			assert.True(t, ok, "%s: %s has no keras parameter", c.ID, l)
		}
		t.Run(c.ID, func(t *testing.T) { check(t, c) })
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// TestMetricsAtThreshold puts predictions exactly at the threshold: iou
// and dice_coef count them as foreground (Keras' BinaryIoU, >=), precision,
// recall and pixel_accuracy do not (Keras' Precision, Recall,
// BinaryAccuracy, >). The expected values come from the counting loop
// below; Dice = 2 IoU / (1 + IoU) holds.
func TestMetricsAtThreshold(t *testing.T) {
	for _, th := range []float32{0.5, 0.3, 0.7} {
		z := []float32{1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0}
		p := []float32{th, th, th, 0.1, 0.9, 0.95, 0.2, th, th, 0.6, 0.2, th}
		yt := tfops.MustFromSlice(z, 1, 3, 4, 1)
		yp := tfops.MustFromSlice(p, 1, 3, 4, 1)
		count := func(ge bool) (tp, fp, fn, tn float64) {
			for i := range z {
				fg := p[i] > th || (ge && p[i] >= th)
				switch {
				case fg && z[i] == 1:
					tp++
				case fg:
					fp++
				case z[i] == 1:
					fn++
				default:
					tn++
				}
			}
			return
		}
		tp, fp, fn, _ := count(true)
		iou := tp / (tp + fp + fn)
		want := map[string]float64{"iou": iou, "dice_coef": 2 * tp / (2*tp + fp + fn)}
		assert.InDelta(t, 2*iou/(1+iou), want["dice_coef"], 1e-12)
		tp, fp, fn, tn := count(false)
		want["precision"] = tp / (tp + fp)
		want["recall"] = tp / (tp + fn)
		want["pixel_accuracy"] = (tp + tn) / (tp + fp + fn + tn)
		for name, w := range want {
			cfg := Config{"threshold": strconvF(th)}
			got := evalF64(t, name, cfg, map[string]*tfops.Tensor{InputTrue: yt, InputPred: yp})
			assert.InDelta(t, w, got[0], 1e-6, "%s at threshold %v", name, th)
		}
		gotIoU := evalF64(t, "iou", Config{"threshold": strconvF(th)}, map[string]*tfops.Tensor{InputTrue: yt, InputPred: yp})[0]
		gotDice := evalF64(t, "dice_coef", Config{"threshold": strconvF(th)}, map[string]*tfops.Tensor{InputTrue: yt, InputPred: yp})[0]
		assert.InDelta(t, 2*gotIoU/(1+gotIoU), gotDice, 1e-6, "Dice = 2 IoU/(1 + IoU) at threshold %v", th)
	}
}

func strconvF(f float32) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// TestSpecsDescribed: every loss and metric has a one-line summary and an
// output shape for `tfseg losses`.
func TestSpecsDescribed(t *testing.T) {
	for _, s := range Specs() {
		assert.NotEmpty(t, s.Summary, "%s: add it to descriptions (describe.go)", s.Name)
		assert.NotEmpty(t, s.Output, "%s: add it to descriptions (describe.go)", s.Name)
	}
	for name := range descriptions {
		_, err := Lookup(name)
		assert.NoError(t, err, "descriptions has %s, which is not registered", name)
	}
}

// TestReadmeKerasVersions: the README's table of version-dependent
// behaviours has a row naming each change's test.
func TestReadmeKerasVersions(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	readme := string(raw)
	i := strings.Index(readme, "### Keras versions")
	require.GreaterOrEqual(t, i, 0, "README.md has no Keras versions section")
	section := readme[i:]
	if j := strings.Index(section[3:], "\n## "); j >= 0 {
		section = section[:j+3]
	}
	for _, c := range KerasChanges() {
		assert.Contains(t, section, "`"+c.Test()+"`", "README's Keras versions table has no row for %s", c.ID)
		assert.Contains(t, section, c.Since, "README's Keras versions table: %s's release", c.ID)
	}
}
