package goengine

import "github.com/tfseg/tfseg/engine/goengine/internal/parallel"

// maxPool2x2 computes a 2x2 max-pool with stride 2 whose windows all lie
// inside the input (VALID, or SAME on even sizes: no padding before) as
// poolGeneric does, without its per-element window walk: each output
// element is max(max(max(x00, x01), x10), x11), the order poolGeneric
// takes (Go's max: NaN propagates, max(-0, +0) is +0). It reports false,
// computing nothing, for any other pooling. On amd64, float32 rows with 8
// or more channels run an assembly kernel with the same results
// (pool_amd64.s, maxPoolRowF32).
func maxPool2x2[T convElem](g convGeom, x, out []T, threads int) bool {
	if g.kh != 2 || g.kw != 2 || g.wh.stride != 2 || g.ww.stride != 2 || g.wh.padBefore != 0 || g.ww.padBefore != 0 ||
		2*g.wh.out > g.h || 2*g.ww.out > g.w {
		return false
	}
	rows, maxPoolRows := g.n*g.wh.out, maxPool2x2Rows(g, x, out)
	chunk := max(grainCheap/max(1, 4*g.ww.out*g.c), rows/(8*max(threads, 1)), 1)
	parallel.Dynamic(threads, rows, chunk, func() func(lo, hi int) { return maxPoolRows })
	return true
}

// maxPool2x2Rows returns the function that computes maxPool2x2's output
// rows [lo, hi).
func maxPool2x2Rows[T convElem](g convGeom, x, out []T) func(lo, hi int) {
	c, ow := g.c, g.ww.out
	return func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n, oh := r/g.wh.out, r%g.wh.out
			top := x[((n*g.h+2*oh)*g.w)*c:][:2*ow*c]
			bot := x[((n*g.h+2*oh+1)*g.w)*c:][:2*ow*c]
			dst := out[r*ow*c:][:ow*c]
			if maxPoolRowF32 != nil && c >= 8 {
				if d, ok := any(dst).([]float32); ok {
					maxPoolRowF32(d, any(top).([]float32), any(bot).([]float32), ow, c)
					continue
				}
			}
			for j := 0; j < ow; j++ {
				a, b := top[2*j*c:][:2*c], bot[2*j*c:][:2*c]
				d := dst[j*c:][:c]
				for q := range d {
					d[q] = max(max(max(a[q], a[c+q]), b[q]), b[c+q])
				}
			}
		}
	}
}

// maxPoolRowKernel is one assembly 2x2 max-pool row kernel (pool_amd64.go):
// run(dst, top, bot, ow, c) computes maxPool2x2's output row dst (ow
// pixels of c channels) from its input rows top and bot.
type maxPoolRowKernel struct {
	name string
	run  func(dst, top, bot []float32, ow, c int)
}
