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
//   - exp, log, log1p and sigmoid convert two groups of 8 lanes to
//     float64, evaluate the same polynomials (Estrin's scheme) with the
//     same fused multiply-adds on the same coefficient tables (read from
//     the Go variables expPoly, log1pPoly, logInvC, logLogC, simdConst,
//     simdInt), and round back with VCVTPD2PS;
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

// A double kernel converts float32 lanes to float64, computes there and
// rounds back. It runs two groups of 8 lanes per step (16 floats), their
// instructions interleaved so that the long dependency chains of one group
// overlap with the other's. Group registers are written ZGn/YGn (n < 13):
// group A uses Z0-Z12, group B Z13-Z25; KG is K3 (A) or K4 (B), KS K5 or
// K6. Z26-Z31 are the kernel's own constants.
type dbody struct {
	setup string
	// main computes the float64 result from YG0 (the float32 input).
	main string
	// special, if set, is a register whose lanes VFPCLASSPD checks for
	// zeros, negatives, infinities and NaN; only when one has any does
	// slow run (per group) to patch the float64 result.
	special, slow string
	// result is the register holding the float64 result; out the ymm
	// register VCVTPD2PS rounds it into; post patches out (per group).
	result, out, post string
}

// group instantiates template lines for group g (0 or 1).
func group(tmpl string, g int) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(tmpl), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		for n := 12; n >= 0; n-- {
			l = strings.ReplaceAll(l, fmt.Sprintf("ZG%d", n), fmt.Sprintf("Z%d", n+13*g))
			l = strings.ReplaceAll(l, fmt.Sprintf("YG%d", n), fmt.Sprintf("Y%d", n+13*g))
		}
		l = strings.ReplaceAll(l, "KG", fmt.Sprintf("K%d", 3+g))
		l = strings.ReplaceAll(l, "KS", fmt.Sprintf("K%d", 5+g))
		out = append(out, l)
	}
	return out
}

// interleave emits the template for both groups, line by line.
func interleave(tmpl string) {
	a, b := group(tmpl, 0), group(tmpl, 1)
	for i := range a {
		emit("\t%s", a[i])
		emit("\t%s", b[i])
	}
}

// sequential emits the template for group A, then for group B.
func sequential(tmpl string) {
	for g := 0; g < 2; g++ {
		for _, l := range group(tmpl, g) {
			emit("\t%s", l)
		}
	}
}

func (d dbody) step(label string) {
	interleave("VCVTPS2PD YG0, ZG1\n" + d.main)
	if d.special != "" {
		interleave("VFPCLASSPDZ $0xdf, " + d.special + ", KG")
		emit("\tKORTESTB K3, K4")
		emit("\tJEQ %s", label)
		sequential(d.slow)
		emit("%s:", label)
	}
	interleave(fmt.Sprintf("VCVTPD2PS %s, %s", d.result, d.out))
	if d.post != "" {
		sequential(d.post)
	}
}

func double(name string, d dbody) {
	emit("// func %s(dst, x *float32, n int)", name)
	emit("TEXT ·%s(SB), NOSPLIT, $8-24", name)
	lines("MOVQ dst+0(FP), DI\nMOVQ x+8(FP), SI\nMOVQ n+16(FP), CX")
	lines(setFTZ)
	lines(d.setup)
	emit("loop:")
	lines("CMPQ CX, $16\nJLT tail\nVMOVUPS (SI), Y0\nVMOVUPS 32(SI), Y13")
	d.step("loop_normal")
	out := strings.Replace(d.out, "YG", "Y", 1)
	var n int
	fmt.Sscanf(out, "Y%d", &n)
	emit("\tVMOVUPS Y%d, (DI)", n)
	emit("\tVMOVUPS Y%d, 32(DI)", n+13)
	lines("ADDQ $64, SI\nADDQ $64, DI\nSUBQ $16, CX\nJMP loop")
	emit("tail:")
	lines("TESTQ CX, CX\nJEQ done\nMOVL $1, AX\nSHLL CX, AX\nDECL AX\nKMOVW AX, K1\nKSHIFTRW $8, K1, K2")
	lines("VMOVUPS.Z (SI), K1, Y0\nVMOVUPS.Z 32(SI), K2, Y13")
	d.step("tail_normal")
	emit("\tVMOVUPS Y%d, K1, (DI)", n)
	emit("\tVMOVUPS Y%d, K2, 32(DI)", n+13)
	emit("done:")
	lines(restore)
	emit("")
}

// clampSetup puts exp's clamp bounds in Z26 and Z27: VMAXPD and VMINPD
// return their second source (the first operand in Go syntax) when either
// is NaN, so the value must be that operand and the bound a register.
const clampSetup = `
VBROADCASTSD ·simdConst+24(SB), Z26
VBROADCASTSD ·simdConst+32(SB), Z27
`

// tableSetup loads log's interval tables: 1/c into Z28:Z29, log c into
// Z30:Z31 (VPERMT2PD picks from the pair by the 4-bit index).
const tableSetup = `
VMOVUPD ·logInvC+0(SB), Z28
VMOVUPD ·logInvC+64(SB), Z29
VMOVUPD ·logLogC+0(SB), Z30
VMOVUPD ·logLogC+64(SB), Z31
`

// estrin evaluates Σ c[k]·r^k (k < 12, coefficients at sym) by Estrin's
// scheme like estrin12: r in ZG<r>; uses ZG<t[0..8]>; the result is left
// in ZG<t[1]> (q0).
func estrin(sym string, r int, t [9]int) string {
	r2, q, r4 := t[0], t[1:7], t[7]
	r8 := t[8]
	var b strings.Builder
	fmt.Fprintf(&b, "VMULPD ZG%d, ZG%d, ZG%d\n", r, r, r2)
	for j := 0; j < 6; j++ {
		fmt.Fprintf(&b, "VBROADCASTSD %s+%d(SB), ZG%d\n", sym, 8*(2*j+1), q[j])
		fmt.Fprintf(&b, "VFMADD213PD.BCST %s+%d(SB), ZG%d, ZG%d\n", sym, 8*2*j, r, q[j])
	}
	fmt.Fprintf(&b, "VMULPD ZG%d, ZG%d, ZG%d\n", r2, r2, r4)
	fmt.Fprintf(&b, "VFMADD231PD ZG%d, ZG%d, ZG%d\n", q[5], r2, q[4])
	fmt.Fprintf(&b, "VFMADD231PD ZG%d, ZG%d, ZG%d\n", q[3], r2, q[2])
	fmt.Fprintf(&b, "VFMADD231PD ZG%d, ZG%d, ZG%d\n", q[1], r2, q[0])
	fmt.Fprintf(&b, "VMULPD ZG%d, ZG%d, ZG%d\n", r4, r4, r8)
	fmt.Fprintf(&b, "VFMADD231PD ZG%d, ZG%d, ZG%d\n", q[2], r4, q[0])
	fmt.Fprintf(&b, "VFMADD231PD ZG%d, ZG%d, ZG%d\n", q[4], r8, q[0])
	return b.String()
}

// expMain computes e^ZG<in> (clamped first when clamp) into ZG6, like
// expCore; clobbers ZG2-ZG12.
func expMain(in int, clamp bool) string {
	var b strings.Builder
	if clamp {
		fmt.Fprintf(&b, "VMAXPD ZG%d, Z26, ZG%d\nVMINPD ZG%d, Z27, ZG%d\n", in, in, in, in)
	}
	fmt.Fprintf(&b, "VMULPD.BCST ·simdConst+0(SB), ZG%d, ZG2\n", in)
	b.WriteString(`
VADDPD.BCST ·simdConst+16(SB), ZG2, ZG3
VSUBPD.BCST ·simdConst+16(SB), ZG3, ZG12
VSUBPD ZG12, ZG2, ZG4
`)
	b.WriteString(estrin("·expPoly", 4, [9]int{5, 6, 7, 8, 9, 10, 11, 12, 5}))
	b.WriteString(`
VPADDQ.BCST ·simdInt+0(SB), ZG3, ZG3
VPSLLQ $52, ZG3, ZG3
VMULPD ZG3, ZG6, ZG6
`)
	return b.String()
}

// logMain computes log ZG<u> into ZG4 like logCore. With small, lanes in
// KS take r = ZG1 (x) and hi = 0. Clobbers ZG2-ZG11.
func logMain(u int, small bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, `
VPSUBQ.BCST ·simdInt+8(SB), ZG%[1]d, ZG2
VPSRAQ $52, ZG2, ZG3
VPSRLQ $48, ZG2, ZG4
VPSLLQ $52, ZG3, ZG5
VPSUBQ ZG5, ZG%[1]d, ZG5
VMOVAPD Z28, ZG6
VPERMT2PD Z29, ZG4, ZG6
VMOVAPD Z30, ZG7
VPERMT2PD Z31, ZG4, ZG7
VFMSUB213PD.BCST ·simdConst+48(SB), ZG5, ZG6
VCVTQQ2PD ZG3, ZG3
VFMADD231PD.BCST ·simdConst+8(SB), ZG3, ZG7
`, u)
	if small {
		b.WriteString("VMOVAPD ZG1, KS, ZG6\nVPXORQ ZG7, ZG7, KS, ZG7\n")
	}
	// r in ZG6, hi in ZG7; P(r) into ZG2 (q0), then r·P + hi into ZG4.
	b.WriteString(estrin("·log1pPoly", 6, [9]int{8, 2, 3, 4, 5, 9, 10, 11, 8}))
	b.WriteString("VMULPD ZG6, ZG2, ZG2\nVADDPD ZG2, ZG7, ZG4\n")
	return b.String()
}

// logSlow patches log's special lanes (u is ZG<u>, the result ZG4):
// negative or NaN -> NaN, ±0 -> -Inf, +Inf -> +Inf. K7 is a scratch mask.
func logSlow(u int) string {
	return fmt.Sprintf(`
VCMPPD.BCST $0x19, ·simdConst+56(SB), ZG%[1]d, K7
VBROADCASTSD ·simdInt+16(SB), K7, ZG4
VCMPPD.BCST $0x00, ·simdConst+56(SB), ZG%[1]d, K7
VBROADCASTSD ·simdInt+24(SB), K7, ZG4
VCMPPD.BCST $0x00, ·simdInt+32(SB), ZG%[1]d, K7
VBROADCASTSD ·simdInt+32(SB), K7, ZG4
`, u)
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

	double("expAVX512", dbody{setup: clampSetup, main: expMain(1, true), result: "ZG6", out: "YG2"})
	double("logAVX512", dbody{setup: tableSetup, main: logMain(1, false),
		special: "ZG1", slow: logSlow(1), result: "ZG4", out: "YG5"})
	// log1p: u = 1 + x in ZG12; lanes with |x| < 1/32 (KS) use the
	// polynomial of x; ±0 and denormal inputs are returned unchanged
	// (their raw bits, YG0 as loaded, where the exponent field is zero).
	double("log1pAVX512", dbody{setup: tableSetup,
		main: `
VADDPD.BCST ·simdConst+48(SB), ZG1, ZG12
VANDPD.BCST ·simdInt+40(SB), ZG1, ZG2
VCMPPD.BCST $0x11, ·simdConst+40(SB), ZG2, KS
` + logMain(12, true),
		special: "ZG12", slow: logSlow(12), result: "ZG4", out: "YG5",
		post: "VPTESTNMD.BCST ·simdMask32+0(SB), YG0, K7\nVMOVDQU32 YG0, K7, YG5"})
	// sigmoid: e = exp(-|x|) (clamped below); x >= 0: 1/(1+e), else e/(1+e).
	double("sigmoidAVX512", dbody{setup: clampSetup,
		main: "VORPD.BCST ·simdInt+48(SB), ZG1, ZG11\nVMAXPD ZG11, Z26, ZG11\n" + expMain(11, false) + `
VADDPD.BCST ·simdConst+48(SB), ZG6, ZG7
VCMPPD.BCST $0x1d, ·simdConst+56(SB), ZG1, KS
VBROADCASTSD ·simdConst+48(SB), KS, ZG6
VDIVPD ZG7, ZG6, ZG6
`, result: "ZG6", out: "YG2"})

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
