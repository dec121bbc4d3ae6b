package weightmap

import (
	"fmt"
	"math"
)

// U-Net defaults (Ronneberger et al. 2015, section 3: "we set w0 = 10 and σ ≈ 5 pixels").
const (
	DefaultW0    = 10.0
	DefaultSigma = 5.0
)

// ClassWeighting selects the class-balancing term w_c of the U-Net weight map.
type ClassWeighting int

const (
	// ClassBalanced (the zero value) weights each class by its inverse pixel
	// frequency in the image, normalised so that the rarest class weighs 1
	// and a more frequent class less (the most frequent one the least):
	//
	//	w_c(c) = (1 / n_c) / max_{c'} (1 / n_{c'}) = min_{c'} n_{c'} / n_c
	//
	// over the classes c' present in the image (n_c pixels of class c;
	// background and foreground). A class alone in its image weighs 1; an
	// absent class has no pixel to weigh. This is the w_c of the reference
	// MATLAB implementation unetwmap.m by F. A. Guerrero-Peña
	// (github.com/bioimaging-lab/deepCyAn), which its Python ports copy.
	ClassBalanced ClassWeighting = iota
	// ClassNone sets w_c = 0: the map is the border term alone, as the widely
	// copied Python port unet_weight_map(y, wc=None) returns it.
	ClassNone
	// ClassExplicit takes w_c from Options.ClassWeights: {background, foreground}.
	ClassExplicit
)

// Options configures [UNet]. The zero value gives the U-Net paper's map:
// w0 = 10, σ = 5 pixels, balanced class weights, 4-connected objects, unit
// pixel spacing.
type Options struct {
	// W0 is the border weight w0; 0 selects DefaultW0 (set NoBorder for a
	// map without border term). It must be finite and
	// >= 0 (there is no way to ask for w0 = 0 other than a tiny value such
	// as math.SmallestNonzeroFloat64).
	W0 float64
	// NoBorder drops the border term (w0 = 0): the map is w_c alone.
	NoBorder bool
	// Sigma is σ, in the units of Sampling (pixels by default); 0 selects
	// DefaultSigma. It must be finite and > 0.
	Sigma float64
	// Class selects w_c: ClassBalanced (default), ClassNone or ClassExplicit.
	Class ClassWeighting
	// ClassWeights holds {background, foreground} weights for ClassExplicit;
	// each must be finite.
	ClassWeights [2]float64
	// Connectivity defines objects: Conn4 (default, scipy.ndimage.label's
	// default) or Conn8.
	Connectivity Connectivity
	// Sampling is the pixel size: nil (1×1), one value for both axes, or
	// {row spacing, column spacing}. Distances, and σ, are in these units.
	Sampling []float64
	// Workers bounds the goroutines used; 0 uses GOMAXPROCS.
	Workers int
}

// params are validated Options with defaults applied.
type params struct {
	w0, sigma float64
	noBorder  bool
	class     ClassWeighting
	cw        [2]float64
	conn      Connectivity
	sy, sx    float64
	workers   int
}

func (o Options) params() (params, error) {
	p := params{w0: o.W0, sigma: o.Sigma, noBorder: o.NoBorder, class: o.Class, cw: o.ClassWeights, conn: o.Connectivity, workers: o.Workers}
	if p.w0 == 0 {
		p.w0 = DefaultW0
	}
	if p.sigma == 0 {
		p.sigma = DefaultSigma
	}
	if !(p.w0 >= 0) || math.IsInf(p.w0, 1) {
		return p, fmt.Errorf("%w: W0 = %v (want finite and >= 0)", ErrOption, o.W0)
	}
	if !(p.sigma > 0) || math.IsInf(p.sigma, 1) {
		return p, fmt.Errorf("%w: Sigma = %v (want finite and > 0)", ErrOption, o.Sigma)
	}
	switch p.class {
	case ClassBalanced, ClassNone:
	case ClassExplicit:
		for i, v := range p.cw {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return p, fmt.Errorf("%w: ClassWeights[%d] = %v (want finite)", ErrOption, i, v)
			}
		}
	default:
		return p, fmt.Errorf("%w: Class = %d (want ClassBalanced, ClassNone or ClassExplicit)", ErrOption, int(p.class))
	}
	if err := p.conn.valid(); err != nil {
		return p, err
	}
	s, err := checkSampling(o.Sampling, 2)
	if err != nil {
		return p, err
	}
	p.sy, p.sx = s[0], s[1]
	return p, nil
}

// UNet computes the U-Net weight map (Ronneberger et al. 2015, eq. 2) of a
// binary h×w mask:
//
//	w(x) = w_c(x) + w0 · exp(-(d1(x) + d2(x))² / (2σ²))   for background x
//	w(x) = w_c(x)                                         for foreground x
//
// The objects are the connected components of the mask ([Label] with
// opts.Connectivity). For each object k, D_k = distance_transform_edt(label
// != k) is the distance from a pixel to the nearest pixel of object k; d1(x)
// and d2(x) are the smallest and second-smallest of D_k(x) over all objects,
// computed exactly (not approximated). When the image has fewer than two
// objects:
//
//   - one object: d2 is absent and counts as 0, so the border term is
//     w0 · exp(-d1(x)² / (2σ²)) (the spec's one-object variant; the MATLAB
//     reference and its Python ports return 0 there instead);
//   - no object: the border term is 0.
//
// w_c is chosen by opts.Class (see [ClassWeighting]). The result is float64,
// row-major, len h*w. The reference computation, in SciPy, is
//
//	labels, n = ndimage.label(mask)
//	D = np.stack([ndimage.distance_transform_edt(labels != k) for k in 1..n])
//	D.sort(axis=0); d1, d2 = D[0], D[1]
//	w = w_c + w0 * np.exp(-(d1 + d2)**2 / (2 * sigma**2)) * (labels == 0)
//
// which costs n full transforms. UNet computes each D_k only on a window
// around object k that provably holds every pixel where k can be nearest or
// second nearest: a chamfer propagation bounds d2 from above, and object k is
// skipped wherever its bounding box is farther than that bound (border.go
// gives the argument). The cost grows with the area around the objects
// rather than with n × image size; the result is the same.
func UNet[T Elem](mask []T, h, w int, opts Options) ([]float64, error) {
	p, err := opts.params()
	if err != nil {
		return nil, err
	}
	dims := []int{h, w}
	if err := checkDims(dims, len(mask)); err != nil {
		return nil, fmt.Errorf("unet: %w", err)
	}
	fg, err := binarize(mask, dims)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(fg))
	unetMap(fg, h, w, p, out)
	return out, nil
}

// unetMap writes the weight map of fg into out.
func unetMap(fg []bool, h, w int, p params, out []float64) {
	if len(fg) == 0 {
		return
	}
	labels := make([]int32, len(fg))
	n := label(fg, h, w, p.conn, labels)
	if !p.noBorder {
		unetBorder(fg, labels, n, h, w, p, out)
	}
	var wc [2]float64
	switch p.class {
	case ClassExplicit:
		wc = p.cw
	case ClassBalanced:
		wc = balancedWeights(fg)
	}
	if wc == [2]float64{} {
		return
	}
	parallelRange(len(out), workerCount(p.workers), 1<<16, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if fg[i] {
				out[i] += wc[1]
			} else {
				out[i] += wc[0]
			}
		}
	})
}

// balancedWeights returns the ClassBalanced {background, foreground} weights.
func balancedWeights(fg []bool) [2]float64 {
	var n [2]int
	for _, v := range fg {
		if v {
			n[1]++
		} else {
			n[0]++
		}
	}
	if n[0] == 0 || n[1] == 0 {
		return [2]float64{1, 1}
	}
	m := float64(min(n[0], n[1]))
	return [2]float64{m / float64(n[0]), m / float64(n[1])}
}

// Nearest is the seed's single-object distance map, the weights input of the
// distance_ce loss: for every background pixel the distance to the nearest
// foreground pixel, 0 on foreground pixels,
//
//	Nearest(mask) = scipy.ndimage.distance_transform_edt(mask == 0, sampling=sampling)
//
// sampling is as in [EDT] (nil, one value, or {rows, cols}). A mask without
// any foreground pixel has nothing to measure to; then, as SciPy does, the
// distance is to a virtual pixel at row -1, column 0:
// sqrt(((y+1)·s_y)² + (x·s_x)²).
func Nearest[T Elem](mask []T, h, w int, sampling []float64) ([]float64, error) {
	return distances(mask, []int{h, w}, sampling, true, "nearest")
}

// nearestMap writes the Nearest map of the validated mask fg into out.
func nearestMap(fg []bool, h, w int, samp []float64, out []float64, workers int) {
	sqEDT(fg, true, []int{h, w}, samp, out, workers)
	sqrtAll(out, workers)
}
