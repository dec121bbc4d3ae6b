package goengine

import (
	"github.com/tfseg/tfseg/engine/goengine/internal/gemm"
	"github.com/tfseg/tfseg/engine/goengine/internal/parallel"
	"github.com/tfseg/tfseg/tfops"
)

// Float32 convolutions as GEMMs (package internal/gemm) on NHWC images and
// [kh, kw, in, out] filters.

// conv2DFloat32 computes Conv2D (see conv2DKernel) as C[pixels × o] =
// A[pixels × kh·kw·c] · F[kh·kw·c × o], the filter being B as it is stored.
//
// With unit width stride and dilation, the kw·c inputs one filter row
// sees are contiguous in NHWC, so A is read in place: tile rows are
// output pixels, kh blocks of ka = kw·c elements each. With unit strides an
// image's output pixels are read as "virtual" rows r = oh·W + ow of the
// (padded) input width W, whose rows ow ≥ out-width are computed but not
// stored; a tile then spans output rows and narrow images keep full tiles.
// Padding (SAME, EXPLICIT) is applied by copying the input into a zero
// border first. Dilated widths fall back to packing im2col rows per tile.
// The epilogue (bias, ReLU) is applied in registers before the store.
func conv2DFloat32(g convGeom, x, f, out []float32, epi convEpilogue, threads int) {
	k := g.kh * g.kw * g.c
	oh, ow := g.wh.out, g.ww.out
	if g.n*oh*ow == 0 || g.o == 0 {
		return
	}
	b := gemm.PackPanels(f, k, g.o, g.o, 1)
	epi.apply(b)
	if g.ww.dilation != 1 {
		m := g.n * oh * ow
		job := gemm.Job{KH: 1, KA: k, M: m, Rows: gemm.DenseRows(m, g.o), Pack: func(r0, n int, dst []float32) {
			for i := 0; i < n; i++ {
				g.im2colRow(x, r0+i, dst[i*k:(i+1)*k])
			}
		}}
		gemm.Run([]gemm.Job{job}, b, out, threads, false)
		return
	}
	if jobs := paddedConvJobs(g, x, k); jobs != nil {
		gemm.Run(jobs, b, out, threads, false)
		return
	}
	x, h, w := padInput(g, x)
	var jobs []gemm.Job
	for n := 0; n < g.n; n++ {
		img := n * h * w * g.c
		base := gemm.Job{A: x, LDA: g.ww.stride * g.c, LDT: g.wh.dilation * w * g.c, KH: g.kh, KA: g.kw * g.c}
		if g.wh.stride == 1 && g.ww.stride == 1 {
			j := base
			j.AOff, j.M = img, (oh-1)*w+ow
			j.Rows = gemm.RowMap{Width: w, Valid: ow, RowStride: ow * g.o, PixStride: g.o}
			j.COff = n * oh * ow * g.o
			jobs = append(jobs, j)
			continue
		}
		for i := 0; i < oh; i++ {
			j := base
			j.AOff, j.M = img+i*g.wh.stride*w*g.c, ow
			j.Rows = gemm.DenseRows(ow, g.o)
			j.COff = (n*oh + i) * ow * g.o
			jobs = append(jobs, j)
		}
	}
	gemm.Run(jobs, b, out, threads, false)
}

// validRowsJob is the GEMM job of rows output rows of a VALID, unit-stride
// kh x kw convolution read in place: its input rows are w pixels of c
// channels from a[aOff] on (the first window's first element), its output
// rows ow pixels of o channels from C's element cOff on (virtual rows of
// the input width, see conv2DFloat32).
func validRowsJob(a []float32, aOff, w, c, kh, kw, rows, ow, o, cOff int) gemm.Job {
	return gemm.Job{A: a, AOff: aOff, LDA: c, LDT: w * c, KH: kh, KA: kw * c, M: (rows-1)*w + ow,
		Rows: gemm.RowMap{Width: w, Valid: ow, RowStride: ow * o, PixStride: o}, COff: cOff}
}

// paddedConvJobs returns the GEMM jobs of a padded (SAME, EXPLICIT)
// convolution with unit strides and dilations that read the input where it
// is, without padInput's padded copy (a whole extra input-sized buffer,
// the largest term of a U-Net's peak memory at 512x512): per image, the
// interior output pixels, whose windows lie inside the input, are a VALID
// convolution read in place (virtual rows of the input width, as
// conv2DFloat32 does), and the border pixels of all images (the rows above
// and below the interior, the columns left and right of it) are one job
// whose tiles im2colRow packs, zeros for the padding. Both sum the same
// products in the same order (filter row, then column and channel) with
// the same micro-kernel as the padded copy's GEMM, so the results are its
// bits; a job shorter than the micro-kernel's tile would run the Go
// fallback instead, so such convolutions (tiny images) keep the copy. It
// returns nil when the convolution is not of that kind.
func paddedConvJobs(g convGeom, x []float32, k int) []gemm.Job {
	if g.wh.stride != 1 || g.ww.stride != 1 || g.wh.dilation != 1 || g.ww.dilation != 1 {
		return nil
	}
	oh, ow := g.wh.out, g.ww.out
	pt, pl := g.wh.padBefore, g.ww.padBefore
	if pt == 0 && pl == 0 && oh+g.kh-1 <= g.h && ow+g.kw-1 <= g.w {
		return nil // unpadded: conv2DFloat32's own jobs
	}
	// Interior: output rows [y0, y1) and columns [x0, x1), where the
	// window starts at input row y - pt ≥ 0 and ends at y - pt + kh - 1 < h.
	y0, y1 := pt, min(oh, pt+g.h-g.kh+1)
	x0, x1 := pl, min(ow, pl+g.w-g.kw+1)
	mr := gemm.TileRows()
	interior := (y1-y0-1)*g.w + (x1 - x0)
	border := g.n * (oh*ow - (y1-y0)*(x1-x0))
	if y0 >= y1 || x0 >= x1 || pt < 0 || pl < 0 || interior < mr || (border > 0 && border < mr) {
		return nil
	}
	pix := make([]int, 0, border) // output pixels of the border, n-major
	for n := 0; n < g.n; n++ {
		for y := 0; y < oh; y++ {
			for xo := 0; xo < ow; xo++ {
				if y < y0 || y >= y1 || xo < x0 || xo >= x1 {
					pix = append(pix, (n*oh+y)*ow+xo)
				}
			}
		}
	}
	jobs := make([]gemm.Job, 0, g.n+1)
	for n := 0; n < g.n; n++ {
		jobs = append(jobs, gemm.Job{A: x, AOff: n * g.h * g.w * g.c, LDA: g.c, LDT: g.w * g.c, KH: g.kh, KA: g.kw * g.c,
			M:    interior,
			Rows: gemm.RowMap{Width: g.w, Valid: x1 - x0, RowStride: ow * g.o, PixStride: g.o},
			COff: ((n*oh+y0)*ow + x0) * g.o})
	}
	if border > 0 {
		coffs := make([]int, border)
		for i, p := range pix {
			coffs[i] = p * g.o
		}
		jobs = append(jobs, gemm.Job{KH: 1, KA: k, M: border, COffs: coffs, Rows: gemm.DenseRows(border, g.o),
			Pack: func(r0, cnt int, dst []float32) {
				for i := 0; i < cnt; i++ {
					g.im2colRow(x, pix[r0+i], dst[i*k:(i+1)*k])
				}
			}})
	}
	return jobs
}

// convEpilogue is what a fused convolution does to each output element in
// the GEMM's registers: add bias[o] (when bias is set), then ReLU.
type convEpilogue struct {
	bias []float32
	relu bool
}

// apply sets b's epilogue, spreading the bias over its panels.
func (e convEpilogue) apply(b *gemm.Panels) {
	b.Relu = e.relu
	if e.bias == nil {
		return
	}
	b.Bias = make([]float32, len(b.NCols)*gemm.NR)
	for p, n := range b.NCols {
		copy(b.Bias[p*gemm.NR:p*gemm.NR+n], e.bias[b.ColOff[p]:])
	}
}

// padInput returns x, with the zero padding of g's windows applied (as a
// copy) when the windows reach outside it, and its height and width.
func padInput(g convGeom, x []float32) ([]float32, int, int) {
	// Extent of the input the windows read, from the first window's start.
	hh := (g.wh.out-1)*g.wh.stride + (g.wh.k-1)*g.wh.dilation + 1
	ww := (g.ww.out-1)*g.ww.stride + (g.ww.k-1)*g.ww.dilation + 1
	pt, pl := g.wh.padBefore, g.ww.padBefore
	if pt == 0 && pl == 0 && hh <= g.h && ww <= g.w {
		return x, g.h, g.w
	}
	hp, wp := max(hh, g.h+pt), max(ww, g.w+pl)
	xp := make([]float32, g.n*hp*wp*g.c)
	for n := 0; n < g.n; n++ {
		for y := 0; y < g.h; y++ {
			src := x[((n*g.h+y)*g.w)*g.c:][:g.w*g.c]
			copy(xp[((n*hp+y+pt)*wp+pl)*g.c:], src)
		}
	}
	return xp, hp, wp
}

// colBlockFloats bounds the column buffer of a transposed convolution that
// does not tile its output (conv2DBackpropInputFloat32): 8 MiB.
var colBlockFloats = 1 << 21

// shuffles reports whether Conv2DBackpropInput's filter is as large as its
// stride, undilated and unpadded, so each product row lands in one place.
func (g convGeom) shuffles() bool {
	return g.kh == g.wh.stride && g.kw == g.ww.stride && g.wh.dilation == 1 && g.ww.dilation == 1 &&
		g.wh.padBefore == 0 && g.ww.padBefore == 0 && g.wh.out*g.kh <= g.h && g.ww.out*g.kw <= g.w
}

// tilesExactly reports whether, besides shuffles, the product rows cover
// every element of dx, so conv2DBackpropInputFloat32 writes all of it.
func (g convGeom) tilesExactly() bool {
	return g.shuffles() && g.wh.out*g.kh == g.h && g.ww.out*g.kw == g.w
}

// conv2DBackpropInputFloat32 computes Conv2DBackpropInput (see
// conv2DBackpropInputKernel) for float32.
//
// When the filter tiles the output exactly (kernel size == stride, no
// dilation or padding, as Keras' Conv2DTranspose(k, strides=k) has), every
// dx element receives one product row: dx[n, i·sh + a, j·sw + b, q] =
// Σ_o dy[n, i, j, o] · f[a, b, q, o], a plain GEMM whose B panels are
// grouped by (a, b) and whose output rows are scattered straight to their
// places (a pixel shuffle, no scatter-add). Otherwise the GEMM writes the
// columns dy·fᵀ one image at a time and col2im adds them up.
//
// The epilogue (bias, ReLU) is applied in the GEMM, and applied is true,
// when the product rows tile dx exactly; otherwise the caller applies it.
func conv2DBackpropInputFloat32(c *Context, g convGeom, f, dy, dx []float32, epi convEpilogue) (applied bool, err error) {
	ohd, owd := g.wh.out, g.ww.out
	m := ohd * owd
	ncol := g.kh * g.kw * g.c
	if g.n*m == 0 || ncol == 0 {
		return false, nil
	}
	if g.shuffles() {
		applied = g.tilesExactly()
		b := shufflePanels(g, f, epi, applied)
		jobs := make([]gemm.Job, g.n)
		for n := range jobs {
			jobs[n] = g.shuffleJob(dy, n, 0, g.wh.out, n*g.h*g.w*g.c)
		}
		gemm.Run(jobs, b, dx, c.Threads(), false)
		return applied, nil
	}
	// B(o, (a, b, q)) = f[a, b, q, o]: rows of length o, so rs = 1, cs = o.
	b := gemm.PackPanels(f, g.o, ncol, 1, g.o)
	// The columns dy·fᵀ are made and added up block by block of at most
	// colBlockFloats (as TensorFlow's Conv2DBackpropInput shards its col
	// buffer by a working-set size): a whole image's columns, m·kh·kw·c
	// floats, were 150 MB for a 3x3 stride-2 transposed convolution to
	// 512x512x64. Every dx element still receives its terms in ascending
	// product row r, so the sums are the same bits.
	if err := c.checkAlloc(tfops.Float, []int{m, ncol}); err != nil {
		return false, err
	}
	// A block shorter than the micro-kernel's tile would run the Go
	// fallback (other bits than the assembly's): blocks have at least mr
	// rows, and a shorter tail joins the block before it.
	mr := gemm.TileRows()
	block := min(m, max(mr, colBlockFloats/ncol))
	col, done := c.scratch(min(m, block+mr) * ncol)
	defer done()
	for n := 0; n < g.n; n++ {
		img := dx[n*g.h*g.w*g.c : (n+1)*g.h*g.w*g.c]
		for r0, cnt := 0, 0; r0 < m; r0 += cnt {
			if cnt = min(block, m-r0); m-r0-cnt < mr {
				cnt = m - r0
			}
			job := gemm.Job{A: dy, AOff: (n*m + r0) * g.o, LDA: g.o, KH: 1, KA: g.o, M: cnt, Rows: gemm.DenseRows(cnt, ncol)}
			gemm.Run([]gemm.Job{job}, b, col, c.Threads(), false)
			// col2im, split over the input rows each goroutine owns.
			parallel.For(c.Threads(), g.h, 1, func(y0, y1 int) {
				for r := r0; r < r0+cnt; r++ {
					oh, ow := r/owd, r%owd
					src := col[(r-r0)*ncol:][:ncol]
					for a := 0; a < g.kh; a++ {
						y := oh*g.wh.stride + a*g.wh.dilation - g.wh.padBefore
						if y < y0 || y >= y1 {
							continue
						}
						for bb := 0; bb < g.kw; bb++ {
							z := ow*g.ww.stride + bb*g.ww.dilation - g.ww.padBefore
							if z < 0 || z >= g.w {
								continue
							}
							d := img[(y*g.w+z)*g.c:][:g.c]
							s := src[(a*g.kw+bb)*g.c:][:g.c]
							for q := range d {
								d[q] += s[q]
							}
						}
					}
				}
			})
		}
	}
	return false, nil
}

// shufflePanels packs a pixel-shuffling transposed convolution's filter
// (g.shuffles) as B: panels per filter tap (a, b), B(o, q) = f[a, b, q, o],
// each placed at the tap's column offset (a·w + b)·c in dx; with applied,
// the epilogue (bias, ReLU) goes into the panels.
func shufflePanels(g convGeom, f []float32, epi convEpilogue, applied bool) *gemm.Panels {
	per := (g.c + gemm.NR - 1) / gemm.NR
	b := gemm.NewPanels(g.o, g.kh*g.kw*per)
	for ab := 0; ab < g.kh*g.kw; ab++ {
		a, bb := ab/g.kw, ab%g.kw
		for q := 0; q < per; q++ {
			jp := ab*per + q
			q0 := q * gemm.NR
			b.ColOff[jp], b.NCols[jp] = (a*g.w+bb)*g.c+q0, min(gemm.NR, g.c-q0)
			if applied && epi.bias != nil {
				if b.Bias == nil {
					b.Bias = make([]float32, len(b.NCols)*gemm.NR)
				}
				copy(b.Bias[jp*gemm.NR:jp*gemm.NR+b.NCols[jp]], epi.bias[q0:])
			}
			panel := b.Panel(jp)
			for j := 0; j < b.NCols[jp]; j++ {
				src := f[(ab*g.c+q0+j)*g.o:][:g.o]
				for o, v := range src {
					panel[o*gemm.NR+j] = v
				}
			}
		}
	}
	b.Relu = applied && epi.relu
	return b
}

// shuffleJob is the GEMM job of shufflePanels' B that computes the dx rows
// of out_backprop rows [y0, y1) of image n, dx row y0·sh at element cOff
// of C.
func (g convGeom) shuffleJob(dy []float32, n, y0, y1, cOff int) gemm.Job {
	ohd, owd := g.wh.out, g.ww.out
	return gemm.Job{A: dy, AOff: (n*ohd + y0) * owd * g.o, LDA: g.o, KH: 1, KA: g.o, M: (y1 - y0) * owd,
		Rows: gemm.RowMap{Width: owd, Valid: owd, RowStride: g.kh * g.w * g.c, PixStride: g.kw * g.c},
		COff: cOff}
}
