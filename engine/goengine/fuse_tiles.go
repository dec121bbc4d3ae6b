package goengine

import "github.com/tfseg/tfseg/engine/goengine/internal/vec"

// Register tiles. A run of consecutive runner instructions that are all
// simple arithmetic (add, sub, mul, div, neg, abs) or sums is compiled a
// second time, for the tile runner (vec.Kernels.Tiles): the chunk is taken
// 256 elements at a time, the value being computed stays in 16 vector
// registers from one instruction to the next, and only values that some
// later instruction reads from memory (or that are region outputs) are
// stored. The instructions of the run are reordered (respecting every
// read and write of their slots) so that a value's consumer follows it
// when it can. Each element still goes through the same float32
// operations in the same order, and sums add into the lanes in the
// canonical order, so the results are the runner's bits. Elements after
// the last whole tile of a chunk run the run's ordinary runner code.

// rinstr is a runner instruction (op >= 0) or an instruction that runs in
// Go (goIdx >= 0), with its operand indices (-1: unused).
type rinstr struct {
	op           vec.ProgOp
	goIdx        int
	dst, a, b, c int
}

// reads returns the operand indices r reads.
func (r rinstr) reads() []int {
	var out []int
	for _, s := range []int{r.a, r.b, r.c} {
		if s >= 0 {
			out = append(out, s)
		}
	}
	return out
}

// binaryProgOp reports whether op is a binary op with a tile form.
func binaryProgOp(op vec.ProgOp) bool {
	_, ok := vec.TileDirect[op]
	return ok
}

// consumesFromAcc reports whether r can take every read of slot s from
// the accumulator, when the accumulator holds s.
func consumesFromAcc(r rinstr, s int) bool {
	switch {
	case r.op == vec.ProgSum || isTileUnary(r.op):
		return r.a == s
	case binaryProgOp(r.op):
		if r.a == s && r.b == s {
			return r.op == vec.ProgMul
		}
		return r.a == s || r.b == s
	}
	return false
}

// tileSchedule orders the run of instructions: each instruction after
// everything it depends on (reads after writes, writes after reads and
// writes of the same slot), the consumer of the last value first when one
// is ready, else the earliest ready one.
func tileSchedule(run []rinstr) []rinstr {
	n := len(run)
	deps := make([][]int, n) // deps[j]: i < j that j must follow
	for j := range run {
		wj, rj := run[j].dst, run[j].reads()
		for i := 0; i < j; i++ {
			wi, ri := run[i].dst, run[i].reads()
			conflict := wi == wj || contains(rj, wi) || contains(ri, wj)
			if conflict {
				deps[j] = append(deps[j], i)
			}
		}
	}
	done := make([]bool, n)
	out := make([]rinstr, 0, n)
	acc := -1
	for len(out) < n {
		pick := -1
		for j := 0; j < n; j++ {
			if done[j] || !allDone(deps[j], done) {
				continue
			}
			if pick < 0 {
				pick = j
			}
			if acc >= 0 && consumesFromAcc(run[j], acc) {
				pick = j
				break
			}
		}
		done[pick] = true
		out = append(out, run[pick])
		if run[pick].op != vec.ProgSum {
			acc = run[pick].dst
		}
	}
	return out
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func allDone(idx []int, done []bool) bool {
	for _, i := range idx {
		if !done[i] {
			return false
		}
	}
	return true
}

// isTileUnary reports whether op is a unary op with a tile form.
func isTileUnary(op vec.ProgOp) bool {
	_, ok := vec.TileUnary[op]
	return ok
}

// tileCode compiles the scheduled run. liveAfter(s) reports whether slot
// s's value may be read after the run (or is a region output): a value
// is stored unless only the next instruction reads it, from the registers.
func tileCode(sched []rinstr, liveAfter func(slot int) bool) []int32 {
	var code []int32
	add := func(op vec.TileOp, dst, a int) {
		if dst < 0 {
			dst = 0
		}
		if a < 0 {
			a = 0
		}
		code = append(code, int32(op), int32(dst), int32(a), 0, 0)
	}
	acc := -1
	for k, r := range sched {
		switch {
		case r.op == vec.ProgSum:
			if acc != r.a {
				add(vec.TileLoad, -1, r.a)
				acc = r.a
			}
			add(vec.TileSum, r.dst, -1)
			continue
		case isTileUnary(r.op):
			if acc != r.a {
				add(vec.TileLoad, -1, r.a)
			}
			add(vec.TileUnary[r.op], -1, -1)
		default: // binary
			direct, reverse := vec.TileDirect[r.op], vec.TileReverse[r.op]
			switch {
			case r.a == r.b && r.op == vec.ProgMul:
				if acc != r.a {
					add(vec.TileLoad, -1, r.a)
				}
				add(vec.TileSquare, -1, -1)
			case acc == r.a && r.b != r.a:
				add(direct, -1, r.b)
			case acc == r.b && r.a != r.b:
				add(reverse, -1, r.a)
			default:
				add(vec.TileLoad, -1, r.a)
				add(direct, -1, r.b)
			}
		}
		acc = r.dst
		// Readers of this value after it, in the run.
		readers, consumer := 0, -1
		overwritten := false
		for j := k + 1; j < len(sched); j++ {
			if contains(sched[j].reads(), r.dst) {
				readers++
				if consumer < 0 {
					consumer = j
				}
			}
			if sched[j].dst == r.dst && sched[j].op != vec.ProgSum {
				overwritten = true
				break
			}
		}
		keep := readers == 1 && consumer == k+1 && consumesFromAcc(sched[k+1], r.dst) &&
			(overwritten || !liveAfter(r.dst))
		if !keep {
			add(vec.TileStore, r.dst, -1)
		}
	}
	return code
}
