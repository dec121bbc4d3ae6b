package savedmodel

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tfseg/tfseg/tfops"
)

// sigWant is what the fixtures' README says about one signature.
type sigWant struct {
	key             string
	inputs, outputs map[string]tensorWant
}

type tensorWant struct {
	dtype tfops.DType
	shape tfops.Shape // compared with String(); UnknownShape() for <unknown>
}

func TestFixtureSignatures(t *testing.T) {
	f32 := tfops.Float
	unknown := tfops.UnknownShape()
	cases := []struct {
		fixture string
		keys    []string // every signature key, sorted
		sigs    []sigWant
	}{
		{"half-plus-two-tf1",
			[]string{"classify_x_to_y", "regress_x2_to_y3", "regress_x_to_y", "regress_x_to_y2", "serving_default"},
			[]sigWant{
				{"serving_default", map[string]tensorWant{"x": {f32, tfops.MakeShape(-1, 1)}}, map[string]tensorWant{"y": {f32, tfops.MakeShape(-1, 1)}}},
				{"regress_x2_to_y3", map[string]tensorWant{"inputs": {f32, tfops.MakeShape(-1, 1)}}, map[string]tensorWant{"outputs": {f32, tfops.MakeShape(-1, 1)}}},
				{"classify_x_to_y", map[string]tensorWant{"inputs": {tfops.String, unknown}}, map[string]tensorWant{"scores": {f32, tfops.MakeShape(-1, 1)}}},
			}},
		{"half-plus-two-tf2",
			[]string{"__saved_model_init_op", "classify_x2_to_y3", "classify_x_to_y", "regress_x2_to_y3", "regress_x_to_y", "regress_x_to_y2", "serving_default"},
			[]sigWant{{"serving_default", map[string]tensorWant{"x": {f32, tfops.MakeShape(1)}}, map[string]tensorWant{"y": {f32, tfops.MakeShape(1)}}}}},
		{"keras-unet-circles",
			[]string{"__saved_model_init_op", "serving_default"},
			[]sigWant{{"serving_default",
				map[string]tensorWant{"inputs": {f32, tfops.MakeShape(-1, -1, -1, 1)}},
				map[string]tensorWant{"outputs": {f32, tfops.MakeShape(-1, -1, -1, 2)}}}}},
		{"tf-module-vars",
			[]string{"__saved_model_init_op", "add", "get_const_matrix", "get_const_scalar", "get_const_vector", "get_variable"},
			[]sigWant{
				{"add", map[string]tensorWant{"a": {f32, unknown}, "b": {f32, unknown}}, map[string]tensorWant{"output_0": {f32, unknown}}},
				{"get_variable", map[string]tensorWant{"dummy": {f32, unknown}}, map[string]tensorWant{"output_0": {f32, tfops.ScalarShape()}}},
			}},
		{"tf-regression-train",
			[]string{"__saved_model_init_op", "b", "train", "w"},
			[]sigWant{{"train", map[string]tensorWant{"x": {f32, tfops.MakeShape(-1)}, "y": {f32, tfops.MakeShape(-1)}}, map[string]tensorWant{"loss": {f32, tfops.ScalarShape()}}}}},
		{"keras-dense-single",
			[]string{"__saved_model_init_op", "serving_default"},
			[]sigWant{{"serving_default", map[string]tensorWant{"test_in_input": {f32, tfops.MakeShape(-1, 5)}}, map[string]tensorWant{"test_out": {f32, tfops.MakeShape(-1, 1)}}}}},
		{"keras-dense-multi",
			[]string{"__saved_model_init_op", "serving_default"},
			[]sigWant{{"serving_default",
				map[string]tensorWant{"test_in1": {f32, tfops.MakeShape(-1, 5)}, "test_in2": {f32, tfops.MakeShape(-1, 5)}},
				map[string]tensorWant{"test_out": {f32, tfops.MakeShape(-1, 1)}}}}},
	}
	for _, tc := range cases {
		t.Run(tc.fixture, func(t *testing.T) {
			m, err := Read(fixture(t, tc.fixture), ReadOptions{})
			require.NoError(t, err)
			assert.Equal(t, []string{ServeTag}, m.Tags)
			assert.Equal(t, tc.keys, m.SignatureKeys())
			for _, w := range tc.sigs {
				s, err := m.Signature(w.key)
				require.NoError(t, err)
				assert.Equal(t, w.key, s.Key)
				check := func(kind string, got map[string]TensorInfo, want map[string]tensorWant) {
					assert.Equal(t, sortedKeys(want), sortedKeys(got), "%s %s names", w.key, kind)
					for name, tw := range want {
						g := got[name]
						assert.Equal(t, tw.dtype, g.DType, "%s %s %q dtype", w.key, kind, name)
						assert.Equal(t, tw.shape.String(), g.Shape.String(), "%s %s %q shape", w.key, kind, name)
						assert.Equal(t, EncodingName, g.Encoding, "%s %s %q encoding", w.key, kind, name)
						node, _, _, err := tfops.ParseTensorName(g.Name)
						require.NoError(t, err)
						found := false
						for _, n := range m.Graph().GetNode() {
							found = found || n.GetName() == node
						}
						assert.True(t, found, "%s %s %q: tensor %s has no node in the graph", w.key, kind, name, g.Name)
					}
				}
				check("input", s.Inputs, w.inputs)
				check("output", s.Outputs, w.outputs)
			}
		})
	}
}

func TestFixtureHalfPlusTwoTF1Details(t *testing.T) {
	m, err := Read(fixture(t, "half-plus-two-tf1"), ReadOptions{Tags: []string{"serve", "serve"}})
	require.NoError(t, err)
	assertTF1ServingLayout(t, m)
	assets, err := m.Assets()
	require.NoError(t, err)
	require.Len(t, assets, 1)
	assert.Equal(t, "foo.txt", assets[0].Filename)
	assert.Equal(t, "Const:0", assets[0].TensorName)
	assert.FileExists(t, assets[0].Path)
}

func TestFixtureVariables(t *testing.T) {
	scalar := func(v float32) *tfops.Tensor { return tfops.FromScalar(v) }
	cases := []struct {
		fixture string
		known   map[string]*tfops.Tensor
	}{
		{"half-plus-two-tf1", map[string]*tfops.Tensor{"a": scalar(0.5), "b": scalar(2), "c": scalar(3)}},
		{"half-plus-two-tf2", map[string]*tfops.Tensor{
			"a/.ATTRIBUTES/VARIABLE_VALUE": scalar(0.5), "b/.ATTRIBUTES/VARIABLE_VALUE": scalar(2), "c/.ATTRIBUTES/VARIABLE_VALUE": scalar(3)}},
		{"tf-module-vars", map[string]*tfops.Tensor{"variable/.ATTRIBUTES/VARIABLE_VALUE": scalar(2)}},
		{"keras-unet-circles", nil},
		{"keras-dense-single", map[string]*tfops.Tensor{"optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE": tfops.FromScalar(int64(1))}},
		{"keras-dense-multi", nil},
		{"tf-regression-train", nil},
	}
	for _, tc := range cases {
		t.Run(tc.fixture, func(t *testing.T) {
			m, err := Read(fixture(t, tc.fixture), ReadOptions{})
			require.NoError(t, err)
			b, err := m.OpenVariables(BundleOptions{})
			require.NoError(t, err)
			defer b.Close()
			assert.EqualValues(t, 1, b.Header().GetNumShards())
			keys := b.Keys()
			require.NotEmpty(t, keys)
			all, err := b.Tensors() // reads every tensor, verifying each CRC32C
			require.NoError(t, err)
			assert.Len(t, all, len(keys))
			for k, want := range tc.known {
				got, ok := all[k]
				require.True(t, ok, "key %q missing; have %v", k, keys)
				assert.Equal(t, want.DType(), got.DType(), k)
				assert.Equal(t, want.Shape(), got.Shape(), k)
				assert.Equal(t, want.Data(), got.Data(), k)
			}
			if g, ok := all["_CHECKPOINTABLE_OBJECT_GRAPH"]; ok {
				// A TF2 checkpoint's object graph: a scalar string holding a
				// serialized TrackableObjectGraph, i.e. a protobuf message.
				require.Equal(t, tfops.String, g.DType())
				require.Len(t, g.Strings(), 1)
				assert.NotEmpty(t, g.Strings()[0])
			}
		})
	}
}

// TestFixtureUNetShapes checks the U-Net's weights against its architecture:
// 3x3 convolutions from 1 channel to 16 base filters, and a 1x1 head to 2 classes.
func TestFixtureUNetShapes(t *testing.T) {
	m, err := Read(fixture(t, "keras-unet-circles"), ReadOptions{})
	require.NoError(t, err)
	b, err := m.OpenVariables(BundleOptions{})
	require.NoError(t, err)
	defer b.Close()
	for key, shape := range map[string][]int{
		"variables/0/.ATTRIBUTES/VARIABLE_VALUE":                 {3, 3, 1, 16},
		"variables/1/.ATTRIBUTES/VARIABLE_VALUE":                 {16},
		"layer_with_weights-7/kernel/.ATTRIBUTES/VARIABLE_VALUE": {1, 1, 16, 2},
		"layer_with_weights-7/bias/.ATTRIBUTES/VARIABLE_VALUE":   {2},
	} {
		e, err := b.Entry(key)
		require.NoError(t, err)
		assert.Equal(t, shape, tfops.ShapeFromProto(e.GetShape()).IntDims(), key)
		w, err := b.Tensor(key)
		require.NoError(t, err)
		assert.Equal(t, shape, w.Shape(), key)
	}
}
