//go:build amd64 && !purego

#include "textflag.h"

// func combineLanesAVX(lanes, out *float64, n int)
//
// out[i] = CombineLanes(lanes[32i:32i+32]) for i < n: the same float64
// additions in the same order, four lanes a vector (w = 16, 8, 4 as
// vector adds, w = 2 on two lanes, w = 1 scalar), so the same bits.
TEXT ·combineLanesAVX(SB), NOSPLIT, $0-24
	MOVQ  lanes+0(FP), SI
	MOVQ  out+8(FP), DI
	MOVQ  n+16(FP), CX
	TESTQ CX, CX
	JZ    done

loop:
	VMOVUPD      0(SI), Y0
	VADDPD       128(SI), Y0, Y0 // l[0:4] + l[16:20]
	VMOVUPD      32(SI), Y1
	VADDPD       160(SI), Y1, Y1 // l[4:8] + l[20:24]
	VMOVUPD      64(SI), Y2
	VADDPD       192(SI), Y2, Y2 // l[8:12] + l[24:28]
	VMOVUPD      96(SI), Y3
	VADDPD       224(SI), Y3, Y3 // l[12:16] + l[28:32]
	VADDPD       Y2, Y0, Y0      // w = 8: lanes 0..3
	VADDPD       Y3, Y1, Y1      // w = 8: lanes 4..7
	VADDPD       Y1, Y0, Y0      // w = 4
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0      // w = 2
	VUNPCKHPD    X0, X0, X1
	VADDSD       X1, X0, X0      // w = 1
	VMOVSD       X0, (DI)
	ADDQ         $256, SI
	ADDQ         $8, DI
	DECQ         CX
	JNZ          loop
	VZEROUPPER

done:
	RET
