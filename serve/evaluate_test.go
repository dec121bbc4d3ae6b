package serve

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/baseline"
	"github.com/tfseg/tfseg/dataset"
	"github.com/tfseg/tfseg/eval"
)

// evalReport is the part of an :evaluate answer the tests read.
type evalReport struct {
	ModelSpec map[string]string `json:"model_spec"`
	Report    struct {
		Columns []struct{ Name string } `json:"columns"`
		Images  []struct {
			Name   string              `json:"name"`
			Values map[string]*float64 `json:"values"`
		} `json:"images"`
	} `json:"report"`
}

// nested writes a flat row-major slice as nested JSON lists of dims.
func nested[T any](data []T, dims ...int) string {
	if len(dims) == 0 {
		return fmt.Sprint(data[0])
	}
	step := len(data) / dims[0]
	parts := make([]string, dims[0])
	for i := range parts {
		parts[i] = nested(data[i*step:(i+1)*step], dims[1:]...)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// TestEvaluateMatchesTfsegEval: :evaluate on PNGs (base64) and on the
// same images and masks as arrays gives the per-image numbers `tfseg eval`
// (eval.Run on the folder) gives.
func TestEvaluateMatchesTfsegEval(t *testing.T) {
	base := t.TempDir()
	require.NoError(t, baseline.WriteModel(filepath.Join(base, "1"), baseline.DefaultCalibration))
	_, hs := start(t, Options{Models: []ModelConfig{{Name: "circles", BasePath: base}}})

	data := t.TempDir()
	require.NoError(t, baseline.DefaultCircles.WriteDir(data, 3))
	imgDir, maskDir := filepath.Join(data, "images"), filepath.Join(data, "masks")
	listing, err := dataset.Match(imgDir, maskDir, dataset.MatchOptions{})
	require.NoError(t, err)
	m, err := eval.Load(filepath.Join(base, "1"), eval.LoadOptions{})
	require.NoError(t, err)
	defer m.Close()
	want, err := eval.Run(context.Background(), m, listing, eval.Options{})
	require.NoError(t, err)

	var pngImages, pngMasks, arrImages, arrMasks, names []string
	for _, p := range listing.Pairs {
		names = append(names, `"`+p.Name+`"`)
		for _, f := range []struct {
			path string
			dst  *[]string
		}{{p.Image, &pngImages}, {p.Mask, &pngMasks}} {
			b, err := os.ReadFile(f.path)
			require.NoError(t, err)
			*f.dst = append(*f.dst, `{"b64": "`+base64.StdEncoding.EncodeToString(b)+`"}`)
		}
		im, err := dataset.ReadImage(p.Image, dataset.ImageOptions{})
		require.NoError(t, err)
		arrImages = append(arrImages, nested(im.Pix, im.Height, im.Width, im.Channels))
		mk, err := dataset.ReadMask(p.Mask, dataset.MaskOptions{})
		require.NoError(t, err)
		arrMasks = append(arrMasks, nested(mk.Labels, mk.Height, mk.Width))
	}
	for name, body := range map[string]string{
		"png":    fmt.Sprintf(`{"images": [%s], "masks": [%s], "names": [%s]}`, strings.Join(pngImages, ","), strings.Join(pngMasks, ","), strings.Join(names, ",")),
		"arrays": fmt.Sprintf(`{"images": [%s], "masks": [%s], "names": [%s]}`, strings.Join(arrImages, ","), strings.Join(arrMasks, ","), strings.Join(names, ",")),
	} {
		t.Run(name, func(t *testing.T) {
			code, out := do(t, "POST", hs.URL+"/v1/models/circles:evaluate", body)
			require.Equal(t, 200, code, out)
			var got evalReport
			require.NoError(t, json.Unmarshal([]byte(out), &got))
			assert.Equal(t, "1", got.ModelSpec["version"])
			require.Len(t, got.Report.Images, len(want.Images))
			require.Len(t, got.Report.Columns, len(want.Columns))
			for i, im := range want.Images {
				assert.Equal(t, im.Name, got.Report.Images[i].Name)
				for c, col := range want.Columns {
					g := got.Report.Images[i].Values[col.Name]
					if math.IsNaN(im.Values[c]) {
						assert.Nil(t, g, "%s %s", im.Name, col.Name)
						continue
					}
					if assert.NotNil(t, g, "%s %s", im.Name, col.Name) {
						assert.InDelta(t, im.Values[c], *g, 1e-6, "%s %s", im.Name, col.Name)
					}
				}
			}
			assert.NotContains(t, out, data, "no server paths in the answer")
		})
	}
	code, out := do(t, "POST", hs.URL+"/v1/models/circles:evaluate", `{"images": [[[0.5]]], "masks": []}`)
	assert.Equal(t, 400, code, out)
	code, out = do(t, "POST", hs.URL+"/v1/models/circles:evaluate", `{"images": [{"b64": "aGVsbG8="}], "masks": [[[0]]]}`)
	assert.Equal(t, 400, code, out)
	assert.Contains(t, out, "neither PNG nor JPEG")
}

// TestLossCompute checks /v1/losses/keras_bce:compute against Keras'
// binary cross-entropy computed here in float64: mean over all elements of
// -(y log p + (1-y) log(1-p)) (no clipping happens: p is inside
// [1e-7, 1-1e-7]).
func TestLossCompute(t *testing.T) {
	_, hs := halfPlusTwo(t, "half-plus-two-tf1", Options{})
	y := []float64{0, 1, 1, 0, 1, 0}
	p := []float64{0.1, 0.8, 0.6, 0.3, 0.99, 0.05}
	var ref float64
	for i := range y {
		ref -= y[i]*math.Log(p[i]) + (1-y[i])*math.Log(1-p[i])
	}
	ref /= float64(len(y))
	body := fmt.Sprintf(`{"y_true": %s, "y_pred": %s}`, nested(y, 1, 2, 3, 1), nested(p, 1, 2, 3, 1))
	code, out := do(t, "POST", hs.URL+"/v1/losses/keras_bce:compute", body)
	require.Equal(t, 200, code, out)
	var got struct {
		Loss, Kind string
		Value      float64
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	assert.Equal(t, "keras_bce", got.Loss)
	assert.Equal(t, "loss", got.Kind)
	assert.InEpsilon(t, ref, got.Value, 1e-6)

	code, out = do(t, "POST", hs.URL+"/v1/losses/nope:compute", body)
	assert.Equal(t, 404, code, out)
	code, out = do(t, "POST", hs.URL+"/v1/losses/keras_bce:compute", `{"y_true": [[1.0]], "y_pred": [[0.5, 0.5]]}`)
	assert.Equal(t, 400, code, out)
	code, out = do(t, "POST", hs.URL+"/v1/losses/keras_bce:compute", `{"y_true": [1.0], "y_pred": [0.5], "config": {"nope": 1}}`)
	assert.Equal(t, 400, code, out)
}
