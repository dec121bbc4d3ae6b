package graphs

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine"
	_ "github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/tfops"
)

func TestRegistryDocumented(t *testing.T) {
	require.NotEmpty(t, Names())
	for _, s := range Specs() {
		assert.NotEmpty(t, s.Doc, "%s has no doc", s.Name)
		assert.Contains(t, []Kind{KindLoss, KindMetric}, s.Kind, s.Name)
		assert.NotNil(t, s.build, s.Name)
		seen := map[string]bool{}
		for _, p := range s.Params {
			assert.False(t, seen[p.Name], "%s: parameter %s twice", s.Name, p.Name)
			seen[p.Name] = true
			assert.NotEmpty(t, p.Doc, "%s.%s has no doc", s.Name, p.Name)
			assert.Contains(t, []string{KindFloat, KindInt, KindBool, KindWord, KindInts, KindFloats, KindVersion}, p.Kind, "%s.%s", s.Name, p.Name)
			if p.Kind == KindVersion {
				v, err := parseKerasVersion(p.Default.(string))
				assert.NoError(t, err, "%s.%s default", s.Name, p.Name)
				assert.Equal(t, p.Default, v, "%s.%s default is canonical", s.Name, p.Name)
			}
			if p.Kind == KindWord {
				assert.Contains(t, p.Choices, p.Default, "%s.%s default", s.Name, p.Name)
			}
			assert.False(t, p.Required && p.Default != nil, "%s.%s: required with a default", s.Name, p.Name)
		}
	}
}

func TestParseValues(t *testing.T) {
	for _, tc := range []struct {
		loss string
		cfg  Config
		name string
		want any
	}{
		{"focal", nil, "gamma", 2.0},
		{"focal", Config{"gamma": " 3.5 "}, "gamma", 3.5},
		{"keras_bce", Config{"from_logits": "true"}, "from_logits", true},
		{"keras_bce", Config{"axis": "-2"}, "axis", -2},
		{"keras_dice", Config{"axis": "1,2, 3"}, "axis", []int{1, 2, 3}},
		{"keras_dice", Config{"axis": "none"}, "axis", nil},
		{"keras_dice", nil, "axis", nil},
		{"balanced_ce", Config{"beta": "auto"}, "beta", "auto"},
		{"balanced_ce", Config{"beta": "0.25"}, "beta", 0.25},
		{"lovasz_hinge", Config{"ignore": "255"}, "ignore", 255},
		{"lovasz_hinge", Config{"ignore": "none"}, "ignore", nil},
		{"multiclass_focal", Config{"class_weights": "1,2,0.5"}, "class_weights", []float64{1, 2, 0.5}},
		{"dice_image", Config{"empty": "skip"}, "empty", "skip"},
	} {
		t.Run(tc.loss+"/"+tc.name, func(t *testing.T) {
			s, err := Lookup(tc.loss)
			require.NoError(t, err)
			v, err := s.Parse(tc.cfg)
			require.NoError(t, err)
			assert.Equal(t, tc.want, v[tc.name])
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		loss string
		cfg  Config
		msg  string
	}{
		{"focal", Config{"gama": "2"}, `no parameter "gama"; valid parameters: alpha, gamma`},
		{"focal", Config{"gamma": "-1"}, "gamma = -1"},
		{"focal", Config{"alpha": "1.5"}, "alpha = 1.5"},
		{"focal", Config{"gamma": "NaN"}, "finite number"},
		{"keras_bce", Config{"from_logits": "yes"}, "true or false"},
		{"keras_bce", Config{"axis": "1.5"}, "integer"},
		{"keras_dice", Config{"axis": "1,x"}, "comma-separated integers"},
		{"multiclass_dice", Config{"class_weights": "1,-2"}, "class_weights[1] = -2"},
		{"wce", nil, "needs parameter beta"},
		{"wce", Config{"beta": "0"}, "beta > 0"},
		{"balanced_ce", Config{"beta": "1"}, "beta = 1 makes the positive weight"},
		{"balanced_ce", Config{"beta": "often"}, "or one of auto"},
		{"distance_ce", Config{"beta": "1.2"}, "0 < beta < 1"},
		{"lovasz_hinge", Config{"variant": "gelu"}, "relu, elu"},
		{"multiclass_focal", Config{"ignore": "255"}, "labels=sparse"},
		{"iou", Config{"labels": "sparse"}, "needs task=multiclass"},
	} {
		t.Run(tc.loss+"/"+tc.msg, func(t *testing.T) {
			s, err := Lookup(tc.loss)
			require.NoError(t, err)
			_, err = s.Parse(tc.cfg)
			require.ErrorIs(t, err, ErrParam)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestLookupUnknown(t *testing.T) {
	_, err := Lookup("dise")
	require.ErrorIs(t, err, ErrUnknown)
	for _, n := range []string{"dice", "keras_bce", "iou"} {
		assert.Contains(t, err.Error(), n)
	}
}

func TestBuildEveryLossWithDefaults(t *testing.T) {
	required := map[string]Config{"wce": {"beta": "2"}, "balanced_ce": {"beta": "0.5"}, "distance_ce": {"beta": "0.5"}}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			g, err := Build(name, required[name])
			require.NoError(t, err)
			assert.Equal(t, g.Spec.outputName()+":0", g.Output)
			for _, in := range g.Spec.Inputs {
				_, ok := g.Inputs[in]
				assert.True(t, ok, "input %s missing", in)
			}
			for in, sh := range g.InputShapes {
				if sh.RankKnown() {
					for _, d := range sh.Dims() {
						assert.EqualValues(t, -1, d, "%s: input %s must accept any size, shape %v", name, in, sh)
					}
				}
			}
			if g.Spec.IsOptional(InputSampleWeight) {
				assert.Equal(t, []string{InputSampleWeight}, g.Optional)
			}
		})
	}
}

// TestBuildInto checks the bridge entry point: Keras' use of a Sigmoid's
// input as logits, and its switch.
func TestBuildIntoSigmoidLogits(t *testing.T) {
	eng, err := engine.Get("go")
	require.NoError(t, err)
	run := func(cfg Config) float32 {
		s := tfops.NewScope()
		x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.UnknownShapeOfRank(4))
		z := tfops.Placeholder(s.WithOpName("z"), tfops.Float, tfops.UnknownShapeOfRank(4))
		loss, err := BuildInto(s, "ce", cfg, z, tfops.Sigmoid(s, x), nil)
		require.NoError(t, err)
		gd, err := s.Finalize()
		require.NoError(t, err)
		sess, err := eng.NewSession(gd, engine.SessionOptions{})
		require.NoError(t, err)
		defer sess.Close()
		out, err := sess.Run(context.Background(), map[string]*tfops.Tensor{
			"x:0": tfops.MustFromSlice([]float32{-50}, 1, 1, 1, 1),
			"z:0": tfops.MustFromSlice([]float32{1}, 1, 1, 1, 1),
		}, []string{loss.Name()}, nil)
		require.NoError(t, err)
		return out[0].Float32s()[0]
	}
	assert.InDelta(t, 50, run(nil), 1e-5, "logits used: softplus(50)")
	assert.InDelta(t, 16.118095, run(Config{"sigmoid_logits": "false"}), 1e-4, "clipped at ε: -log(1e-7)")
}

func TestBuildIntoErrors(t *testing.T) {
	s := tfops.NewScope()
	x := tfops.Placeholder(s, tfops.Float, tfops.UnknownShapeOfRank(4))
	_, err := BuildInto(s, "dice", nil, x, x, map[string]tfops.Output{"weights": x})
	assert.ErrorIs(t, err, ErrInput)
	_, err = BuildInto(s, "distance_ce", Config{"beta": "0.5"}, x, x, nil)
	assert.ErrorIs(t, err, ErrInput)
	assert.Contains(t, err.Error(), "needs input weights")
	_, err = BuildInto(s, "dice", nil, x, tfops.Output{}, nil)
	assert.ErrorIs(t, err, ErrInput)
	i := tfops.Placeholder(s, tfops.Int32, tfops.UnknownShapeOfRank(4))
	_, err = BuildInto(s, "dice", nil, x, i, nil)
	assert.ErrorIs(t, err, ErrInput)
	assert.Contains(t, err.Error(), "want float32 or float64")
}

// TestBuildForInputs checks BuildFor's input rules: placeholders of the
// dtypes and shapes given, integer masks accepted, and errors naming the
// input and what is allowed.
func TestBuildForInputs(t *testing.T) {
	sh := tfops.MakeShape(1, 2, 2, 1)
	in := func(yt, yp tfops.DType) map[string]InputSpec {
		return map[string]InputSpec{InputTrue: {yt, sh}, InputPred: {yp, sh}}
	}
	for _, dt := range []tfops.DType{tfops.Bool, tfops.Uint8, tfops.Int32, tfops.Int64, tfops.Float, tfops.Double} {
		g, err := BuildFor("dice", nil, in(dt, tfops.Double))
		require.NoError(t, err, "y_true %v", dt)
		assert.Equal(t, sh, g.InputShapes[InputTrue])
	}
	errs := []struct {
		name   string
		cfg    Config
		inputs map[string]InputSpec
		want   string
	}{
		{"dice", nil, nil, "needs input y_true"},
		{"distance_ce", Config{"beta": "0.5"}, map[string]InputSpec{InputTrue: {tfops.Float, sh}, InputPred: {tfops.Float, sh}, InputWeights: {tfops.Double, sh}}, "input weights is float64 but y_pred is float32"},
		{"dice", nil, in(tfops.Float, tfops.Int32), "input y_pred is int32; want float32 or float64"},
		{"dice", nil, in(tfops.String, tfops.Float), "want float32, float64, bool, uint8, int32 or int64"},
		{"dice", nil, map[string]InputSpec{InputTrue: {tfops.Float, sh}, InputPred: {tfops.Float, sh}, "w": {tfops.Float, sh}}, `takes no input "w"`},
		{"dice", nil, map[string]InputSpec{InputTrue: {tfops.Float, sh}, InputPred: {tfops.Float, tfops.MakeShape(1, 2, 2, 3)}}, "y_true has shape (1, 2, 2, 1) but y_pred has shape (1, 2, 2, 3)"},
		{"keras_dice", Config{"axis": "1,4"}, in(tfops.Float, tfops.Float), "axis 4 out of range"},
		{"lovasz_hinge", nil, map[string]InputSpec{InputTrue: {tfops.Float, tfops.MakeShape(1)}, InputPred: {tfops.Float, tfops.MakeShape(1)}}, "batch axis"},
	}
	for _, e := range errs {
		_, err := BuildFor(e.name, e.cfg, e.inputs)
		require.ErrorIs(t, err, ErrInput, "%s %v", e.name, e.inputs)
		assert.Contains(t, err.Error(), e.want)
	}
}
