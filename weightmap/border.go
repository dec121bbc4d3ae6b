package weightmap

import (
	"math"
	"sync"
	"sync/atomic"
)

// tileSize is the side of the square tiles over which unetBorder bounds d2.
const tileSize = 16

// unetBorder writes the U-Net border term w0·exp(-(d1 + d2)²/(2σ²)) into out
// (0 on foreground pixels); labels holds the n objects of fg.
//
// With two or more objects, d1 and d2 are exact, computed without a full
// transform per object:
//
//  1. One feature transform of the background gives d1(x) and l1(x), the
//     label of a nearest object pixel.
//  2. A chamfer-style propagation gives an upper bound U(x) >= d2(x): for a
//     neighbour y of x, d2(x) <= |x - y| + d1(y) when l1(y) != l1(x) (the
//     triangle inequality to object l1(y)), and d2(x) <= |x - y| + U(y) when
//     l1(y) == l1(x). Forward and backward raster passes repeat until every
//     pixel has a finite bound. Any value so obtained is a valid bound.
//  3. For each tile T of tileSize² pixels, U_T = max U over its background
//     pixels. An object k can be nearest or second nearest to some x in T only
//     if dist(x, k) <= d2(x) <= U_T, which needs dist(T, box_k) <= U_T (box_k
//     the bounding box of k). Such (k, T) pairs are "relevant".
//  4. For each object k, D_k = distance_transform_edt(label != k) is computed
//     on a crop: the bounding box of box_k and of T ∩ (box_k grown by U_T)
//     over k's relevant tiles T. The crop holds all of object k, so D_k is
//     exact there, and it holds every pixel x of a relevant tile T with
//     D_k(x) <= U_T (such x is within U_T of box_k). The two smallest D_k(x)
//     over the objects relevant to x's tile are d1(x) and d2(x), because any
//     other object is farther than U_T >= d2(x), and so is k outside the crop.
//
// Objects are processed in parallel; a mutex per tile guards the running
// two smallest squared distances.
func unetBorder(fg []bool, labels []int32, n, h, w int, p params, out []float64) {
	workers := workerCount(p.workers)
	den := 2 * p.sigma * p.sigma
	switch n {
	case 0:
		clear(out)
		return
	case 1:
		sqEDT(fg, true, []int{h, w}, []float64{p.sy, p.sx}, out, workers)
		parallelRange(len(out), workers, 1<<16, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				if fg[i] {
					out[i] = 0
				} else {
					d := math.Sqrt(out[i])
					out[i] = p.w0 * math.Exp(-(d*d)/den)
				}
			}
		})
		return
	}
	N := h * w
	// 1. d1 and the label of the nearest object.
	d1 := make([]float64, N)
	l1 := make([]int32, N)
	sqEDT2DNearest(fg, h, w, p.sy, p.sx, d1, l1, workers)
	parallelRange(N, workers, 1<<16, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			l1[i] = labels[l1[i]]
			d1[i] = math.Sqrt(d1[i])
		}
	})
	// 2. The bound U >= d2.
	u := make([]float64, N)
	chamferBound(d1, l1, h, w, p.sy, p.sx, u)
	// 3. Tiles, their bound, and the relevant objects.
	tl := newTiling(h, w, p.sy, p.sx)
	tl.bound(fg, u)
	boxes := objectBoxes(labels, n, h, w)
	rel := tl.relevant(boxes)
	// 4. Per-object transforms on crops; running two smallest per pixel.
	t1, t2 := d1, u // reuse: d1 and U are no longer needed
	inf := math.Inf(1)
	for i := range t1 {
		t1[i], t2[i] = inf, inf
	}
	locks := make([]sync.Mutex, tl.ny*tl.nx)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var feat []bool
			var f []float64
			for {
				k := int(next.Add(1)) - 1
				if k >= n {
					return
				}
				tiles := rel.tiles[rel.start[k]:rel.start[k+1]]
				if len(tiles) == 0 {
					continue
				}
				c := rel.crop[k]
				ch, cw := c.y1-c.y0+1, c.x1-c.x0+1
				feat, f = resize(feat, ch*cw), resize(f, ch*cw)
				lab := int32(k + 1)
				for y := 0; y < ch; y++ {
					src := labels[(c.y0+y)*w+c.x0 : (c.y0+y)*w+c.x1+1]
					dst := feat[y*cw : (y+1)*cw]
					for x, l := range src {
						dst[x] = l == lab
					}
				}
				sqEDT(feat, true, []int{ch, cw}, []float64{p.sy, p.sx}, f, 1)
				for _, t := range tiles {
					r := tl.rect(int(t)).intersect(c)
					if r.empty() {
						continue
					}
					locks[t].Lock()
					for y := r.y0; y <= r.y1; y++ {
						row := y * w
						crow := (y-c.y0)*cw - c.x0
						for x := r.x0; x <= r.x1; x++ {
							i := row + x
							if fg[i] {
								continue
							}
							v := f[crow+x]
							if v < t1[i] {
								t1[i], t2[i] = v, t1[i]
							} else if v < t2[i] {
								t2[i] = v
							}
						}
					}
					locks[t].Unlock()
				}
			}
		}()
	}
	wg.Wait()
	parallelRange(N, workers, 1<<15, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if fg[i] {
				out[i] = 0
				continue
			}
			d := math.Sqrt(t1[i]) + math.Sqrt(t2[i])
			out[i] = p.w0 * math.Exp(-(d*d)/den)
		}
	})
}

// resize returns s with length n, reallocating only when it must grow.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// chamferBound fills u with an upper bound of d2 (see unetBorder, step 2).
func chamferBound(d1 []float64, l1 []int32, h, w int, sy, sx float64, u []float64) {
	inf := math.Inf(1)
	for i := range u {
		u[i] = inf
	}
	sd := math.Hypot(sy, sx)
	relax := func(i, j int, step float64) {
		var c float64
		if l1[j] != l1[i] {
			c = d1[j] + step
		} else {
			c = u[j] + step
		}
		if c < u[i] {
			u[i] = c
		}
	}
	for {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				i := y*w + x
				if x > 0 {
					relax(i, i-1, sx)
				}
				if y > 0 {
					relax(i, i-w, sy)
					if x > 0 {
						relax(i, i-w-1, sd)
					}
					if x+1 < w {
						relax(i, i-w+1, sd)
					}
				}
			}
		}
		for y := h - 1; y >= 0; y-- {
			for x := w - 1; x >= 0; x-- {
				i := y*w + x
				if x+1 < w {
					relax(i, i+1, sx)
				}
				if y+1 < h {
					relax(i, i+w, sy)
					if x+1 < w {
						relax(i, i+w+1, sd)
					}
					if x > 0 {
						relax(i, i+w-1, sd)
					}
				}
			}
		}
		// Each round makes every +Inf pixel next to a finite one finite, and
		// with two or more labels some pixel is finite after the first round.
		done := true
		for _, v := range u {
			if v == inf {
				done = false
				break
			}
		}
		if done {
			return
		}
	}
}

// rect is an inclusive pixel rectangle.
type rect struct{ y0, y1, x0, x1 int }

func (r rect) empty() bool { return r.y0 > r.y1 || r.x0 > r.x1 }

func (r rect) intersect(o rect) rect {
	return rect{max(r.y0, o.y0), min(r.y1, o.y1), max(r.x0, o.x0), min(r.x1, o.x1)}
}

// union is the bounding box of r and o (o may be empty).
func (r rect) union(o rect) rect {
	if o.empty() {
		return r
	}
	return rect{min(r.y0, o.y0), max(r.y1, o.y1), min(r.x0, o.x0), max(r.x1, o.x1)}
}

// dist is the Euclidean distance between the closest pixel centres of r and o.
func (r rect) dist(o rect, sy, sx float64) float64 {
	gy := max(0, o.y0-r.y1, r.y0-o.y1)
	gx := max(0, o.x0-r.x1, r.x0-o.x1)
	return math.Hypot(float64(gy)*sy, float64(gx)*sx)
}

// grow returns r grown by distance rad (in sampling units) on every side,
// clipped to the h×w image.
func (r rect) grow(rad, sy, sx float64, h, w int) rect {
	gy, gx := h, w
	if v := math.Ceil(rad / sy); v < float64(h) {
		gy = int(v)
	}
	if v := math.Ceil(rad / sx); v < float64(w) {
		gx = int(v)
	}
	return rect{max(0, r.y0-gy), min(h-1, r.y1+gy), max(0, r.x0-gx), min(w-1, r.x1+gx)}
}

// objectBoxes returns the bounding box of each object 1..n (index k-1).
func objectBoxes(labels []int32, n, h, w int) []rect {
	b := make([]rect, n)
	for k := range b {
		b[k] = rect{h, -1, w, -1}
	}
	for y := 0; y < h; y++ {
		for x, l := range labels[y*w : (y+1)*w] {
			if l == 0 {
				continue
			}
			r := &b[l-1]
			r.y0, r.y1 = min(r.y0, y), max(r.y1, y)
			r.x0, r.x1 = min(r.x0, x), max(r.x1, x)
		}
	}
	return b
}

// tiling splits an h×w image into tileSize² tiles.
type tiling struct {
	h, w, ny, nx int
	sy, sx       float64
	// ub[t] is the bound U_T (with slack for rounding), or -1 for a tile
	// without background pixels.
	ub []float64
}

func newTiling(h, w int, sy, sx float64) *tiling {
	ny, nx := (h+tileSize-1)/tileSize, (w+tileSize-1)/tileSize
	return &tiling{h: h, w: w, ny: ny, nx: nx, sy: sy, sx: sx, ub: make([]float64, ny*nx)}
}

func (tl *tiling) rect(t int) rect {
	ty, tx := t/tl.nx, t%tl.nx
	return rect{ty * tileSize, min(tl.h, (ty+1)*tileSize) - 1, tx * tileSize, min(tl.w, (tx+1)*tileSize) - 1}
}

// bound sets ub from the per-pixel bound u over background pixels.
func (tl *tiling) bound(fg []bool, u []float64) {
	for t := range tl.ub {
		r := tl.rect(t)
		m := -1.0
		for y := r.y0; y <= r.y1; y++ {
			for x := r.x0; x <= r.x1; x++ {
				if i := y*tl.w + x; !fg[i] && u[i] > m {
					m = u[i]
				}
			}
		}
		if m >= 0 {
			m = m*(1+1e-9) + 1e-12 // U is a sum of rounded terms: keep it an upper bound
		}
		tl.ub[t] = m
	}
}

// relevance lists, per object k, the tiles relevant to it (tiles[start[k]:
// start[k+1]]) and the crop on which to compute D_k: the bounding box of
// box_k and of T ∩ (box_k grown by U_T) over k's relevant tiles T.
type relevance struct {
	start []int
	tiles []int32
	crop  []rect
}

// relevant finds the (object, tile) pairs with dist(tile, box) <= U_T.
func (tl *tiling) relevant(boxes []rect) relevance {
	nt := tl.ny * tl.nx
	// Bucket objects by the tiles their boxes overlap.
	bstart := make([]int, nt+1)
	for _, b := range boxes {
		for ty := b.y0 / tileSize; ty <= b.y1/tileSize; ty++ {
			for tx := b.x0 / tileSize; tx <= b.x1/tileSize; tx++ {
				bstart[ty*tl.nx+tx+1]++
			}
		}
	}
	for t := 0; t < nt; t++ {
		bstart[t+1] += bstart[t]
	}
	bucket := make([]int32, bstart[nt])
	fill := append([]int(nil), bstart[:nt]...)
	for k, b := range boxes {
		for ty := b.y0 / tileSize; ty <= b.y1/tileSize; ty++ {
			for tx := b.x0 / tileSize; tx <= b.x1/tileSize; tx++ {
				t := ty*tl.nx + tx
				bucket[fill[t]] = int32(k)
				fill[t]++
			}
		}
	}
	// For each tile, the objects within its bound; stamp dedupes objects
	// found in several buckets.
	n := len(boxes)
	stamp := make([]int32, n)
	for k := range stamp {
		stamp[k] = -1
	}
	type pair struct{ k, t int32 }
	var pairs []pair
	count := make([]int, n+1)
	crop := append([]rect(nil), boxes...)
	for t := 0; t < nt; t++ {
		ub := tl.ub[t]
		if ub < 0 {
			continue
		}
		r := tl.rect(t).grow(ub, tl.sy, tl.sx, tl.h, tl.w)
		tr := tl.rect(t)
		for ty := r.y0 / tileSize; ty <= r.y1/tileSize; ty++ {
			for tx := r.x0 / tileSize; tx <= r.x1/tileSize; tx++ {
				for _, k := range bucket[bstart[ty*tl.nx+tx]:bstart[ty*tl.nx+tx+1]] {
					if stamp[k] == int32(t) {
						continue
					}
					stamp[k] = int32(t)
					if tr.dist(boxes[k], tl.sy, tl.sx) <= ub {
						pairs = append(pairs, pair{k, int32(t)})
						count[k+1]++
						crop[k] = crop[k].union(tr.intersect(boxes[k].grow(ub, tl.sy, tl.sx, tl.h, tl.w)))
					}
				}
			}
		}
	}
	for k := 0; k < n; k++ {
		count[k+1] += count[k]
	}
	tiles := make([]int32, len(pairs))
	fill = append(fill[:0], count[:n]...)
	for _, pr := range pairs {
		tiles[fill[pr.k]] = pr.t
		fill[pr.k]++
	}
	return relevance{start: count, tiles: tiles, crop: crop}
}
