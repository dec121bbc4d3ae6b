package baseline

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/dataset"
)

// TestDefaultCalibration re-runs the documented calibration procedure and
// checks that DefaultCalibration is its result.
func TestDefaultCalibration(t *testing.T) {
	res, err := Calibrate(CalibrationCircles, 64, CalibrationSigmas)
	require.NoError(t, err)
	for i, c := range res.Tried {
		t.Logf("sigma %g: gain %.6g bias %.6g threshold %.4f mean Dice %.5f", c.Sigma, c.Gain, c.Bias, c.Threshold(), res.Dice[i])
	}
	assert.Equal(t, DefaultCalibration.Sigma, res.Best.Sigma)
	assert.InEpsilon(t, DefaultCalibration.Gain, res.Best.Gain, 5e-4)
	assert.InEpsilon(t, DefaultCalibration.Bias, res.Best.Bias, 5e-4)
	assert.Less(t, res.Dice[0], 0.8, "smoothing matters: sigma 0.5 leaves too much noise")
	for i, d := range res.Dice {
		if res.Tried[i].Sigma == res.Best.Sigma {
			assert.Greater(t, d, 0.95, "the chosen sigma's mean Dice on the calibration images")
		}
	}
}

func TestCalibrateErrors(t *testing.T) {
	_, err := Calibrate(CalibrationCircles, 0, CalibrationSigmas)
	assert.Error(t, err)
	_, err = Calibrate(CalibrationCircles, 1, []float64{0})
	assert.Error(t, err)
	bad := CalibrationCircles
	bad.Width = 0
	_, err = Calibrate(bad, 1, CalibrationSigmas)
	assert.Error(t, err)
}

// goldens are scripts/goldens_baseline.py's SciPy results.
type goldenCase struct {
	Sigma, Gain, Bias float64
	Height, Width     int
	Kernel            []float64
	Image             []float32
	Smoothed          []float64
	Probability       []float64
}

func readGoldens(t *testing.T) []goldenCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "goldens.json"))
	require.NoError(t, err)
	var g struct{ Cases []goldenCase }
	require.NoError(t, json.Unmarshal(data, &g))
	require.NotEmpty(t, g.Cases)
	return g.Cases
}

func TestGaussianAndSmoothAgainstSciPy(t *testing.T) {
	for _, tc := range readGoldens(t) {
		t.Run(fmt.Sprintf("sigma=%g/%dx%d", tc.Sigma, tc.Height, tc.Width), func(t *testing.T) {
			got := Gaussian1D(tc.Sigma)
			require.Len(t, got, len(tc.Kernel))
			for i := range got {
				assert.InDelta(t, tc.Kernel[i], got[i], 1e-15, "tap %d", i)
			}
			s, err := Smooth(&dataset.Image{Height: tc.Height, Width: tc.Width, Channels: 1, Pix: tc.Image}, tc.Sigma)
			require.NoError(t, err)
			for i := range s {
				assert.InDelta(t, tc.Smoothed[i], s[i], 1e-12, "pixel %d", i)
			}
		})
	}
}

func TestReflect(t *testing.T) {
	n := 3
	got := []int{}
	for i := -4; i < 7; i++ {
		got = append(got, reflect(i, n))
	}
	// numpy.pad(range(3), 4, mode="symmetric")[:11]
	assert.Equal(t, []int{2, 2, 1, 0, 0, 1, 2, 2, 1, 0, 0}, got)
	_, err := Smooth(&dataset.Image{Height: 1, Width: 1, Channels: 3, Pix: make([]float32, 3)}, 1)
	assert.Error(t, err)
	assert.False(t, math.IsNaN(DefaultCalibration.Threshold()))
}
