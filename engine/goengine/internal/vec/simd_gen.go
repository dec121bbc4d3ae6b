//go:build ignore

// simd_gen.go generates the fused engine's vector layer (package vec)
// from one table, vecOps: each fusible vector op is one entry (its kernel
// name, the TensorFlow ops it computes, its operands, its pure-Go kernel,
// its reference loop, its tile forms and the bodies of its AVX-512 and
// AVX2 kernels). Run it with `go generate` in engine/goengine/internal/vec
// (`go generate ./...` from the repository root runs it too);
// scripts/check-generated.sh fails when its outputs are not what it
// writes. It writes:
//
//   - simd_amd64.s: the kernels (AVX-512 and AVX2/FMA), the AVX-512
//     program runner runProgAVX512, the tile runner runTilesAVX512 and the
//     chunk runners runChunksAVX512 and runChunksAVX2;
//   - vecops_gen.go: the op, runner and tile opcodes (Op, ProgOp, TileOp,
//     numbered in the order the assembly dispatches on), the opKernels
//     struct with the pure-Go kernels (genericOps), one Kernels method per
//     op documented by its reference loop, the maps from TensorFlow ops to
//     ops (TFOps) and from ops to runner and tile opcodes, and the
//     dispatch of the Go path (Kernels.Apply);
//   - vecops_amd64_gen.go: the Go declarations of every assembly function
//     and the AVX-512 and AVX2 opKernels;
//   - vecops_ref_test.go: each op's reference loop as a function, and
//     TestReferenceLoops, which checks every kernel set against them.
//
// Adding a fusible op is one vecOps entry, its Go kernel (goRef) and its
// assembly bodies; everything else follows from the table (doc.go).
//
// Each kernel computes exactly what its pure-Go counterpart in
// simd_generic.go and simd_math.go computes, operation for operation:
//
//   - float32 arithmetic runs with MXCSR's flush-to-zero and
//     denormals-are-zero bits set for the duration of the call (and the
//     caller's MXCSR restored), which is the Round32/Flush32 rounding of the
//     Go code; kernels that move bits rather than compute (max, min, relu,
//     clip, flush) flush their operands explicitly (integer tests on the exponent field);
//   - exp, log, log1p and sigmoid run two interleaved groups of 16 lanes
//     through the same float32 operations (fused multiply-adds where the Go
//     code has fma32) on the same coefficients (read from the Go variables
//     expC, logP, simdF32, simdU32);
//   - sumLanes keeps the 32 float64 lanes in four zmm registers (four
//     independent chains of additions);
//   - the runners (Kernels.Prog, Tiles and Chunks; goengine's
//     fuse_runner.go and fuse_tiles.go compile their code) emit the
//     kernels' own bodies as the code of their opcodes (asmFunc.inline).
//
// Assembly functions are never preempted asynchronously, so the MXCSR
// change cannot leak to another goroutine.
package main

import (
	"bytes"
	"fmt"
	"go/format"
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

// labelPrefix is put before the labels a kernel body defines and jumps
// to: empty in the kernel's own function, "<op>_" where a runner emits the
// body as the code of an opcode.
var labelPrefix string

// L is the label name in the body being emitted.
func L(name string) string { return labelPrefix + name }

// label emits the definition of label name.
func label(name string) { emit("%s:", L(name)) }

// asmFunc is one assembly function: its Go parameters (the declaration in
// vecops_amd64_gen.go), frame, argument loads, and either a kernel body
// (from its constants to its done label, run with the MXCSR flush bits
// set: the function restores MXCSR after it, a runner jumps to its next
// instruction) or, for the runners, the whole code after the MXCSR change.
type asmFunc struct {
	name, params, frame, doc string
	load                     string
	body                     func()
	whole                    func()
}

// funcs are the functions written, in order.
var funcs []asmFunc

// write emits f as a function of its own.
func (f asmFunc) write() {
	funcs = append(funcs, f)
	emit("// func %s(%s)", f.name, f.params)
	emit("TEXT ·%s(SB), NOSPLIT, %s", f.name, f.frame)
	lines(f.load)
	lines(setFTZ)
	if f.whole != nil {
		f.whole()
	} else {
		f.body()
		lines(restore)
	}
	emit("")
}

// inline emits f's body as the code of a runner opcode: labels prefixed
// with prefix, then a jump to next. The runner has loaded the operand
// pointers into DI, SI, DX and R8, n into CX, and set MXCSR.
func (f asmFunc) inline(prefix, next string) {
	labelPrefix = prefix + "_"
	f.body()
	labelPrefix = ""
	emit("\tJMP %s", next)
}

// asmBody is an op's kernel for one instruction set: a kernel over single
// registers (setup, then body computing Z2/Y2 from Z0/Y0, Z1/Y1, Z3/Y3),
// or a transcendental one (t).
type asmBody struct {
	setup, body string
	t           *tbody
}

// vecOp is one fusible vector op (or, with no tf ops, a kernel the
// fusion does not emit).
type vecOp struct {
	// name names the opKernels field, the instruction v<Name>, the
	// runner opcode p<Name> and the kernels <name>AVX512, <name>AVX2.
	name string
	// tf are the TensorFlow ops whose float32 value it computes in a fused
	// region; unary ops with standalone set also run their float32 kernel
	// through it (vecUnary32).
	tf         []string
	standalone bool
	// params are the operands after dst (1: unary, 2: binary, 3: clip).
	params []string
	doc    string
	// goRef is the pure-Go kernel (a Go expression of type
	// func(dst, <params> []float32)), which defines the results.
	goRef string
	// loop is the body of the reference loop over i < len(dst) that the
	// kernels compute (Go statements on dst[i] and the operands' [i]): the
	// doc comment of the op's Kernels method, and the reference of the
	// generated test vecops_ref_test.go.
	loop string
	// tile and tileRev are its tile opcodes (tileOps' op names): a unary
	// op's, or a binary op's with the accumulator as first operand and as
	// second; empty when it has no tile form.
	tile, tileRev string
	avx512, avx2  asmBody
}

var (
	ab    = []string{"a", "b"}
	x     = []string{"x"}
	xlohi = []string{"x", "lo", "hi"}
)

// vecOps is the table. Its order is the order of the instructions and
// runner opcodes.
var vecOps = []vecOp{
	{name: "add", tf: []string{"AddV2", "Add"}, params: ab, doc: "a + b",
		goRef: "binaryGo(func(a, b float32) float32 { return Round32(float64(a) + float64(b)) })",
		loop:  "dst[i] = Round32(float64(Flush32(a[i])) + float64(Flush32(b[i])))",
		tile:  "add", tileRev: "add",
		avx512: asmBody{body: "VADDPS Z1, Z0, Z2"}, avx2: asmBody{body: "VADDPS Y1, Y0, Y2"}},
	{name: "sub", tf: []string{"Sub"}, params: ab, doc: "a - b",
		goRef: "binaryGo(func(a, b float32) float32 { return Round32(float64(a) - float64(b)) })",
		loop:  "dst[i] = Round32(float64(Flush32(a[i])) - float64(Flush32(b[i])))",
		tile:  "sub", tileRev: "rsub",
		avx512: asmBody{body: "VSUBPS Z1, Z0, Z2"}, avx2: asmBody{body: "VSUBPS Y1, Y0, Y2"}},
	{name: "mul", tf: []string{"Mul"}, params: ab, doc: "a · b",
		goRef: "binaryGo(func(a, b float32) float32 { return Round32(float64(a) * float64(b)) })",
		loop:  "dst[i] = Round32(float64(Flush32(a[i])) * float64(Flush32(b[i])))",
		tile:  "mul", tileRev: "mul",
		avx512: asmBody{body: "VMULPS Z1, Z0, Z2"}, avx2: asmBody{body: "VMULPS Y1, Y0, Y2"}},
	{name: "div", tf: []string{"RealDiv", "Div"}, params: ab, doc: "a / b",
		goRef: "binaryGo(func(a, b float32) float32 { return Round32(float64(a) / float64(b)) })",
		loop:  "dst[i] = Round32(float64(Flush32(a[i])) / float64(Flush32(b[i])))",
		tile:  "div", tileRev: "rdiv",
		avx512: asmBody{body: "VDIVPS Z1, Z0, Z2"}, avx2: asmBody{body: "VDIVPS Y1, Y0, Y2"}},
	{name: "divNoNan", tf: []string{"DivNoNan"}, params: ab, doc: "a / b, 0 where b is 0",
		goRef: "binaryGo(divNoNan32)",
		loop: `
if d := Flush32(b[i]); d == 0 {
	dst[i] = 0
} else {
	dst[i] = Round32(float64(Flush32(a[i])) / float64(d))
}
`,
		avx512: asmBody{setup: "VPXORD Z30, Z30, Z30", body: `
VDIVPS Z1, Z0, Z2
VCMPPS $0x00, Z30, Z1, K2
VPXORD Z2, Z2, K2, Z2
`},
		avx2: asmBody{body: "VDIVPS Y1, Y0, Y2\nVCMPPS $0x00, Y15, Y1, Y3\nVANDNPS Y2, Y3, Y2"}},
	{name: "max", tf: []string{"Maximum"}, params: ab, doc: "max(a, b), NaN from either",
		goRef:  "binaryGo(MaxNaN[float32])",
		loop:   "dst[i] = MaxNaN(Flush32(a[i]), Flush32(b[i]))",
		avx512: asmBody{body: maxMin512("Z1, Z0")},
		avx2:   asmBody{body: maxMin2("Y1, Y0")}},
	{name: "min", tf: []string{"Minimum"}, params: ab, doc: "min(a, b), NaN from either",
		goRef:  "binaryGo(MinNaN[float32])",
		loop:   "dst[i] = MinNaN(Flush32(a[i]), Flush32(b[i]))",
		avx512: asmBody{body: maxMin512("Z0, Z1")},
		avx2:   asmBody{body: maxMin2("Y0, Y1")}},
	{name: "neg", tf: []string{"Neg"}, standalone: true, params: x, doc: "-x",
		goRef:  "unaryGo(func(x float32) float32 { return 0 - x })",
		loop:   "dst[i] = 0 - Flush32(x[i])",
		tile:   "neg",
		avx512: asmBody{setup: "VPXORD Z30, Z30, Z30", body: "VSUBPS Z0, Z30, Z2"},
		avx2:   asmBody{body: "VSUBPS Y0, Y15, Y2"}},
	{name: "abs", tf: []string{"Abs"}, standalone: true, params: x, doc: "|x| (the sign bit cleared)",
		goRef:  "absGo",
		loop:   "dst[i] = math.Float32frombits(math.Float32bits(x[i]) &^ (1 << 31))",
		tile:   "abs",
		avx512: asmBody{setup: "MOVL $0x7fffffff, AX\nVPBROADCASTD AX, Z30", body: "VANDPS Z30, Z0, Z2"},
		avx2:   asmBody{body: "VANDNPS Y0, Y13, Y2"}},
	{name: "relu", tf: []string{"Relu"}, standalone: true, params: x, doc: "max(x, 0)",
		goRef: "unaryGo(relu32)",
		loop: `
if v := Flush32(x[i]); v < 0 {
	dst[i] = 0
} else {
	dst[i] = v
}
`,
		avx512: asmBody{setup: "VPXORD Z30, Z30, Z30", body: flush("Z0") + `
VMOVAPS Z0, Z2
VCMPPS $0x11, Z30, Z0, K2
VPXORD Z2, Z2, K2, Z2
`},
		avx2: asmBody{body: flush2("Y0") + "VCMPPS $0x11, Y15, Y0, Y3\nVANDNPS Y0, Y3, Y2"}},
	{name: "flush", params: x, doc: "x with denormals flushed (tests)",
		goRef:  "unaryGo(func(x float32) float32 { return x })",
		loop:   "dst[i] = Flush32(x[i])",
		avx512: asmBody{body: flush("Z0") + "VMOVAPS Z0, Z2"},
		avx2:   asmBody{body: flush2("Y0") + "VMOVAPS Y0, Y2"}},
	{name: "exp", tf: []string{"Exp"}, standalone: true, params: x, doc: "e^x (Exp32)",
		goRef: "rawUnaryGo(Exp32)",
		loop:  "dst[i] = Exp32(x[i])",
		avx512: asmBody{t: &tbody{setup: clampSetup,
			main: "VMAXPS ZG0, Z26, ZG0\nVMINPS ZG0, Z27, ZG0\n" + expMain(0), result: "ZG5"}},
		avx2: asmBody{t: &tbody{setup: "VBROADCASTSS ·simdF32+16(SB), Y12\nVBROADCASTSS ·simdF32+20(SB), Y13\nVBROADCASTSS ·simdF32+4(SB), Y14\n",
			main: "VMAXPS Y0, Y12, Y0\nVMINPS Y0, Y13, Y0\n" + expMain2(0), result: "Y5"}}},
	// log: e and m from the bits of x (garbage for the special lanes,
	// which slow replaces).
	{name: "log", tf: []string{"Log"}, standalone: true, params: x, doc: "ln x (Log32)",
		goRef: "rawUnaryGo(Log32)",
		loop:  "dst[i] = Log32(x[i])",
		avx512: asmBody{t: &tbody{setup: zeroSetup, main: `
VPSUBD.BCST ·simdU32+0(SB), ZG0, ZG1
VPSRAD $23, ZG1, ZG1
VPSLLD $23, ZG1, ZG2
VPSUBD ZG2, ZG0, ZG2
VSUBPS.BCST ·simdF32+24(SB), ZG2, ZG2
VCVTDQ2PS ZG1, ZG1
` + logMain(2, 1), special: "ZG0", slow: logSlow(0), result: "ZG10"}},
		avx2: asmBody{t: &tbody{main: `
VPBROADCASTD ·simdU32+0(SB), Y12
VPSUBD Y12, Y0, Y1
VPSRAD $23, Y1, Y1
VPSLLD $23, Y1, Y2
VPSUBD Y2, Y0, Y2
VBROADCASTSS ·simdF32+24(SB), Y12
VSUBPS Y12, Y2, Y2
VCVTDQ2PS Y1, Y1
` + logMain2(2, 1), special: "Y0", slow: logSlow2(0), result: "Y10"}}},
	// log1p: u = 1 + x in ZG1; e from u; f = x·2^-e + (2^-e - 1) where
	// e < 24 (KS), else m - 1; ±0 and denormal inputs are returned
	// unchanged (their raw bits, where the exponent field is zero).
	{name: "log1p", tf: []string{"Log1p"}, standalone: true, params: x, doc: "ln(1 + x) (Log1p32)",
		goRef: "rawUnaryGo(Log1p32)",
		loop:  "dst[i] = Log1p32(x[i])",
		avx512: asmBody{t: &tbody{setup: zeroSetup + log1pSetup, main: `
VADDPS.BCST ·simdF32+24(SB), ZG0, ZG1
VPSUBD.BCST ·simdU32+0(SB), ZG1, ZG2
VPSRAD $23, ZG2, ZG2
VPSLLD $23, ZG2, ZG3
VPSUBD ZG3, ZG1, ZG3
VSUBPS.BCST ·simdF32+24(SB), ZG3, ZG3
VPSUBD ZG2, Z30, ZG4
VPSLLD $23, ZG4, ZG4
VSUBPS.BCST ·simdF32+24(SB), ZG4, ZG5
VFMADD231PS ZG4, ZG0, ZG5
VPCMPD $1, Z29, ZG2, KS
VMOVAPS ZG5, KS, ZG3
VCVTDQ2PS ZG2, ZG2
` + logMain(3, 2), special: "ZG1", slow: logSlow(1), result: "ZG10",
			post: "VPTESTNMD.BCST ·simdU32+8(SB), ZG0, K7\nVMOVAPS ZG0, K7, ZG10"}},
		avx2: asmBody{t: &tbody{main: `
VBROADCASTSS ·simdF32+24(SB), Y12
VADDPS Y12, Y0, Y1
VPBROADCASTD ·simdU32+0(SB), Y13
VPSUBD Y13, Y1, Y2
VPSRAD $23, Y2, Y2
VPSLLD $23, Y2, Y3
VPSUBD Y3, Y1, Y3
VSUBPS Y12, Y3, Y3
VPBROADCASTD ·simdU32+4(SB), Y13
VPSUBD Y2, Y13, Y4
VPSLLD $23, Y4, Y4
VSUBPS Y12, Y4, Y5
VFMADD231PS Y4, Y0, Y5
VPBROADCASTD ·simdU32+28(SB), Y13
VPCMPGTD Y2, Y13, Y6
VBLENDVPS Y6, Y5, Y3, Y3
VCVTDQ2PS Y2, Y2
` + logMain2(3, 2), special: "Y1", slow: logSlow2(1), result: "Y10", post: `
VPBROADCASTD ·simdU32+8(SB), Y13
VPAND Y13, Y0, Y12
VXORPS Y13, Y13, Y13
VPCMPEQD Y13, Y12, Y12
VBLENDVPS Y12, Y0, Y10, Y10
`}}},
	// sigmoid: e = exp(-|x|) (clamped below); x >= 0: 1/(1+e), else e/(1+e).
	{name: "sigmoid", tf: []string{"Sigmoid"}, standalone: true, params: x, doc: "1 / (1 + e^-x) (Sigmoid32)",
		goRef: "rawUnaryGo(Sigmoid32)",
		loop:  "dst[i] = Sigmoid32(x[i])",
		avx512: asmBody{t: &tbody{setup: clampSetup + zeroSetup,
			main: "VPORD.BCST ·simdU32+12(SB), ZG0, ZG10\nVMAXPS ZG10, Z26, ZG10\n" + expMain(10) + `
VADDPS.BCST ·simdF32+24(SB), ZG5, ZG6
VCMPPS $0x1d, Z31, ZG0, KS
VBROADCASTSS ·simdF32+24(SB), KS, ZG5
VDIVPS ZG6, ZG5, ZG5
`, result: "ZG5"}},
		avx2: asmBody{t: &tbody{setup: "VBROADCASTSS ·simdF32+16(SB), Y12\nVBROADCASTSS ·simdF32+4(SB), Y14\n", main: `
VXORPS Y15, Y15, Y15
VCMPPS $0x1d, Y15, Y0, Y15
VPBROADCASTD ·simdU32+12(SB), Y10
VPOR Y10, Y0, Y0
VMAXPS Y0, Y12, Y0
` + expMain2(0) + `
VBROADCASTSS ·simdF32+24(SB), Y10
VADDPS Y10, Y5, Y6
VBLENDVPS Y15, Y10, Y5, Y5
VDIVPS Y6, Y5, Y5
`, result: "Y5"}}},
	// rint: TensorFlow's Rint (Eigen's numext::rint), rounding mode 0 of
	// VRNDSCALEPS/VROUNDPS: to nearest, ties to even.
	{name: "rint", tf: []string{"Rint"}, standalone: true, params: x, doc: "x rounded to an integer, ties to even (Rint32)",
		goRef:  "unaryGo(Rint32)",
		loop:   "dst[i] = Rint32(Flush32(x[i]))",
		avx512: asmBody{body: "VRNDSCALEPS $0, Z0, Z2"},
		avx2:   asmBody{body: "VROUNDPS $0, Y0, Y2"}},
	{name: "clip", tf: []string{"ClipByValue"}, params: xlohi, doc: "min(x, hi) then max(·, lo) (ClipByValue's order)",
		goRef: "clipGo",
		loop: `
v, l, h := Flush32(x[i]), Flush32(lo[i]), Flush32(hi[i])
if h < v {
	v = h
}
if v < l {
	v = l
}
dst[i] = v
`,
		avx512: asmBody{body: flush("Z0") + flush("Z1") + flush("Z3") + `
VMOVAPS Z0, Z2
VCMPPS $0x11, Z2, Z3, K2
VMOVAPS Z3, K2, Z2
VCMPPS $0x11, Z1, Z2, K3
VMOVAPS Z1, K3, Z2
`},
		avx2: asmBody{body: flush2("Y0") + flush2("Y1") + flush2("Y3") + `
VCMPPS $0x11, Y0, Y3, Y4
VBLENDVPS Y4, Y3, Y0, Y2
VCMPPS $0x11, Y1, Y2, Y4
VBLENDVPS Y4, Y1, Y2, Y2
`}},
}

// kernel is op's assembly function for set (AVX512, AVX2).
func (op vecOp) kernel(set string) asmFunc {
	name := op.name + set
	var f asmFunc
	switch b := map[string]asmBody{"AVX512": op.avx512, "AVX2": op.avx2}[set]; {
	case b.t != nil && set == "AVX512":
		f = transcendental(name, *b.t)
	case b.t != nil:
		f = transcendental2(name, *b.t)
	case set == "AVX512":
		f = single(name, op.params, b.setup, b.body)
	default:
		f = single2(name, op.params, b.setup, b.body)
	}
	f.doc = fmt.Sprintf("%s is the %s kernel of %s: dst = %s.", name, set, op.name, op.doc)
	return f
}

// fused reports whether the fusion emits op (it computes TensorFlow ops).
func (op vecOp) fused() bool { return len(op.tf) > 0 }

// runnerOp is a runner opcode and the kernel its code is, per set.
type runnerOp struct {
	op      string
	kernels map[string]asmFunc
}

// runnerOps are the runner's opcodes (the progOp constants, in order):
// the fused table ops, then the canonical lane sum and a copy, which the
// program compiler emits itself.
var runnerOps []runnerOp

// flush makes denormal lanes of z signed zeros (Z29 holds the exponent
// mask, Z31 the sign mask). VFPCLASSPS cannot find denormals: with DAZ set
// it classifies them as zeros.
func flush(z string) string {
	return fmt.Sprintf("VPTESTNMD Z29, %s, K7\nVPANDD Z31, %s, K7, %s\n", z, z, z)
}

// maxMin512 is the body of max (lt = "Z1, Z0": a < b) and min
// (lt = "Z0, Z1": b < a) with NaN from either operand: Z2 = a, replaced by
// b where lt holds, then by b where b is NaN, then by a where a is NaN.
func maxMin512(lt string) string {
	return flush("Z0") + flush("Z1") + `
VMOVAPS Z0, Z2
VCMPPS $0x11, ` + lt + `, K2
VMOVAPS Z1, K2, Z2
VCMPPS $0x03, Z1, Z1, K3
VMOVAPS Z1, K3, Z2
VCMPPS $0x03, Z0, Z0, K4
VMOVAPS Z0, K4, Z2
`
}

// A transcendental kernel runs two groups of 16 lanes per step (32
// floats), their instructions interleaved so that the dependency chains of
// one group overlap with the other's. Group registers are written ZGn
// (n < 13): group A uses Z0-Z12, group B Z13-Z25; KG is K3 (A) or K4 (B),
// KS K5 or K6; K7 is scratch for sequential code. Z26-Z31 are the
// kernel's own constants.
type tbody struct {
	setup string
	// main computes the result (in result) from ZG0, the input.
	main string
	// special, if set, is a register whose lanes VFPCLASSPS checks for
	// zeros (denormals too, under DAZ), negatives, infinities and NaN;
	// only when one has any does slow run (per group) to patch result.
	special, slow string
	result        string
	// post patches result (per group).
	post string
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

// Constant registers: exp's clamp bounds (VMAXPS and VMINPS return their
// second source, the first operand in Go syntax, when either is NaN, so
// the value must be that operand and the bound a register), the rounding
// shifter, 24 and 127 as integers, zero.
const (
	clampSetup = `
VBROADCASTSS ·simdF32+16(SB), Z26
VBROADCASTSS ·simdF32+20(SB), Z27
VBROADCASTSS ·simdF32+4(SB), Z28
`
	zeroSetup  = "VPXORD Z31, Z31, Z31\n"
	log1pSetup = "VPBROADCASTD ·simdU32+28(SB), Z29\nVPBROADCASTD ·simdU32+4(SB), Z30\n"
)

// expMain computes e^ZG<in> (in already clamped) into ZG5 like expCore32;
// clobbers ZG1-ZG9.
func expMain(in int) string {
	return fmt.Sprintf(`
VMOVAPS Z28, ZG1
VFMADD231PS.BCST ·simdF32+0(SB), ZG%[1]d, ZG1
VSUBPS Z28, ZG1, ZG2
VMOVAPS ZG%[1]d, ZG3
VFNMADD231PS.BCST ·simdF32+8(SB), ZG2, ZG3
VFNMADD231PS.BCST ·simdF32+12(SB), ZG2, ZG3
VMULPS ZG3, ZG3, ZG4
VBROADCASTSS ·expC+12(SB), ZG5
VFMADD213PS.BCST ·expC+8(SB), ZG3, ZG5
VBROADCASTSS ·expC+20(SB), ZG6
VFMADD213PS.BCST ·expC+16(SB), ZG3, ZG6
VBROADCASTSS ·expC+28(SB), ZG7
VFMADD213PS.BCST ·expC+24(SB), ZG3, ZG7
VMULPS ZG4, ZG4, ZG8
VFMADD231PS ZG6, ZG4, ZG5
VFMADD231PS ZG7, ZG8, ZG5
VFMADD213PS ZG3, ZG4, ZG5
VADDPS.BCST ·simdF32+24(SB), ZG5, ZG5
VPSUBD Z28, ZG1, ZG1
VPSRAD $1, ZG1, ZG9
VPSUBD ZG9, ZG1, ZG1
VPADDD.BCST ·simdU32+4(SB), ZG9, ZG9
VPSLLD $23, ZG9, ZG9
VPADDD.BCST ·simdU32+4(SB), ZG1, ZG1
VPSLLD $23, ZG1, ZG1
VMULPS ZG9, ZG5, ZG5
VMULPS ZG1, ZG5, ZG5
`, in)
}

// logMain computes log(1 + ZG<f>) + ZG<e>·ln 2 like logCore32 into ZG10;
// clobbers ZG4-ZG9, ZG11.
func logMain(f, e int) string {
	return fmt.Sprintf(`
VMULPS ZG%[1]d, ZG%[1]d, ZG4
VBROADCASTSS ·logP+28(SB), ZG5
VFMADD213PS.BCST ·logP+32(SB), ZG%[1]d, ZG5
VBROADCASTSS ·logP+20(SB), ZG6
VFMADD213PS.BCST ·logP+24(SB), ZG%[1]d, ZG6
VBROADCASTSS ·logP+12(SB), ZG7
VFMADD213PS.BCST ·logP+16(SB), ZG%[1]d, ZG7
VBROADCASTSS ·logP+4(SB), ZG8
VFMADD213PS.BCST ·logP+8(SB), ZG%[1]d, ZG8
VMULPS ZG4, ZG4, ZG9
VFMADD231PS ZG6, ZG4, ZG5
VFMADD231PS ZG8, ZG4, ZG7
VMULPS ZG9, ZG9, ZG11
VFMADD231PS ZG7, ZG9, ZG5
VFMADD231PS.BCST ·logP+0(SB), ZG11, ZG5
VMULPS ZG4, ZG%[1]d, ZG10
VMULPS ZG5, ZG10, ZG10
VFMADD231PS.BCST ·simdF32+12(SB), ZG%[2]d, ZG10
VFMADD231PS.BCST ·simdF32+28(SB), ZG4, ZG10
VADDPS ZG10, ZG%[1]d, ZG10
VFMADD231PS.BCST ·simdF32+8(SB), ZG%[2]d, ZG10
`, f, e)
}

// logSlow patches log's special lanes (u is ZG<u>, the result ZG10):
// negative or NaN -> NaN, ±0 -> -Inf, +Inf -> +Inf (Z31 is zero).
func logSlow(u int) string {
	return fmt.Sprintf(`
VCMPPS $0x19, Z31, ZG%[1]d, K7
VBROADCASTSS ·simdU32+16(SB), K7, ZG10
VCMPPS $0x00, Z31, ZG%[1]d, K7
VBROADCASTSS ·simdU32+20(SB), K7, ZG10
VCMPPS.BCST $0x00, ·simdU32+24(SB), ZG%[1]d, K7
VBROADCASTSS ·simdU32+24(SB), K7, ZG10
`, u)
}

// AVX2 kernels (8 lanes, no mask registers) process n rounded down to a
// multiple of their step; the Go wrappers finish the tail with the pure-Go
// kernels, which give the same bits. Constants live in Y12-Y15 or are
// broadcast into scratch registers (AVX2 has no embedded broadcast).

// flush2 makes denormal lanes of y signed zeros; Y14 holds the exponent
// mask, Y13 the sign mask, Y15 zero; Y10 and Y11 are scratch.
// maxMin2 is maxMin512 for AVX2 (lt = "Y1, Y0" for max, "Y0, Y1" for
// min).
func maxMin2(lt string) string {
	return flush2("Y0") + flush2("Y1") + `
VCMPPS $0x11, ` + lt + `, Y3
VBLENDVPS Y3, Y1, Y0, Y2
VCMPPS $0x03, Y1, Y1, Y3
VBLENDVPS Y3, Y1, Y2, Y2
VCMPPS $0x03, Y0, Y0, Y3
VBLENDVPS Y3, Y0, Y2, Y2
`
}

func flush2(y string) string {
	return fmt.Sprintf("VPAND Y14, %[1]s, Y10\nVPCMPEQD Y15, Y10, Y10\nVPAND Y13, %[1]s, Y11\nVBLENDVPS Y10, Y11, %[1]s, %[1]s\n", y)
}

// expMain2 computes e^Y<in> (clamped) into Y5 like expCore32: Y12 = -104,
// Y13 = 89 are not used here; Y14 holds the shifter; clobbers Y1-Y11.
func expMain2(in int) string {
	return fmt.Sprintf(`
VMOVAPS Y14, Y1
VBROADCASTSS ·simdF32+0(SB), Y10
VFMADD231PS Y10, Y%[1]d, Y1
VSUBPS Y14, Y1, Y2
VMOVAPS Y%[1]d, Y3
VBROADCASTSS ·simdF32+8(SB), Y10
VFNMADD231PS Y10, Y2, Y3
VBROADCASTSS ·simdF32+12(SB), Y10
VFNMADD231PS Y10, Y2, Y3
VMULPS Y3, Y3, Y4
VBROADCASTSS ·expC+12(SB), Y5
VBROADCASTSS ·expC+8(SB), Y10
VFMADD213PS Y10, Y3, Y5
VBROADCASTSS ·expC+20(SB), Y6
VBROADCASTSS ·expC+16(SB), Y10
VFMADD213PS Y10, Y3, Y6
VBROADCASTSS ·expC+28(SB), Y7
VBROADCASTSS ·expC+24(SB), Y10
VFMADD213PS Y10, Y3, Y7
VMULPS Y4, Y4, Y8
VFMADD231PS Y6, Y4, Y5
VFMADD231PS Y7, Y8, Y5
VFMADD213PS Y3, Y4, Y5
VBROADCASTSS ·simdF32+24(SB), Y10
VADDPS Y10, Y5, Y5
VPSUBD Y14, Y1, Y1
VPSRAD $1, Y1, Y9
VPSUBD Y9, Y1, Y1
VPBROADCASTD ·simdU32+4(SB), Y10
VPADDD Y10, Y9, Y9
VPSLLD $23, Y9, Y9
VPADDD Y10, Y1, Y1
VPSLLD $23, Y1, Y1
VMULPS Y9, Y5, Y5
VMULPS Y1, Y5, Y5
`, in)
}

// logMain2 computes log(1 + Y<f>) + Y<e>·ln 2 like logCore32 into Y10;
// clobbers Y4-Y9, Y11-Y13.
func logMain2(f, e int) string {
	return fmt.Sprintf(`
VMULPS Y%[1]d, Y%[1]d, Y4
VBROADCASTSS ·logP+28(SB), Y5
VBROADCASTSS ·logP+32(SB), Y12
VFMADD213PS Y12, Y%[1]d, Y5
VBROADCASTSS ·logP+20(SB), Y6
VBROADCASTSS ·logP+24(SB), Y12
VFMADD213PS Y12, Y%[1]d, Y6
VBROADCASTSS ·logP+12(SB), Y7
VBROADCASTSS ·logP+16(SB), Y12
VFMADD213PS Y12, Y%[1]d, Y7
VBROADCASTSS ·logP+4(SB), Y8
VBROADCASTSS ·logP+8(SB), Y12
VFMADD213PS Y12, Y%[1]d, Y8
VMULPS Y4, Y4, Y9
VFMADD231PS Y6, Y4, Y5
VFMADD231PS Y8, Y4, Y7
VMULPS Y9, Y9, Y11
VFMADD231PS Y7, Y9, Y5
VBROADCASTSS ·logP+0(SB), Y12
VFMADD231PS Y12, Y11, Y5
VMULPS Y4, Y%[1]d, Y10
VMULPS Y5, Y10, Y10
VBROADCASTSS ·simdF32+12(SB), Y12
VFMADD231PS Y12, Y%[2]d, Y10
VBROADCASTSS ·simdF32+28(SB), Y12
VFMADD231PS Y12, Y4, Y10
VADDPS Y10, Y%[1]d, Y10
VBROADCASTSS ·simdF32+8(SB), Y12
VFMADD231PS Y12, Y%[2]d, Y10
`, f, e)
}

// logSlow2 patches log's special lanes of Y10 for u = Y<u>: negative or
// NaN -> NaN, ±0 -> -Inf, +Inf -> +Inf. Clobbers Y11-Y13.
func logSlow2(u int) string {
	return fmt.Sprintf(`
VXORPS Y13, Y13, Y13
VCMPPS $0x19, Y13, Y%[1]d, Y11
VPBROADCASTD ·simdU32+16(SB), Y12
VBLENDVPS Y11, Y12, Y10, Y10
VCMPPS $0x00, Y13, Y%[1]d, Y11
VPBROADCASTD ·simdU32+20(SB), Y12
VBLENDVPS Y11, Y12, Y10, Y10
VPBROADCASTD ·simdU32+24(SB), Y12
VCMPPS $0x00, Y12, Y%[1]d, Y11
VBLENDVPS Y11, Y12, Y10, Y10
`, u)
}

// single is a float32 kernel over 16 lanes per step: args are the
// operand pointer names after dst, body computes Z2 from Z0 (, Z1, Z3).
func single(name string, args []string, setup, body string) asmFunc {
	regs := []string{"SI", "DX", "R8"}
	zs := []string{"Z0", "Z1", "Z3"}
	load := "MOVQ dst+0(FP), DI\n"
	for i, a := range args {
		load += fmt.Sprintf("MOVQ %s+%d(FP), %s\n", a, 8*(i+1), regs[i])
	}
	load += fmt.Sprintf("MOVQ n+%d(FP), CX", 8*(len(args)+1))
	return asmFunc{name: name, params: "dst, " + strings.Join(args, ", ") + " *float32, n int",
		frame: fmt.Sprintf("$8-%d", 8*(len(args)+2)), load: load, body: func() {
			lines("MOVL $0x80000000, AX\nVPBROADCASTD AX, Z31\nMOVL $0x7f800000, AX\nVPBROADCASTD AX, Z29")
			lines(setup)
			// Four steps of 16 lanes per iteration (the same registers: the CPU
			// renames them), then single steps, then the masked tail.
			label("loop4")
			lines("CMPQ CX, $64\nJLT " + L("loop"))
			for u := 0; u < 4; u++ {
				for i := range args {
					emit("\tVMOVUPS %d(%s), %s", 64*u, regs[i], zs[i])
				}
				lines(body)
				emit("\tVMOVUPS Z2, %d(DI)", 64*u)
			}
			for i := range args {
				emit("\tADDQ $256, %s", regs[i])
			}
			lines("ADDQ $256, DI\nSUBQ $64, CX\nJMP " + L("loop4"))
			label("loop")
			lines("CMPQ CX, $16\nJLT " + L("tail"))
			for i := range args {
				emit("\tVMOVUPS (%s), %s", regs[i], zs[i])
			}
			lines(body)
			emit("\tVMOVUPS Z2, (DI)")
			for i := range args {
				emit("\tADDQ $64, %s", regs[i])
			}
			lines("ADDQ $64, DI\nSUBQ $16, CX\nJMP " + L("loop"))
			label("tail")
			lines("TESTQ CX, CX\nJEQ " + L("done") + "\nMOVL $1, AX\nSHLL CX, AX\nDECL AX\nKMOVW AX, K1")
			for i := range args {
				emit("\tVMOVUPS.Z (%s), K1, %s", regs[i], zs[i])
			}
			lines(body)
			emit("\tVMOVUPS Z2, K1, (DI)")
			label("done")
		}}
}

func (d tbody) step(lbl string) {
	interleave(d.main)
	if d.special != "" {
		interleave("VFPCLASSPSZ $0xff, " + d.special + ", KG")
		emit("\tKORTESTW K3, K4")
		emit("\tJEQ %s", L(lbl))
		sequential(d.slow)
		label(lbl)
	}
	if d.post != "" {
		sequential(d.post)
	}
}

// transcendental is an AVX-512 kernel of d over 32 lanes per step.
func transcendental(name string, d tbody) asmFunc {
	var n int
	fmt.Sscanf(d.result, "ZG%d", &n)
	return asmFunc{name: name, params: "dst, x *float32, n int", frame: "$8-24",
		load: "MOVQ dst+0(FP), DI\nMOVQ x+8(FP), SI\nMOVQ n+16(FP), CX", body: func() {
			lines(d.setup)
			label("loop")
			lines("CMPQ CX, $32\nJLT " + L("tail") + "\nVMOVUPS (SI), Z0\nVMOVUPS 64(SI), Z13")
			d.step("loop_normal")
			emit("\tVMOVUPS Z%d, (DI)", n)
			emit("\tVMOVUPS Z%d, 64(DI)", n+13)
			lines("ADDQ $128, SI\nADDQ $128, DI\nSUBQ $32, CX\nJMP " + L("loop"))
			label("tail")
			lines("TESTQ CX, CX\nJEQ " + L("done") + "\nMOVL $1, AX\nSHLL CX, AX\nDECL AX\nKMOVW AX, K1\nSHRL $16, AX\nKMOVW AX, K2")
			lines("VMOVUPS.Z (SI), K1, Z0\nVMOVUPS.Z 64(SI), K2, Z13")
			d.step("tail_normal")
			emit("\tVMOVUPS Z%d, K1, (DI)", n)
			emit("\tVMOVUPS Z%d, K2, 64(DI)", n+13)
			label("done")
		}}
}

// single2 is an AVX2 float32 kernel over 8 lanes per step: body
// computes Y2 from Y0 (, Y1, Y3).
func single2(name string, args []string, setup, body string) asmFunc {
	regs := []string{"SI", "DX", "R8"}
	ys := []string{"Y0", "Y1", "Y3"}
	load := "MOVQ dst+0(FP), DI\n"
	for i, a := range args {
		load += fmt.Sprintf("MOVQ %s+%d(FP), %s\n", a, 8*(i+1), regs[i])
	}
	load += fmt.Sprintf("MOVQ n+%d(FP), CX", 8*(len(args)+1))
	return asmFunc{name: name, params: "dst, " + strings.Join(args, ", ") + " *float32, n int",
		frame: fmt.Sprintf("$8-%d", 8*(len(args)+2)), load: load, body: func() {
			lines("VPXOR Y15, Y15, Y15\nVPBROADCASTD ·simdU32+8(SB), Y14\nVPBROADCASTD ·simdU32+12(SB), Y13")
			lines(setup)
			label("loop")
			lines("CMPQ CX, $8\nJLT " + L("done"))
			for i := range args {
				emit("\tVMOVUPS (%s), %s", regs[i], ys[i])
			}
			lines(body)
			emit("\tVMOVUPS Y2, (DI)")
			for i := range args {
				emit("\tADDQ $32, %s", regs[i])
			}
			lines("ADDQ $32, DI\nSUBQ $8, CX\nJMP " + L("loop"))
			label("done")
		}}
}

// transcendental2 is an AVX2 kernel over 8 lanes per step: d.main
// computes d.result from Y0; if d.special is set, lanes that are not
// positive finite numbers (under DAZ: zeros, denormals, negatives, NaN,
// +Inf) run d.slow; d.post patches the result.
func transcendental2(name string, d tbody) asmFunc {
	return asmFunc{name: name, params: "dst, x *float32, n int", frame: "$8-24",
		load: "MOVQ dst+0(FP), DI\nMOVQ x+8(FP), SI\nMOVQ n+16(FP), CX", body: func() {
			lines(d.setup)
			label("loop")
			lines("CMPQ CX, $8\nJLT " + L("done") + "\nVMOVUPS (SI), Y0")
			lines(d.main)
			if d.special != "" {
				lines(fmt.Sprintf(`
VXORPS Y12, Y12, Y12
VCMPPS $0x1a, Y12, %[1]s, Y11
VPBROADCASTD ·simdU32+24(SB), Y12
VCMPPS $0x00, Y12, %[1]s, Y12
VORPS Y12, Y11, Y11
VMOVMSKPS Y11, AX
TESTL AX, AX
JEQ %[2]s
`, d.special, L("normal")))
				lines(d.slow)
				label("normal")
			}
			lines(d.post)
			emit("\tVMOVUPS %s, (DI)", d.result)
			lines("ADDQ $32, SI\nADDQ $32, DI\nSUBQ $8, CX\nJMP " + L("loop"))
			label("done")
		}}
}

// sumLanesAVX512: lanes[0:8] in Z4, [8:16] in Z5, [16:24] in Z6, [24:32] in Z7.
var sumLanesAVX512 = asmFunc{name: "sumLanesAVX512", params: "x *float32, n int, lanes *[SumLaneCount]float64", frame: "$8-24",
	doc:  "sumLanesAVX512 adds x[:n] into lanes (Kernels.SumLanes).",
	load: "MOVQ x+0(FP), SI\nMOVQ n+8(FP), CX\nMOVQ lanes+16(FP), DI", body: func() {
		lines("VMOVUPD (DI), Z4\nVMOVUPD 64(DI), Z5\nVMOVUPD 128(DI), Z6\nVMOVUPD 192(DI), Z7")
		label("loop")
		lines(`
CMPQ CX, $32
JLT ` + L("tail") + `
VCVTPS2PD (SI), Z0
VCVTPS2PD 32(SI), Z1
VCVTPS2PD 64(SI), Z2
VCVTPS2PD 96(SI), Z3
VADDPD Z0, Z4, Z4
VADDPD Z1, Z5, Z5
VADDPD Z2, Z6, Z6
VADDPD Z3, Z7, Z7
ADDQ $128, SI
SUBQ $32, CX
JMP ` + L("loop"))
		// The tail adds +0 in the masked-off lanes, which leaves them as they
		// are: a lane that starts at +0 never becomes -0.
		label("tail")
		lines(`
TESTQ CX, CX
JEQ ` + L("done") + `
MOVL $1, AX
SHLL CX, AX
DECL AX
KMOVW AX, K1
SHRL $16, AX
KMOVW AX, K2
VMOVUPS.Z (SI), K1, Z0
VMOVUPS.Z 64(SI), K2, Z8
VCVTPS2PD Y0, Z1
VEXTRACTF32X8 $1, Z0, Y2
VCVTPS2PD Y2, Z2
VCVTPS2PD Y8, Z9
VEXTRACTF32X8 $1, Z8, Y10
VCVTPS2PD Y10, Z10
VADDPD Z1, Z4, Z4
VADDPD Z2, Z5, Z5
VADDPD Z9, Z6, Z6
VADDPD Z10, Z7, Z7
`)
		label("done")
		lines("VMOVUPD Z4, (DI)\nVMOVUPD Z5, 64(DI)\nVMOVUPD Z6, 128(DI)\nVMOVUPD Z7, 192(DI)")
	}}

// sumLanesAVX2: lanes[4k:4k+4] in Y(4+k), k < 8; n is a multiple of 32.
var sumLanesAVX2 = asmFunc{name: "sumLanesAVX2", params: "x *float32, n int, lanes *[SumLaneCount]float64", frame: "$8-24",
	doc:  "sumLanesAVX2 adds x[:n] into lanes (Kernels.SumLanes); n is a multiple of 32.",
	load: "MOVQ x+0(FP), SI\nMOVQ n+8(FP), CX\nMOVQ lanes+16(FP), DI", body: func() {
		for k := 0; k < 8; k++ {
			emit("\tVMOVUPD %d(DI), Y%d", 32*k, 4+k)
		}
		label("loop")
		lines("CMPQ CX, $32\nJLT " + L("done"))
		tmp := []int{0, 1, 2, 3, 12, 13, 14, 15}
		for k := 0; k < 8; k++ {
			emit("\tVCVTPS2PD %d(SI), Y%d", 16*k, tmp[k])
		}
		for k := 0; k < 8; k++ {
			emit("\tVADDPD Y%d, Y%d, Y%d", tmp[k], 4+k, 4+k)
		}
		lines("ADDQ $128, SI\nSUBQ $32, CX\nJMP " + L("loop"))
		label("done")
		for k := 0; k < 8; k++ {
			emit("\tVMOVUPD Y%d, %d(DI)", 4+k, 32*k)
		}
	}}

func main() {
	emit("// Code generated by simd_gen.go; DO NOT EDIT.")
	emit("")
	emit("//go:build amd64 && !purego")
	emit("")
	emit(`#include "textflag.h"`)
	emit("")
	for _, set := range []string{"AVX512", "AVX2"} {
		kernels := map[string]asmFunc{}
		for _, op := range vecOps {
			f := op.kernel(set)
			f.write()
			kernels[op.name] = f
		}
		sum := map[string]asmFunc{"AVX512": sumLanesAVX512, "AVX2": sumLanesAVX2}[set]
		sum.write()
		var cp asmFunc
		if set == "AVX512" {
			cp = single("copyAVX512", x, "", "VMOVAPS Z0, Z2")
		} else {
			cp = single2("copyAVX2", x, "", "VMOVAPS Y0, Y2")
		}
		cp.doc = fmt.Sprintf("%s copies the bits of x (the runners' copy). The runners' assembly\n// calls it; this declaration is for the assembler's argument checks.\n//\n//lint:ignore U1000 called from assembly (simd_amd64.s), not from Go", cp.name)
		cp.write()
		if set == "AVX512" {
			for _, op := range vecOps {
				if op.fused() {
					runnerOps = append(runnerOps, runnerOp{op: op.name, kernels: map[string]asmFunc{}})
				}
			}
			runnerOps = append(runnerOps, runnerOp{op: "sum", kernels: map[string]asmFunc{}}, runnerOp{op: "copy", kernels: map[string]asmFunc{}})
		}
		for _, r := range runnerOps {
			switch r.op {
			case "sum":
				r.kernels[set] = sum
			case "copy":
				r.kernels[set] = cp
			default:
				r.kernels[set] = kernels[r.op]
			}
		}
		if set == "AVX512" {
			runner().write()
			tiles().write()
		}
		chunks(set).write()
	}
	write("simd_amd64.s", buf.Bytes())
	write("vecops_gen.go", goSource(genericGo()))
	write("vecops_amd64_gen.go", goSource(archGo()))
	write("vecops_ref_test.go", goSource(refTest()))
}

func write(name string, b []byte) {
	if err := os.WriteFile(name, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// runner is runProgAVX512, which runs a sequence of kernel calls on one
// chunk in one call: MXCSR is set once, and each instruction's operands
// come from a table of pointers. The kernels' own code is the body of each
// opcode, so results are the kernels' bits.
func runner() asmFunc {
	return asmFunc{name: "runProgAVX512", params: "code *int32, ninstr int, ptrs *unsafe.Pointer, n int", frame: "$8-32",
		doc: "runProgAVX512 runs ninstr instructions of code on n elements (see\n// Kernels.Prog): the AVX-512 kernels, inlined, under one MXCSR\n// change.",
		load: `
MOVQ code+0(FP), R9
MOVQ ninstr+8(FP), R10
MOVQ ptrs+16(FP), R11
MOVQ n+24(FP), R12
`, whole: func() {
			emit("rnext:")
			lines(`
TESTQ R10, R10
JEQ rdone
MOVLQSX 0(R9), BX
`)
			runnerDispatch("op")
			emit("rdone:")
			lines(restore)
			for _, o := range runnerOps {
				emit("op_%s:", o.op)
				o.kernels["AVX512"].inline(o.op, "rnext")
			}
		}}
}

// tileOps are the tile runner's opcodes (the tileOp constants, in order),
// with the code applied to the accumulator (Z0-Z15: 256 elements) for each
// of its 16 registers; %[1]d is the register and %[2]d the byte offset of
// its elements. SI points at the operand's tile, DI at the destination's
// (store) or at the lanes (sum). vecOps' tile and tileRev name them.
var tileOps = []struct{ op, goName, body string }{
	{"load", "Load", "VMOVUPS %[2]d(SI), Z%[1]d"},
	{"store", "Store", "VMOVUPS Z%[1]d, %[2]d(DI)"},
	{"add", "Add", "VADDPS %[2]d(SI), Z%[1]d, Z%[1]d"},
	{"sub", "Sub", "VSUBPS %[2]d(SI), Z%[1]d, Z%[1]d"},
	{"rsub", "RSub", "VMOVUPS %[2]d(SI), Z16\nVSUBPS Z%[1]d, Z16, Z%[1]d"},
	{"mul", "Mul", "VMULPS %[2]d(SI), Z%[1]d, Z%[1]d"},
	{"div", "Div", "VDIVPS %[2]d(SI), Z%[1]d, Z%[1]d"},
	{"rdiv", "RDiv", "VMOVUPS %[2]d(SI), Z16\nVDIVPS Z%[1]d, Z16, Z%[1]d"},
	{"square", "Square", "VMULPS Z%[1]d, Z%[1]d, Z%[1]d"},
	{"neg", "Neg", "VSUBPS Z%[1]d, Z30, Z%[1]d"},
	{"abs", "Abs", "VANDPS Z29, Z%[1]d, Z%[1]d"},
	{"sum", "Sum", ""},
}

// tiles is runTilesAVX512: ntiles tiles of 256 elements, each through
// ninstr tile instructions (5 int32s: tileOp, dst and a indices into ptrs,
// two unused) with the running value in registers. The arithmetic is the
// kernels' (same instructions, same MXCSR), and sum adds lane by lane as
// sumLanesAVX512 does.
func tiles() asmFunc {
	return asmFunc{name: "runTilesAVX512", params: "code *int32, ninstr int, ptrs *unsafe.Pointer, ntiles int", frame: "$8-32",
		doc: "runTilesAVX512 runs ninstr tile instructions on ntiles tiles (see\n// Kernels.Tiles).",
		load: `
MOVQ code+0(FP), R9
MOVQ ptrs+16(FP), R11
MOVQ ntiles+24(FP), R12
`, whole: func() {
			lines(`
XORQ R13, R13
MOVL $0x7fffffff, AX
VPBROADCASTD AX, Z29
VPXORD Z30, Z30, Z30
tile:
TESTQ R12, R12
JEQ tdone
MOVQ R9, R10
MOVQ ninstr+8(FP), CX
tnext:
TESTQ CX, CX
JEQ tend
`)
			tileDispatch("R10", "CX", "t")
			lines(`
JMP tnext
tend:
ADDQ $1024, R13
DECQ R12
JMP tile
tdone:
`)
			lines(restore)
			tileBodies("t", "tnext", "R13")
		}}
}

// tileBodies emits the tile opcodes' code, labels prefix_op, each jumping
// to next when done; off is the register holding the tile's byte offset.
func tileBodies(prefix, next, off string) {
	for _, o := range tileOps {
		emit("%s_%s:", prefix, o.op)
		switch o.op {
		case "store":
			emit("\tADDQ %s, DI", off)
		case "sum":
			lines("VMOVUPD (DI), Z16\nVMOVUPD 64(DI), Z17\nVMOVUPD 128(DI), Z18\nVMOVUPD 192(DI), Z19")
			for k := 0; k < 8; k++ {
				a, b := 2*k, 2*k+1
				emit("\tVCVTPS2PD Y%d, Z20", a)
				emit("\tVEXTRACTF32X8 $1, Z%d, Y21", a)
				emit("\tVCVTPS2PD Y21, Z21")
				emit("\tVCVTPS2PD Y%d, Z22", b)
				emit("\tVEXTRACTF32X8 $1, Z%d, Y23", b)
				emit("\tVCVTPS2PD Y23, Z23")
				lines("VADDPD Z20, Z16, Z16\nVADDPD Z21, Z17, Z17\nVADDPD Z22, Z18, Z18\nVADDPD Z23, Z19, Z19")
			}
			lines("VMOVUPD Z16, (DI)\nVMOVUPD Z17, 64(DI)\nVMOVUPD Z18, 128(DI)\nVMOVUPD Z19, 192(DI)")
			emit("\tJMP %s", next)
			continue
		}
		for r := 0; r < 16; r++ {
			lines(fmt.Sprintf(o.body, r, 64*r))
		}
		emit("\tJMP %s", next)
	}
}

// chunks is runChunks<set>: nchunks chunks of n elements (a multiple of
// the tile size) through the runner code, which may hold tile blocks: a
// header (opcode len(runnerOps), m, f) followed by m tile instructions,
// run on each tile of the chunk, then f runner instructions (for the
// elements after the whole tiles, of which there are none here: they are
// skipped). Between chunks, ptrs[i] += steps[i] for i < ntab (not after
// the last: the table never points past its buffers).
//
// set is the kernel set's suffix (AVX512, AVX2); only AVX-512 has tiles.
func chunks(set string) asmFunc {
	tiles := set == "AVX512"
	doc := "runChunksAVX512 runs runner code with tile blocks on nchunks chunks (see\n// Kernels.Chunks)."
	if !tiles {
		doc = "runChunksAVX2 is runChunksAVX512 with the AVX2 kernels and no tile\n// blocks; n must be a multiple of 32 (the AVX2 kernels leave tails to Go)."
	}
	return asmFunc{name: "runChunks" + set, frame: "$56-80", doc: doc,
		params: "code *int32, ninstr int, ptrs *unsafe.Pointer, n, nchunks int, steps *int64, ntab int, pf *int32, npf, pfBytes int",
		load: `
MOVQ ptrs+16(FP), R11
MOVQ n+24(FP), R12
MOVQ nchunks+32(FP), AX
MOVQ AX, cl-16(SP)
XORQ R13, R13
`, whole: func() {
			lines(`
cchunk:
MOVQ cl-16(SP), AX
TESTQ AX, AX
JEQ calldone
MOVQ code+0(FP), R9
MOVQ ninstr+8(FP), R10
MOVQ $0, pfoff-56(SP)
cnext:
MOVQ pfBytes+72(FP), DI
TESTQ DI, DI
JEQ cnopf
MOVQ pfoff-56(SP), AX
MOVQ R12, DX
SHLQ $2, DX
CMPQ AX, DX
JGE cnopf
MOVQ pf+56(FP), SI
MOVQ npf+64(FP), CX
cpfslot:
TESTQ CX, CX
JEQ cpfdone
MOVLQSX (SI), DX
MOVQ (R11)(DX*8), DX
ADDQ AX, DX
LEAQ (DX)(R12*4), DX
MOVQ pfBytes+72(FP), DI
cpfline:
PREFETCHT0 (DX)
ADDQ $64, DX
SUBQ $64, DI
JGT cpfline
ADDQ $4, SI
DECQ CX
JMP cpfslot
cpfdone:
MOVQ pfBytes+72(FP), DI
ADDQ DI, pfoff-56(SP)
cnopf:
TESTQ R10, R10
JEQ cchunkend
MOVLQSX 0(R9), BX
`)
			if tiles {
				emit("\tCMPQ BX, $%d", len(runnerOps))
				emit("\tJEQ ctile")
			}
			runnerDispatch("c")
			emit("\tJMP cnext")
			if tiles {
				emitTileBlock()
			}
			lines(`
cchunkend:
DECQ cl-16(SP)
JEQ calldone
MOVQ steps+40(FP), SI
MOVQ ntab+48(FP), CX
XORQ AX, AX
cstep:
CMPQ AX, CX
JGE cstepped
MOVQ (SI)(AX*8), DX
ADDQ DX, (R11)(AX*8)
INCQ AX
JMP cstep
cstepped:
JMP cchunk
calldone:
`)
			lines(restore)
			for _, o := range runnerOps {
				emit("c_%s:", o.op)
				o.kernels[set].inline("c"+o.op, "cnext")
			}
			if tiles {
				tileBodies("u", "ctnext", "R13")
			}
		}}
}

// emitTileBlock emits runChunksAVX512's tile block (label ctile): its
// tile instructions on every tile of the chunk, then a jump past its
// runner instructions for the rest (there is none).
func emitTileBlock() {
	lines(`
ctile:
MOVLQSX 4(R9), AX
MOVQ AX, tm-24(SP)
MOVLQSX 8(R9), DX
ADDQ AX, DX
MOVQ DX, tmf-32(SP)
ADDQ $20, R9
DECQ R10
MOVQ R9, tstart-40(SP)
MOVQ R12, AX
SHRQ $8, AX
MOVQ AX, tleft-48(SP)
XORQ R13, R13
MOVL $0x7fffffff, AX
VPBROADCASTD AX, Z29
VPXORD Z30, Z30, Z30
ctileloop:
MOVQ tleft-48(SP), AX
TESTQ AX, AX
JEQ ctilesdone
MOVQ tstart-40(SP), DX
MOVQ tm-24(SP), R8
ctnext:
TESTQ R8, R8
JEQ ctend
`)
	tileDispatch("DX", "R8", "u")
	lines(`
JMP ctnext
ctend:
ADDQ $1024, R13
DECQ tleft-48(SP)
JMP ctileloop
ctilesdone:
XORQ R13, R13
MOVQ tmf-32(SP), AX
SUBQ AX, R10
IMULQ $20, AX
ADDQ AX, R9
JMP cnext
`)
}

// runnerDispatch emits the fetch of the runner instruction at R9 (opcode
// in BX, operand pointers in DI, SI, DX, R8, n in CX) and the jump to
// prefix_op.
func runnerDispatch(prefix string) {
	lines(`
MOVLQSX 4(R9), AX
MOVQ (R11)(AX*8), DI
MOVLQSX 8(R9), AX
MOVQ (R11)(AX*8), SI
MOVLQSX 12(R9), AX
MOVQ (R11)(AX*8), DX
MOVLQSX 16(R9), AX
MOVQ (R11)(AX*8), R8
MOVQ R12, CX
ADDQ $20, R9
DECQ R10
`)
	for i, o := range runnerOps {
		emit("\tCMPQ BX, $%d", i)
		emit("\tJEQ %s_%s", prefix, o.op)
	}
}

// tileDispatch emits the fetch of the tile instruction at cursor (opcode
// in BX, destination in DI, operand in SI at the tile's offset R13),
// counting down count, and the jump to prefix_op.
func tileDispatch(cursor, count, prefix string) {
	lines(fmt.Sprintf(`
MOVLQSX 0(%[1]s), BX
MOVLQSX 4(%[1]s), AX
MOVQ (R11)(AX*8), DI
MOVLQSX 8(%[1]s), AX
MOVQ (R11)(AX*8), SI
ADDQ R13, SI
ADDQ $20, %[1]s
DECQ %[2]s
`, cursor, count))
	for i, o := range tileOps {
		emit("\tCMPQ BX, $%d", i)
		emit("\tJEQ %s_%s", prefix, o.op)
	}
}

// Go output.

func upper(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// kernelType is the Go type of a kernel with params.
func kernelType(params []string) string {
	return "func(dst, " + strings.Join(params, ", ") + " []float32)"
}

func goSource(b []byte) []byte {
	out, err := format.Source(b)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s\n%v\n", b, err)
		os.Exit(1)
	}
	return out
}

func tileGoName(op string) string {
	for _, t := range tileOps {
		if t.op == op {
			return "Tile" + t.goName
		}
	}
	panic("no tile op " + op)
}

// genericGo is vecops_gen.go.
func genericGo() []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("// Code generated by simd_gen.go; DO NOT EDIT.\n")
	p("package vec\n")
	p("// The fusible vector ops, one per entry of simd_gen.go's vecOps table.\n")
	p("// The table's fused ops (a fused program's own instructions are\n// numbered from NumOps).")
	p("const (")
	first := true
	for _, op := range vecOps {
		if !op.fused() {
			continue
		}
		if first {
			p("Op%s Op = iota // %s: %s", upper(op.name), strings.Join(op.tf, ", "), op.doc)
			first = false
		} else {
			p("Op%s // %s: %s", upper(op.name), strings.Join(op.tf, ", "), op.doc)
		}
	}
	p("// NumOps is the number of table ops.\nNumOps\n)\n")
	p("// Runner opcodes (Kernels.Prog, Kernels.Chunks): the numbers the\n// assembly runners dispatch on.")
	p("const (")
	for i, o := range runnerOps {
		if i == 0 {
			p("Prog%s ProgOp = iota", upper(o.op))
		} else {
			p("Prog%s", upper(o.op))
		}
	}
	p("// ProgTileBlock heads a tile block in the code Kernels.Chunks runs.\nProgTileBlock\n)\n")
	p("// Tile runner opcodes (Kernels.Tiles).")
	p("const (")
	for i, t := range tileOps {
		if i == 0 {
			p("Tile%s TileOp = iota", t.goName)
		} else {
			p("Tile%s", t.goName)
		}
	}
	p(")\n")
	p("// opKernels holds one kernel per table op (Kernels embeds it).")
	p("type opKernels struct {")
	for _, op := range vecOps {
		p("%s %s // dst = %s", op.name, kernelType(op.params), op.doc)
	}
	p("}\n")
	p("// genericOps are the pure-Go kernels, which define the results.")
	p("var genericOps = opKernels{")
	for _, op := range vecOps {
		p("%s: %s,", op.name, op.goRef)
	}
	p("}\n")
	for _, op := range vecOps {
		what := "a kernel the fusion does not emit"
		if op.fused() {
			what = fmt.Sprintf("TensorFlow's %s (Op%s)", strings.Join(op.tf, " and "), upper(op.name))
		}
		p("// %s sets dst = %s, %s:\n//", upper(op.name), op.doc, what)
		p("//\tfor i := range dst {")
		for _, l := range strings.Split(strings.TrimSpace(op.loop), "\n") {
			p("//\t\t%s", l)
		}
		p("//\t}\n//")
		p("// The operands hold at least len(dst) elements; dst may alias them.")
		p("func (k *Kernels) %s(dst, %s []float32) { k.%s(dst, %s) }\n", upper(op.name), strings.Join(op.params, ", "), op.name, strings.Join(op.params, ", "))
	}
	p("// TFOps maps the TensorFlow ops the table's kernels compute to their Op.")
	p("var TFOps = map[string]Op{")
	for _, op := range vecOps {
		for _, tf := range op.tf {
			p("%q: Op%s,", tf, upper(op.name))
		}
	}
	p("}\n")
	p("// opArity is the operand count of each op (Op.Arity).")
	p("var opArity = [NumOps]int{")
	for _, op := range vecOps {
		if op.fused() {
			p("Op%s: %d,", upper(op.name), len(op.params))
		}
	}
	p("}\n")
	p("// opProg is each op's runner opcode (Op.Prog).")
	p("var opProg = [NumOps]ProgOp{")
	for _, o := range runnerOps {
		if o.op != "sum" && o.op != "copy" {
			p("Op%[1]s: Prog%[1]s,", upper(o.op))
		}
	}
	p("}\n")
	p("// Unary32 maps unary ops to the vector kernel their float32 kernel\n// runs outside fused regions.")
	p("var Unary32 = map[string]func(*Kernels) " + kernelType(x) + "{")
	for _, op := range vecOps {
		if op.standalone {
			for _, tf := range op.tf {
				p("%q: func(k *Kernels) %s { return k.%s },", tf, kernelType(x), op.name)
			}
		}
	}
	p("}\n")
	p("// Tile opcodes of the runner opcodes: unary, binary with the\n// accumulator as first operand (direct) or as second (reverse).")
	p("var (")
	var un, di, re, tileable []string
	for _, op := range vecOps {
		P := "Prog" + upper(op.name)
		switch {
		case op.tile != "" && len(op.params) == 1:
			un = append(un, P+": "+tileGoName(op.tile))
		case op.tile != "":
			di = append(di, P+": "+tileGoName(op.tile))
			re = append(re, P+": "+tileGoName(op.tileRev))
		default:
			continue
		}
		tileable = append(tileable, P)
	}
	p("TileUnary = map[ProgOp]TileOp{%s}", strings.Join(un, ", "))
	p("TileDirect = map[ProgOp]TileOp{%s}", strings.Join(di, ", "))
	p("TileReverse = map[ProgOp]TileOp{%s}", strings.Join(re, ", "))
	p(")\n")
	p("// Tileable reports whether op has a tile form.")
	p("func (op ProgOp) Tileable() bool {\nswitch op {\ncase %s, ProgSum:\nreturn true\n}\nreturn false\n}\n", strings.Join(tileable, ", "))
	p("// Apply runs op's kernel on dst and the op's operands among a, b and c\n// (the others unused, nil allowed).")
	p("func (k *Kernels) Apply(op Op, dst, a, b, c []float32) {")
	p("switch op {")
	for _, op := range vecOps {
		if !op.fused() {
			continue
		}
		args := []string{"dst", "a", "b", "c"}[:len(op.params)+1]
		p("case Op%s:\nk.%s(%s)", upper(op.name), op.name, strings.Join(args, ", "))
	}
	p("}\n}\n")
	p("// kernelList lists k's kernels of each arity by name (tests).")
	p("func (k *Kernels) kernelList() (unary map[string]%s, binary map[string]%s, ternary map[string]%s) {", kernelType(x), kernelType(ab), kernelType(xlohi))
	for _, kind := range []struct {
		name   string
		params []string
	}{{"unary", x}, {"binary", ab}, {"ternary", xlohi}} {
		p("%s = map[string]%s{", kind.name, kernelType(kind.params))
		for _, op := range vecOps {
			if len(op.params) == len(kind.params) {
				p("%q: k.%s,", op.name, op.name)
			}
		}
		p("}")
	}
	p("return\n}")
	return b.Bytes()
}

// refTest is vecops_ref_test.go: each op's reference loop (the loop of its
// doc comment) as a function, and a test that every kernel set computes
// its bits.
func refTest() []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("// Code generated by simd_gen.go; DO NOT EDIT.\n")
	p("package vec\n")
	imports := `"testing"`
	for _, op := range vecOps {
		if strings.Contains(op.loop, "math.") {
			imports = `"math"` + "\n" + imports
			break
		}
	}
	p("import (\n%s\n)\n", imports)
	p("// The reference loops of the table's ops, as their doc comments give them.\n")
	for _, op := range vecOps {
		p("func ref%s(dst, %s []float32) {", upper(op.name), strings.Join(op.params, ", "))
		p("for i := range dst {\n%s\n}\n}\n", strings.TrimSpace(op.loop))
	}
	p("// refLoops are the reference loops by op name, by arity.")
	p("var refLoops = struct {\nunary map[string]%s\nbinary map[string]%s\nternary map[string]%s\n}{", kernelType(x), kernelType(ab), kernelType(xlohi))
	for _, kind := range []struct {
		name   string
		params []string
	}{{"unary", x}, {"binary", ab}, {"ternary", xlohi}} {
		p("%s: map[string]%s{", kind.name, kernelType(kind.params))
		for _, op := range vecOps {
			if len(op.params) == len(kind.params) {
				p("%q: ref%s,", op.name, upper(op.name))
			}
		}
		p("},")
	}
	p("}\n")
	p("// TestReferenceLoops checks every kernel of every set against the\n// reference loop of its doc comment.")
	p("func TestReferenceLoops(t *testing.T) {\ntestReferenceLoops(t, refLoops.unary, refLoops.binary, refLoops.ternary)\n}\n")
	return b.Bytes()
}

// archGo is vecops_amd64_gen.go.
func archGo() []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("// Code generated by simd_gen.go; DO NOT EDIT.\n")
	p("//go:build amd64 && !purego\n")
	p("package vec\n")
	p("import \"unsafe\"\n")
	p("// The functions of simd_amd64.s.\n")
	for _, f := range funcs {
		if f.doc != "" {
			p("// %s\n//", f.doc)
		}
		p("//go:noescape\nfunc %s(%s)\n", f.name, f.params)
	}
	adapt := map[int]string{1: "unaryAsm", 2: "binaryAsm", 3: "ternaryAsm"}
	for _, set := range []string{"AVX512", "AVX2"} {
		p("// %s are the %s kernels.", map[string]string{"AVX512": "avx512Ops", "AVX2": "avx2Ops"}[set], set)
		p("var %s = opKernels{", map[string]string{"AVX512": "avx512Ops", "AVX2": "avx2Ops"}[set])
		for _, op := range vecOps {
			if set == "AVX512" {
				p("%s: %s(%s%s),", op.name, adapt[len(op.params)], op.name, set)
			} else {
				p("%s: %sTail(%s%s, genericOps.%s),", op.name, adapt[len(op.params)], op.name, set, op.name)
			}
		}
		p("}\n")
	}
	return b.Bytes()
}
