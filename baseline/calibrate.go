package baseline

import (
	"fmt"
	"math"

	"github.com/tfseg/tfseg/dataset"
)

// Calibration holds the baseline model's parameters: the standard
// deviation of its Gaussian smoothing and the logistic map from a smoothed
// grey level s to the foreground probability p = σ(Gain·s + Bias). The
// model's threshold, where p = 1/2, is s = -Bias/Gain.
type Calibration struct {
	// Sigma is the Gaussian smoothing's standard deviation, in pixels.
	Sigma float64
	// Gain and Bias map the smoothed grey level to the logit.
	Gain, Bias float64
}

// Threshold is the smoothed grey level at which the probability is 1/2.
func (c Calibration) Threshold() float64 { return -c.Bias / c.Gain }

// DefaultCalibration is what Calibrate(CalibrationCircles, 64, CalibrationSigmas)
// returns, rounded to 4 significant digits (TestDefaultCalibration re-runs it).
var DefaultCalibration = Calibration{Sigma: 1.5, Gain: 41.55, Bias: -17.62}

// CalibrationCircles is the dataset the default calibration is fitted on:
// DefaultCircles with another seed, so that the demo evaluates on images
// the calibration never saw.
var CalibrationCircles = func() Circles { c := DefaultCircles; c.Seed = 1001; return c }()

// CalibrationSigmas are the smoothing widths Calibrate tries by default.
var CalibrationSigmas = []float64{0.5, 1, 1.5, 2, 2.5, 3, 4}

// Radius is the half-width of the Gaussian kernel for sigma: the truncation
// at 4 standard deviations that scipy.ndimage.gaussian_filter uses
// (radius = int(4σ + 0.5)).
func Radius(sigma float64) int { return int(4*sigma + 0.5) }

// Gaussian1D returns the normalised 1-D Gaussian of standard deviation
// sigma on [-Radius, Radius], as scipy.ndimage's _gaussian_kernel1d.
func Gaussian1D(sigma float64) []float64 {
	r := Radius(sigma)
	g := make([]float64, 2*r+1)
	var sum float64
	for i := range g {
		x := float64(i - r)
		g[i] = math.Exp(-x * x / (2 * sigma * sigma))
		sum += g[i]
	}
	for i := range g {
		g[i] /= sum
	}
	return g
}

// reflect maps an index outside [0, n) into it by reflection about the
// edge (…, 1, 0 | 0, 1, …, n-1 | n-1, n-2, …), scipy.ndimage's "reflect"
// mode and TensorFlow's MirrorPad SYMMETRIC.
func reflect(i, n int) int {
	for i < 0 || i >= n {
		if i < 0 {
			i = -i - 1
		}
		if i >= n {
			i = 2*n - 1 - i
		}
	}
	return i
}

// Smooth filters a one-channel image with the Gaussian of standard
// deviation sigma (separable, float64, "reflect" borders): what
// scipy.ndimage.gaussian_filter(x, sigma, mode="reflect") computes, and what
// the model's Conv2D computes in float32.
func Smooth(im *dataset.Image, sigma float64) ([]float64, error) {
	if im.Channels != 1 {
		return nil, fmt.Errorf("baseline: smooth: image has %d channels, want 1", im.Channels)
	}
	g := Gaussian1D(sigma)
	r := len(g) / 2
	h, w := im.Height, im.Width
	tmp := make([]float64, h*w)
	for y := range h {
		for x := range w {
			var s float64
			for k, gk := range g {
				s += gk * float64(im.Pix[y*w+reflect(x+k-r, w)])
			}
			tmp[y*w+x] = s
		}
	}
	out := make([]float64, h*w)
	for y := range h {
		for x := range w {
			var s float64
			for k, gk := range g {
				s += gk * tmp[reflect(y+k-r, h)*w+x]
			}
			out[y*w+x] = s
		}
	}
	return out, nil
}

// CalibrationResult reports what Calibrate tried.
type CalibrationResult struct {
	// Best is the chosen calibration.
	Best Calibration
	// Tried holds one calibration per sigma and its mean Dice coefficient
	// on the calibration images, in the order of the sigmas.
	Tried []Calibration
	// Dice holds the mean Dice coefficient of each of Tried.
	Dice []float64
}

// Calibrate fits the baseline model on n images of data (use a seed the
// evaluation does not use). The procedure, fixed so that anyone can re-run it:
//
//  1. for each sigma, smooth every image (Smooth) and fit Gain and Bias by
//     maximum-likelihood logistic regression of the mask on the smoothed
//     level (Platt scaling: Newton's method on the mean log-loss, from
//     Gain = 1, Bias = 0, until the step is below 1e-10);
//  2. threshold the fitted probability at 1/2 and compute each image's
//     Dice coefficient 2TP / (2TP + FP + FN) (1 when both are empty);
//  3. keep the sigma with the highest mean Dice (the first on ties).
//
// The probabilities are calibrated in the logistic-regression sense, so the
// cross-entropy losses `tfseg eval` reports on the baseline are meaningful.
func Calibrate(data Circles, n int, sigmas []float64) (CalibrationResult, error) {
	if err := data.Validate(); err != nil {
		return CalibrationResult{}, err
	}
	if n <= 0 || len(sigmas) == 0 {
		return CalibrationResult{}, fmt.Errorf("baseline: calibrate: need images (n = %d) and sigmas (%d)", n, len(sigmas))
	}
	images := make([]*dataset.Image, n)
	masks := make([]*dataset.Mask, n)
	for i := range n {
		images[i], masks[i] = data.Sample(i)
	}
	var res CalibrationResult
	best := -1.0
	for _, sigma := range sigmas {
		if !(sigma > 0) {
			return CalibrationResult{}, fmt.Errorf("baseline: calibrate: sigma %g must be positive", sigma)
		}
		smoothed := make([][]float64, n)
		for i, im := range images {
			smoothed[i], _ = Smooth(im, sigma)
		}
		gain, bias := fitLogistic(smoothed, masks)
		c := Calibration{Sigma: sigma, Gain: gain, Bias: bias}
		var dice float64
		for i, s := range smoothed {
			dice += diceAt(s, masks[i].Labels, c.Threshold())
		}
		dice /= float64(n)
		res.Tried = append(res.Tried, c)
		res.Dice = append(res.Dice, dice)
		if dice > best {
			best, res.Best = dice, c
		}
	}
	return res, nil
}

// fitLogistic maximises Σ z log σ(a s + b) + (1 - z) log(1 - σ(a s + b)) by Newton's method.
func fitLogistic(smoothed [][]float64, masks []*dataset.Mask) (a, b float64) {
	a, b = 1, 0
	for iter := 0; iter < 100; iter++ {
		// Gradient and Hessian of the negative log-likelihood.
		var ga, gb, haa, hab, hbb float64
		for i, s := range smoothed {
			for k, v := range s {
				p := 1 / (1 + math.Exp(-(a*v + b)))
				d := p - float64(masks[i].Labels[k])
				w := p * (1 - p)
				ga += d * v
				gb += d
				haa += w * v * v
				hab += w * v
				hbb += w
			}
		}
		det := haa*hbb - hab*hab
		if det == 0 {
			return a, b
		}
		da := (hbb*ga - hab*gb) / det
		db := (haa*gb - hab*ga) / det
		a, b = a-da, b-db
		if math.Abs(da) < 1e-10 && math.Abs(db) < 1e-10 {
			break
		}
	}
	return a, b
}

// diceAt is the Dice coefficient of (s > t) against labels (1 when both are empty).
func diceAt(s []float64, labels []int32, t float64) float64 {
	var tp, fp, fn int
	for k, v := range s {
		pred, truth := v > t, labels[k] != 0
		switch {
		case pred && truth:
			tp++
		case pred:
			fp++
		case truth:
			fn++
		}
	}
	if tp+fp+fn == 0 {
		return 1
	}
	return 2 * float64(tp) / float64(2*tp+fp+fn)
}
