package weightmap

import (
	"fmt"
	"math"
)

// EDT is the exact Euclidean distance transform of a binary mask of any rank:
// for every nonzero (foreground) element, the distance to the nearest zero
// (background) element; zero elements get 0. It equals
//
//	scipy.ndimage.distance_transform_edt(mask, sampling=sampling)
//
// dims is the row-major shape of mask (len(mask) must be their product).
// sampling is the spacing along each axis: nil for 1 on every axis, one value
// for all axes, or one value per axis; every value must be finite and > 0.
// The distance between elements a and b is sqrt(Σ_k ((a_k - b_k)·sampling_k)²).
//
// Edge cases, as in SciPy: a mask without nonzero elements gives all zeros. A
// mask without any zero element has no background to measure to; SciPy then
// measures to a virtual zero element just before the first one along axis 0,
// at index (-1, 0, ..., 0), so that out[i] = sqrt(((i_0+1)·s_0)² + Σ_{k≥1}
// (i_k·s_k)²). EDT does the same. An empty mask (a zero dimension) gives an
// empty result.
//
// The transform is the separable algorithm of Felzenszwalb and Huttenlocher
// (2012): a two-scan 1-D transform along axis 0, then the lower envelope of
// parabolas along each further axis; O(n) per axis, parallel over lines.
func EDT[T Elem](mask []T, dims []int, sampling []float64) ([]float64, error) {
	return distances(mask, dims, sampling, false, "edt")
}

// distances validates its arguments and returns the distance from every
// element to the nearest element whose foreground state is feature; op
// names the caller in shape errors.
func distances[T Elem](mask []T, dims []int, sampling []float64, feature bool, op string) ([]float64, error) {
	if err := checkDims(dims, len(mask)); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	samp, err := checkSampling(sampling, len(dims))
	if err != nil {
		return nil, err
	}
	fg, err := binarize(mask, dims)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(fg))
	sqEDT(fg, feature, dims, samp, out, 0)
	sqrtAll(out, 0)
	return out, nil
}

// checkSampling returns the per-axis spacing for a rank-rank array.
func checkSampling(sampling []float64, rank int) ([]float64, error) {
	s := make([]float64, rank)
	switch len(sampling) {
	case 0:
		for i := range s {
			s[i] = 1
		}
		return s, nil
	case 1:
		for i := range s {
			s[i] = sampling[0]
		}
	case rank:
		copy(s, sampling)
	default:
		return nil, fmt.Errorf("%w: sampling %v has %d values for a rank-%d mask (want 0, 1 or %d)",
			ErrOption, sampling, len(sampling), rank, rank)
	}
	for i, v := range s {
		if !(v > 0) || math.IsInf(v, 1) {
			return nil, fmt.Errorf("%w: sampling[%d] = %v (want finite and > 0)", ErrOption, i, v)
		}
	}
	return s, nil
}

// sqrtAll replaces every element of f by its square root.
func sqrtAll(f []float64, workers int) {
	parallelRange(len(f), workerCount(workers), 1<<16, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			f[i] = math.Sqrt(f[i])
		}
	})
}

// sqEDT writes into f the squared Euclidean distance from every element of
// src to the nearest feature element, where element i is a feature when
// src[i] == feature. Without any feature it measures to the virtual feature
// at (-1, 0, ..., 0), as SciPy does. workers <= 0 uses GOMAXPROCS.
func sqEDT(src []bool, feature bool, dims []int, samp []float64, f []float64, workers int) {
	n := len(src)
	if n == 0 {
		return
	}
	workers = workerCount(workers)
	has := false
	for _, v := range src {
		if v == feature {
			has = true
			break
		}
	}
	if !has {
		virtualFeature(dims, samp, f)
		return
	}
	scanAxis0(src, feature, dims[0], n/dims[0], samp[0], f, nil, workers)
	for a := 1; a < len(dims); a++ {
		envelopeAxis(f, dims, a, samp[a], workers)
	}
}

// virtualFeature fills f with SciPy's distances for an input without zeros:
// the squared distance to index (-1, 0, ..., 0).
func virtualFeature(dims []int, samp []float64, f []float64) {
	idx := make([]int, len(dims))
	for i := range f {
		d := float64(idx[0]+1) * samp[0]
		s := d * d
		for k := 1; k < len(dims); k++ {
			d := float64(idx[k]) * samp[k]
			s += d * d
		}
		f[i] = s
		for k := len(dims) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < dims[k] {
				break
			}
			idx[k] = 0
		}
	}
}

// scanAxis0 is the 1-D transform along axis 0 (n0 slabs of inner elements):
// f = ((i - nearest feature index)·s)², +Inf where a line has no feature.
// When rows is not nil it receives that nearest feature index (-1 for none).
// Forward and backward scans run slab by slab, so memory is read in order.
func scanAxis0(src []bool, feature bool, n0, inner int, s float64, f []float64, rows []int32, workers int) {
	// sq[k] = (k·s)² is the value k rows from the nearest feature; sq[n0]
	// stands for "no feature in this line".
	sq := make([]float64, n0+1)
	for k := range n0 {
		d := float64(k) * s
		sq[k] = d * d
	}
	sq[n0] = math.Inf(1)
	none := int32(n0)
	parallelRange(inner, workers, max(1, (1<<15)/max(n0, 1)), func(lo, hi int) {
		m := hi - lo
		cnt := make([]int32, m) // rows since the last feature seen, none if none yet
		for c := range cnt {
			cnt[c] = none
		}
		for i := 0; i < n0; i++ {
			base := i*inner + lo
			row, frow := src[base:base+m], f[base:base+m]
			for c, v := range row {
				k := cnt[c]
				if v == feature {
					k = 0
				} else if k < none {
					k++
				}
				cnt[c] = k
				frow[c] = sq[k]
			}
			if rows != nil {
				rrow := rows[base : base+m]
				for c, k := range cnt {
					rrow[c] = -1
					if k < none {
						rrow[c] = int32(i) - k
					}
				}
			}
		}
		for c := range cnt {
			cnt[c] = none
		}
		for i := n0 - 1; i >= 0; i-- {
			base := i*inner + lo
			row, frow := src[base:base+m], f[base:base+m]
			for c, v := range row {
				k := cnt[c]
				if v == feature {
					k = 0
				} else if k < none {
					k++
				}
				cnt[c] = k
				if sq[k] < frow[c] {
					frow[c] = sq[k]
					if rows != nil {
						rows[base+c] = int32(i) + k
					}
				}
			}
		}
	})
}

// envelopeAxis applies the 1-D lower-envelope transform along axis a of the
// row-major array f of shape dims, in place.
func envelopeAxis(f []float64, dims []int, a int, s float64, workers int) {
	n := dims[a]
	stride := 1
	for _, d := range dims[a+1:] {
		stride *= d
	}
	lines := len(f) / n
	parallelRange(lines, workers, max(1, (1<<15)/max(n, 1)), func(lo, hi int) {
		var sc envelope
		sc.grow(n)
		in, out := make([]float64, n), make([]float64, n)
		for l := lo; l < hi; l++ {
			base := (l/stride)*n*stride + l%stride
			if stride == 1 {
				copy(in, f[base:base+n])
				sc.transform(in, f[base:base+n], s, nil) // all +Inf: stays +Inf
				continue
			}
			for j := range in {
				in[j] = f[base+j*stride]
			}
			if !sc.transform(in, out, s, nil) {
				continue // no finite value: the line stays +Inf
			}
			for j, v := range out {
				f[base+j*stride] = v
			}
		}
	})
}

// envelope is the scratch space of the Felzenszwalb–Huttenlocher 1-D
// transform: the sites of the parabolas in the lower envelope and the
// boundaries between them.
type envelope struct {
	v []int32
	z []float64
}

func (e *envelope) grow(n int) {
	if cap(e.v) < n {
		e.v = make([]int32, n)
		e.z = make([]float64, n+1)
	}
	e.v, e.z = e.v[:n], e.z[:n+1]
}

// transform computes d[q] = min_p ((q - p)·s)² + f[p] over the p with finite
// f[p] (Felzenszwalb and Huttenlocher 2012, algorithm DT(f) with spacing s).
// When arg is not nil, arg[q] receives the minimizing p. It returns false,
// leaving d and arg untouched, when every f[p] is +Inf.
func (e *envelope) transform(f, d []float64, s float64, arg []int32) bool {
	n := len(f)
	e.grow(n)
	v, z := e.v, e.z
	inf := math.Inf(1)
	s2 := 2 * s * s
	k := -1
	for q := 0; q < n; q++ {
		fq := f[q]
		if fq == inf {
			continue
		}
		qs := float64(q) * s
		hq := fq + qs*qs
		for k >= 0 {
			p := int(v[k])
			ps := float64(p) * s
			x := (hq - (f[p] + ps*ps)) / (s2 * float64(q-p))
			if x <= z[k] {
				k--
				continue
			}
			k++
			v[k], z[k], z[k+1] = int32(q), x, inf
			break
		}
		if k < 0 {
			k = 0
			v[0], z[0], z[1] = int32(q), -inf, inf
		}
	}
	if k < 0 {
		return false
	}
	k = 0
	for q := 0; q < n; q++ {
		for z[k+1] < float64(q) {
			k++
		}
		p := int(v[k])
		dq := float64(q-p) * s
		d[q] = dq*dq + f[p]
		if arg != nil {
			arg[q] = int32(p)
		}
	}
	return true
}

// sqEDT2DNearest is the 2-D squared distance transform to the feature pixels
// (src[i] == true) that also returns, in near, the flat index of a nearest
// feature pixel (a feature transform; ties are broken arbitrarily). src must
// hold at least one feature pixel.
func sqEDT2DNearest(src []bool, h, w int, sy, sx float64, f []float64, near []int32, workers int) {
	scanAxis0(src, true, h, w, sy, f, near, workers)
	parallelRange(h, workers, max(1, (1<<15)/max(w, 1)), func(lo, hi int) {
		var sc envelope
		in, arg := make([]float64, w), make([]int32, w)
		for y := lo; y < hi; y++ {
			line, nl := f[y*w:(y+1)*w], near[y*w:(y+1)*w]
			copy(in, line)
			sc.transform(in, line, sx, arg) // some column holds a feature: never all +Inf
			for x, c := range arg {
				arg[x] = nl[c]*int32(w) + c
			}
			copy(nl, arg)
		}
	})
}
