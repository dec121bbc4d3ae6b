//go:build amd64 && !purego

#include "textflag.h"

// softmaxPairs32's two passes (kernels_softmax.go) on 16 floats (8 pairs
// a, b in lanes 2i, 2i+1) at a time, each step the instruction Go's
// compiler emits for the scalar loop's, so the bits are the loop's: the
// same roundings, and a NaN wherever the loop gives one. Its payload is
// the loop's where the operation is not commutative (VSUBPS and VDIVPS
// return their first source's NaN when both are NaN, as SUBSS and DIVSS
// do; Go assembly lists the sources reversed); for a sum or product of
// two NaNs it is not defined by the loop's source, whose operands Go's
// compiler may swap. VMOVSLDUP and VMOVSHDUP copy each pair's a and b to
// both of its lanes.

// func softmaxPairsShiftAVX512(x, y *float32, n int)
// m = a; if b > m || b != b && m == m { m = b }; y = x - m.
TEXT ·softmaxPairsShiftAVX512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JZ   shiftdone
shiftloop:
	VMOVUPS   (SI), Z0
	VMOVSLDUP Z0, Z1             // a
	VMOVSHDUP Z0, Z2             // b
	VCMPPS    $0x1e, Z1, Z2, K1  // b > a (GT_OQ)
	VCMPPS    $0x03, Z2, Z2, K2  // b != b (UNORD_Q)
	VCMPPS    $0x07, Z1, Z1, K3  // a == a (ORD_Q)
	KANDW     K3, K2, K2
	KORW      K2, K1, K1
	VBLENDMPS Z2, Z1, K1, Z3     // m
	VSUBPS    Z3, Z0, Z0         // x - m
	VMOVUPS   Z0, (DI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	DECQ      CX
	JNZ       shiftloop
shiftdone:
	VZEROUPPER
	RET

// func softmaxPairsScaleAVX512(y *float32, n int)
// s = 1 / (a + b); y = y * s.
TEXT ·softmaxPairsScaleAVX512(SB), NOSPLIT, $0-16
	MOVQ y+0(FP), DI
	MOVQ n+8(FP), CX
	SHRQ $4, CX
	JZ   scaledone
	MOVL $0x3f800000, AX          // 1.0
	VPBROADCASTD AX, Z4
scaleloop:
	VMOVUPS   (DI), Z0
	VMOVSLDUP Z0, Z1
	VMOVSHDUP Z0, Z2
	VADDPS    Z2, Z1, Z3         // a + b
	VDIVPS    Z3, Z4, Z3         // 1 / (a + b)
	VMULPS    Z3, Z0, Z0         // y * s
	VMOVUPS   Z0, (DI)
	ADDQ      $64, DI
	DECQ      CX
	JNZ       scaleloop
scaledone:
	VZEROUPPER
	RET
