package eval

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/baseline"
	_ "github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/tfops"
)

func sigmoid(x float32) float64 { return 1 / (1 + math.Exp(-float64(x))) }

func TestLoadBaselineLogits(t *testing.T) {
	dir := baselineModel(t)
	m, err := Load(dir, LoadOptions{})
	require.NoError(t, err)
	defer m.Close()
	require.NotNil(t, m.Logits)
	assert.Equal(t, "Sigmoid", m.Logits.Activation)
	assert.Equal(t, baseline.LogitsNode, m.Logits.Tensor)
	assert.Equal(t, 1, m.InputChannels())

	im, _ := baseline.DefaultCircles.Sample(0)
	out, logits, err := m.Run(context.Background(), im.Tensor())
	require.NoError(t, err)
	require.NotNil(t, logits)
	p, l := out.Float32s(), logits.Float32s()
	for i := range p {
		require.InDelta(t, sigmoid(l[i]), float64(p[i]), 1e-6, "pixel %d: output = sigmoid(logits)", i)
	}

	off, err := Load(dir, LoadOptions{FromLogits: LogitsOff})
	require.NoError(t, err)
	defer off.Close()
	assert.Nil(t, off.Logits)
	_, logits, err = off.Run(context.Background(), im.Tensor())
	require.NoError(t, err)
	assert.Nil(t, logits)
}

// TestLoadKerasUNetLogits rewires the Keras U-Net fixture, whose Softmax
// sits four functions deep, and checks softmax(logits) = output.
func TestLoadKerasUNetLogits(t *testing.T) {
	dir := fixture(t, "keras-unet-circles")
	m, err := Load(dir, LoadOptions{})
	require.NoError(t, err)
	defer m.Close()
	require.NotNil(t, m.Logits)
	assert.Equal(t, "Softmax", m.Logits.Activation)
	t.Logf("logits %s via %v", m.Logits.Tensor, m.Logits.Path)
	x := make([]float32, 100*100)
	for i := range x {
		x[i] = float32(i%100) / 100
	}
	out, logits, err := m.Run(context.Background(), tfops.MustFromSlice(x, 1, 100, 100, 1))
	require.NoError(t, err)
	assert.Equal(t, []int{1, 60, 60, 2}, out.Shape())
	assert.Equal(t, []int{1, 60, 60, 2}, logits.Shape())
	p, l := out.Float32s(), logits.Float32s()
	for i := 0; i < len(p); i += 2 {
		mx := math.Max(float64(l[i]), float64(l[i+1]))
		e0, e1 := math.Exp(float64(l[i])-mx), math.Exp(float64(l[i+1])-mx)
		require.InDelta(t, e0/(e0+e1), float64(p[i]), 1e-6, "pixel %d", i/2)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := baselineModel(t)
	tests := []struct {
		name string
		dir  string
		opts LoadOptions
		want string
	}{
		{"missing dir", t.TempDir(), LoadOptions{}, "saved_model.pb"},
		{"unknown engine", dir, LoadOptions{Engine: "nope"}, "nope"},
		{"unknown signature", dir, LoadOptions{Signature: "predict"}, "predict"},
		{"unknown input", dir, LoadOptions{Input: "x"}, `no input "x"`},
		{"unknown output", dir, LoadOptions{Output: "y"}, `no output "y"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.dir, tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
