//go:build amd64 && !purego

package gemm

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// archTile is microTile's argument block for the assembly kernels.
type archTile = asmTile

// asmTile is the argument block of the AVX-512 kernels (gemm_amd64.s reads
// its fields through go_asm.h's offsets): a tile's A, every panel of B
// (panel p at b + p·bstride bytes), C and its row offsets, the panels'
// column offsets and widths, flags and bias (nil or NR values per panel).
// Strides and offsets are in elements unless named otherwise.
type asmTile struct {
	a        *float32
	lda, ldt int
	kh, ka   int
	b        *float32
	bstride  int
	c        *float32
	coff     *int
	colOff   *int
	ncols    *int
	npanel   int
	flags    int
	bias     *float32
	rows     int  // sgemmAVX512N's row count
	ready    bool // the fields that stay the same for all of a worker's tiles are set (set)
}

// sgemmAVX512x28 runs 28×16 AVX-512F register tiles over t's panels one by
// one (gemm_amd64.s, written by gemm_gen.go); see micro for what it
// computes.
//
//go:noescape
func sgemmAVX512x28(t *asmTile)

// sgemmAVX512x14 runs 14×32 AVX-512F register tiles over t's panels two by
// two, and a 14×16 tile on an odd last panel.
//
//go:noescape
func sgemmAVX512x14(t *asmTile)

// sgemmAVX512x14A is sgemmAVX512x14 prefetching each tile's next A rows:
// for A of one filter row (kh = 1), whose rows are read one after another
// (gemm_gen.go's avx512Group has the measurements).
//
//go:noescape
func sgemmAVX512x14A(t *asmTile)

// sgemmAVX512P runs a 28×16 tile of one panel whose rows 0-13 and 14-27
// are the same 14 pixels of two consecutive output rows of a convolution
// (gemm_gen.go's avx512Pair; see pairRows): each A element of the kh-1
// middle input rows broadcast once for two FMAs.
//
//go:noescape
func sgemmAVX512P(t *asmTile)

// rowTile is sgemmAVX512R3's argument block (gemm_amd64.s reads its
// fields through go_asm.h's offsets); strides in elements.
type rowTile struct {
	a     *float32 // the input under the row's first pixel, filter row 0
	ldt   int      // input row stride
	b     *float32 // the panel: 9 rows of 16
	bias  *float32 // nil, or the panel's 16
	c     *float32 // the first column of pixel 0
	pix   int      // output pixel stride
	n     int      // pixels, at least row3Pixels
	ncols int      // columns stored, 1..16
	relu  int      // 1: ReLU
}

// sgemmAVX512R3 computes one output row of a 3×3 convolution of one input
// channel against one panel (gemm_gen.go's avx512Row3; see row3Rows).
//
//go:noescape
func sgemmAVX512R3(t *rowTile)

// runRow3 is micro.row3 with sgemmAVX512R3, after checking that every
// element it reads or writes is in range.
func runRow3(a []float32, ldt int, b, bias, c []float32, pix, n, ncols int, relu bool) {
	if n < row3Pixels || ncols < 1 || ncols > NR || ldt < 0 || pix < 0 || len(a) < 2*ldt+n+2 || len(b) < 9*NR ||
		bias != nil && len(bias) < NR || len(c) < (n-1)*pix+ncols {
		panic(fmt.Errorf("gemm: row of %d pixels out of range (a %d, ldt %d, c %d, pix %d, %d columns)", n, len(a), ldt, len(c), pix, ncols))
	}
	t := rowTile{a: &a[0], ldt: ldt, b: &b[0], c: &c[0], pix: pix, n: n, ncols: ncols}
	if bias != nil {
		t.bias = &bias[0]
	}
	if relu {
		t.relu = 1
	}
	sgemmAVX512R3(&t)
}

// sgemmAVX512N computes t.rows rows of one panel of at most 4 columns,
// the rows in the vector lanes (A transposed in registers 16×16).
//
//go:noescape
func sgemmAVX512N(t *asmTile)

// sgemmAVX2 is the 6×16 AVX2/FMA micro-kernel for one panel. lda and ldt
// are in elements; bias is nil or 16 values.
//
//go:noescape
func sgemmAVX2(a *float32, lda, ldt, kh, ka int, b, c *float32, coff *int, ncols, flags int, bias *float32)

// archKernels returns the assembly micro-kernels this CPU supports, fastest
// first. x/sys/cpu reports AVX-512 and AVX only when the OS saves their
// registers.
func archKernels() []micro {
	var ks []micro
	if cpu.X86.HasAVX512F {
		var narrow *micro
		if cpu.X86.HasAVX512VL { // its row stores are masked 128-bit stores
			narrow = &avx512Narrow
		}
		ks = append(ks, micro{name: "avx512", rows: avx512Rows, run: runAVX512, narrow: narrow, pair: runAVX512P, row3: runRow3},
			micro{name: "avx512x28", rows: func(int) int { return 28 }, run: runAVX512})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, micro{name: "avx2", rows: func(int) int { return 6 }, run: runAVX2})
	}
	return ks
}

// avx512Rows is the tile height of the "avx512" kernel for np panels: 14
// (14×32 tiles over panel pairs: one A load per two FMAs instead of one
// per FMA, and half as many A rows in L1, where rows 2-4 KiB apart
// conflict in its sets) when there are several panels, else 28 (28×16).
// Measured on the U-Net's shapes (BenchmarkGEMMConvLayersAlternating, 1
// thread): 14×32 against 28×16 tiles 230 vs 216 GFLOP/s at 16→32
// channels (k = 144), 238 vs 220 at 32→32, 220 vs 154 at 512→512.
func avx512Rows(np int) int {
	if np >= 2 {
		return 14
	}
	return 28
}

// set writes t's fields into at: those that stay the same for all of a
// worker's tiles once, then this tile's A, C and row offsets (C's base
// moves from tile to tile so that the offsets need not, see rowOffsets).
func (at *asmTile) set(t *microTile) {
	if !at.ready {
		pb := t.pb
		at.b, at.bstride = &pb.Data[0], pb.K*NR*4
		at.colOff, at.ncols, at.npanel, at.flags = &pb.ColOff[0], &pb.NCols[0], len(pb.NCols), t.flags
		if pb.Bias != nil {
			at.bias = &pb.Bias[0]
		}
		at.ready = true
	}
	at.a, at.lda, at.ldt, at.kh, at.ka = &t.a[0], t.lda, t.ldt, t.kh, t.ka
	at.c, at.coff = unsafe.SliceData(t.c), &t.coff[0]
}

// runAVX512 runs t with the AVX-512 kernel of its height (28 rows: 28×16
// tiles panel by panel, as the "avx512x28" kernel always does, else 14×32
// tiles); the caller has checked the bounds.
func runAVX512(t *microTile) {
	// The block lives in t and is written field by field, 8 bytes at a
	// time, as the kernel reads it: a local literal is zeroed and copied
	// 16 bytes at a time, and the kernel's 8-byte loads from those wider
	// stores miss store forwarding and wait behind the previous tile's C
	// stores (this cost the 1→16 channel layer a third of its speed).
	// What stays the same for all of t's tiles is written once.
	at := &t.arch
	at.set(t)
	switch {
	case t.mr == 28:
		sgemmAVX512x28(at)
	case t.kh == 1:
		sgemmAVX512x14A(at)
	default:
		sgemmAVX512x14(at)
	}
}

// runAVX512P runs t, two output rows of 14 pixels, with sgemmAVX512P.
func runAVX512P(t *microTile) {
	at := &t.arch
	at.set(t)
	sgemmAVX512P(at)
}

// avx512Narrow is the kernel the AVX-512 kernels hand a B of one panel of
// at most narrowCols columns (a convolution to a few output channels):
// rows in the vector lanes, 64 per call, or fewer (any count).
var avx512Narrow = micro{name: "avx512n", rows: func(int) int { return 64 }, run: runAVX512N, anyRows: true}

// runAVX512N runs t with sgemmAVX512N.
func runAVX512N(t *microTile) {
	at := &t.arch
	at.set(t)
	at.rows = t.mr
	sgemmAVX512N(at)
}

// runAVX2 runs t panel by panel with the AVX2 kernel.
func runAVX2(t *microTile) {
	pb := t.pb
	for p := range pb.NCols {
		var bias *float32
		if pb.Bias != nil {
			bias = &pb.Bias[p*NR]
		}
		sgemmAVX2(&t.a[0], t.lda, t.ldt, t.kh, t.ka, &pb.Panel(p)[0], &t.c[pb.ColOff[p]], &t.coff[0], pb.NCols[p], t.flags, bias)
	}
}
