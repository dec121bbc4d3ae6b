package lossgraph_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/bridge/internal/lossgraph"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/tfops"
)

func f32(name string, dims ...int64) lossgraph.Tensor {
	return lossgraph.Tensor{Name: name, DType: tfops.Float, Shape: tfops.MakeShape(dims...)}
}

// TestBuildNames: placeholders under inputs/, loss ops without the
// "<loss>/" prefix, every input referring to a node of the graph.
func TestBuildNames(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		cfg       graphs.Config
		inputs    map[string]lossgraph.Tensor
	}{
		{"focal", "loss", nil, map[string]lossgraph.Tensor{"y_true": f32("z:0", 2, 4, 4, 1), "y_pred": f32("p:0", 2, 4, 4, 1)}},
		{"distance_ce", "loss", graphs.Config{"beta": "0.5"}, map[string]lossgraph.Tensor{"y_true": f32("z:0", -1, 4, 4, 1), "y_pred": f32("p:0", -1, 4, 4, 1), "weights": f32("w:0", -1, 4, 4, 1)}},
		{"iou", "metric", nil, map[string]lossgraph.Tensor{"y_true": f32("z:0", 2, 4, 4, 1), "y_pred": f32("p:0", 2, 4, 4, 1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := lossgraph.Build(tc.name, tc.cfg, tc.inputs)
			require.NoError(t, err)
			assert.Equal(t, tc.out, g.Output)
			nodes := map[string]string{}
			for _, n := range g.Def.Node {
				nodes[n.Name] = n.Op
			}
			assert.Equal(t, "Identity", nodes[g.Output])
			for k := range tc.inputs {
				assert.Equal(t, lossgraph.InputScope+"/"+k, g.Placeholders[k])
				assert.Equal(t, "Placeholder", nodes[g.Placeholders[k]])
			}
			for _, n := range g.Def.Node {
				assert.NotContains(t, n.Name, tc.name+"/", "node %s keeps the loss prefix", n.Name)
				for _, in := range n.Input {
					node, _, _, err := tfops.ParseTensorName(in)
					require.NoError(t, err)
					assert.Contains(t, nodes, node, "node %s: input %s is not a node", n.Name, in)
				}
			}
		})
	}
}

// TestBuildErrors: messages name the loss and the caller's tensors.
func TestBuildErrors(t *testing.T) {
	ok := map[string]lossgraph.Tensor{"y_true": f32("z:0", 1, 2, 2, 1), "y_pred": f32("p:0", 1, 2, 2, 1)}
	with := func(k string, t lossgraph.Tensor) map[string]lossgraph.Tensor {
		m := map[string]lossgraph.Tensor{}
		for a, b := range ok {
			m[a] = b
		}
		m[k] = t
		return m
	}
	without := func(k string) map[string]lossgraph.Tensor {
		m := with("x", lossgraph.Tensor{})
		delete(m, "x")
		delete(m, k)
		return m
	}
	for _, tc := range []struct {
		name   string
		loss   string
		inputs map[string]lossgraph.Tensor
		is     error
		says   []string
	}{
		{"unknown", "nope", ok, graphs.ErrUnknown, []string{"nope"}},
		{"int y_pred", "ce", with("y_pred", lossgraph.Tensor{Name: "p:0", DType: tfops.Int64, Shape: tfops.MakeShape(1, 2, 2, 1)}), graphs.ErrInput, []string{"ce", "p:0", "int64"}},
		{"string y_true", "ce", with("y_true", lossgraph.Tensor{Name: "z:0", DType: tfops.String, Shape: tfops.MakeShape(1, 2, 2, 1)}), graphs.ErrInput, []string{"ce", "z:0", "string"}},
		{"no y_pred", "ce", without("y_pred"), graphs.ErrInput, []string{"ce", "no y_pred"}},
		{"unknown input", "ce", with("weights", f32("w:0", 1, 2, 2, 1)), graphs.ErrInput, []string{"ce", `"weights"`}},
		{"shape", "ce", with("y_pred", f32("q:7", 1, 3, 2, 1)), graphs.ErrInput, []string{"ce", "q:7", "z:0", "(1, 3, 2, 1)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := lossgraph.Build(tc.loss, nil, tc.inputs)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			for _, w := range tc.says {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}
