package goengine

import (
	"unsafe"

	"github.com/tfseg/tfseg/engine/goengine/internal/vec"
)

// The assembly program runner. Where the kernel set has one
// (vec.Kernels.Prog: AVX-512), a worker translates its program into runner
// code once per run, and each chunk then costs one call per run of
// consecutive runner instructions instead of one kernel call per
// instruction: the floating-point control register is set once per call,
// and operands are read from a pointer table filled per chunk. The runner's
// opcodes execute the same kernel code as the kernel calls, so the results
// are the same bits. Instructions without a runner opcode (per-element Go
// functions, Pow with an exponent other than 2) run in Go between runner
// calls.

// noTiles turns register tiles off (tests compare both ways).
var noTiles = false

// progSeg is a run of runner code (code != nil) or one instruction for Go.
// tile, when set, is the same run compiled for the tile runner.
type progSeg struct {
	code  []int32
	tile  []int32
	instr int // index in program.instrs, when code is nil
}

// runnerInstrs translates p into runner instructions: sum instruction k
// (in order) accumulates into the lane buffer at pointer index sumBase+k.
// scal are the run's scalars (a Pow whose exponent is 2 is a Mul).
func runnerInstrs(p *program, scal []float32, sumBase int) []rinstr {
	var out []rinstr
	add := func(op vec.ProgOp, dst, a, b, c int) {
		out = append(out, rinstr{op: op, goIdx: -1, dst: dst, a: a, b: b, c: c})
	}
	sums := 0
	for i, in := range p.instrs {
		switch {
		case in.op < numVecOps:
			add(vec.Op(in.op).Prog(), in.dst, in.a, in.b, in.c)
		case in.op == vCopy:
			add(vec.ProgCopy, in.dst, in.a, in.b, in.c)
		case in.op == vSqDiff:
			add(vec.ProgSub, in.dst, in.a, in.b, -1)
			add(vec.ProgMul, in.dst, in.dst, in.dst, -1)
		case in.op == vPow && scal[in.scalar] == 2:
			add(vec.ProgMul, in.dst, in.a, in.a, -1)
		case in.op == vSum:
			add(vec.ProgSum, sumBase+sums, in.a, -1, -1)
			sums++
		default:
			out = append(out, rinstr{op: -1, goIdx: i, dst: in.dst, a: in.a, b: in.b, c: in.c})
		}
	}
	return out
}

// runnerSegments cuts the runner instructions of p into segments; with
// tiles, runs of two or more tileable instructions get tile code too.
func runnerSegments(p *program, scal []float32, sumBase int, tiles bool) []progSeg {
	ins := runnerInstrs(p, scal, sumBase)
	code := func(run []rinstr) []int32 {
		var c []int32
		for _, r := range run {
			c = append(c, int32(r.op), slotIndex(r.dst), slotIndex(r.a), slotIndex(r.b), slotIndex(r.c))
		}
		return c
	}
	// liveAfter(end)(s): some instruction from end on reads s before
	// writing it, or s is a region output.
	liveAfter := func(end int) func(int) bool {
		return func(s int) bool {
			if s < len(p.slots) && p.slots[s].kind == slotOutput {
				return true
			}
			for _, r := range ins[end:] {
				if contains(r.reads(), s) {
					return true
				}
				if r.dst == s {
					return false
				}
			}
			return false
		}
	}
	var segs []progSeg
	for i := 0; i < len(ins); {
		if ins[i].goIdx >= 0 {
			segs = append(segs, progSeg{instr: ins[i].goIdx})
			i++
			continue
		}
		j := i
		t := tiles && ins[i].op.Tileable()
		for j < len(ins) && ins[j].goIdx < 0 && (!tiles || ins[j].op.Tileable() == t) {
			j++
		}
		sg := progSeg{code: code(ins[i:j])}
		if t && j-i >= 2 {
			sg.tile = tileCode(tileSchedule(ins[i:j]), liveAfter(j))
			if !tilesPay(ins[i:j], sg.tile) {
				sg.tile = nil
			}
		}
		segs = append(segs, sg)
		i = j
	}
	return segs
}

// tilesPay reports whether the tile code of run keeps enough values out
// of memory to make up for its dispatch per tile (measured: three stores
// saved or more; a sum of a stored value is cheaper from memory).
func tilesPay(run []rinstr, tile []int32) bool {
	saved := 0
	for _, r := range run {
		if r.op != vec.ProgSum {
			saved++
		}
	}
	for i := 0; i < len(tile); i += 5 {
		if vec.TileOp(tile[i]) == vec.TileStore {
			saved--
		}
	}
	return saved >= 3
}

// slotIndex is an operand's pointer index (0 for an unused operand).
func slotIndex(s int) int32 { return int32(max(s, 0)) }

// runnerChunk runs the chunk [lo, hi) of a program without Go
// instructions: the operand table is set from the inputs and outputs
// (temps and scalars do not move), broadcast operands are gathered, and
// the segments run.
func (w *progWorker) runnerChunk(k *vec.Kernels, p *program, in, out [][]float32, partial []float64, nblocks, block, lo, hi int) {
	w.setDynPtrs(w.ptrs, p, in, out, lo, hi)
	w.runSegments(k, p, partial, nblocks, block, hi-lo)
}

// setDynPtrs sets the operand pointers of the slots that move per chunk
// for the chunk [lo, hi), gathering broadcast operands.
func (w *progWorker) setDynPtrs(ptrs []unsafe.Pointer, p *program, in, out [][]float32, lo, hi int) {
	for _, s := range w.rc.dynSlots {
		sl := &p.slots[s]
		switch sl.kind {
		case slotInput:
			ptrs[s] = unsafe.Pointer(&in[sl.idx][lo])
		case slotOutput:
			ptrs[s] = unsafe.Pointer(&out[sl.idx][lo])
		case slotBcast:
			w.bcast(sl, in, lo, hi)
			ptrs[s] = unsafe.Pointer(&w.temps[sl.buf][0])
		}
	}
}

// bcast fills the buffer of broadcast slot sl for the chunk [lo, hi).
func (w *progWorker) bcast(sl *slot, in [][]float32, lo, hi int) {
	n := hi - lo
	if c, ok := sl.constantOver(lo, hi); ok {
		// The chunk reads one element: fill only when it changes.
		if x := in[sl.idx][c]; w.filled[sl.buf] < n || f32Bits(w.fillVal[sl.buf]) != f32Bits(x) {
			fill32(w.temps[sl.buf], x)
			w.filled[sl.buf], w.fillVal[sl.buf] = len(w.temps[sl.buf]), x
		}
		return
	}
	gatherBcast(w.temps[sl.buf][:n], in[sl.idx], sl.dims, sl.strides, lo)
	w.filled[sl.buf] = 0
}

// runSegments runs the worker's runner segments on a chunk of n elements
// whose operand pointers are set, and stores each sum's block total in
// partial.
func (w *progWorker) runSegments(k *vec.Kernels, p *program, partial []float64, nblocks, block, n int) {
	for j := range w.sumLanes {
		w.sumLanes[j] = [vec.SumLaneCount]float64{}
	}
	ntiles := n / vec.TileElems
	rest := n - ntiles*vec.TileElems
	if rest > 0 && ntiles > 0 {
		// The operand table for the elements after the whole tiles.
		for s := range p.slots {
			w.ptrsRest[s] = unsafe.Add(w.ptrs[s], 4*ntiles*vec.TileElems)
		}
	}
	for _, sg := range w.rc.segs {
		switch {
		case sg.code == nil:
			w.goInstr(k, p.instrs[sg.instr], partial, nblocks, block)
		case sg.tile != nil && ntiles > 0:
			k.Tiles(&sg.tile[0], len(sg.tile)/5, &w.ptrs[0], ntiles)
			if rest > 0 {
				k.Prog(&sg.code[0], len(sg.code)/5, &w.ptrsRest[0], rest)
			}
		default:
			k.Prog(&sg.code[0], len(sg.code)/5, &w.ptrs[0], n)
		}
	}
	for j, sink := range w.rc.sinks {
		partial[sink*nblocks+block] = vec.CombineLanes(&w.sumLanes[j])
	}
}

// maxMultiChunks bounds the chunks of one vec.Kernels.Chunks call (their
// lanes are in the worker's buffer).
const maxMultiChunks = 64

// runnerCode is a program translated for a kernel set's runner: what
// does not change from run to run, shared by the workers (program.runner).
type runnerCode struct {
	segs     []progSeg
	hasGo    bool  // some instruction runs in Go (views needed)
	sinks    []int // per sum instruction, in order: its sink
	dynSlots []int // slots whose pointer changes per chunk
	// Several chunks per call (kernels with chunks, programs without Go
	// instructions and whose broadcast operands repeat along their
	// innermost dimension): the code, its operand steps per chunk, the
	// input slots prefetched a chunk ahead and how many bytes of each
	// before an instruction, and the broadcast slots. unified is nil when
	// chunks run one at a time.
	unified    []int32
	steps      []int64
	pf         []int32
	pfBytes    int
	bcastSlots []int
}

// runner returns p's runner code for kernels k and the run's scalars,
// translated on first use.
func (p *program) runner(k *vec.Kernels, scal []float32) *runnerCode {
	// The scalars matter only through which Pow exponents are 2.
	key := []byte(k.Name)
	if noTiles {
		key = append(key, '-')
	}
	for _, in := range p.instrs {
		if in.op == vPow {
			key = append(key, "01"[b2i(scal[in.scalar] == 2)])
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if rc, ok := p.runners[string(key)]; ok {
		return rc
	}
	rc := buildRunner(p, k, scal)
	if p.runners == nil {
		p.runners = map[string]*runnerCode{}
	}
	p.runners[string(key)] = rc
	return rc
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// buildRunner translates p for k's runner.
func buildRunner(p *program, k *vec.Kernels, scal []float32) *runnerCode {
	rc := &runnerCode{segs: runnerSegments(p, scal, len(p.slots), k.Tiles != nil && !noTiles)}
	for _, sg := range rc.segs {
		rc.hasGo = rc.hasGo || sg.code == nil
	}
	for _, in := range p.instrs {
		if in.op == vSum {
			rc.sinks = append(rc.sinks, in.sink)
		}
	}
	for s, sl := range p.slots {
		if sl.kind != slotTemp && sl.kind != slotScalar {
			rc.dynSlots = append(rc.dynSlots, s)
		}
	}
	if k.Chunks == nil || rc.hasGo {
		return rc
	}
	for s, sl := range p.slots {
		if sl.kind == slotBcast {
			// Runs of chunks over which it reads one element (ce_dice's
			// per-image Dice term) can share a call; see fullChunks.
			if sl.strides[len(sl.strides)-1] != 0 {
				return rc
			}
			rc.bcastSlots = append(rc.bcastSlots, s)
		}
	}
	var unified []int32
	main := 0 // instructions per chunk in the main stream
	for _, sg := range rc.segs {
		if sg.tile != nil {
			unified = append(unified, int32(vec.ProgTileBlock), int32(len(sg.tile)/5), int32(len(sg.code)/5), 0, 0)
			unified = append(unified, sg.tile...)
			main++
		} else {
			main += len(sg.code) / 5
		}
		unified = append(unified, sg.code...)
	}
	if len(unified) == 0 {
		return rc
	}
	rc.unified = unified
	const chunkBytes = 4 * fuseChunkBlocks * vec.SumBlock
	sums := len(rc.sinks)
	rc.steps = make([]int64, len(p.slots)+sums)
	for s, sl := range p.slots {
		if sl.kind == slotInput || sl.kind == slotOutput {
			rc.steps[s] = chunkBytes
		}
		if sl.kind == slotInput {
			rc.pf = append(rc.pf, int32(s))
		}
	}
	for j := 0; j < sums; j++ {
		rc.steps[len(p.slots)+j] = int64(8 * sums * vec.SumLaneCount)
	}
	if len(rc.pf) > 0 {
		rc.pfBytes = (chunkBytes/main + 63) &^ 63
	}
	return rc
}

// fullChunks returns how many chunks from j (before end, at most
// maxMultiChunks) one vec.Kernels.Chunks call can run: whole chunks, each
// right after the previous in memory and in summation blocks. 0 when the
// worker cannot, or fewer than two qualify.
func (w *progWorker) fullChunks(p *program, j, end int) int {
	if w.rc == nil || w.rc.unified == nil {
		return 0
	}
	const size = fuseChunkBlocks * vec.SumBlock
	cnt, prevHi, prevBlock := 0, 0, 0
	var first []int // per broadcast slot: the element the first chunk reads
	for ; j < end && cnt < maxMultiChunks; j++ {
		lo, hi, block := p.chunk(j)
		if hi-lo != size || (cnt > 0 && (lo != prevHi || (p.count > 1 && block != prevBlock+1))) {
			break
		}
		same := true
		for b, s := range w.rc.bcastSlots {
			c, ok := p.slots[s].constantOver(lo, hi)
			if cnt == 0 {
				first = append(first, c)
			}
			same = same && ok && c == first[b]
		}
		if !same {
			break
		}
		prevHi, prevBlock = hi, block
		cnt++
	}
	if cnt < 2 {
		return 0
	}
	return cnt
}

// multiChunk runs cnt whole chunks from chunk j in one call and stores
// each sum's block totals in partial.
func (w *progWorker) multiChunk(k *vec.Kernels, p *program, in, out [][]float32, partial []float64, nblocks, j, cnt int) {
	lo, hi, block := p.chunk(j)
	// Broadcast operands read one element for all cnt chunks (fullChunks
	// checked), so the first chunk's gather serves them all.
	copy(w.mptrs, w.ptrs[:len(p.slots)])
	w.setDynPtrs(w.mptrs, p, in, out, lo, hi)
	sums := len(w.rc.sinks)
	lanes := w.mlanes[:cnt*sums*vec.SumLaneCount]
	clear(lanes)
	for i := 0; i < sums; i++ {
		w.mptrs[len(p.slots)+i] = unsafe.Pointer(&w.mlanes[i*vec.SumLaneCount])
	}
	var pf *int32
	if len(w.rc.pf) > 0 {
		pf = &w.rc.pf[0]
	}
	k.Chunks(&w.rc.unified[0], len(w.rc.unified)/5, &w.mptrs[0], fuseChunkBlocks*vec.SumBlock, cnt, &w.rc.steps[0], len(w.rc.steps), pf, len(w.rc.pf), w.rc.pfBytes)
	// The lanes of sum i in chunk c are set c*sums+i: combine all of them
	// in one call.
	bs := w.msums[:cnt*sums]
	vec.CombineLanesN(lanes, bs)
	for c := 0; c < cnt; c++ {
		for i, sink := range w.rc.sinks {
			partial[sink*nblocks+block+c] = bs[c*sums+i]
		}
	}
}
