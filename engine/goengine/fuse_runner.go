package goengine

import "unsafe"

// The assembly program runner. Where the kernel set has one
// (vecKernels.prog: AVX-512), a worker translates its program into runner
// code once per run, and each chunk then costs one call per run of
// consecutive runner instructions instead of one kernel call per
// instruction: the floating-point control register is set once per call,
// and operands are read from a pointer table filled per chunk. The runner's
// opcodes execute the same kernel code as the kernel calls, so the results
// are the same bits. Instructions without a runner opcode (per-element Go
// functions, Pow with an exponent other than 2) run in Go between runner
// calls.

// progOp is a runner opcode; the order is runnerOps' in simd_gen.go.
type progOp int32

const (
	pAdd progOp = iota
	pSub
	pMul
	pDiv
	pDivNoNan
	pMax
	pMin
	pNeg
	pAbs
	pRelu
	pExp
	pLog
	pLog1p
	pSigmoid
	pClip
	pSum
	pCopy
)

// runnerOp maps instructions with one runner opcode to it.
var runnerOp = map[vop]progOp{
	vAdd: pAdd, vSub: pSub, vMul: pMul, vDiv: pDiv, vDivNoNan: pDivNoNan, vMax: pMax, vMin: pMin,
	vNeg: pNeg, vAbs: pAbs, vRelu: pRelu, vExp: pExp, vLog: pLog, vLog1p: pLog1p, vSigmoid: pSigmoid,
	vClip: pClip, vCopy: pCopy,
}

// progSeg is a run of runner code (code != nil) or one instruction for Go.
type progSeg struct {
	code  []int32
	instr int // index in program.instrs, when code is nil
}

// runnerSegments translates p for the runner: sum instruction k (in
// order) accumulates into the lane buffer at pointer index sumBase+k.
// scal are the run's scalars (a Pow whose exponent is 2 is a Mul).
func runnerSegments(p *program, scal []float32, sumBase int) []progSeg {
	var segs []progSeg
	var code []int32
	flush := func() {
		if len(code) > 0 {
			segs = append(segs, progSeg{code: code})
			code = nil
		}
	}
	slot := func(s int) int32 {
		if s < 0 {
			return 0 // unused operand: any valid index
		}
		return int32(s)
	}
	add := func(op progOp, dst, a, b, c int) {
		code = append(code, int32(op), slot(dst), slot(a), slot(b), slot(c))
	}
	sums := 0
	for i, in := range p.instrs {
		if op, ok := runnerOp[in.op]; ok {
			add(op, in.dst, in.a, in.b, in.c)
			continue
		}
		switch {
		case in.op == vSqDiff:
			add(pSub, in.dst, in.a, in.b, -1)
			add(pMul, in.dst, in.dst, in.dst, -1)
		case in.op == vPow && scal[in.scalar] == 2:
			add(pMul, in.dst, in.a, in.a, -1)
		case in.op == vSum:
			add(pSum, sumBase+sums, in.a, -1, -1)
			sums++
		default:
			flush()
			segs = append(segs, progSeg{instr: i})
		}
	}
	flush()
	return segs
}

// runSegments runs the worker's runner segments on a chunk of n elements
// whose views are set, and stores each sum's block total in partial.
func (w *progWorker) runSegments(k *vecKernels, p *program, partial []float64, nblocks, block, n int) {
	for s, v := range w.views {
		w.ptrs[s] = unsafe.Pointer(unsafe.SliceData(v))
	}
	for j := range w.sumLanes {
		w.sumLanes[j] = [sumLaneCount]float64{}
	}
	for _, sg := range w.segs {
		if sg.code != nil {
			k.prog(&sg.code[0], len(sg.code)/5, &w.ptrs[0], n)
			continue
		}
		w.goInstr(k, p.instrs[sg.instr], partial, nblocks, block)
	}
	j := 0
	for _, in := range p.instrs {
		if in.op == vSum {
			partial[in.sink*nblocks+block] = combineLanes(&w.sumLanes[j])
			j++
		}
	}
}
