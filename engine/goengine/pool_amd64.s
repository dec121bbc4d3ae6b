//go:build amd64 && !purego

#include "textflag.h"

// The 2x2 stride-2 max-pool of one output row (pool_amd64.go):
// dst[j*c+q] = max(max(max(a0, a1), b0), b1) with a0, a1 = top[2jc+q],
// top[2jc+c+q] and b0, b1 = bot[2jc+q], bot[2jc+c+q], Go's builtin max on
// float32 bit for bit, NaN payloads included. VMAXPS alone does not give
// it (it returns its second source when either is NaN or both are
// zeros). The kernels run, on vectors, the instructions Go's compiler
// emits for the builtin on amd64 (cmd/compile/internal/ssa/_gen/AMD64.rules,
// Go 1.21 to 1.26):
//
//   (Min32F x y) => (POR (MINSS (MINSS x y) x) (MINSS x y))
//   (Max32F x y) => (Neg32F (Min32F (Neg32F x) (Neg32F y)))
//
// with MINSS a b = a < b ? a : b (b when either is NaN or both are
// zeros). So NaN propagates (the OR of the operands' bits when one is
// NaN), max(-0, +0) = +0, and the min of negated operands gives the max.
// The negations between the three maxes cancel (a sign-bit XOR twice), so
// the four inputs are negated once, three Go mins run, and the result is
// negated back.
//
// No flush-to-zero: Go's MXCSR has FTZ and DAZ off, so denormals compare
// and pass through as they are, as in Go's max and TensorFlow's MaxPool.
//
// Registers: DI dst, SI top (a0), R13 top+c (a1), DX bot (b0), R14 bot+c
// (b1), R8 c*4 (one pixel's bytes), R9 full vectors per pixel, R10 tail
// channels, R11 pixels left, R12 byte offset in the pixel, CX vector
// count; Z7/Y7 the sign bit in every lane.

// GOMIN512(x, y, m, n): m = Go's min(x, y); n scratch.
#define GOMIN512(x, y, m, n) \
	VMINPS y, x, m \
	VMINPS x, m, n \
	VPORD  n, m, m

// GOMIN256(x, y, m, n): m = Go's min(x, y); n scratch.
#define GOMIN256(x, y, m, n) \
	VMINPS y, x, m \
	VMINPS x, m, n \
	VORPS  n, m, m

// signBit<>: the float32 sign bit, broadcast into Z7 or Y7.
DATA signBit<>+0(SB)/4, $0x80000000
GLOBL signBit<>(SB), RODATA|NOPTR, $4

// SETUP(SHIFT, REM): the arguments in their registers, R9 = c>>SHIFT
// full vectors, R10 = c&REM tail channels.
#define SETUP(SHIFT, REM) \
	MOVQ dst+0(FP), DI   \
	MOVQ top+8(FP), SI   \
	MOVQ bot+16(FP), DX  \
	MOVQ ow+24(FP), R11  \
	MOVQ c+32(FP), R8    \
	LEAQ (R8*4), R8      \
	LEAQ (SI)(R8*1), R13 \
	LEAQ (DX)(R8*1), R14 \
	MOVQ c+32(FP), R9    \
	MOVQ R9, R10         \
	SHRQ $SHIFT, R9      \
	ANDQ $REM, R10

#define NEXTPIXEL \
	LEAQ (SI)(R8*2), SI   \
	LEAQ (R13)(R8*2), R13 \
	LEAQ (DX)(R8*2), DX   \
	LEAQ (R14)(R8*2), R14 \
	ADDQ R8, DI

// MAX4(XOR, GOMIN, s, v0, v1, v2, v3, t4, t5, t6, t8): t6 = Go's
// max(max(max(v0, v1), v2), v3): the operands negated (XOR with s, the
// sign bits), three Go mins, the result negated back; v0..v3 are
// overwritten, t4, t5, t8 scratch.
#define MAX4(XOR, GOMIN, s, v0, v1, v2, v3, t4, t5, t6, t8) \
	XOR s, v0, v0             \
	XOR s, v1, v1             \
	XOR s, v2, v2             \
	XOR s, v3, v3             \
	GOMIN(v0, v1, t4, t5)     \
	GOMIN(t4, v2, t5, t6)     \
	GOMIN(t5, v3, t6, t8)     \
	XOR s, t6, t6

// ROW(VB, LD, MLD, MST, M, XOR, GOMIN, s, v0..v3, t4, t5, t6, t8): the
// row loop: for each of R11 pixels, R9 full vectors of VB bytes (LD
// loads, MAX4, a VMOVUPS store), then, when R10 > 0, the tail under the
// mask M (MLD loads it, MST stores it).
#define ROW(VB, LD, MLD, MST, M, XOR, GOMIN, s, v0, v1, v2, v3, t4, t5, t6, t8) \
pixel:                                                  \
	XORQ  R12, R12                                      \
	MOVQ  R9, CX                                        \
	TESTQ CX, CX                                        \
	JZ    tail                                          \
vec:                                                    \
	LD    (SI)(R12*1), v0                               \
	LD    (R13)(R12*1), v1                              \
	LD    (DX)(R12*1), v2                               \
	LD    (R14)(R12*1), v3                              \
	MAX4(XOR, GOMIN, s, v0, v1, v2, v3, t4, t5, t6, t8) \
	VMOVUPS t6, (DI)(R12*1)                             \
	ADDQ  $VB, R12                                      \
	DECQ  CX                                            \
	JNZ   vec                                           \
tail:                                                   \
	TESTQ R10, R10                                      \
	JZ    next                                          \
	MLD   (SI)(R12*1), M, v0                            \
	MLD   (R13)(R12*1), M, v1                           \
	MLD   (DX)(R12*1), M, v2                            \
	MLD   (R14)(R12*1), M, v3                           \
	MAX4(XOR, GOMIN, s, v0, v1, v2, v3, t4, t5, t6, t8) \
	MST   t6, M, (DI)(R12*1)                            \
next:                                                   \
	NEXTPIXEL                                           \
	DECQ  R11                                           \
	JNZ   pixel                                         \
	VZEROUPPER                                          \
	RET

// func maxPoolRowAVX512(dst, top, bot *float32, ow, c int)
TEXT ·maxPoolRowAVX512(SB), NOSPLIT, $0-40
	SETUP(4, 15)
	MOVQ R10, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	VBROADCASTSS signBit<>(SB), Z7
	ROW(64, VMOVUPS, VMOVUPS.Z, VMOVUPS, K1, VPXORD, GOMIN512, Z7, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z8)

// maskTab<>: 8 all-ones words then 8 zeros; the 8 words at 32-4r are a
// VMASKMOVPS mask of the first r lanes.
DATA maskTab<>+0(SB)/8, $-1
DATA maskTab<>+8(SB)/8, $-1
DATA maskTab<>+16(SB)/8, $-1
DATA maskTab<>+24(SB)/8, $-1
DATA maskTab<>+32(SB)/8, $0
DATA maskTab<>+40(SB)/8, $0
DATA maskTab<>+48(SB)/8, $0
DATA maskTab<>+56(SB)/8, $0
GLOBL maskTab<>(SB), RODATA|NOPTR, $64

// func maxPoolRowAVX2(dst, top, bot *float32, ow, c int)
TEXT ·maxPoolRowAVX2(SB), NOSPLIT, $0-40
	SETUP(3, 7)
	LEAQ maskTab<>+32(SB), AX
	MOVQ R10, CX
	SHLQ $2, CX
	SUBQ CX, AX
	VMOVDQU (AX), Y13
	VBROADCASTSS signBit<>(SB), Y7
	ROW(32, VMOVUPS, VMASKMOVPS, VMASKMOVPS, Y13, VXORPS, GOMIN256, Y7, Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y8)
