//go:build ignore

// simd_gen.go writes simd_amd64.s, the AVX-512 vector kernels of
// simd_amd64.go (Go/Plan 9 assembly). Run it with `go generate` in
// engine/goengine.
//
// Each kernel computes exactly what its pure-Go counterpart in
// simd_generic.go and simd_math.go computes, operation for operation:
//
//   - float32 arithmetic runs with MXCSR's flush-to-zero and
//     denormals-are-zero bits set for the duration of the call (and the
//     caller's MXCSR restored), which is the out32/flush32 rounding of the
//     Go code; kernels that move bits rather than compute (max, min, relu,
//     clip, flush) flush their operands explicitly (integer tests on the exponent field);
//   - exp, log, log1p and sigmoid convert 8 lanes to float64, evaluate the
//     same polynomials with the same fused multiply-adds on the same
//     coefficient tables (read from the Go variables expPoly, log1pPoly,
//     logInvC, logLogC, simdConst), and round back with VCVTPD2PS;
//   - sumLanes keeps the 16 float64 lanes in two zmm registers.
//
// Assembly functions are never preempted asynchronously, so the MXCSR
// change cannot leak to another goroutine.
package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

var buf bytes.Buffer

func emit(format string, args ...any) {
	fmt.Fprintf(&buf, format, args...)
	buf.WriteByte('\n')
}

// lines emits each line of s, indented by a tab.
func lines(s string) {
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		emit("\t%s", l)
	}
}

const setFTZ = `
STMXCSR old-8(SP)
MOVL old-8(SP), AX
ORL $0x8040, AX
MOVL AX, new-4(SP)
LDMXCSR new-4(SP)
`

const restore = `
LDMXCSR old-8(SP)
VZEROUPPER
RET
`

// flush makes denormal lanes of z signed zeros (Z29 holds the exponent
// mask, Z31 the sign mask). VFPCLASSPS cannot find denormals: with DAZ set
// it classifies them as zeros.
func flush(z string) string {
	return fmt.Sprintf("VPTESTNMD Z29, %s, K7\nVPANDD Z31, %s, K7, %s\n", z, z, z)
}

// single emits a float32 kernel over 16 lanes per step: args are the
// operand pointer names after dst, body computes Z2 from Z0 (, Z1, Z3).
func single(name string, args []string, setup, body string) {
	regs := []string{"SI", "DX", "R8"}
	zs := []string{"Z0", "Z1", "Z3"}
	sig := "dst"
	for _, a := range args {
		sig += ", " + a
	}
	frame := 8 * (len(args) + 2)
	emit("// func %s(%s *float32, n int)", name, sig)
	emit("TEXT ·%s(SB), NOSPLIT, $8-%d", name, frame)
	emit("\tMOVQ dst+0(FP), DI")
	for i, a := range args {
		emit("\tMOVQ %s+%d(FP), %s", a, 8*(i+1), regs[i])
	}
	emit("\tMOVQ n+%d(FP), CX", 8*(len(args)+1))
	lines(setFTZ)
	lines("MOVL $0x80000000, AX\nVPBROADCASTD AX, Z31\nMOVL $0x7f800000, AX\nVPBROADCASTD AX, Z29")
	lines(setup)
	emit("loop:")
	lines("CMPQ CX, $16\nJLT tail")
	for i := range args {
		emit("\tVMOVUPS (%s), %s", regs[i], zs[i])
	}
	lines(body)
	emit("\tVMOVUPS Z2, (DI)")
	for i := range args {
		emit("\tADDQ $64, %s", regs[i])
	}
	lines("ADDQ $64, DI\nSUBQ $16, CX\nJMP loop")
	emit("tail:")
	lines("TESTQ CX, CX\nJEQ done\nMOVL $1, AX\nSHLL CX, AX\nDECL AX\nKMOVW AX, K1")
	for i := range args {
		emit("\tVMOVUPS.Z (%s), K1, %s", regs[i], zs[i])
	}
	lines(body)
	emit("\tVMOVUPS Z2, K1, (DI)")
	emit("done:")
	lines(restore)
	emit("")
}

// double emits a float32 -> float64 -> float32 kernel over 8 lanes per
// step: Y16 holds the float32 input, Z0 its float64 value; body leaves the
// float64 result in Z4, VCVTPD2PS rounds it into Y5, and post may patch Y5.
func double(name, setup, body, post string) {
	emit("// func %s(dst, x *float32, n int)", name)
	emit("TEXT ·%s(SB), NOSPLIT, $8-24", name)
	lines("MOVQ dst+0(FP), DI\nMOVQ x+8(FP), SI\nMOVQ n+16(FP), CX")
	lines(setFTZ)
	lines(setup)
	emit("loop:")
	lines("CMPQ CX, $8\nJLT tail\nVMOVUPS (SI), Y16")
	lines("VCVTPS2PD Y16, Z0")
	lines(body)
	lines("VCVTPD2PS Z4, Y5")
	lines(post)
	lines("VMOVUPS Y5, (DI)\nADDQ $32, SI\nADDQ $32, DI\nSUBQ $8, CX\nJMP loop")
	emit("tail:")
	lines("TESTQ CX, CX\nJEQ done\nMOVL $1, AX\nSHLL CX, AX\nDECL AX\nKMOVW AX, K1")
	lines("VMOVUPS.Z (SI), K1, Y16\nVCVTPS2PD Y16, Z0")
	lines(body)
	lines("VCVTPD2PS Z4, Y5")
	lines(post)
	lines("VMOVUPS Y5, K1, (DI)")
	emit("done:")
	lines(restore)
	emit("")
}

// Registers the double kernels keep constants in.
const doubleSetup = `
VBROADCASTSD ·simdConst+0(SB), Z20
VBROADCASTSD ·simdConst+8(SB), Z21
VBROADCASTSD ·simdConst+16(SB), Z22
VBROADCASTSD ·simdConst+24(SB), Z23
VBROADCASTSD ·simdConst+32(SB), Z24
VBROADCASTSD ·simdConst+40(SB), Z25
VBROADCASTSD ·simdConst+48(SB), Z26
VPBROADCASTQ ·simdInt+0(SB), Z27
VPBROADCASTQ ·simdInt+8(SB), Z28
VMOVUPD ·logInvC+0(SB), Z12
VMOVUPD ·logInvC+64(SB), Z13
VMOVUPD ·logLogC+0(SB), Z14
VMOVUPD ·logLogC+64(SB), Z15
VPBROADCASTQ ·simdInt+16(SB), Z29
VPBROADCASTQ ·simdInt+24(SB), Z30
VPBROADCASTQ ·simdInt+32(SB), Z31
`

// expCore: Z4 = e^Z6 (Z6 clamped, may be NaN); clobbers Z1, Z2, Z3.
func expCore() string {
	var b strings.Builder
	b.WriteString(`
VMULPD Z20, Z6, Z1
VADDPD Z22, Z1, Z2
VSUBPD Z22, Z2, Z3
VSUBPD Z3, Z1, Z1
VBROADCASTSD ·expPoly+88(SB), Z4
`)
	for k := 10; k >= 0; k-- {
		fmt.Fprintf(&b, "VFMADD213PD.BCST ·expPoly+%d(SB), Z1, Z4\n", 8*k)
	}
	b.WriteString(`
VPADDQ Z27, Z2, Z2
VPSLLQ $52, Z2, Z2
VMULPD Z2, Z4, Z4
`)
	return b.String()
}

// clamp: Z6 = min(max(Z6, -104), 89), NaN kept (Z6 is the second source).
const clamp = `
VMAXPD Z6, Z23, Z6
VMINPD Z6, Z24, Z6
`

// logCore: Z4 = log Z6 for Z6 = u; with small, lanes in K3 use Z7 = x as r
// and 0 as hi. Clobbers Z1-Z3, Z5, Z8-Z11.
func logCore(small bool) string {
	var b strings.Builder
	b.WriteString(`
VPSUBQ Z28, Z6, Z1
VPSRAQ $52, Z1, Z2
VPSRLQ $48, Z1, Z3
VPSLLQ $52, Z2, Z5
VPSUBQ Z5, Z6, Z5
VMOVAPD Z12, Z8
VPERMT2PD Z13, Z3, Z8
VMOVAPD Z14, Z9
VPERMT2PD Z15, Z3, Z9
VFMSUB213PD Z26, Z5, Z8
VCVTQQ2PD Z2, Z2
VFMADD231PD Z21, Z2, Z9
`)
	if small {
		b.WriteString("VMOVAPD Z7, K3, Z8\nVPXORQ Z9, Z9, K3, Z9\n")
	}
	b.WriteString("VBROADCASTSD ·log1pPoly+88(SB), Z10\n")
	for k := 10; k >= 0; k-- {
		fmt.Fprintf(&b, "VFMADD213PD.BCST ·log1pPoly+%d(SB), Z8, Z10\n", 8*k)
	}
	b.WriteString(`
VMULPD Z8, Z10, Z10
VADDPD Z10, Z9, Z4
VPXORQ Z11, Z11, Z11
VCMPPD $0x19, Z11, Z6, K4
VMOVAPD Z29, K4, Z4
VCMPPD $0x00, Z11, Z6, K5
VMOVAPD Z30, K5, Z4
VCMPPD $0x00, Z31, Z6, K6
VMOVAPD Z31, K6, Z4
`)
	return b.String()
}

func main() {
	emit("// Code generated by simd_gen.go; DO NOT EDIT.")
	emit("")
	emit("//go:build amd64 && !purego")
	emit("")
	emit(`#include "textflag.h"`)
	emit("")
	ab := []string{"a", "b"}
	single("addAVX512", ab, "", "VADDPS Z1, Z0, Z2")
	single("subAVX512", ab, "", "VSUBPS Z1, Z0, Z2")
	single("mulAVX512", ab, "", "VMULPS Z1, Z0, Z2")
	single("divAVX512", ab, "", "VDIVPS Z1, Z0, Z2")
	single("divNoNanAVX512", ab, "VPXORD Z30, Z30, Z30", `
VDIVPS Z1, Z0, Z2
VCMPPS $0x00, Z30, Z1, K2
VPXORD Z2, Z2, K2, Z2
`)
	single("maxAVX512", ab, "", flush("Z0")+flush("Z1")+`
VMOVAPS Z0, Z2
VCMPPS $0x11, Z1, Z0, K2
VMOVAPS Z1, K2, Z2
VCMPPS $0x03, Z1, Z1, K3
VMOVAPS Z1, K3, Z2
VCMPPS $0x03, Z0, Z0, K4
VMOVAPS Z0, K4, Z2
`)
	single("minAVX512", ab, "", flush("Z0")+flush("Z1")+`
VMOVAPS Z0, Z2
VCMPPS $0x11, Z0, Z1, K2
VMOVAPS Z1, K2, Z2
VCMPPS $0x03, Z1, Z1, K3
VMOVAPS Z1, K3, Z2
VCMPPS $0x03, Z0, Z0, K4
VMOVAPS Z0, K4, Z2
`)
	x := []string{"x"}
	single("negAVX512", x, "VPXORD Z30, Z30, Z30", "VSUBPS Z0, Z30, Z2")
	single("absAVX512", x, "MOVL $0x7fffffff, AX\nVPBROADCASTD AX, Z30", "VANDPS Z30, Z0, Z2")
	single("reluAVX512", x, "VPXORD Z30, Z30, Z30", flush("Z0")+`
VMOVAPS Z0, Z2
VCMPPS $0x11, Z30, Z0, K2
VPXORD Z2, Z2, K2, Z2
`)
	single("flushAVX512", x, "", flush("Z0")+"VMOVAPS Z0, Z2")
	single("clipAVX512", []string{"x", "lo", "hi"}, "", flush("Z0")+flush("Z1")+flush("Z3")+`
VMOVAPS Z0, Z2
VCMPPS $0x11, Z2, Z3, K2
VMOVAPS Z3, K2, Z2
VCMPPS $0x11, Z1, Z2, K3
VMOVAPS Z1, K3, Z2
`)

	double("expAVX512", doubleSetup, "VMOVAPD Z0, Z6\n"+clamp+expCore(), "")
	double("logAVX512", doubleSetup, "VMOVAPD Z0, Z6\n"+logCore(false), "")
	// log1p: u = 1 + x; lanes with |x| < 1/32 use the polynomial of x;
	// ±0 and denormal inputs are returned unchanged (their raw bits, Y16
	// as loaded, in lanes where the exponent field is zero).
	double("log1pAVX512", doubleSetup+"MOVL $0x7f800000, AX\nVPBROADCASTD AX, Y19\nMOVQ $0x7fffffffffffffff, AX\nVPBROADCASTQ AX, Z18", `
VMOVAPD Z0, Z7
VADDPD Z26, Z0, Z6
VANDPD Z18, Z0, Z17
VCMPPD $0x11, Z25, Z17, K3
`+logCore(true), `
VPTESTNMD Y19, Y16, K2
VMOVDQU32 Y16, K2, Y5
`)
	// sigmoid: e = exp(-|x|); x >= 0: 1/(1+e), else e/(1+e).
	double("sigmoidAVX512", doubleSetup+"MOVQ $0x8000000000000000, AX\nVPBROADCASTQ AX, Z18", `
VORPD Z18, Z0, Z6
`+clamp+expCore()+`
VADDPD Z26, Z4, Z5
VXORPD Z11, Z11, Z11
VCMPPD $0x1d, Z11, Z0, K2
VMOVAPD Z26, K2, Z4
VDIVPD Z5, Z4, Z4
`, "")

	// sumLanes: lanes[0:8] in Z4, lanes[8:16] in Z5.
	emit("// func sumLanesAVX512(x *float32, n int, lanes *[16]float64)")
	emit("TEXT ·sumLanesAVX512(SB), NOSPLIT, $8-24")
	lines("MOVQ x+0(FP), SI\nMOVQ n+8(FP), CX\nMOVQ lanes+16(FP), DI")
	lines(setFTZ)
	lines("VMOVUPD (DI), Z4\nVMOVUPD 64(DI), Z5")
	emit("loop:")
	lines(`
CMPQ CX, $16
JLT tail
VCVTPS2PD (SI), Z0
VCVTPS2PD 32(SI), Z1
VADDPD Z0, Z4, Z4
VADDPD Z1, Z5, Z5
ADDQ $64, SI
SUBQ $16, CX
JMP loop
`)
	emit("tail:")
	lines(`
TESTQ CX, CX
JEQ done
MOVL $1, AX
SHLL CX, AX
DECL AX
KMOVW AX, K1
VMOVUPS.Z (SI), K1, Z0
VCVTPS2PD Y0, Z1
VEXTRACTF32X8 $1, Z0, Y2
VCVTPS2PD Y2, Z2
VADDPD Z1, Z4, Z4
VADDPD Z2, Z5, Z5
`)
	emit("done:")
	lines("VMOVUPD Z4, (DI)\nVMOVUPD Z5, 64(DI)")
	lines(restore)

	if err := os.WriteFile("simd_amd64.s", buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
