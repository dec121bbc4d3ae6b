//go:build tensorflow

package tfseg_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine"
	_ "github.com/tfseg/tfseg/engine/tfengine" // registers "tensorflow" for every loss test
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/savedmodel"
	"github.com/tfseg/tfseg/tfops"
)

// Parity between the engines, and SavedModels exported from Go as real
// TensorFlow loads them: for every configuration in goldens.json, the
// SavedModel written by graphs.Export, loaded by TensorFlow's own loader,
// must give what the pure-Go engine gives on the in-memory graph, on every
// golden case of that configuration whose inputs fit the exported
// placeholders (NHWC; sample_weight of the rank of the loss values).

const (
	parityRelTol = 1e-6 // docs/losses.md section 4: 1e-6 relative,
	parityAbsTol = 1e-6 // 1e-6 absolute near zero
)

func TestExportedModelsOnTensorFlow(t *testing.T) {
	tfe, err := engine.Get("tensorflow")
	require.NoError(t, err)
	loader, ok := tfe.(engine.SavedModelLoader)
	require.True(t, ok, "the tensorflow engine loads SavedModels")
	goe, err := engine.Get("go")
	require.NoError(t, err)

	var gf goldenFile
	readJSON(t, "goldens.json", &gf)
	var order []string
	byConfig := map[string][]goldenResult{}
	covered := map[string]bool{}
	for _, r := range gf.Results {
		key := r.Loss + "(" + paramString(r.Params) + ")"
		if _, seen := byConfig[key]; !seen {
			order = append(order, key)
		}
		byConfig[key] = append(byConfig[key], r)
		covered[r.Loss] = true
	}
	for _, name := range graphs.Names() {
		require.True(t, covered[name], "no golden config for %s", name)
	}
	ctx := context.Background()
	stats := errorStats{}
	for _, key := range order {
		results := byConfig[key]
		name := results[0].Loss
		t.Run(key, func(t *testing.T) {
			cfg := graphs.Config(results[0].Params)
			g, err := graphs.Build(name, cfg)
			require.NoError(t, err)
			dir := filepath.Join(t.TempDir(), name)
			require.NoError(t, g.Export(dir))

			sm, err := savedmodel.Read(dir, savedmodel.ReadOptions{})
			require.NoError(t, err)
			sig, err := sm.Signature(savedmodel.DefaultSignatureKey)
			require.NoError(t, err)
			outKey := "loss"
			if g.Spec.Kind == graphs.KindMetric {
				outKey = "metric"
			}
			require.Contains(t, sig.Outputs, outKey)

			tfSess, err := loader.LoadSavedModel(dir, []string{savedmodel.ServeTag}, engine.SessionOptions{})
			require.NoError(t, err)
			defer tfSess.Close()
			goSess, err := goe.NewSession(g.GraphDef, engine.SessionOptions{})
			require.NoError(t, err)
			defer goSess.Close()

			for _, r := range results {
				tfFeeds := map[string]*tfops.Tensor{}
				goFeeds := map[string]*tfops.Tensor{}
				fits := true
				for in, src := range r.Inputs {
					tensor := gf.Cases[r.Case][src].tensor(t)
					ti, ok := sig.Inputs[in]
					require.True(t, ok, "signature has no input %s", in)
					fits = fits && ti.Shape.CompatibleWith(tensor.StaticShape())
					tfFeeds[ti.Name] = tensor
					goFeeds[g.Inputs[in]] = tensor
				}
				if !fits {
					continue // e.g. a (B, 1, 1) sample_weight for a scalar loss
				}
				tfOut, err := tfSess.Run(ctx, tfFeeds, []string{sig.Outputs[outKey].Name}, nil)
				require.NoError(t, err, "case %s on TensorFlow", r.Case)
				goOut, err := goSess.Run(ctx, goFeeds, []string{g.Output}, nil)
				require.NoError(t, err, "case %s on the go engine", r.Case)
				require.Equal(t, goOut[0].Shape(), tfOut[0].Shape(), "case %s: result shapes", r.Case)
				want := outputFloat64s(t, goOut[0])
				for i, v := range outputFloat64s(t, tfOut[0]) {
					rel, ok := closeEnough(v, want[i], parityRelTol, parityAbsTol)
					stats.add(name, v, want[i])
					assert.True(t, ok, "case %s element %d: TensorFlow %.9g, go %.9g (relative %.3g)", r.Case, i, v, want[i], rel)
				}
			}
		})
	}
	stats.report(t, "exported SavedModels on TensorFlow vs the go engine")
}
