package goengine

import (
	"fmt"
	"sync/atomic"
)

//go:generate go run gemm_gen.go

// Float32 GEMM for convolutions and matrix products.
//
// C = A·B is computed in register tiles of MR rows × 16 columns by a
// micro-kernel: AVX-512 (28×16) or AVX2/FMA (6×16) assembly on amd64 CPUs
// that have them, otherwise gemmKernelGo. B is packed once into panels of
// gemmNR columns ([k][gemmNR] each, zero padded). A is read in place: row r
// of A is the k = kh·ka elements
//
//	A[r, t·ka + p] = a[aOff + r·lda + t·ldt + p]   (t < kh, p < ka)
//
// which covers a row-major matrix (kh = 1, ka = k) and also a convolution's
// patch matrix read straight from the NHWC input (t the filter row, p the
// filter column and input channel, lda the input pixel stride): no im2col
// buffer exists. Other A layouts are packed tile by tile into a small
// per-goroutine buffer. Each element of C is the float32 sum over t then p,
// in order, kept in registers for the whole k loop (so k is not blocked:
// the B panels, kh·ka·16 floats each, stay in L2 for convolution-sized k).
//
// Row r of C goes to c[cOff + rows.offset(r) + colOff(panel) + j], which
// lets a tile skip rows (the "virtual" pixels past a convolution row's end)
// and scatter them (the pixel shuffle of a stride-2 transposed convolution).
//
// The structure is the Goto/BLIS one (K. Goto and R. van de Geijn,
// "Anatomy of High-Performance Matrix Multiplication", ACM TOMS 34(3),
// 2008; F. Van Zee and R. van de Geijn, "BLIS", ACM TOMS 41(3), 2015): a
// register-blocked micro-kernel over packed B panels, row blocks split over
// threads. It departs from it where convolutions allow: A is not packed
// (its rows are contiguous runs of the input, reused from L1 by the
// overlapping windows) and k is not blocked, so C is written once, after
// the epilogue.

// gemmNR is the column count of a packed B panel and of every micro-kernel.
const gemmNR = 16

// gemmMicro is one micro-kernel. run computes one tile: for i < t.mr (the
// kernel's tile height; gemmKernelGo also accepts fewer) and j < t.ncols,
//
//	x = Σ_{t<kh} Σ_{p<ka} a[t·ldt + i·lda + p] · b[(t·ka+p)·gemmNR + j]  (float32, in this order)
//	x = x + bias[j]                           when bias is set
//	x = max(x, 0) (NaN and -0 kept)           when flags has gemmRelu
//	C[coff[i] + j] = x, or += x with gemmAccumulate
//
// skipping rows with coff[i] < 0. The caller guarantees that every element
// read or written is in range.
type gemmMicro struct {
	name string
	mr   int
	run  func(t *gemmTile)
}

// gemmTile holds the arguments of one micro-kernel call.
type gemmTile struct {
	mr               int
	a                []float32
	lda, ldt, kh, ka int
	b, c             []float32
	coff             []int
	ncols, flags     int
	bias             []float32 // nil or gemmNR values
}

// Micro-kernel flags.
const (
	gemmAccumulate = 1 << iota
	gemmRelu
)

// goMicro is the portable micro-kernel, used where no assembly kernel runs
// and for tiles shorter than an assembly kernel's height.
var goMicro = gemmMicro{name: "go", mr: 8, run: gemmKernelGo}

// gemmKernels lists the micro-kernels this CPU can run, fastest first; the
// last is always goMicro.
var gemmKernels = append(archKernels(), goMicro)

// gemmActive is the micro-kernel in use: gemmKernels[0] unless a test
// switches it.
var gemmActive atomic.Pointer[gemmMicro]

func init() { gemmActive.Store(&gemmKernels[0]) }

// gemmKernelGo is the reference loop of gemmMicro in Go, two rows by four
// columns at a time.
func gemmKernelGo(t *gemmTile) {
	mr, a, lda, ldt, kh, ka, ncols := t.mr, t.a, t.lda, t.ldt, t.kh, t.ka, t.ncols
	b := t.b[:kh*ka*gemmNR]
	var tile [2][gemmNR]float32
	for i0 := 0; i0 < mr; i0 += 2 {
		rows := min(2, mr-i0)
		for cg := 0; cg < ncols; cg += 4 {
			var c00, c01, c02, c03, c10, c11, c12, c13 float32
			for s := 0; s < kh && ka > 0; s++ {
				a0 := a[s*ldt+i0*lda:][:ka]
				a1 := a0
				if rows == 2 {
					a1 = a[s*ldt+(i0+1)*lda:][:ka]
				}
				bt := b[s*ka*gemmNR : (s+1)*ka*gemmNR]
				for p, v0 := range a0 {
					v1 := a1[p]
					bb := bt[p*gemmNR+cg : p*gemmNR+cg+4 : p*gemmNR+cg+4]
					c00 += v0 * bb[0]
					c01 += v0 * bb[1]
					c02 += v0 * bb[2]
					c03 += v0 * bb[3]
					c10 += v1 * bb[0]
					c11 += v1 * bb[1]
					c12 += v1 * bb[2]
					c13 += v1 * bb[3]
				}
			}
			tile[0][cg], tile[0][cg+1], tile[0][cg+2], tile[0][cg+3] = c00, c01, c02, c03
			tile[1][cg], tile[1][cg+1], tile[1][cg+2], tile[1][cg+3] = c10, c11, c12, c13
		}
		for h := 0; h < rows; h++ {
			o := t.coff[i0+h]
			if o < 0 {
				continue
			}
			x := tile[h][:ncols]
			if t.bias != nil {
				for j := range x {
					x[j] += t.bias[j]
				}
			}
			if t.flags&gemmRelu != 0 {
				for j, v := range x {
					if v < 0 {
						x[j] = 0
					}
				}
			}
			dst := t.c[o : o+ncols]
			if t.flags&gemmAccumulate != 0 {
				for j := range dst {
					dst[j] += x[j]
				}
			} else {
				copy(dst, x)
			}
		}
	}
}

// gemmPanels is B packed into panels of gemmNR columns: panel j holds
// B(p, col) at data[j·k·gemmNR + p·gemmNR + (col - first column of j)], zero
// padded, and its columns go to C at column offset colOff[j] (elements,
// added to each row's offset), ncols[j] of them.
//
// The epilogue applies to every tile: bias (nil, or gemmNR values per
// panel) is added and ReLU applied when relu is set (see gemmMicro).
type gemmPanels struct {
	k      int
	data   []float32
	colOff []int
	ncols  []int
	bias   []float32
	relu   bool
}

// panel returns the packed data of panel j.
func (pb *gemmPanels) panel(j int) []float32 {
	return pb.data[j*pb.k*gemmNR : (j+1)*pb.k*gemmNR]
}

// newPanels allocates np panels of k rows.
func newPanels(k, np int) *gemmPanels {
	return &gemmPanels{k: k, data: make([]float32, np*k*gemmNR), colOff: make([]int, np), ncols: make([]int, np)}
}

// packPanels packs B(p, j) = b[p·rs + j·cs] for p < k, j < n into panels
// whose columns land at C column j.
func packPanels(b []float32, k, n, rs, cs int) *gemmPanels {
	np := (n + gemmNR - 1) / gemmNR
	pb := newPanels(k, np)
	for jp := 0; jp < np; jp++ {
		j0 := jp * gemmNR
		pb.colOff[jp], pb.ncols[jp] = j0, min(gemmNR, n-j0)
		panel := pb.panel(jp)
		if cs == 1 {
			for p := 0; p < k; p++ {
				copy(panel[p*gemmNR:p*gemmNR+pb.ncols[jp]], b[p*rs+j0:])
			}
			continue
		}
		for j := 0; j < pb.ncols[jp]; j++ {
			for p := 0; p < k; p++ {
				panel[p*gemmNR+j] = b[p*rs+(j0+j)*cs]
			}
		}
	}
	return pb
}

// rowMap places row r of a GEMM's C: r = q·width + s is column s of
// "image row" q, stored at q·rowStride + s·pixStride when s < valid and
// not stored otherwise.
type rowMap struct {
	width, valid, rowStride, pixStride int
}

// denseRows maps m rows of n columns to a row-major matrix.
func denseRows(m, n int) rowMap { return rowMap{width: max(m, 1), valid: max(m, 1), pixStride: n} }

func (rm rowMap) offset(r int) int {
	q, s := r/rm.width, r%rm.width
	if s >= rm.valid {
		return -1
	}
	return q*rm.rowStride + s*rm.pixStride
}

// gemmJob is one product C(+)= A·B of m rows (see the package comment on
// the A layout). When pack is set, A is not read from a: pack(r0, n, dst)
// writes rows r0..r0+n-1 of A to dst, row-major with k = kh·ka columns.
type gemmJob struct {
	a                      []float32
	aOff, lda, ldt, kh, ka int
	pack                   func(r0, n int, dst []float32)
	m                      int
	rows                   rowMap
	cOff                   int
	// coffs, when set, places row r of C at cOff + coffs[r] instead of
	// rows (an arbitrary list of pixels, as a padded convolution's border).
	coffs []int
}

// checkA verifies that the job reads only inside a.
func (j *gemmJob) checkA(k int) error {
	if j.kh*j.ka != k {
		return fmt.Errorf("gemm: A has %d·%d columns, B %d rows", j.kh, j.ka, k)
	}
	if j.pack == nil && j.m > 0 && j.ka > 0 {
		last := j.aOff + (j.m-1)*j.lda + (j.kh-1)*j.ldt + j.ka
		if j.aOff < 0 || j.lda < 0 || j.ldt < 0 || last > len(j.a) {
			return fmt.Errorf("gemm: A rows reach element %d of %d", last, len(j.a))
		}
	}
	return nil
}

// gemm runs the jobs with the active micro-kernel, writing (accumulate
// false) or adding to C, with the row tiles split over threads goroutines.
// It panics on a job that would read or write out of range (the executor
// turns the panic into an error).
func gemm(jobs []gemmJob, b *gemmPanels, c []float32, threads int, accumulate bool) {
	gemmWith(*gemmActive.Load(), jobs, b, c, threads, accumulate)
}

func gemmWith(mk gemmMicro, jobs []gemmJob, b *gemmPanels, c []float32, threads int, accumulate bool) {
	mr := mk.mr
	colEnd := 0
	for p, n := range b.ncols {
		if b.colOff[p] < 0 || n < 0 || n > gemmNR {
			panic(fmt.Errorf("gemm: panel %d has %d columns at offset %d", p, n, b.colOff[p]))
		}
		colEnd = max(colEnd, b.colOff[p]+n)
	}
	// Tile t of job i covers rows [r0, r0+mr); the last tile of a job is
	// moved back to end at m, and the rows it repeats are not stored again.
	start := make([]int, len(jobs)+1)
	for i := range jobs {
		if err := jobs[i].checkA(b.k); err != nil {
			panic(err)
		}
		start[i+1] = start[i] + (jobs[i].m+mr-1)/mr
	}
	tiles := start[len(jobs)]
	flops := 2 * mr * max(b.k, 1) * gemmNR * len(b.ncols)
	grain := max(1, (1<<18)/max(flops, 1)) // flops is 0 when B has no columns
	parallelFor(threads, tiles, grain, func(t0, t1 int) {
		coff := make([]int, mr)
		var packed []float32
		tile := &gemmTile{}
		if accumulate {
			tile.flags |= gemmAccumulate
		}
		if b.relu {
			tile.flags |= gemmRelu
		}
		i := 0
		for t := t0; t < t1; t++ {
			for t >= start[i+1] {
				i++
			}
			j := &jobs[i]
			r0 := (t - start[i]) * mr
			rows, skip, kern := mr, 0, mk
			if j.m < mr {
				rows, kern = j.m, goMicro
			} else if r0+mr > j.m {
				skip = r0 + mr - j.m
				r0 = j.m - mr
			}
			rm := j.rows
			q, sIdx := (r0+skip)/rm.width, (r0+skip)%rm.width
			o := j.cOff + q*rm.rowStride + sIdx*rm.pixStride
			stored, limit := false, len(c)-colEnd
			cf := coff[:rows]
			if j.coffs == nil && skip == 0 && sIdx+rows <= rm.valid {
				// The common case, a tile inside one image row: evenly
				// spaced rows (the general loop below cost a U-Net 10% of
				// its time on the layers with few input channels).
				if last := o + (rows-1)*rm.pixStride; o < 0 || last < 0 || last > limit {
					panic(fmt.Errorf("gemm: C rows %d..%d reach element %d of %d", r0, r0+rows-1, max(o, last)+colEnd, len(c)))
				}
				for h := range cf {
					cf[h] = o
					o += rm.pixStride
				}
				stored = rows > 0
			} else {
				for h := range cf {
					cf[h] = -1
					if h < skip {
						continue
					}
					if j.coffs != nil {
						if o = j.cOff + j.coffs[r0+h]; o < 0 || o > limit {
							panic(fmt.Errorf("gemm: C row %d reaches element %d of %d", r0+h, o+colEnd, len(c)))
						}
						cf[h], stored = o, true
						continue
					}
					if sIdx < rm.valid {
						if o < 0 || o > limit {
							panic(fmt.Errorf("gemm: C row %d reaches element %d of %d", r0+h, o+colEnd, len(c)))
						}
						cf[h], stored = o, true
					}
					o += rm.pixStride
					if sIdx++; sIdx == rm.width {
						q, sIdx = q+1, 0
						o = j.cOff + q*rm.rowStride
					}
				}
			}
			if !stored {
				continue
			}
			tile.mr = rows
			tile.coff = coff[:rows]
			tile.lda, tile.ldt, tile.kh, tile.ka = j.lda, j.ldt, j.kh, j.ka
			switch {
			case b.k == 0:
				kern, tile.a = goMicro, nil
			case j.pack != nil:
				if packed == nil {
					packed = make([]float32, mr*b.k)
				}
				tile.a = packed[:rows*b.k]
				j.pack(r0, rows, tile.a)
				tile.lda, tile.ldt, tile.kh, tile.ka = b.k, 0, 1, b.k
			default:
				tile.a = j.a[j.aOff+r0*j.lda:]
			}
			for p := range b.ncols {
				tile.b, tile.c, tile.ncols = b.panel(p), c[b.colOff[p]:], b.ncols[p]
				if b.bias != nil {
					tile.bias = b.bias[p*gemmNR : (p+1)*gemmNR]
				}
				kern.run(tile)
			}
		}
	})
}

// matMulFloat32 computes nbatch products op(a)·op(b) described by mm, the
// i-th reading a from offA[i] and b from offB[i] and writing out[i·m·n:].
func matMulFloat32(mm matDims, nbatch int, offA, offB []int, a, b, out []float32, threads int) {
	var pb *gemmPanels
	for i := 0; i < nbatch; i++ {
		if i == 0 || offB[i] != offB[i-1] {
			pb = packPanels(b[offB[i]:], mm.k, mm.n, mm.brs, mm.bcs)
		}
		job := gemmJob{a: a, aOff: offA[i], lda: mm.ars, kh: 1, ka: mm.k, m: mm.m, rows: denseRows(mm.m, mm.n), cOff: i * mm.m * mm.n}
		if mm.acs != 1 {
			base := a[offA[i]:]
			job = gemmJob{kh: 1, ka: mm.k, m: mm.m, rows: job.rows, cOff: job.cOff, pack: func(r0, n int, dst []float32) {
				for h := 0; h < n; h++ {
					row := dst[h*mm.k : (h+1)*mm.k]
					for p := range row {
						row[p] = base[(r0+h)*mm.ars+p*mm.acs]
					}
				}
			}}
		}
		gemm([]gemmJob{job}, pb, out, threads, false)
	}
}
