//go:build tensorflow

package serve

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRealTensorFlowAgrees serves the same models on the Go engine and on
// real TensorFlow (libtensorflow through engine/tfengine) and sends both
// the same requests: TensorFlow Serving's documented half_plus_two example
// and a U-Net image. The answers must agree (U-Net within 1e-4).
func TestRealTensorFlowAgrees(t *testing.T) {
	_, goHP := halfPlusTwo(t, "half-plus-two-tf1", Options{})
	_, tfHP := halfPlusTwo(t, "half-plus-two-tf1", Options{Engine: "tensorflow"})
	for _, hs := range []string{goHP.URL, tfHP.URL} {
		code, body := do(t, "POST", hs+"/v1/models/half_plus_two:predict", `{"instances": [1.0, 2.0, 5.0]}`)
		assert.Equal(t, 200, code, body)
		assert.JSONEq(t, `{ "predictions": [2.5, 3.0, 4.5] }`, body)
	}

	unet := func(engine string) string {
		base := t.TempDir()
		addVersion(t, base, 1, "keras-unet-circles")
		_, hs := start(t, Options{Engine: engine, Models: []ModelConfig{{Name: "unet", BasePath: base}}})
		return hs.URL
	}
	goURL, tfURL := unet("go"), unet("tensorflow")
	rng := rand.New(rand.NewPCG(3, 4))
	pix := make([]float32, 2*100*100)
	for i := range pix {
		pix[i] = rng.Float32()
	}
	body := fmt.Sprintf(`{"inputs": %s}`, nested(pix, 2, 100, 100, 1))
	var answers [2]struct{ Outputs [][][][]float64 }
	for i, u := range []string{goURL, tfURL} {
		code, out := do(t, "POST", u+"/v1/models/unet:predict", body)
		require.Equal(t, 200, code, out)
		require.NoError(t, json.Unmarshal([]byte(out), &answers[i]))
	}
	worst := 0.0
	for n := range answers[0].Outputs {
		for y := range answers[0].Outputs[n] {
			for x := range answers[0].Outputs[n][y] {
				for c, g := range answers[0].Outputs[n][y][x] {
					worst = max(worst, math.Abs(g-answers[1].Outputs[n][y][x][c]))
				}
			}
		}
	}
	require.Len(t, answers[1].Outputs, 2)
	t.Logf("U-Net over REST: max |go - tensorflow| = %.3g", worst)
	assert.Less(t, worst, 1e-4)
}
