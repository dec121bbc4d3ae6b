//go:build ignore

// gemm_gen.go writes gemm_amd64.s, the float32 GEMM micro-kernels for amd64
// (Go/Plan 9 assembly). Run it with `go generate` in engine/goengine/internal/gemm.
//
// The kernels compute, for each packed panel P of 16 columns,
//
//	C[i, j] = act([C[i, j] +] (Σ_{t<kh} Σ_{p<ka} A[t·ldt + i·lda + p] · P[(t·ka + p)·16 + j] + bias[j]))
//
// for rows i < MR and columns j < ncols ≤ 16, where A is read in place with
// row stride lda and block stride ldt (elements). Row i goes to C[coff[i] +
// colOff + j], or nowhere when coff[i] < 0. bias may be nil (no bias);
// flags bit 0 adds C's value (the bracket), bit 1 makes act ReLU (max(x,
// 0), NaN and -0 kept), else act is the identity. Each C element is one
// chain of FMAs in t then p order, whatever the tile shape, so all the
// AVX-512 tiles give the same bits. See kernelGo in gemm.go for the
// reference loop.
//
//   - sgemmAVX512x28(t *asmTile): every panel of t in turn, MR = 28 rows ×
//     16 columns, 28 zmm accumulators, each VFMADD231PS takes its A
//     element as an embedded {1to16} broadcast (one load per FMA).
//   - sgemmAVX512x14(t *asmTile): panel pairs, MR = 14 rows × 32 columns,
//     28 zmm accumulators, each A element broadcast once (VBROADCASTSS) for
//     two FMAs; a 14×16 tile for an odd last panel. sgemmAVX512x14A, the
//     same with A prefetched a tile ahead, runs tiles of kh = 1.
//   - sgemmAVX512P(t *asmTile): one panel, a 28×16 tile whose rows are 14
//     pixels of two consecutive output rows of a convolution (rows 0-13
//     and 14-27): filter row t+1 of the first reads the input row that
//     filter row t of the second does, so kh+1 phases read each input row
//     once and the kh-1 middle ones broadcast each A element (VBROADCASTSS)
//     for two FMAs, B blocks t and t-1 in Z28 and Z29 (for kh = 3, 0.74
//     loads per FMA against 28×16's 1.04: one panel leaves no second panel to share
//     the broadcast with). Each phase prefetches the A lines of the tile
//     two on.
//   - sgemmAVX512R3(t *rowTile): one output row of a 3×3 convolution of
//     one input channel (k = 9: tiles of 28×16 spend more on their
//     epilogue and call than on their 252 FMAs) against one panel, 20
//     pixels at a time: the nine B rows stay in registers for the whole
//     row, and each input element is broadcast once for the (up to) three
//     pixels whose window row reads it, FMA'd in filter column order, so
//     each pixel's chain is the other kernels'. Stores are dense (pixel
//     stride pix), the row's last 20 pixels computed and stored again
//     where the row is not a multiple of 20.
//   - sgemmAVX512N(t *asmTile): one panel of at most 4 columns (a
//     convolution to a few output channels), rows in the vector lanes:
//     16 rows at a time, a 16×16 block of A (16 rows, 16 consecutive
//     columns) loaded and transposed in registers (64 shuffles), each
//     column then multiplied by a broadcast B element into one zmm
//     accumulator per C column; the accumulators transposed back (8
//     shuffles) and each row stored with a masked 128-bit store. t.rows
//     rows (any count), in groups of 16, the last one partial.
//   - sgemmAVX2: one panel, MR = 6 rows × 16 columns (two ymm per row), 12
//     ymm accumulators, VBROADCASTSS + VFMADD231PS.
//
// The AVX-512 kernels read their arguments from an asmTile (gemm_amd64.go;
// field offsets from go_asm.h) and loop over the panels themselves, so one
// call computes a whole row tile of C. All unroll the p loop by 4 (the
// loop aligned to 64 bytes) and address the A rows as base + {0, 1, 2, 3,
// 4, 5, 6, 7}·lda with lda, 3·lda, 5·lda and 7·lda in index registers.
package main

import (
	"bytes"
	"fmt"
	"os"
)

const (
	mr512 = 28
	mr256 = 6
)

var buf bytes.Buffer

func emit(format string, args ...any) {
	fmt.Fprintf(&buf, format, args...)
	buf.WriteByte('\n')
}

// rowAddr is the address of A row i (of a group of 8 rows held in base)
// plus disp bytes.
func rowAddr(disp int, base string, i int) string {
	idx := [8]string{"", "(R8*1)", "(R8*2)", "(R9*1)", "(R8*4)", "(R12*1)", "(R9*2)", "(R13*1)"}[i%8]
	d := ""
	if disp != 0 {
		d = fmt.Sprint(disp)
	}
	return fmt.Sprintf("%s(%s)%s", d, base, idx)
}

// ldaRegs loads lda (elements, from src) into R8/R9/R12/R13 as 1/3/5/7 ×
// lda in bytes, for rowAddr.
func ldaRegs(src string) {
	emit("\tMOVQ %s, R8", src)
	emit("\tSHLQ $2, R8")
	emit("\tLEAQ (R8)(R8*2), R9")
	emit("\tLEAQ (R8)(R8*4), R12")
	emit("\tLEAQ (R9)(R8*4), R13")
}

// prologue loads sgemmAVX2's arguments: BX = a, R8/R9/R12/R13
// = 1/3/5/7 × lda in bytes, DX = b, AX = kh.
func prologue() {
	emit("\tMOVQ a+0(FP), BX")
	ldaRegs("lda+8(FP)")
	emit("\tMOVQ b+40(FP), DX")
	emit("\tMOVQ kh+24(FP), AX")
}

// kloop emits the loop over t < kh and p < ka; step(u) emits one p step
// reading A at displacement 4u and B at 64u; bump advances the A bases.
func kloop(prefix, ka, ldt string, setBases func(), step func(u int), bases []string) {
	emit("%s_tloop:", prefix)
	ploop(prefix, ka, ldt, setBases, step, bases)
	emit("\tDECQ AX")
	emit("\tJNZ %s_tloop", prefix)
}

// ploop emits the loop over p < ka of one block t (A at BX, B at DX, both
// advanced past it; CX is the counter), unrolled by 4.
func ploop(prefix, ka, ldt string, setBases func(), step func(u int), bases []string) {
	setBases()
	emit("\tMOVQ %s, CX", ka)
	emit("\tCMPQ CX, $4")
	emit("\tJLT %s_rem", prefix)
	emit("\tPCALIGN $64")
	emit("%s_loop4:", prefix)
	for u := 0; u < 4; u++ {
		step(u)
	}
	for _, b := range bases {
		emit("\tADDQ $16, %s", b)
	}
	emit("\tADDQ $256, DX")
	emit("\tSUBQ $4, CX")
	emit("\tCMPQ CX, $4")
	emit("\tJGE %s_loop4", prefix)
	emit("%s_rem:", prefix)
	emit("\tTESTQ CX, CX")
	emit("\tJZ %s_tnext", prefix)
	emit("%s_loop1:", prefix)
	step(0)
	for _, b := range bases {
		emit("\tADDQ $4, %s", b)
	}
	emit("\tADDQ $64, DX")
	emit("\tDECQ CX")
	emit("\tJNZ %s_loop1", prefix)
	emit("%s_tnext:", prefix)
	emit("\tMOVQ %s, CX", ldt)
	emit("\tSHLQ $2, CX")
	emit("\tADDQ CX, BX")
}

// avx512Kernel emits fn(t *asmTile), the AVX-512 kernel over all of t's
// panels: tiles of rows × 16 columns one panel at a time (wide false), or
// rows × 32 columns over panel pairs and rows × 16 for an odd last panel
// (wide true). R14 holds t; the panel index lives in the frame. With
// prefetchA the panel-pair tiles prefetch A (see avx512Group).
func avx512Kernel(fn string, rows int, wide, prefetchA bool) {
	emit("// func %s(t *asmTile)", fn)
	emit("TEXT ·%s(SB), NOSPLIT, $8-8", fn)
	emit("\tMOVQ t+0(FP), R14")
	emit("\tMOVQ $0, pidx-8(SP)")
	emit("%s_panel:", fn)
	emit("\tMOVQ pidx-8(SP), AX")
	emit("\tMOVQ asmTile_npanel(R14), CX")
	emit("\tSUBQ AX, CX")
	emit("\tJLE %s_done", fn)
	if wide {
		emit("\tCMPQ CX, $2")
		emit("\tJLT %s_np1", fn)
		avx512Group(fn+"_np2", rows, 2, prefetchA)
		emit("\tJMP %s_panel", fn)
		emit("%s_np1:", fn)
	}
	avx512Group(fn+"_np1", rows, 1, false)
	emit("\tJMP %s_panel", fn)
	emit("%s_done:", fn)
	emit("\tVZEROUPPER")
	emit("\tRET")
}

// avx512Group emits one register tile of rows × 16·np columns, panels
// pidx .. pidx+np-1 (AX = pidx on entry), and advances pidx by np.
// Accumulator of row i, panel q: Z(np·i + q). With np = 1 each FMA takes
// its A element as an embedded {1to16} broadcast; with np = 2 the element
// is broadcast once into Z30 for two register FMAs, B in Z28 and Z29 (the
// second panel bstride bytes after the first, in R11).
//
// With prefetchA (14 rows, two panels), each block t first prefetches the
// A lines that the next tile (the next 14 rows) reads in it, 13·lda + ka
// elements from its first, as avx512Pair does: for kh = 1 (a transposed
// convolution's or a matrix product's A, rows one after another) the
// U-Net's transposed convolutions ran at 381-408 instead of 315-343
// GFLOP/s (64→32 channels at 136x136; 32→16 at 268x268: 349-378 against
// 341-367), while 3×3 convolutions gained nothing and the deepest
// (256→256, 512→512: 257 lines per filter row) lost 2-5%
// (BenchmarkGEMMConvLayersAlternating, 2 threads, Zen 5).
func avx512Group(prefix string, rows, np int, prefetchA bool) {
	acc := func(i, q int) int { return np*i + q }
	emit("\tMOVQ asmTile_a(R14), BX")
	ldaRegs("asmTile_lda(R14)")
	emit("\tMOVQ asmTile_bstride(R14), R11")
	emit("\tMOVQ R11, DX")
	emit("\tIMULQ AX, DX")
	emit("\tADDQ asmTile_b(R14), DX")
	emit("\tMOVQ asmTile_kh(R14), AX")
	for i := 0; i < rows*np; i++ {
		emit("\tVPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	prefetchC(prefix, rows, np)
	// Rows 8g .. 8g+7 are addressed from bases[g]; R11 is free for a
	// base when np = 1.
	bases := []string{"SI", "DI", "R10", "R11"}[:(rows+7)/8]
	if np == 2 && rows > 16 {
		panic("avx512Group: two panels take at most 16 rows")
	}
	pf := prefetchA && np == 2 && rows == 14
	if pf {
		aLines("R10")
	}
	npf := 0
	kloop(prefix, "asmTile_ka(R14)", "asmTile_ldt(R14)", func() {
		if pf {
			// Prefetch the lines of this block that the next tile
			// reads.
			npf++
			prefetchALines(fmt.Sprintf("%s_pfa%d", prefix, npf), 14, "R10")
		}
		emit("\tMOVQ BX, SI")
		for i := 1; i < len(bases); i++ {
			emit("\tLEAQ (%s)(R8*8), %s", bases[i-1], bases[i])
		}
	}, func(u int) {
		if np == 1 {
			z := 28 + u%2
			emit("\tVMOVUPS %d(DX), Z%d", 64*u, z)
			for i := 0; i < rows; i++ {
				emit("\tVFMADD231PS.BCST %s, Z%d, Z%d", rowAddr(4*u, bases[i/8], i), z, acc(i, 0))
			}
			return
		}
		emit("\tVMOVUPS %d(DX), Z28", 64*u)
		emit("\tVMOVUPS %d(DX)(R11*1), Z29", 64*u)
		for i := 0; i < rows; i++ {
			z := 30 + i%2
			emit("\tVBROADCASTSS %s, Z%d", rowAddr(4*u, bases[i/8], i), z)
			emit("\tVFMADD231PS Z28, Z%d, Z%d", z, acc(i, 0))
			emit("\tVFMADD231PS Z29, Z%d, Z%d", z, acc(i, 1))
		}
	}, bases)
	avx512Epilogue(prefix, rows, np)
}

// aLines emits dst = the cache lines that 14 rows of A read in one block
// t: 13·lda + ka elements from the first, (13·lda + ka)/16 + 1 lines.
func aLines(dst string) {
	emit("\tMOVQ asmTile_lda(R14), %s", dst)
	emit("\tIMULQ $13, %s", dst)
	emit("\tADDQ asmTile_ka(R14), %s", dst)
	emit("\tSHRQ $4, %s", dst)
	emit("\tINCQ %s", dst)
}

// prefetchALines emits the prefetch (PREFETCHT0) of count lines (a register or
// frame slot, see aLines) of A from row rowsOn of the block at BX on, a
// later tile's, in a loop named label; it uses SI and CX.
func prefetchALines(label string, rowsOn int, count string) {
	emit("\tMOVQ R8, SI")
	emit("\tIMULQ $%d, SI", rowsOn)
	emit("\tADDQ BX, SI")
	emit("\tMOVQ %s, CX", count)
	emit("%s:", label)
	emit("\tPREFETCHT0 (SI)")
	emit("\tADDQ $64, SI")
	emit("\tDECQ CX")
	emit("\tJNZ %s", label)
}

// prefetchC emits the prefetch of the C rows of a tile of rows × 16·np
// (rows with coff < 0 skipped); pidx-8(SP) is the first panel.
func prefetchC(prefix string, rows, np int) {
	// Prefetch the tile's C rows (PREFETCHT0: Go's assembler has no
	// PREFETCHW; a line no other core holds arrives exclusive), so that their misses are
	// served during the k loop: the epilogue's stores then hit L1 and
	// drain at once, instead of filling the store buffer while the caller
	// prepares the next tile (which then waits for them).
	emit("\tMOVQ pidx-8(SP), CX")
	emit("\tMOVQ asmTile_colOff(R14), SI")
	for q := 0; q < np; q++ {
		r := []string{"R10", "DI"}[q]
		emit("\tMOVQ %d(SI)(CX*8), %s", 8*q, r)
		emit("\tSHLQ $2, %s", r)
		emit("\tADDQ asmTile_c(R14), %s", r)
	}
	emit("\tMOVQ asmTile_coff(R14), SI")
	for i := 0; i < rows; i++ {
		emit("\tMOVQ %d(SI), CX", 8*i)
		emit("\tTESTQ CX, CX")
		emit("\tJS %s_pf%d", prefix, i)
		for q := 0; q < np; q++ {
			emit("\tPREFETCHT0 (%s)(CX*4)", []string{"R10", "DI"}[q])
		}
		emit("%s_pf%d:", prefix, i)
	}
}

// avx512Epilogue emits the end of a tile of rows × 16·np in Z(np·i + q):
// bias, ReLU and the stores of panels pidx .. pidx+np-1 (see
// avx512Group), then advances pidx by np.
func avx512Epilogue(prefix string, rows, np int) {
	acc := func(i, q int) int { return np*i + q }
	// Epilogue: + bias, then max(0, x) keeping NaN and -0 (VMAXPS returns
	// its second source, x, when either is NaN or both are zero).
	emit("\tMOVQ pidx-8(SP), CX")
	emit("\tMOVQ asmTile_bias(R14), AX")
	emit("\tTESTQ AX, AX")
	emit("\tJZ %s_nobias", prefix)
	emit("\tMOVQ CX, DX")
	emit("\tSHLQ $6, DX")
	for q := 0; q < np; q++ {
		emit("\tVMOVUPS %d(AX)(DX*1), Z%d", 64*q, 28+q)
	}
	for i := 0; i < rows; i++ {
		for q := 0; q < np; q++ {
			emit("\tVADDPS Z%d, Z%d, Z%d", 28+q, acc(i, q), acc(i, q))
		}
	}
	emit("%s_nobias:", prefix)
	emit("\tMOVQ asmTile_flags(R14), BX")
	emit("\tTESTQ $1, BX") // accumulating: ReLU after the add
	emit("\tJNZ %s_norelu", prefix)
	emit("\tTESTQ $2, BX")
	emit("\tJZ %s_norelu", prefix)
	emit("\tVPXORD Z28, Z28, Z28")
	for i := 0; i < rows*np; i++ {
		emit("\tVMAXPS Z%d, Z28, Z%d", i, i)
	}
	emit("%s_norelu:", prefix)
	// Panel q stores through K(1+q) (its ncols low lanes) at C + colOff.
	emit("\tMOVQ CX, DX")
	emit("\tMOVQ asmTile_ncols(R14), DI")
	emit("\tMOVQ asmTile_colOff(R14), R10")
	for q := 0; q < np; q++ {
		emit("\tMOVQ %d(DI)(DX*8), CX", 8*q)
		lowMask(fmt.Sprintf("K%d", 1+q))
		emit("\tMOVQ %d(R10)(DX*8), R%d", 8*q, 8+q)
		emit("\tSHLQ $2, R%d", 8+q)
		emit("\tADDQ asmTile_c(R14), R%d", 8+q)
	}
	emit("\tADDQ $%d, pidx-8(SP)", np)
	emit("\tMOVQ asmTile_coff(R14), SI")
	emit("\tTESTQ $1, BX")
	emit("\tJNZ %s_acc", prefix)
	// Stores, then the accumulating stores without and with ReLU (of
	// the sum with C; Z28 is zero).
	for mode := range 3 {
		switch mode {
		case 1:
			emit("%s_acc:", prefix)
			emit("\tTESTQ $2, BX")
			emit("\tJNZ %s_accrelu", prefix)
		case 2:
			emit("%s_accrelu:", prefix)
			emit("\tVPXORD Z28, Z28, Z28")
		}
		for i := 0; i < rows; i++ {
			emit("\tMOVQ %d(SI), AX", 8*i)
			emit("\tTESTQ AX, AX")
			emit("\tJS %s_skip%d_%d", prefix, mode, i)
			for q := 0; q < np; q++ {
				if mode > 0 {
					emit("\tVADDPS (R%d)(AX*4), Z%d, K%d, Z%d", 8+q, acc(i, q), 1+q, acc(i, q))
				}
				if mode == 2 {
					emit("\tVMAXPS Z%d, Z28, Z%d", acc(i, q), acc(i, q))
				}
				emit("\tVMOVUPS Z%d, K%d, (R%d)(AX*4)", acc(i, q), 1+q, 8+q)
			}
			emit("%s_skip%d_%d:", prefix, mode, i)
		}
		if mode < 2 {
			emit("\tJMP %s_end", prefix)
		}
	}
	emit("%s_end:", prefix)
}

// avx512Pair emits sgemmAVX512P (see the file comment): one panel, rows
// 0-13 of the tile (accumulators Z0-Z13) are 14 pixels of an output row
// and rows 14-27 (Z14-Z27) the same pixels of the next row, whose block t
// of A is block t+1 of the first row's. Phase s < kh+1 reads block s of
// the first row (A at BX, advanced by ldt per phase), each element
// broadcast once for up to two FMAs: B block s (DX) into the first row,
// B block s-1 (DX + R10, R10 = -ka·64 bytes) into the second. Phase 0
// has only the first, phase kh only the second. Each accumulator still
// sees t then p in order. The caller guarantees kh ≥ 2.
func avx512Pair() {
	const fn, pfDist = "sgemmAVX512P", 2
	emit("// func %s(t *asmTile)", fn)
	emit("TEXT ·%s(SB), NOSPLIT, $16-8", fn)
	emit("\tMOVQ t+0(FP), R14")
	emit("\tMOVQ $0, pidx-8(SP)")
	for i := 0; i < 28; i++ {
		emit("\tVPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	prefetchC(fn+"_c", 28, 1)
	emit("\tMOVQ asmTile_a(R14), BX")
	ldaRegs("asmTile_lda(R14)")
	emit("\tMOVQ asmTile_b(R14), DX")
	emit("\tMOVQ asmTile_ka(R14), R10")
	emit("\tSHLQ $6, R10")
	emit("\tNEGQ R10")
	// Each phase first prefetches (PREFETCHT0) the A lines that the tile
	// pfDist tiles on (pfDist·14 rows of A on: the next ones of the same
	// two output rows) reads in that phase, 13·lda + ka elements from
	// its first: without, these tiles, whose phases read four input rows
	// 14 pixels at a time, ran at 0.8-0.9 times the speed of 28×16 tiles
	// on the U-Net's 570x570 and 536x536 inputs, though faster in L1.
	// pfn-16(SP) is the line count.
	aLines("CX")
	emit("\tMOVQ CX, pfn-16(SP)")
	bases := []string{"SI", "DI"}
	npf := 0
	setBases := func() {
		npf++
		prefetchALines(fmt.Sprintf("%s_pfa%d", fn, npf), 14*pfDist, "pfn-16(SP)")
		emit("\tMOVQ BX, SI")
		emit("\tLEAQ (SI)(R8*8), DI")
	}
	ka, ldt := "asmTile_ka(R14)", "asmTile_ldt(R14)"
	// single emits phase 0 (second false) or kh (second true): one FMA
	// per A element, its broadcast embedded.
	single := func(prefix string, second bool) {
		ploop(prefix, ka, ldt, setBases, func(u int) {
			z, b, off := 28+u%2, "(DX)", 0
			if second {
				b, off = "(DX)(R10*1)", 14
			}
			emit("\tVMOVUPS %d%s, Z%d", 64*u, b, z)
			for i := 0; i < 14; i++ {
				emit("\tVFMADD231PS.BCST %s, Z%d, Z%d", rowAddr(4*u, bases[i/8], i), z, off+i)
			}
		}, bases)
	}
	single(fn+"_first", false)
	emit("\tMOVQ asmTile_kh(R14), AX")
	emit("\tDECQ AX")
	emit("%s_mid:", fn)
	ploop(fn+"_both", ka, ldt, setBases, func(u int) {
		emit("\tVMOVUPS %d(DX), Z28", 64*u)
		emit("\tVMOVUPS %d(DX)(R10*1), Z29", 64*u)
		for i := 0; i < 14; i++ {
			z := 30 + i%2
			emit("\tVBROADCASTSS %s, Z%d", rowAddr(4*u, bases[i/8], i), z)
			emit("\tVFMADD231PS Z28, Z%d, Z%d", z, i)
			emit("\tVFMADD231PS Z29, Z%d, Z%d", z, 14+i)
		}
	}, bases)
	emit("\tDECQ AX")
	emit("\tJNZ %s_mid", fn)
	single(fn+"_last", true)
	avx512Epilogue(fn+"_g", 28, 1)
	emit("\tVZEROUPPER")
	emit("\tRET")
}

// avx512Row3 emits sgemmAVX512R3 (see the file comment). Registers: R14
// t; Z20-Z28 the panel's nine rows (filter tap 3·dy + dx), Z0-Z19 the
// accumulators of pixels s .. s+19, Z31 the broadcast input element, Z29
// zero and Z30 the bias in the epilogue; R8 ldt and R9 pix in bytes, R10
// n, R11 s, SI the input row of filter row dy at pixel s, DI the output
// pixel. (Three interleaved streams of 7, 7 and 6 pixels, for more
// independent FMAs between the steps that write the same pixel, measured
// no faster than this one on Zen 5.)
func avx512Row3() {
	const fn, px = "sgemmAVX512R3", 20
	emit("// func %s(t *rowTile)", fn)
	emit("TEXT ·%s(SB), NOSPLIT, $0-8", fn)
	emit("\tMOVQ t+0(FP), R14")
	emit("\tMOVQ rowTile_b(R14), DX")
	for k := 0; k < 9; k++ {
		emit("\tVMOVUPS %d(DX), Z%d", 64*k, 20+k)
	}
	emit("\tMOVQ rowTile_ncols(R14), CX")
	lowMask("K1")
	emit("\tMOVQ rowTile_ldt(R14), R8")
	emit("\tSHLQ $2, R8")
	emit("\tMOVQ rowTile_pix(R14), R9")
	emit("\tSHLQ $2, R9")
	emit("\tMOVQ rowTile_n(R14), R10")
	emit("\tXORQ R11, R11")
	emit("%s_chunk:", fn)
	// The last chunk is moved back to end at pixel n (its first pixels,
	// computed again with the same bits, are stored again).
	emit("\tMOVQ R10, AX")
	emit("\tSUBQ $%d, AX", px)
	emit("\tCMPQ R11, AX")
	emit("\tJLE %s_at", fn)
	emit("\tMOVQ AX, R11")
	emit("%s_at:", fn)
	for i := 0; i < px; i++ {
		emit("\tVPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	emit("\tMOVQ rowTile_a(R14), SI")
	emit("\tLEAQ (SI)(R11*4), SI")
	for dy := 0; dy < 3; dy++ {
		if dy > 0 {
			emit("\tADDQ R8, SI")
		}
		// Input element x feeds pixels x-2 .. x (filter column x-p); each
		// pixel takes its columns 0, 1, 2 in turn, after filter row dy-1's.
		for x := 0; x < px+2; x++ {
			emit("\tVBROADCASTSS %d(SI), Z31", 4*x)
			for dx := 0; dx < 3; dx++ {
				if p := x - dx; p >= 0 && p < px {
					emit("\tVFMADD231PS Z%d, Z31, Z%d", 20+3*dy+dx, p)
				}
			}
		}
	}
	// The epilogue as avx512Epilogue's: + bias, then max(0, x) keeping NaN
	// and -0; stores of the ncols low lanes.
	emit("\tMOVQ rowTile_bias(R14), AX")
	emit("\tTESTQ AX, AX")
	emit("\tJZ %s_nobias", fn)
	emit("\tVMOVUPS (AX), Z30")
	for i := 0; i < px; i++ {
		emit("\tVADDPS Z30, Z%d, Z%d", i, i)
	}
	emit("%s_nobias:", fn)
	emit("\tCMPQ rowTile_relu(R14), $0")
	emit("\tJEQ %s_norelu", fn)
	emit("\tVPXORD Z29, Z29, Z29")
	for i := 0; i < px; i++ {
		emit("\tVMAXPS Z%d, Z29, Z%d", i, i)
	}
	emit("%s_norelu:", fn)
	emit("\tMOVQ R11, DI")
	emit("\tIMULQ R9, DI")
	emit("\tADDQ rowTile_c(R14), DI")
	for i := 0; i < px; i++ {
		emit("\tVMOVUPS Z%d, K1, (DI)", i)
		if i < px-1 {
			emit("\tADDQ R9, DI")
		}
	}
	emit("\tADDQ $%d, R11", px)
	emit("\tCMPQ R11, R10")
	emit("\tJLT %s_chunk", fn)
	emit("\tVZEROUPPER")
	emit("\tRET")
}

// avx512Narrow emits sgemmAVX512N (see the file comment). Registers: R14
// t, R10 the A address of the group's row 0, R11 the rows left (from the
// group's row 0), BX the A address of block t, SI and DI rows 0 and 8 of
// the current 16-column block, DX B, CX the columns of block t left,
// R8/R9/R12/R13 1/3/5/7·lda bytes, Z28-Z31 the accumulators of columns
// 0-3 (lane i: row i). The frame holds the kh count and the coff address
// of the group.
func avx512Narrow() {
	const fn = "sgemmAVX512N"
	emit("// func %s(t *asmTile)", fn)
	emit("TEXT ·%s(SB), NOSPLIT, $16-8", fn)
	emit("\tMOVQ t+0(FP), R14")
	ldaRegs("asmTile_lda(R14)")
	emit("\tMOVQ asmTile_a(R14), R10")
	emit("\tMOVQ asmTile_rows(R14), R11")
	emit("\tMOVQ asmTile_coff(R14), AX")
	emit("\tMOVQ AX, cp-16(SP)")
	emit("%s_group:", fn)
	// Prefetch the group's C rows (see avx512Group) while the k loop runs.
	narrowRows(fn+"_pfd", fn+"_pf", func(int) { emit("\tPREFETCHT0 (DI)(AX*4)") })
	emit("%s_pfd:", fn)
	for j := 28; j < 32; j++ {
		emit("\tVPXORD Z%d, Z%d, Z%d", j, j, j)
	}
	emit("\tMOVQ asmTile_b(R14), DX")
	emit("\tMOVQ asmTile_kh(R14), AX")
	emit("\tMOVQ AX, khc-8(SP)")
	emit("\tMOVQ R10, BX")
	emit("%s_tloop:", fn)
	emit("\tMOVQ BX, SI")
	emit("\tLEAQ (SI)(R8*8), DI")
	emit("\tMOVQ asmTile_ka(R14), CX")
	emit("%s_blk:", fn)
	emit("\tTESTQ CX, CX")
	emit("\tJLE %s_tnext", fn)
	// K2: the block's columns, min(16, CX).
	emit("\tMOVL $0xffff, AX")
	emit("\tCMPQ CX, $16")
	emit("\tJGE %s_kfull", fn)
	emit("\tMOVL $1, AX")
	emit("\tSHLL CX, AX")
	emit("\tDECL AX")
	emit("%s_kfull:", fn)
	emit("\tKMOVW AX, K2")
	// Z0-Z15: rows 0-15 of the block (zero past the rows left).
	emit("\tCMPQ R11, $16")
	emit("\tJLT %s_lpart", fn)
	emit("\tCMPQ CX, $16")
	emit("\tJLT %s_lmask", fn)
	// Whole 16×16 blocks: plain loads (masked ones that miss the cache
	// ran the 1×1 16→2 convolution at half the speed on Zen 4).
	for i := 0; i < 16; i++ {
		emit("\tVMOVUPS %s, Z%d", rowAddr(0, []string{"SI", "DI"}[i/8], i), i)
	}
	emit("\tJMP %s_loaded", fn)
	emit("%s_lmask:", fn)
	for i := 0; i < 16; i++ {
		emit("\tVMOVUPS.Z %s, K2, Z%d", rowAddr(0, []string{"SI", "DI"}[i/8], i), i)
	}
	emit("\tJMP %s_loaded", fn)
	emit("%s_lpart:", fn)
	for i := 0; i < 16; i++ {
		emit("\tVPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	for i := 0; i < 16; i++ {
		emit("\tCMPQ R11, $%d", i)
		emit("\tJLE %s_loaded", fn)
		emit("\tVMOVUPS.Z %s, K2, Z%d", rowAddr(0, []string{"SI", "DI"}[i/8], i), i)
	}
	emit("%s_loaded:", fn)
	v := transpose16()
	// v[p]: column p of the block, lane i row i. FMAs for p < CX; the
	// column count of the panel (≤ 2 or ≤ 4) picks the FMA sequence.
	emit("\tMOVQ asmTile_ncols(R14), AX")
	emit("\tCMPQ (AX), $2")
	emit("\tJGT %s_fma4", fn)
	for _, nc := range []int{2, 4} {
		if nc == 4 {
			emit("%s_fma4:", fn)
		}
		for p := 0; p < 16; p++ {
			if p > 0 {
				emit("\tCMPQ CX, $%d", p)
				emit("\tJLE %s_fmad", fn)
			}
			for j := 0; j < nc; j++ {
				emit("\tVFMADD231PS.BCST %d(DX), Z%d, Z%d", 64*p+4*j, v[p], 28+j)
			}
		}
		if nc == 2 {
			emit("\tJMP %s_fmad", fn)
		}
	}
	emit("%s_fmad:", fn)
	emit("\tSUBQ $16, CX")
	emit("\tJLE %s_blkend", fn)
	emit("\tADDQ $1024, DX")
	emit("\tADDQ $64, SI")
	emit("\tADDQ $64, DI")
	emit("\tJMP %s_blk", fn)
	emit("%s_blkend:", fn)
	emit("\tADDQ $16, CX")
	emit("\tSHLQ $6, CX")
	emit("\tADDQ CX, DX")
	emit("%s_tnext:", fn)
	emit("\tMOVQ asmTile_ldt(R14), CX")
	emit("\tSHLQ $2, CX")
	emit("\tADDQ CX, BX")
	emit("\tDECQ khc-8(SP)")
	emit("\tJNZ %s_tloop", fn)
	// Epilogue as avx512Group's: + bias, then ReLU keeping NaN and -0.
	emit("\tMOVQ asmTile_bias(R14), AX")
	emit("\tTESTQ AX, AX")
	emit("\tJZ %s_nobias", fn)
	for j := 0; j < 4; j++ {
		emit("\tVADDPS.BCST %d(AX), Z%d, Z%d", 4*j, 28+j, 28+j)
	}
	emit("%s_nobias:", fn)
	emit("\tMOVQ asmTile_flags(R14), BX")
	emit("\tTESTQ $1, BX") // accumulating: ReLU after the add
	emit("\tJNZ %s_norelu", fn)
	emit("\tTESTQ $2, BX")
	emit("\tJZ %s_norelu", fn)
	emit("\tVPXORD Z24, Z24, Z24")
	for j := 28; j < 32; j++ {
		emit("\tVMAXPS Z%d, Z24, Z%d", j, j)
	}
	emit("%s_norelu:", fn)
	// Rows to lanes: Z16+q holds, in 128-bit lane L, the columns 0-3 of
	// row 4L+q.
	emit("\tVUNPCKLPS Z29, Z28, Z20")
	emit("\tVUNPCKHPS Z29, Z28, Z21")
	emit("\tVUNPCKLPS Z31, Z30, Z22")
	emit("\tVUNPCKHPS Z31, Z30, Z23")
	emit("\tVUNPCKLPD Z22, Z20, Z16")
	emit("\tVUNPCKHPD Z22, Z20, Z17")
	emit("\tVUNPCKLPD Z23, Z21, Z18")
	emit("\tVUNPCKHPD Z23, Z21, Z19")
	// Row i stores its ncols columns (mask K3) at C + colOff + coff[i].
	emit("\tMOVQ asmTile_ncols(R14), AX")
	emit("\tMOVQ (AX), CX")
	lowMask("K3")
	emit("\tTESTQ $1, BX")
	emit("\tJNZ %s_acc", fn)
	// Stores, then the accumulating stores without and with ReLU (of
	// the sum with C; Z25 is zero).
	for mode := range 3 {
		switch mode {
		case 1:
			emit("%s_acc:", fn)
			emit("\tTESTQ $2, BX")
			emit("\tJNZ %s_accrelu", fn)
		case 2:
			emit("%s_accrelu:", fn)
			emit("\tVPXORD Z25, Z25, Z25")
		}
		narrowRows(fn+"_stored", fmt.Sprintf("%s_skip%d_", fn, mode), func(i int) {
			x := 16 + i%4
			if i >= 4 {
				emit("\tVEXTRACTF32X4 $%d, Z%d, X24", i/4, x)
				x = 24
			}
			if mode > 0 {
				// Into X24: writing X16-X19 would zero the upper lanes
				// that rows 4-15 still read.
				emit("\tVADDPS (DI)(AX*4), X%d, K3, X24", x)
				x = 24
			}
			if mode == 2 {
				emit("\tVMAXPS X24, X25, X24")
			}
			emit("\tVMOVUPS X%d, K3, (DI)(AX*4)", x)
		})
		if mode < 2 {
			emit("\tJMP %s_stored", fn)
		}
	}
	emit("%s_stored:", fn)
	emit("\tSUBQ $16, R11")
	emit("\tJLE %s_done", fn)
	emit("\tADDQ $128, cp-16(SP)")
	emit("\tLEAQ (R10)(R8*8), R10")
	emit("\tLEAQ (R10)(R8*8), R10")
	emit("\tJMP %s_group", fn)
	emit("%s_done:", fn)
	emit("\tVZEROUPPER")
	emit("\tRET")
}

// lowMask sets mask register k to the CX (< 32) low lanes, using AX.
func lowMask(k string) {
	emit("\tMOVL $1, AX")
	emit("\tSHLL CX, AX")
	emit("\tDECL AX")
	emit("\tKMOVW AX, %s", k)
}

// narrowRows emits, for each row i < 16 of sgemmAVX512N's group that
// exists (i < R11, else on to label end) and is stored (coff[i] ≥ 0, else
// on to label skip+i), body(i) with DI = C + colOff and AX = coff[i]
// (elements). It uses SI.
func narrowRows(end, skip string, body func(i int)) {
	emit("\tMOVQ asmTile_colOff(R14), DI")
	emit("\tMOVQ (DI), DI")
	emit("\tSHLQ $2, DI")
	emit("\tADDQ asmTile_c(R14), DI")
	emit("\tMOVQ cp-16(SP), SI")
	for i := 0; i < 16; i++ {
		if i > 0 {
			emit("\tCMPQ R11, $%d", i)
			emit("\tJLE %s", end)
		}
		emit("\tMOVQ %d(SI), AX", 8*i)
		emit("\tTESTQ AX, AX")
		emit("\tJS %s%d", skip, i)
		body(i)
		emit("%s%d:", skip, i)
	}
}

// transpose16 emits the transposition of Z0-Z15 (row i in Z(i), 16
// columns) with Z16-Z27 as scratch, and returns the register of each
// column p (lane i: row i).
func transpose16() [16]int {
	var r [16]int
	free := []int{}
	for i := range r {
		r[i] = i
	}
	for z := 16; z < 28; z++ {
		free = append(free, z)
	}
	// op emits dst = instr(src1 = a, src2 = b) into a free register.
	op := func(instr string, a, b int) int {
		d := free[0]
		free = free[1:]
		emit("\t%s Z%d, Z%d, Z%d", instr, b, a, d)
		return d
	}
	release := func(zs ...int) { free = append(free, zs...) }
	// Elements 4L+0/1 and 4L+2/3 of row pairs interleaved.
	var t [16]int
	for k := 0; k < 8; k++ {
		a, b := r[2*k], r[2*k+1]
		t[2*k] = op("VUNPCKLPS", a, b)
		t[2*k+1] = op("VUNPCKHPS", a, b)
		release(a, b)
	}
	// u[4k+c], 128-bit lane L: column 4L+c of rows 4k..4k+3.
	var u [16]int
	for k := 0; k < 4; k++ {
		a, b := t[4*k], t[4*k+2]
		u[4*k] = op("VUNPCKLPD", a, b)
		u[4*k+1] = op("VUNPCKHPD", a, b)
		release(a, b)
		a, b = t[4*k+1], t[4*k+3]
		u[4*k+2] = op("VUNPCKLPD", a, b)
		u[4*k+3] = op("VUNPCKHPD", a, b)
		release(a, b)
	}
	// The 4×4 transposition of 128-bit lanes of u[c], u[4+c], u[8+c], u[12+c].
	var v [16]int
	for c := 0; c < 4; c++ {
		A, B, C, D := u[c], u[4+c], u[8+c], u[12+c]
		shuf := func(imm string, a, b int) int {
			d := free[0]
			free = free[1:]
			emit("\tVSHUFF32X4 $%s, Z%d, Z%d, Z%d", imm, b, a, d)
			return d
		}
		e0, e1 := shuf("0x44", A, B), shuf("0xEE", A, B)
		release(A, B)
		e2, e3 := shuf("0x44", C, D), shuf("0xEE", C, D)
		release(C, D)
		v[c], v[4+c] = shuf("0x88", e0, e2), shuf("0xDD", e0, e2)
		release(e0, e2)
		v[8+c], v[12+c] = shuf("0x88", e1, e3), shuf("0xDD", e1, e3)
		release(e1, e3)
	}
	return v
}

func avx2() {
	emit("// func sgemmAVX2(a *float32, lda, ldt, kh, ka int, b, c *float32, coff *int, ncols, flags int, bias *float32)")
	emit("TEXT ·sgemmAVX2(SB), NOSPLIT, $0-88")
	prologue()
	for i := 0; i < 2*mr256; i++ {
		emit("\tVXORPS Y%d, Y%d, Y%d", i, i, i)
	}
	kloop("avx2", "ka+32(FP)", "ldt+16(FP)", func() {
		emit("\tMOVQ BX, SI")
	}, func(u int) {
		emit("\tVMOVUPS %d(DX), Y12", 64*u)
		emit("\tVMOVUPS %d(DX), Y13", 64*u+32)
		for i := 0; i < mr256; i++ {
			emit("\tVBROADCASTSS %s, Y14", rowAddr(4*u, "SI", i))
			emit("\tVFMADD231PS Y12, Y14, Y%d", 2*i)
			emit("\tVFMADD231PS Y13, Y14, Y%d", 2*i+1)
		}
	}, []string{"SI"})
	emit("\tMOVQ bias+80(FP), AX")
	emit("\tTESTQ AX, AX")
	emit("\tJZ avx2_nobias")
	emit("\tVMOVUPS (AX), Y14")
	emit("\tVMOVUPS 32(AX), Y15")
	for i := 0; i < 2*mr256; i++ {
		emit("\tVADDPS Y%d, Y%d, Y%d", 14+i%2, i, i)
	}
	emit("avx2_nobias:")
	emit("\tMOVQ flags+72(FP), BX")
	emit("\tTESTQ $1, BX") // accumulating: ReLU after the add
	emit("\tJNZ avx2_norelu")
	emit("\tTESTQ $2, BX")
	emit("\tJZ avx2_norelu")
	emit("\tVXORPS Y14, Y14, Y14")
	for i := 0; i < 2*mr256; i++ {
		emit("\tVMAXPS Y%d, Y14, Y%d", i, i)
	}
	emit("avx2_norelu:")
	emit("\tMOVQ c+48(FP), DX")
	emit("\tMOVQ coff+56(FP), SI")
	emit("\tMOVQ ncols+64(FP), CX")
	// Lane l of the masks is all ones when l < ncols.
	emit("\tLEAQ avx2mask<>(SB), R9")
	emit("\tMOVQ $16, R8")
	emit("\tSUBQ CX, R8")
	emit("\tVMOVUPS (R9)(R8*4), Y12")
	emit("\tVMOVUPS 32(R9)(R8*4), Y13")
	// Y15: what the accumulating stores take the max with, 0 with ReLU,
	// else -Inf (max(-Inf, x) is x, NaN included).
	emit("\tVXORPS Y15, Y15, Y15")
	emit("\tTESTQ $2, BX")
	emit("\tJNZ avx2_floor")
	emit("\tVBROADCASTSS avx2neginf<>(SB), Y15")
	emit("avx2_floor:")
	emit("\tANDQ $1, BX")
	emit("\tCMPQ CX, $16")
	emit("\tJNE avx2_masked")
	for _, masked := range []bool{false, true} {
		if masked {
			emit("avx2_masked:")
		}
		for _, acc := range []bool{false, true} {
			l := fmt.Sprintf("avx2_m%v_a%v", masked, acc)
			if !acc {
				emit("\tTESTQ BX, BX")
				emit("\tJNZ avx2_m%v_a%v", masked, true)
			} else {
				emit("%s:", l)
			}
			for i := 0; i < mr256; i++ {
				emit("\tMOVQ %d(SI), AX", 8*i)
				emit("\tTESTQ AX, AX")
				emit("\tJS %s_skip%d", l, i)
				for h := 0; h < 2; h++ {
					y := 2*i + h
					mem := fmt.Sprintf("%d(DX)(AX*4)", 32*h)
					switch {
					case !masked && !acc:
						emit("\tVMOVUPS Y%d, %s", y, mem)
					case !masked && acc:
						emit("\tVADDPS %s, Y%d, Y%d", mem, y, y)
						emit("\tVMAXPS Y%d, Y15, Y%d", y, y)
						emit("\tVMOVUPS Y%d, %s", y, mem)
					case masked && !acc:
						emit("\tVMASKMOVPS Y%d, Y%d, %s", y, 12+h, mem)
					default:
						emit("\tVMASKMOVPS %s, Y%d, Y14", mem, 12+h)
						emit("\tVADDPS Y14, Y%d, Y%d", y, y)
						emit("\tVMAXPS Y%d, Y15, Y%d", y, y)
						emit("\tVMASKMOVPS Y%d, Y%d, %s", y, 12+h, mem)
					}
				}
				emit("%s_skip%d:", l, i)
			}
			emit("\tVZEROUPPER")
			emit("\tRET")
		}
	}
	// 16 lanes of all ones, then 16 of zeros.
	for i := 0; i < 32; i++ {
		v := "$0xffffffff"
		if i >= 16 {
			v = "$0"
		}
		emit("DATA avx2mask<>+%d(SB)/4, %s", 4*i, v)
	}
	emit("GLOBL avx2mask<>(SB), RODATA|NOPTR, $128")
	emit("DATA avx2neginf<>+0(SB)/4, $0xff800000")
	emit("GLOBL avx2neginf<>(SB), RODATA|NOPTR, $4")
}

func main() {
	emit("// Code generated by gemm_gen.go; DO NOT EDIT.")
	emit("")
	emit("//go:build amd64 && !purego")
	emit("")
	emit("#include \"go_asm.h\"")
	emit("#include \"textflag.h\"")
	emit("")
	avx512Kernel("sgemmAVX512x28", mr512, false, false)
	emit("")
	avx512Kernel("sgemmAVX512x14", mr512/2, true, false)
	emit("")
	avx512Kernel("sgemmAVX512x14A", mr512/2, true, true)
	emit("")
	avx512Pair()
	emit("")
	avx512Row3()
	emit("")
	avx512Narrow()
	emit("")
	avx2()
	if err := os.WriteFile("gemm_amd64.s", buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
