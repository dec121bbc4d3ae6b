//go:build ignore

// gemm_gen.go writes gemm_amd64.s, the float32 GEMM micro-kernels for amd64
// (Go/Plan 9 assembly). Run it with `go generate` in engine/goengine/internal/gemm.
//
// Both kernels compute one register tile of
//
//	C[i, j] (+)= act(Σ_{t<kh} Σ_{p<ka} A[t·ldt + i·lda + p] · B[(t·ka + p)·16 + j] + bias[j])
//
// for rows i < MR and columns j < ncols ≤ 16, where A is read in place with
// row stride lda and block stride ldt (elements), and B is one packed panel
// of 16 columns. Row i goes to C[coff[i] + j], or nowhere when coff[i] < 0.
// bias may be nil (no bias); flags bit 0 adds to C instead of storing, bit
// 1 makes act ReLU (max(x, 0), NaN and -0 kept), else act is the identity.
// See kernelGo in gemm.go for the reference loop.
//
//   - sgemmAVX512: MR = 28 rows × 16 columns, 28 zmm accumulators, each
//     VFMADD231PS takes its A element as an embedded {1to16} broadcast.
//   - sgemmAVX2: MR = 6 rows × 16 columns (two ymm per row), 12 ymm
//     accumulators, VBROADCASTSS + VFMADD231PS.
//
// Both unroll the p loop by 4 and address the A rows as base + {0, 1, 2, 3,
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

// prologue loads the arguments shared by both kernels: BX = a, R8/R9/R12/R13
// = 1/3/5/7 × lda in bytes, DX = b, AX = kh.
func prologue() {
	emit("\tMOVQ a+0(FP), BX")
	emit("\tMOVQ lda+8(FP), R8")
	emit("\tSHLQ $2, R8")
	emit("\tLEAQ (R8)(R8*2), R9")
	emit("\tLEAQ (R8)(R8*4), R12")
	emit("\tLEAQ (R9)(R8*4), R13")
	emit("\tMOVQ b+40(FP), DX")
	emit("\tMOVQ kh+24(FP), AX")
}

// kloop emits the loop over t < kh and p < ka; step(u) emits one p step
// reading A at displacement 4u and B at 64u; bump advances the A bases.
func kloop(prefix string, setBases func(), step func(u int), bases []string) {
	emit("%s_tloop:", prefix)
	setBases()
	emit("\tMOVQ ka+32(FP), CX")
	emit("\tCMPQ CX, $4")
	emit("\tJLT %s_rem", prefix)
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
	emit("\tMOVQ ldt+16(FP), CX")
	emit("\tSHLQ $2, CX")
	emit("\tADDQ CX, BX")
	emit("\tDECQ AX")
	emit("\tJNZ %s_tloop", prefix)
}

func avx512() {
	emit("// func sgemmAVX512(a *float32, lda, ldt, kh, ka int, b, c *float32, coff *int, ncols, flags int, bias *float32)")
	emit("TEXT ·sgemmAVX512(SB), NOSPLIT, $0-88")
	prologue()
	for i := 0; i < mr512; i++ {
		emit("\tVPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	bases := []string{"SI", "DI", "R10", "R11"}
	kloop("avx512", func() {
		emit("\tMOVQ BX, SI")
		emit("\tLEAQ (SI)(R8*8), DI")
		emit("\tLEAQ (DI)(R8*8), R10")
		emit("\tLEAQ (R10)(R8*8), R11")
	}, func(u int) {
		z := 28 + u%2
		emit("\tVMOVUPS %d(DX), Z%d", 64*u, z)
		for i := 0; i < mr512; i++ {
			emit("\tVFMADD231PS.BCST %s, Z%d, Z%d", rowAddr(4*u, bases[i/8], i), z, i)
		}
	}, bases)
	// Epilogue: + bias, then max(0, x) keeping NaN and -0 (VMAXPS returns
	// its second source, x, when either is NaN or both are zero).
	emit("\tMOVQ bias+80(FP), AX")
	emit("\tTESTQ AX, AX")
	emit("\tJZ avx512_nobias")
	emit("\tVMOVUPS (AX), Z28")
	for i := 0; i < mr512; i++ {
		emit("\tVADDPS Z28, Z%d, Z%d", i, i)
	}
	emit("avx512_nobias:")
	emit("\tMOVQ flags+72(FP), BX")
	emit("\tTESTQ $2, BX")
	emit("\tJZ avx512_norelu")
	emit("\tVPXORD Z28, Z28, Z28")
	for i := 0; i < mr512; i++ {
		emit("\tVMAXPS Z%d, Z28, Z%d", i, i)
	}
	emit("avx512_norelu:")
	emit("\tMOVQ c+48(FP), DX")
	emit("\tMOVQ coff+56(FP), SI")
	emit("\tMOVQ ncols+64(FP), CX")
	emit("\tMOVL $1, AX")
	emit("\tSHLL CX, AX")
	emit("\tDECL AX")
	emit("\tKMOVW AX, K1")
	emit("\tTESTQ $1, BX")
	emit("\tJNZ avx512_acc")
	for _, acc := range []bool{false, true} {
		if acc {
			emit("avx512_acc:")
		}
		for i := 0; i < mr512; i++ {
			emit("\tMOVQ %d(SI), AX", 8*i)
			emit("\tTESTQ AX, AX")
			emit("\tJS avx512_skip%v%d", acc, i)
			if acc {
				emit("\tVADDPS (DX)(AX*4), Z%d, K1, Z%d", i, i)
			}
			emit("\tVMOVUPS Z%d, K1, (DX)(AX*4)", i)
			emit("avx512_skip%v%d:", acc, i)
		}
		emit("\tVZEROUPPER")
		emit("\tRET")
	}
}

func avx2() {
	emit("// func sgemmAVX2(a *float32, lda, ldt, kh, ka int, b, c *float32, coff *int, ncols, flags int, bias *float32)")
	emit("TEXT ·sgemmAVX2(SB), NOSPLIT, $0-88")
	prologue()
	for i := 0; i < 2*mr256; i++ {
		emit("\tVXORPS Y%d, Y%d, Y%d", i, i, i)
	}
	kloop("avx2", func() {
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
						emit("\tVMOVUPS Y%d, %s", y, mem)
					case masked && !acc:
						emit("\tVMASKMOVPS Y%d, Y%d, %s", y, 12+h, mem)
					default:
						emit("\tVMASKMOVPS %s, Y%d, Y14", mem, 12+h)
						emit("\tVADDPS Y14, Y%d, Y%d", y, y)
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
}

func main() {
	emit("// Code generated by gemm_gen.go; DO NOT EDIT.")
	emit("")
	emit("//go:build amd64 && !purego")
	emit("")
	emit("#include \"textflag.h\"")
	emit("")
	avx512()
	emit("")
	avx2()
	if err := os.WriteFile("gemm_amd64.s", buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
