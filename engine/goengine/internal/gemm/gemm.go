// Package gemm is the Go engine's float32 GEMM, for convolutions and
// matrix products.
//
// C = A·B is computed in register tiles of MR rows by a micro-kernel:
// AVX-512 (14×32 over panel pairs, 28×16 for a single panel, or for a
// single panel of a convolution 14 pixels × 2 output rows, see pairRows,
// or a whole output row of a 3×3 convolution of one input channel, see
// row3Rows) or AVX2/FMA (6×16) assembly on amd64 CPUs that have them, otherwise
// kernelGo. B is packed once into panels of
// NR columns ([k][NR] each, zero padded). A is read in place: row r
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
// Row r of C goes to c[cOff + rows.Offset(r) + colOff(panel) + j], which
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
//
// Run is the entry point: it computes C (+)= A·B for a list of Jobs (the
// A operands) against one set of Panels (B, packed by PackPanels or built
// by hand), and panics on a job that would read or write out of range.
package gemm

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tfseg/tfseg/engine/goengine/internal/parallel"
)

//go:generate go run gemm_gen.go

// NR is the column count of a packed B panel and of every micro-kernel.
const NR = 16

// micro is one micro-kernel. run computes one tile against every panel
// p of t.pb: for i < t.mr and j < ncols = pb.NCols[p],
//
//	x = Σ_{t<kh} Σ_{p<ka} a[t·ldt + i·lda + p] · B_p[(t·ka+p)·NR + j]  (float32, in this order)
//	x = x + pb.Bias[p·NR + j]                 when pb.Bias is set
//	x = C[coff[i] + pb.ColOff[p] + j] + x     with flagAccumulate
//	x = max(x, 0) (NaN and -0 kept)           when flags has flagRelu
//	C[coff[i] + pb.ColOff[p] + j] = x
//
// skipping rows with coff[i] < 0. rows(np) is the tile height the kernel
// runs with np panels (kernelGo also accepts fewer rows). The caller
// guarantees that every element read or written is in range.
//
// narrow, when set, is the kernel run instead for a B of one panel of at
// most narrowCols columns (same sums, bit for bit). anyRows says run takes
// tiles of any height up to rows(np).
//
// pair, when set, runs a tile of 28 rows that are 14 pixels of two
// consecutive output rows of a convolution (see pairRows), one panel,
// with the same sums as run.
//
// row3, when set, computes one output row of n pixels of a 3×3
// convolution of one input channel against one panel (see row3Rows),
// with the same sums as run, not accumulating: for s < n and j < ncols,
// c[s·pix + j] = the epilogue of Σ_{t<3} Σ_{p<3} a[t·ldt + s + p] · b[(3t+p)·NR + j]
// with bias (nil or NR values) and ReLU when relu.
type micro struct {
	name    string
	rows    func(np int) int
	run     func(t *microTile)
	narrow  *micro
	anyRows bool
	pair    func(t *microTile)
	row3    func(a []float32, ldt int, b, bias, c []float32, pix, n, ncols int, relu bool)
}

// narrowCols is the widest B that a micro's narrow kernel computes.
const narrowCols = 4

// microTile holds the arguments of one micro-kernel call.
type microTile struct {
	mr               int
	a                []float32
	lda, ldt, kh, ka int
	pb               *Panels
	c                []float32
	coff             []int
	flags            int
	arch             archTile // the assembly kernels' arguments
}

// Micro-kernel flags.
const (
	flagAccumulate = 1 << iota
	flagRelu
)

// goMicro is the portable micro-kernel, used where no assembly kernel runs
// and for tiles shorter than an assembly kernel's height.
var goMicro = micro{name: "go", rows: func(int) int { return 8 }, run: kernelGo}

// kernels lists the micro-kernels this CPU can run, fastest first; the
// last is always goMicro.
var kernels = append(archKernels(), goMicro)

// active is the micro-kernel in use: kernels[0] unless a test
// switches it.
var active atomic.Pointer[micro]

func init() { active.Store(&kernels[0]) }

// kernelGo is the reference loop of micro in Go, panel by panel.
func kernelGo(t *microTile) {
	for p := range t.pb.NCols {
		var bias []float32
		if t.pb.Bias != nil {
			bias = t.pb.Bias[p*NR : (p+1)*NR]
		}
		panelGo(t, t.pb.Panel(p), t.c[t.pb.ColOff[p]:], t.pb.NCols[p], bias)
	}
}

// panelGo computes t's tile against one panel b, storing at c, two rows by
// four columns at a time.
func panelGo(t *microTile, b, c []float32, ncols int, bias []float32) {
	mr, a, lda, ldt, kh, ka := t.mr, t.a, t.lda, t.ldt, t.kh, t.ka
	b = b[:kh*ka*NR]
	var tile [2][NR]float32
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
				bt := b[s*ka*NR : (s+1)*ka*NR]
				for p, v0 := range a0 {
					v1 := a1[p]
					bb := bt[p*NR+cg : p*NR+cg+4 : p*NR+cg+4]
					// c += v·b rounded once, as the assembly kernels'
					// FMAs round (fma32): where the compiler fuses x*y + z
					// (fusedFMA), as is; elsewhere the float64 sums,
					// rounded to float32 unless one of them needs fma32's
					// careful path.
					if fusedFMA {
						c00 += v0 * bb[0]
						c01 += v0 * bb[1]
						c02 += v0 * bb[2]
						c03 += v0 * bb[3]
						c10 += v1 * bb[0]
						c11 += v1 * bb[1]
						c12 += v1 * bb[2]
						c13 += v1 * bb[3]
						continue
					}
					s00, s01, s02, s03 := fma64(v0, bb[0], c00), fma64(v0, bb[1], c01), fma64(v0, bb[2], c02), fma64(v0, bb[3], c03)
					s10, s11, s12, s13 := fma64(v1, bb[0], c10), fma64(v1, bb[1], c11), fma64(v1, bb[2], c12), fma64(v1, bb[3], c13)
					if careful(s00) || careful(s01) || careful(s02) || careful(s03) ||
						careful(s10) || careful(s11) || careful(s12) || careful(s13) {
						c00, c01, c02, c03 = fma32(v0, bb[0], c00), fma32(v0, bb[1], c01), fma32(v0, bb[2], c02), fma32(v0, bb[3], c03)
						c10, c11, c12, c13 = fma32(v1, bb[0], c10), fma32(v1, bb[1], c11), fma32(v1, bb[2], c12), fma32(v1, bb[3], c13)
						continue
					}
					c00, c01, c02, c03 = float32(s00), float32(s01), float32(s02), float32(s03)
					c10, c11, c12, c13 = float32(s10), float32(s11), float32(s12), float32(s13)
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
			if bias != nil {
				for j := range x {
					x[j] += bias[j]
				}
			}
			dst := c[o : o+ncols]
			if t.flags&flagAccumulate != 0 {
				for j := range dst {
					x[j] += dst[j]
				}
			}
			if t.flags&flagRelu != 0 {
				for j, v := range x {
					if v < 0 {
						x[j] = 0
					}
				}
			}
			copy(dst, x)
		}
	}
}

// Panels is B packed into panels of NR columns: panel j holds
// B(p, col) at data[j·k·NR + p·NR + (col - first column of j)], zero
// padded, and its columns go to C at column offset colOff[j] (elements,
// added to each row's offset), ncols[j] of them.
//
// The epilogue applies to every tile: bias (nil, or NR values per
// panel) is added and ReLU applied when relu is set (see micro).
type Panels struct {
	K      int
	Data   []float32
	ColOff []int
	NCols  []int
	Bias   []float32
	Relu   bool
}

// panel returns the packed data of panel j.
func (pb *Panels) Panel(j int) []float32 {
	return pb.Data[j*pb.K*NR : (j+1)*pb.K*NR]
}

// NewPanels allocates np panels of k rows.
func NewPanels(k, np int) *Panels {
	return &Panels{K: k, Data: make([]float32, np*k*NR), ColOff: make([]int, np), NCols: make([]int, np)}
}

// PackPanels packs B(p, j) = b[p·rs + j·cs] for p < k, j < n into panels
// whose columns land at C column j.
func PackPanels(b []float32, k, n, rs, cs int) *Panels {
	np := (n + NR - 1) / NR
	pb := NewPanels(k, np)
	for jp := 0; jp < np; jp++ {
		j0 := jp * NR
		pb.ColOff[jp], pb.NCols[jp] = j0, min(NR, n-j0)
		panel := pb.Panel(jp)
		if cs == 1 {
			for p := 0; p < k; p++ {
				copy(panel[p*NR:p*NR+pb.NCols[jp]], b[p*rs+j0:])
			}
			continue
		}
		for j := 0; j < pb.NCols[jp]; j++ {
			for p := 0; p < k; p++ {
				panel[p*NR+j] = b[p*rs+(j0+j)*cs]
			}
		}
	}
	return pb
}

// RowMap places row r of a GEMM's C: r = q·width + s is column s of
// "image row" q, stored at q·rowStride + s·pixStride when s < valid and
// not stored otherwise.
type RowMap struct {
	Width, Valid, RowStride, PixStride int
}

// DenseRows maps m rows of n columns to a row-major matrix.
func DenseRows(m, n int) RowMap { return RowMap{Width: max(m, 1), Valid: max(m, 1), PixStride: n} }

func (rm RowMap) Offset(r int) int {
	q, s := r/rm.Width, r%rm.Width
	if s >= rm.Valid {
		return -1
	}
	return q*rm.RowStride + s*rm.PixStride
}

// Job is one product C(+)= A·B of M rows (see the package comment on
// the A layout). When Pack is set, A is not read from the field A:
// Pack(r0, n, dst) writes rows r0..r0+n-1 of A to dst, row-major with
// k = KH·KA columns.
type Job struct {
	A                      []float32
	AOff, LDA, LDT, KH, KA int
	Pack                   func(r0, n int, dst []float32)
	M                      int
	Rows                   RowMap
	COff                   int
	// COffs, when set, places row r of C at COff + COffs[r] instead of
	// Rows (an arbitrary list of pixels, as a padded convolution's border).
	COffs []int
}

// checkA verifies that the job reads only inside A.
func (j *Job) checkA(k int) error {
	if j.KH*j.KA != k {
		return fmt.Errorf("gemm: A has %d·%d columns, B %d rows", j.KH, j.KA, k)
	}
	if j.Pack == nil && j.M > 0 && j.KA > 0 {
		last := j.AOff + (j.M-1)*j.LDA + (j.KH-1)*j.LDT + j.KA
		if j.AOff < 0 || j.LDA < 0 || j.LDT < 0 || last > len(j.A) {
			return fmt.Errorf("gemm: A rows reach element %d of %d", last, len(j.A))
		}
	}
	return nil
}

// Run runs the jobs with the active micro-kernel, writing (accumulate
// false) or adding to C, with the row tiles split over threads goroutines;
// with accumulate, b.Relu applies to the sum with C's value.
// It panics on a job that would read or write out of range (the executor
// turns the panic into an error).
func Run(jobs []Job, b *Panels, c []float32, threads int, accumulate bool) {
	runWith(*active.Load(), jobs, b, c, threads, accumulate)
}

// RunOne is Run of the one job j, without allocating the jobs slice (a
// band-by-band convolution runs thousands of one-job GEMMs per call).
func RunOne(j Job, b *Panels, c []float32, threads int, accumulate bool) {
	js := oneJob.Get().(*[1]Job)
	js[0] = j
	defer func() {
		js[0] = Job{} // drop the references to A
		oneJob.Put(js)
	}()
	Run(js[:], b, c, threads, accumulate)
}

// oneJob holds RunOne's one-element job arrays.
var oneJob = sync.Pool{New: func() any { return new([1]Job) }}

func runWith(mk micro, jobs []Job, b *Panels, c []float32, threads int, accumulate bool) {
	if mk.narrow != nil && len(b.NCols) == 1 && b.NCols[0] <= narrowCols {
		mk = *mk.narrow
	}
	mr := mk.rows(len(b.NCols))
	if b.Bias != nil && len(b.Bias) < len(b.NCols)*NR {
		panic(fmt.Errorf("gemm: %d bias values for %d panels", len(b.Bias), len(b.NCols)))
	}
	if len(b.ColOff) != len(b.NCols) || len(b.Data) < len(b.NCols)*b.K*NR {
		panic(fmt.Errorf("gemm: %d panels of %d rows in %d floats, %d column offsets", len(b.NCols), b.K, len(b.Data), len(b.ColOff)))
	}
	colEnd := 0
	for p, n := range b.NCols {
		if b.ColOff[p] < 0 || n < 0 || n > NR {
			panic(fmt.Errorf("gemm: panel %d has %d columns at offset %d", p, n, b.ColOff[p]))
		}
		colEnd = max(colEnd, b.ColOff[p]+n)
	}
	// r goes back to its pool when the run returns; a panicking run
	// leaves it (and its workers, which another goroutine may still
	// hold) to the garbage collector.
	r := runPool.Get().(*gemmRun)
	r.mk, r.jobs, r.b, r.c, r.mr, r.limit = mk, jobs, b, c, mr, len(c)-colEnd
	r.flags = 0
	if accumulate {
		r.flags |= flagAccumulate
	}
	if b.Relu {
		r.flags |= flagRelu
	}
	// Tile t of job i covers rows [r0, r0+mr); the last tile of a job is
	// moved back to end at m, and the rows it repeats are not stored again.
	n := len(jobs)
	r.start, r.pairs, r.rows3 = grow(r.start, n+1), grow(r.pairs, n), grow(r.rows3, n)
	r.start[0] = 0
	for i := range jobs {
		j := &jobs[i]
		if err := j.checkA(b.K); err != nil {
			panic(err)
		}
		r.start[i+1] = r.start[i] + (j.M+mr-1)/mr
		r.pairs[i] = 0
		if r.rows3[i] = row3Rows(mk, j, accumulate); r.rows3[i] > 0 {
			r.start[i+1] = r.start[i] + r.rows3[i]
		} else if mk.pair != nil && len(b.NCols) == 1 && mr == 2*pairPixels {
			if r.pairs[i] = pairRows(j); r.pairs[i] > 0 {
				v := j.Rows.Valid
				r.start[i+1] = r.start[i] + r.pairs[i]/2*ceilDiv(v, pairPixels) + r.pairs[i]%2*ceilDiv(v, mr)
			}
		}
	}
	tiles := r.start[n]
	flops := 2 * mr * max(b.K, 1) * NR * len(b.NCols)
	grain := max(1, (1<<18)/max(flops, 1)) // flops is 0 when B has no columns
	// Chunks of about an eighth of a thread's share, taken as threads
	// finish their last (see parallel.Dynamic).
	chunk := max(grain, tiles/(8*max(threads, 1)))
	if threads <= 1 || tiles <= chunk {
		// One goroutine does it all (as Dynamic would): no closures.
		r.tiles(r.worker(), 0, tiles)
	} else {
		parallel.Dynamic(threads, tiles, chunk, func() func(t0, t1 int) {
			w := r.worker()
			return func(t0, t1 int) { r.tiles(w, t0, t1) }
		})
	}
	r.release()
}

// A gemmRun is one runWith call's state, and a tileWorker one goroutine's
// state for its tiles (row offsets, a packing buffer, the micro-kernel's
// argument block); both are kept in pools from call to call: the band
// kernels (conv_pair.go, conv_concat.go) call Run hundreds of times per
// U-Net run, and allocating these each time made two thirds of the Go
// engine's allocations on the U-Net at 4x188x188x1 (about 6,200 of 10,000
// per run).
type gemmRun struct {
	mk                  micro
	jobs                []Job
	b                   *Panels
	c                   []float32
	mr, limit, flags    int // limit: the last C offset a row may start at
	start, pairs, rows3 []int
	mu                  sync.Mutex
	workers             []*tileWorker // taken from workerPool for this call
}

type tileWorker struct {
	coff   []int
	ro     rowOffsets
	packed []float32
	tile   microTile
}

var (
	runPool    = sync.Pool{New: func() any { return new(gemmRun) }}
	workerPool = sync.Pool{New: func() any { return new(tileWorker) }}
)

// grow returns s resliced to n elements, reallocated when too short.
func grow(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

// worker takes a tileWorker for one goroutine of r, set up for r's B
// and C (the kernel's cached arguments, see asmTile.set, reset).
func (r *gemmRun) worker() *tileWorker {
	w := workerPool.Get().(*tileWorker)
	r.mu.Lock()
	r.workers = append(r.workers, w)
	r.mu.Unlock()
	w.coff = grow(w.coff, r.mr)
	if cap(w.ro.coff) < max(r.mr, 2*pairPixels) {
		w.ro = rowOffsets{coff: make([]int, 0, max(r.mr, 2*pairPixels))}
	}
	w.tile = microTile{pb: r.b, c: r.c, flags: r.flags}
	return w
}

// release returns r and its workers to their pools, holding no
// references to the caller's data.
func (r *gemmRun) release() {
	for i, w := range r.workers {
		w.tile = microTile{}
		workerPool.Put(w)
		r.workers[i] = nil
	}
	r.workers = r.workers[:0]
	r.mk, r.jobs, r.b, r.c = micro{}, nil, nil, nil
	runPool.Put(r)
}

// tiles runs r's tiles t0 .. t1-1 with worker w.
func (r *gemmRun) tiles(w *tileWorker, t0, t1 int) {
	mk, b, c, mr, jobs, tile := r.mk, r.b, r.c, r.mr, r.jobs, &w.tile
	i := 0
	for t := t0; t < t1; t++ {
		for t >= r.start[i+1] {
			i++
		}
		j := &jobs[i]
		if r.pairs[i] > 0 {
			pairTile(tile, &w.ro, mk, j, r.pairs[i], t-r.start[i], c, r.limit)
			continue
		}
		if r.rows3[i] > 0 {
			row3Tile(mk, j, b, t-r.start[i], c, r.limit)
			continue
		}
		r0 := (t - r.start[i]) * mr
		rows, skip, kern := mr, 0, mk
		if b.K == 0 {
			kern = goMicro
		}
		if j.M < mr {
			rows = j.M
			if !mk.anyRows {
				kern = goMicro
			}
		} else if r0+mr > j.M {
			skip = r0 + mr - j.M
			r0 = j.M - mr
		}
		rm := j.Rows
		q, sIdx := (r0+skip)/rm.Width, (r0+skip)%rm.Width
		o := j.COff + q*rm.RowStride + sIdx*rm.PixStride
		stored, limit := false, r.limit
		cf := w.coff[:rows]
		tile.c = c
		if j.COffs == nil && skip == 0 && sIdx+rows <= rm.Valid {
			// The common case, a tile inside one image row: evenly
			// spaced rows (the general loop below cost a U-Net 10% of
			// its time on the layers with few input channels), at
			// offsets from the tile's first element (rowOffsets).
			if last := o + (rows-1)*rm.PixStride; o < 0 || last < 0 || last > limit {
				panic(fmt.Errorf("gemm: C rows %d..%d reach element %d of %d", r0, r0+rows-1, max(o, last)+len(c)-limit, len(c)))
			}
			cf, tile.c = w.ro.get(rows, 0, rm.PixStride, 1, 0), c[o:]
			stored = rows > 0
		} else {
			for h := range cf {
				cf[h] = -1
				if h < skip {
					continue
				}
				if j.COffs != nil {
					if o = j.COff + j.COffs[r0+h]; o < 0 || o > limit {
						panic(fmt.Errorf("gemm: C row %d reaches element %d of %d", r0+h, o+len(c)-limit, len(c)))
					}
					cf[h], stored = o, true
					continue
				}
				if sIdx < rm.Valid {
					if o < 0 || o > limit {
						panic(fmt.Errorf("gemm: C row %d reaches element %d of %d", r0+h, o+len(c)-limit, len(c)))
					}
					cf[h], stored = o, true
				}
				o += rm.PixStride
				if sIdx++; sIdx == rm.Width {
					q, sIdx = q+1, 0
					o = j.COff + q*rm.RowStride
				}
			}
		}
		if !stored {
			continue
		}
		tile.mr, tile.coff = rows, cf
		tile.lda, tile.ldt, tile.kh, tile.ka = j.LDA, j.LDT, j.KH, j.KA
		switch {
		case b.K == 0:
			tile.a = nil
		case j.Pack != nil:
			if cap(w.packed) < mr*b.K {
				w.packed = make([]float32, mr*b.K)
			}
			tile.a = w.packed[:rows*b.K]
			j.Pack(r0, rows, tile.a)
			tile.lda, tile.ldt, tile.kh, tile.ka = b.K, 0, 1, b.K
		default:
			tile.a = j.A[j.AOff+r0*j.LDA:]
		}
		kern.run(tile)
	}
}

// row3Pixels is the fewest pixels a row run by a micro's row3 kernel
// may have (its chunk width).
const row3Pixels = 20

// row3Rows returns the number of output rows of j when mk's row3 kernel
// runs them, one row per tile, else 0: a convolution read in place with a
// 3×3 filter of one input channel (KH = 3, KA = 3 consecutive elements,
// LDA = 1; virtual rows of width W = Rows.Width of which Valid ≥ 20 are
// stored), not accumulating (the kernel stores the row's last chunk
// twice). The U-Net's first layer (1→16 channels, k = 9) ran at 0.2-0.35
// of a core's FMA peak in 28×16 tiles, whose epilogue, row offsets and
// call cost more than their 252 FMAs. Measured on one Zen 5 core
// (BenchmarkGEMMConvLayersAlternating, fastest runs): 1→16 at 130x130,
// its output in L2 as in the pair fusion's bands, 121 against 69-78
// GFLOP/s; at 572x572 (output to memory) 75 against 51-54; the kernel
// alone on a 560-pixel row 193 GFLOP/s (85% of the core's peak). In the
// U-Net at 1x572x572x1 the first block's fused pair (conv_pair.go) went
// from 4.9-5.5 to 4.6-4.8 ms (alternating runs, 2 threads).
func row3Rows(mk micro, j *Job, accumulate bool) int {
	w, v := j.Rows.Width, j.Rows.Valid
	if mk.row3 == nil || accumulate || j.Pack != nil || j.COffs != nil || j.KH != 3 || j.KA != 3 || j.LDA != 1 ||
		v < row3Pixels || v > w || j.M < v || (j.M-v)%w != 0 {
		return 0
	}
	return (j.M-v)/w + 1
}

// row3Tile runs output row y of job j with mk.row3, panel by panel.
// limit is the last C offset a row may start at.
func row3Tile(mk micro, j *Job, pb *Panels, y int, c []float32, limit int) {
	rm := j.Rows
	o := j.COff + y*rm.RowStride
	if last := o + (rm.Valid-1)*rm.PixStride; o < 0 || last < 0 || last > limit {
		panic(fmt.Errorf("gemm: C row %d reaches element %d of %d", y, max(o, last)+len(c)-limit, len(c)))
	}
	a := j.A[j.AOff+y*rm.Width*j.LDA:]
	for p, nc := range pb.NCols {
		if nc == 0 {
			continue
		}
		var bias []float32
		if pb.Bias != nil {
			bias = pb.Bias[p*NR : (p+1)*NR]
		}
		mk.row3(a, j.LDT, pb.Panel(p), bias, c[o+pb.ColOff[p]:], rm.PixStride, rm.Valid, nc, pb.Relu)
	}
}

// pairPixels is the width of a tile of the micro's pair kernel: 14 pixels
// of two output rows.
const pairPixels = 14

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// pairRows returns the number of output rows of j when its tiles can run
// two rows at a time with a micro's pair kernel, else 0: a convolution read
// in place (virtual rows of width W = Rows.Width, of which Valid are
// stored) whose filter row t+1 of one output row is filter row t of the
// next (LDT = W·LDA), with at least two filter rows, 28 output pixels per
// row and 16 elements per filter row (KA; the 1→16 channel 3×3 layer,
// KA = 3, ran at 40 instead of 53 GFLOP/s in row pairs on one Zen 5
// core). Two rows then share the broadcasts of kh-1 of their kh+1 input
// rows. A row of Valid pixels takes ⌈Valid/14⌉ tiles, the last moved
// back over its neighbour: when that computes more than 5% extra pixels
// (the 16→16 layer at 184x184, 6.5%, ran no faster in pairs, while the
// U-Net's 532x532 ones, 0-2%, ran 5-10% faster), it returns 0.
func pairRows(j *Job) int {
	w, v := j.Rows.Width, j.Rows.Valid
	if j.Pack != nil || j.COffs != nil || j.KH < 2 || j.KA < 16 || v < 2*pairPixels || v > w || j.LDT != w*j.LDA || (j.M-v)%w != 0 {
		return 0
	}
	if ceilDiv(v, pairPixels)*pairPixels*20 > v*21 {
		return 0 // rows of 14·k+1 .. 14·k+13 pixels waste more than 5%
	}
	if n := (j.M-v)/w + 1; n >= 2 {
		return n
	}
	return 0
}

// rowOffsets is a worker's row offsets of its last tile shape, relative
// to the tile's first C element (where the tile's C slice starts), so that
// tiles of the same shape reuse them: writing 28 offsets per tile, right
// after the previous tile's C stores, was 6% of the one-panel layers' CPU
// profile.
type rowOffsets struct {
	n, skip, pix, rows, rowStride int
	coff                          []int
}

// get returns the offsets of n pixels pix elements apart whose first skip
// are not stored (-1), for one output row or (rows = 2) for two,
// rowStride elements apart (a row-pair tile: the second row's n follow
// the first's).
func (ro *rowOffsets) get(n, skip, pix, rows, rowStride int) []int {
	if ro.coff != nil && ro.n == n && ro.skip == skip && ro.pix == pix && ro.rows == rows && ro.rowStride == rowStride {
		return ro.coff
	}
	ro.n, ro.skip, ro.pix, ro.rows, ro.rowStride = n, skip, pix, rows, rowStride
	ro.coff = ro.coff[:0]
	for y := range rows {
		for h := range n {
			o := y*rowStride + h*pix
			if h < skip {
				o = -1
			}
			ro.coff = append(ro.coff, o)
		}
	}
	return ro.coff
}

// pairTile runs tile lt of job j of n output rows (pairRows): the first
// n/2·⌈Valid/14⌉ tiles are 14 pixels of row pairs (2q, 2q+1) run by
// mk.pair, then an odd last row runs in tiles of 28 pixels with mk.run.
// A tile past a row's end is moved back and its repeated pixels not
// stored again. limit is the last C offset a row may start at.
func pairTile(tile *microTile, ro *rowOffsets, mk micro, j *Job, n, lt int, c []float32, limit int) {
	rm := j.Rows
	perPair := ceilDiv(rm.Valid, pairPixels)
	y, width, rows, run := 0, pairPixels, 2, mk.pair
	if lt < n/2*perPair {
		y = 2 * (lt / perPair)
		lt %= perPair
	} else {
		y, width, rows, run = n-1, 2*pairPixels, 1, mk.run
		lt -= n / 2 * perPair
	}
	s0, skip := lt*width, 0
	if s0+width > rm.Valid {
		skip = s0 + width - rm.Valid
		s0 = rm.Valid - width
	}
	o := j.COff + y*rm.RowStride + s0*rm.PixStride
	last := o + (width-1)*rm.PixStride + (rows-1)*rm.RowStride
	if o < 0 || last < 0 || last > limit {
		panic(fmt.Errorf("gemm: C rows of tile %d reach element %d of %d", lt, max(o, last), limit))
	}
	tile.mr, tile.coff, tile.c = 2*pairPixels, ro.get(width, skip, rm.PixStride, rows, rm.RowStride), c[o:]
	tile.lda, tile.ldt, tile.kh, tile.ka = j.LDA, j.LDT, j.KH, j.KA
	tile.a = j.A[j.AOff+(y*rm.Width+s0)*j.LDA:]
	run(tile)
}

// MatMul computes nbatch products op(a)·op(b) described by mm, the
// i-th reading a from offA[i] and b from offB[i] and writing out[i·m·n:].
func MatMul(mm MatDims, nbatch int, offA, offB []int, a, b, out []float32, threads int) {
	var pb *Panels
	for i := 0; i < nbatch; i++ {
		if i == 0 || offB[i] != offB[i-1] {
			pb = PackPanels(b[offB[i]:], mm.K, mm.N, mm.BRS, mm.BCS)
		}
		job := Job{A: a, AOff: offA[i], LDA: mm.ARS, KH: 1, KA: mm.K, M: mm.M, Rows: DenseRows(mm.M, mm.N), COff: i * mm.M * mm.N}
		if mm.ACS != 1 {
			base := a[offA[i]:]
			job = Job{KH: 1, KA: mm.K, M: mm.M, Rows: job.Rows, COff: job.COff, Pack: func(r0, n int, dst []float32) {
				for h := 0; h < n; h++ {
					row := dst[h*mm.K : (h+1)*mm.K]
					for p := range row {
						row[p] = base[(r0+h)*mm.ARS+p*mm.ACS]
					}
				}
			}}
		}
		Run([]Job{job}, pb, out, threads, false)
	}
}

// MatDims describes one product op(a)[M×K] · op(b)[K×N] by element strides:
// op(a)[r, p] = a[r·ARS + p·ACS], op(b)[p, j] = b[p·BRS + j·BCS].
type MatDims struct {
	M, K, N            int
	ARS, ACS, BRS, BCS int
}

// TileRows is the largest tile height of the active micro-kernel: a job of
// fewer rows may run the portable Go kernel, whose float32 sums may round
// differently from the assembly's.
func TileRows() int { return active.Load().rows(1) }
