package goengine

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/tfseg/tfseg/engine/goengine/internal/parallel"
	"github.com/tfseg/tfseg/engine/goengine/internal/vec"
	"github.com/tfseg/tfseg/tfops"
)

// A region's fused kernel. At run time, with the input shapes known, the
// region is compiled into a program over one iteration space of n
// elements (the element count every elementwise member has): a list of
// instructions, each a vector kernel (or a per-element function) applied
// to one chunk of every operand. Chunks are up to fuseChunkBlocks blocks of
// vec.SumBlock elements (aligned to the reduction runs when the region ends in
// Sum or Mean, so that each block of the canonical summation order lies in
// one chunk); the caller and the helpers of parallel.Team take runs of
// chunks from a shared counter (grabChunks: guided, shrinking to minGrab
// at the end), keep intermediates in their own buffers,
// and store each reduction's per-chunk sum in a slot of its own, which are
// added in chunk order at the end. The result therefore does not depend on
// the number of threads or on scheduling.
//
// Operands are region values (in a goroutine's buffers, or in an output
// tensor when the value is also a region output), inputs with n elements
// (read in place), scalar inputs and constants (broadcast into a buffer
// once per goroutine), or smaller inputs broadcast to the value's shape
// (gathered per chunk).
//
// How a chunk runs depends on the kernel set. The pure-Go kernels are
// called one instruction at a time (progWorker.goInstr). With AVX-512 the
// program is translated for the assembly runner (fuse_runner.go): one call
// runs a chunk's instructions under one MXCSR change, runs of simple
// arithmetic keep their values in registers (register tiles,
// fuse_tiles.go), and whole consecutive chunks go through one call, which
// prefetches each input's next chunk as it goes. With AVX2, whole
// consecutive chunks go through one such call (no tiles), other chunks
// one instruction at a time. Every way gives the same bits
// (TestRunnerPaths).

// operand refers to a member's value or to an input of the fused node.
type operand struct{ member, input int }

// member is one node of a region.
type member struct {
	node   int
	nd     *node
	op     string
	kind   memberKind
	args   []operand
	output int // index among the region outputs, -1 when not one
}

// regionOutput is one output of a fused node: the value of a member.
type regionOutput struct{ member int }

// region is a fused set of nodes; kernel runs it.
type region struct {
	name    string
	members []*member
	inputs  []edge
	outputs []regionOutput
	// constant[j]: input j is a Const node's value (the same every run).
	constant []bool

	mu    sync.Mutex
	progs map[string]*program // by input shapes; nil value: cannot fuse
}

// maxPrograms bounds the programs a region keeps (one per input shapes).
const maxPrograms = 16

// kernel runs the region: compiled when the shapes allow, else member by
// member.
func (r *region) kernel(c *Context) ([]*tfops.Tensor, error) {
	if p := r.program(c.Inputs); p != nil {
		return p.run(c)
	}
	return r.runUnfused(c)
}

// program returns the compiled program for these inputs' shapes, or nil
// when the region cannot run fused on them.
func (r *region) program(ins []*tfops.Tensor) *program {
	kb := make([]byte, 0, 64)
	for _, t := range ins {
		kb = strconv.AppendInt(kb, int64(t.DType()), 10)
		kb = append(kb, '[')
		for _, d := range t.Shape() {
			kb = strconv.AppendInt(kb, int64(d), 10)
			kb = append(kb, ',')
		}
		kb = append(kb, ']')
	}
	key := string(kb)
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.progs[key]; ok {
		return p
	}
	p := compileRegion(r, ins)
	if r.progs == nil || len(r.progs) >= maxPrograms {
		r.progs = map[string]*program{}
	}
	r.progs[key] = p
	return p
}

// runUnfused runs the members with their own kernels, in order.
func (r *region) runUnfused(c *Context) ([]*tfops.Tensor, error) {
	vals := make([]*tfops.Tensor, len(r.members))
	for k, m := range r.members {
		ins := make([]*tfops.Tensor, len(m.args))
		for a, o := range m.args {
			if o.member >= 0 {
				ins[a] = vals[o.member]
			} else {
				ins[a] = c.Inputs[o.input]
			}
		}
		outs, err := runKernel(c.Ctx, c.State, m.nd, ins, c.depth, c.arena)
		if err != nil {
			return nil, err
		}
		if len(outs) == 0 {
			return nil, fmt.Errorf("node %q (%s) produced no output", m.nd.name, m.op)
		}
		vals[k] = outs[0]
	}
	out := make([]*tfops.Tensor, len(r.outputs))
	for k, o := range r.outputs {
		out[k] = vals[o.member]
	}
	return out, nil
}

// vop is a program instruction: one of the fused vector ops of
// internal/vec's table (a vec.Op, below numVecOps), or one of the
// program's own instructions below.
type vop int

// The table ops the compiler emits itself, and the first of the program's
// own instructions.
const (
	vAdd      = vop(vec.OpAdd)
	vMul      = vop(vec.OpMul)
	numVecOps = vop(vec.NumOps)
)

const (
	vSqDiff vop = numVecOps + iota // (a - b)·(a - b): sub then mul
	vCopy                          // raw copy
	vFunc1                         // per-element unary function under a flush mode
	vFunc2                         // per-element binary function under a flush mode
	vPow                           // x ** scalar input: x·x when it is 2, else vFunc2
	vSum                           // canonical block sum into a partial slot
)

// slotKind says where an operand's chunk comes from.
type slotKind int

const (
	slotInput  slotKind = iota // input idx, n elements
	slotOutput                 // output idx
	slotTemp                   // goroutine buffer idx
	slotScalar                 // goroutine buffer filled with scalar idx
	slotBcast                  // goroutine buffer gathered from input idx
)

type slot struct {
	kind slotKind
	idx  int
	buf  int // slotBcast: its buffer
	// slotBcast: merged dims of the value and the input's strides.
	dims, strides []int
}

// constantOver reports whether a broadcast slot reads a single input
// element for all of [lo, hi), and which.
func (sl *slot) constantOver(lo, hi int) (int, bool) {
	nd := len(sl.dims)
	if sl.strides[nd-1] != 0 {
		return 0, false
	}
	inner := sl.dims[nd-1]
	if lo/inner != (hi-1)/inner {
		return 0, false
	}
	off, r := 0, lo/inner
	for d := nd - 2; d >= 0; d-- {
		off += (r % sl.dims[d]) * sl.strides[d]
		r /= sl.dims[d]
	}
	return off, true
}

type instr struct {
	op         vop
	dst        int
	a, b, c    int // slots (-1 unused)
	f1         func(float32) float32
	f2         func(a, b float32) float32
	mode       flushMode
	sink       int // vSum: sink index
	scalar     int // vPow: scalar index of the exponent
	unfusedPow func(a, b float32) float32
}

// scalarSrc is a scalar operand: input idx (a one-element float32 tensor)
// or the constant value when input < 0.
type scalarSrc struct {
	input int
	value float32
}

// outSpec says how to make a region output.
type outSpec struct {
	kind  memberKind
	shape []int
	// kindMeta: the member, to compute Shape/Size/Rank of shape.
	m *member
	// kindReduce: per-run partial sums of sink, divided by count for Mean.
	sink int
	mean bool
}

type program struct {
	n int // elements in the iteration space
	// runners caches the runner code per kernel set and Pow exponents.
	mu      sync.Mutex
	runners map[string]*runnerCode
	// workers keeps the goroutine buffers of earlier runs (*progWorker):
	// a program that runs once per image would otherwise allocate them
	// (their lane buffers alone are 16 KiB per sum) on every run.
	workers sync.Pool
	// partialPool keeps the per-block sums of earlier runs (*[]float64).
	partialPool sync.Pool
	count       int // reduction run length (0: no reductions with count > 1)
	slots       []slot
	instrs      []instr
	scalars     []scalarSrc
	temps       int // goroutine buffers (temps and broadcast gathers)
	outs        []outSpec
	sinks       int
}

// compileRegion compiles r for inputs of these shapes; nil when it cannot.
func compileRegion(r *region, ins []*tfops.Tensor) *program {
	b := &progBuilder{r: r, ins: ins, p: &program{}}
	if !b.shapesAndChecks() {
		return nil
	}
	b.emit()
	return b.p
}

type progBuilder struct {
	r      *region
	ins    []*tfops.Tensor
	p      *program
	shapes [][]int // per member: value shape (elementwise) or output shape
	counts []int   // per reduction member: elements per output
	vslot  []int   // per elementwise member: slot of its value
	inSlot map[int]int
	scSlot map[scalarSrc]int
}

// operandShape returns the shape of operand o.
func (b *progBuilder) operandShape(o operand) []int {
	if o.member >= 0 {
		return b.shapes[o.member]
	}
	return b.ins[o.input].Shape()
}

// isFloatInput reports whether operand o is an input of dtype float32.
func (b *progBuilder) floatOperand(o operand) bool {
	return o.member >= 0 || b.ins[o.input].DType() == tfops.Float
}

// axesOf returns the int values of the reduction axes operand.
func (b *progBuilder) axesOf(o operand) ([]int64, bool) {
	if o.member >= 0 {
		return nil, false
	}
	return b.ins[o.input].IndexValues()
}

// shapesAndChecks computes every member's shape and checks that the
// region fits one iteration space.
func (b *progBuilder) shapesAndChecks() bool {
	r, p := b.r, b.p
	b.shapes = make([][]int, len(r.members))
	b.counts = make([]int, len(r.members))
	n := -1
	for k, m := range r.members {
		for _, o := range m.args {
			if o.member >= 0 && r.members[o.member].kind != kindElem {
				return false
			}
		}
		switch m.kind {
		case kindElem:
			var dims [][]int
			for a, o := range m.args {
				if isReduceOp(m.op) && a == 1 {
					continue
				}
				if !b.floatOperand(o) {
					return false
				}
				if m.op == "ClipByValue" && a > 0 {
					if s := b.operandShape(o); tfops.NumElements(s) != 1 && !equalDims(s, b.operandShape(m.args[0])) {
						return false
					}
					continue
				}
				dims = append(dims, b.operandShape(o))
			}
			out, err := broadcastDims(dims...)
			if err != nil {
				return false
			}
			if isReduceOp(m.op) {
				axes, ok := b.axesOf(m.args[1])
				if !ok {
					return false
				}
				o, count, _, err := reduceShape(out, axes, keepDims(m.nd.def))
				if err != nil || count != 1 {
					return false
				}
				out = o
			}
			b.shapes[k] = out
			if c := tfops.NumElements(out); n < 0 {
				n = c
			} else if c != n {
				return false
			}
		case kindReduce:
			// The reduced value: a member, or an input with the region's
			// element count (a sum of a fed tensor merged into the region).
			x := m.args[0]
			var xs []int
			switch {
			case x.member >= 0 && r.members[x.member].kind == kindElem:
				xs = b.shapes[x.member]
			case x.member < 0 && b.floatOperand(x):
				xs = b.ins[x.input].Shape()
				if c := tfops.NumElements(xs); n < 0 {
					n = c
				} else if c != n {
					return false
				}
			default:
				return false
			}
			axes, ok := b.axesOf(m.args[1])
			if !ok {
				return false
			}
			out, count, contiguous, err := reduceShape(xs, axes, keepDims(m.nd.def))
			if err != nil || !contiguous || count == 0 {
				return false
			}
			b.shapes[k], b.counts[k] = out, count
			if count > 1 {
				if p.count != 0 && p.count != count {
					return false
				}
				p.count = count
			}
		case kindMeta:
			x := m.args[0]
			if x.member < 0 || r.members[x.member].kind != kindElem {
				return false
			}
		}
	}
	if n <= 0 {
		return false
	}
	p.n = n
	return true
}

func isReduceOp(op string) bool { return op == "Sum" || op == "Mean" }

// newSlot adds a slot and returns its id.
func (b *progBuilder) newSlot(s slot) int {
	b.p.slots = append(b.p.slots, s)
	return len(b.p.slots) - 1
}

// scalarSlot returns the slot of a broadcast scalar.
func (b *progBuilder) scalarSlot(src scalarSrc) int {
	if s, ok := b.scSlot[src]; ok {
		return s
	}
	b.p.scalars = append(b.p.scalars, src)
	s := b.newSlot(slot{kind: slotScalar, idx: len(b.p.scalars) - 1})
	b.scSlot[src] = s
	return s
}

// operandSlot returns the slot member k reads operand o from.
func (b *progBuilder) operandSlot(k int, o operand) int {
	if o.member >= 0 {
		return b.vslot[o.member]
	}
	t := b.ins[o.input]
	switch {
	case t.NumElements() == b.p.n:
		if s, ok := b.inSlot[o.input]; ok {
			return s
		}
		s := b.newSlot(slot{kind: slotInput, idx: o.input})
		b.inSlot[o.input] = s
		return s
	case t.NumElements() == 1:
		return b.scalarSlot(scalarSrc{input: o.input})
	}
	bp := newBcastPlan(b.shapes[k], t.Shape())
	s := b.newSlot(slot{kind: slotBcast, idx: o.input, buf: b.p.temps, dims: bp.dims, strides: bp.strides[0]})
	b.p.temps++
	return s
}

// temps hands out goroutine buffers for intermediate values, reusing them
// after a value's last use.
type tempAlloc struct {
	b    *progBuilder
	free []int
}

func (ta *tempAlloc) get() int {
	if n := len(ta.free); n > 0 {
		s := ta.free[n-1]
		ta.free = ta.free[:n-1]
		return s
	}
	s := ta.b.newSlot(slot{kind: slotTemp, idx: ta.b.p.temps})
	ta.b.p.temps++
	return s
}

// aliasOps pass their operand through unchanged.
var aliasOps = map[string]bool{"Identity": true, "Snapshot": true, "StopGradient": true, "PlaceholderWithDefault": true}

// fillOps have a constant value (of their operand's shape): the slot of
// the broadcast scalar.
var fillOps = map[string]float32{"OnesLike": 1, "ZerosLike": 0}

// passThrough reports whether op's value is already in a slot (its
// operand's, or a fill constant's): it needs no instruction of its own
// unless it is a region output, and is never a common subexpression.
func passThrough(op string) bool {
	_, fill := fillOps[op]
	return aliasOps[op] || fill
}

// isAlias reports whether member m's value is its operand's (or a
// constant's) slot, with no instruction of its own.
func isAlias(m *member) bool {
	return m.kind == kindElem && m.output < 0 && passThrough(m.op)
}

// emit generates the instructions, member by member.
func (b *progBuilder) emit() {
	r, p := b.r, b.p
	b.vslot = make([]int, len(r.members))
	b.inSlot = map[int]int{}
	b.scSlot = map[scalarSrc]int{}
	// Common subexpressions: a member computing what an earlier one
	// computes (same op, same operands) reuses its value (dup[k] = j).
	dup := make([]int, len(r.members))
	margs := make([][]operand, len(r.members))
	seen := map[string]int{}
	for k, m := range r.members {
		dup[k] = k
		margs[k] = make([]operand, len(m.args))
		key := m.op
		for a, o := range m.args {
			switch {
			case o.member >= 0:
				o.member = dup[o.member]
				key += fmt.Sprintf(",m%d", o.member)
			case r.constant[o.input] && b.ins[o.input].DType() == tfops.Float && b.ins[o.input].NumElements() == 1:
				// Equal constants are the same operand (1 - p twice).
				key += fmt.Sprintf(",c%08x", f32Bits(b.ins[o.input].Float32s()[0]))
			default:
				key += fmt.Sprintf(",i%d", o.input)
			}
			margs[k][a] = o
		}
		if m.kind != kindElem || passThrough(m.op) {
			continue
		}
		if j, ok := seen[key]; ok {
			dup[k] = j
		} else {
			seen[key] = k
		}
	}
	// root[k]: the member whose instruction writes k's slot (aliases
	// share it); last[root]: the last member reading any alias of it.
	root := make([]int, len(r.members))
	last := make([]int, len(r.members))
	for k, m := range r.members {
		root[k], last[k] = k, -1
		switch {
		case dup[k] != k:
			root[k] = root[dup[k]]
			if m.output >= 0 {
				last[root[k]] = k // copied into the output here
			}
		case isAlias(m) && aliasOps[m.op] && margs[k][0].member >= 0:
			root[k] = root[margs[k][0].member]
		}
		for _, o := range margs[k] {
			if o.member >= 0 {
				last[root[o.member]] = k
			}
		}
	}
	// forward[j] = k: member j computes straight into the output of k, an
	// Identity-like output member that is j's only reader (no copy).
	uses := make([]int, len(r.members))
	for k := range r.members {
		for _, o := range margs[k] {
			if o.member >= 0 {
				uses[o.member]++
			}
		}
		if dup[k] != k {
			uses[dup[k]] += 2 // never forward a shared value
		}
	}
	forward := map[int]int{}
	for k, m := range r.members {
		if !aliasOps[m.op] || m.output < 0 || margs[k][0].member < 0 || dup[k] != k {
			continue
		}
		j := margs[k][0].member
		mj := r.members[j]
		if mj.kind == kindElem && mj.output < 0 && uses[j] == 1 && !passThrough(mj.op) {
			forward[j] = k
		}
	}
	ta := &tempAlloc{b: b}
	p.outs = make([]outSpec, len(r.outputs))
	for k, m := range r.members {
		if j := dup[k]; j != k {
			b.vslot[k] = b.vslot[j]
			if m.output >= 0 {
				dst := b.newSlot(slot{kind: slotOutput, idx: m.output})
				p.outs[m.output] = outSpec{kind: kindElem, shape: b.shapes[k]}
				p.instrs = append(p.instrs, instr{op: vCopy, dst: dst, a: b.vslot[j], b: -1, c: -1})
			}
			b.freeDead(ta, root, last, k, margs[k])
			continue
		}
		args := make([]int, len(m.args))
		for a, o := range margs[k] {
			if isReduceOp(m.op) && a == 1 {
				args[a] = -1
				continue
			}
			args[a] = b.operandSlot(k, o)
		}
		// Free the temps read for the last time here (the destination may
		// reuse one: the kernels work in place).
		b.freeDead(ta, root, last, k, margs[k])
		switch m.kind {
		case kindMeta:
			p.outs[m.output] = outSpec{kind: kindMeta, shape: b.shapes[margs[k][0].member], m: m}
			continue
		case kindReduce:
			if b.counts[k] > 1 {
				p.instrs = append(p.instrs, instr{op: vSum, a: args[0], b: -1, c: -1, sink: p.sinks})
				if m.output >= 0 {
					p.outs[m.output] = outSpec{kind: kindReduce, shape: b.shapes[k], sink: p.sinks, mean: m.op == "Mean"}
				}
				p.sinks++
				continue
			}
			// Runs of one element: x + 0 (Mean divides by 1), into the output.
			if m.output >= 0 {
				dst := b.newSlot(slot{kind: slotOutput, idx: m.output})
				p.instrs = append(p.instrs, instr{op: vAdd, dst: dst, a: args[0], b: b.scalarSlot(scalarSrc{input: -1}), c: -1})
				p.outs[m.output] = outSpec{kind: kindElem, shape: b.shapes[k]}
			}
			continue
		}
		src := -1 // the slot the value already is in, for aliases and constants
		if aliasOps[m.op] {
			src = args[0]
		} else if v, ok := fillOps[m.op]; ok {
			src = b.scalarSlot(scalarSrc{input: -1, value: v})
		}
		if isAlias(m) {
			b.vslot[k] = src
			continue
		}
		if _, ok := forward[margs[k][0].member]; ok && aliasOps[m.op] && margs[k][0].member >= 0 {
			// Its operand was computed into this output already.
			b.vslot[k] = src
			continue
		}
		var dst int
		if to, ok := forward[k]; ok {
			o := r.members[to].output
			dst = b.newSlot(slot{kind: slotOutput, idx: o})
			p.outs[o] = outSpec{kind: kindElem, shape: b.shapes[to]}
		} else if m.output >= 0 {
			dst = b.newSlot(slot{kind: slotOutput, idx: m.output})
			p.outs[m.output] = outSpec{kind: kindElem, shape: b.shapes[k]}
		} else {
			dst = ta.get()
		}
		b.vslot[k] = dst
		if src >= 0 {
			p.instrs = append(p.instrs, instr{op: vCopy, dst: dst, a: src, b: -1, c: -1})
			continue
		}
		p.instrs = append(p.instrs, b.elemInstr(m, dst, args))
	}
}

// freeDead returns to ta the temps whose last reader is member k (reading
// operands args); dup'd values count their copy as a read.
func (b *progBuilder) freeDead(ta *tempAlloc, root, last []int, k int, args []operand) {
	refs := append([]int(nil), root[k])
	for _, o := range args {
		if o.member >= 0 {
			refs = append(refs, root[o.member])
		}
	}
	for _, rt := range refs {
		if last[rt] == k && rt != k && b.p.slots[b.vslot[rt]].kind == slotTemp {
			ta.free = append(ta.free, b.vslot[rt])
			last[rt] = -2 // freed
		}
	}
}

// elemInstr is the instruction computing elementwise member m into dst.
func (b *progBuilder) elemInstr(m *member, dst int, args []int) instr {
	in := instr{dst: dst, a: args[0], b: -1, c: -1}
	if len(args) > 1 {
		in.b = args[1]
	}
	if len(args) > 2 {
		in.c = args[2]
	}
	if op, ok := vec.TFOps[m.op]; ok {
		in.op = vop(op)
		return in
	}
	switch m.op {
	case "SquaredDifference":
		in.op = vSqDiff
		return in
	case "Square":
		in.op, in.b = vMul, args[0]
		return in
	case "Sum", "Mean": // one-element runs
		in.op, in.b = vAdd, b.scalarSlot(scalarSrc{input: -1})
		return in
	case "Pow":
		if o := m.args[1]; o.member < 0 && b.ins[o.input].NumElements() == 1 {
			in.op, in.scalar = vPow, b.p.slots[b.scalarSlot(scalarSrc{input: o.input})].idx
			in.unfusedPow, in.mode = binary32["Pow"], flushModes["Pow"]
			return in
		}
	}
	in.mode = flushModes[m.op]
	if len(args) == 1 {
		in.op, in.f1 = vFunc1, unary32[m.op]
	} else {
		in.op, in.f2 = vFunc2, binary32[m.op]
	}
	return in
}

// fuseChunkBlocks is the number of summation blocks in a chunk. One block
// (1024 elements) measured fastest: a program's buffers then stay in L1;
// two or four blocks per chunk save kernel calls but were 5-30% slower on
// focal and keras_bce.
const fuseChunkBlocks = 1

// blocksPerRun is the number of summation blocks of a reduction run.
func (p *program) blocksPerRun() int { return (p.count + vec.SumBlock - 1) / vec.SumBlock }

// chunk returns the bounds of chunk j and the global index of its first
// summation block (runs of p.count elements are cut into blocks of
// vec.SumBlock from their start; a chunk is up to fuseChunkBlocks blocks of
// one run).
func (p *program) chunk(j int) (lo, hi, block int) {
	const size = fuseChunkBlocks * vec.SumBlock
	if p.count > 1 {
		nb := p.blocksPerRun()
		cpr := (nb + fuseChunkBlocks - 1) / fuseChunkBlocks
		run, c := j/cpr, j%cpr
		lo = run*p.count + c*size
		return lo, lo + min(size, p.count-c*size), run*nb + c*fuseChunkBlocks
	}
	lo = j * size
	return lo, min(p.n, lo+size), 0
}

func (p *program) chunks() int {
	if p.count > 1 {
		nb := p.blocksPerRun()
		return p.n / p.count * ((nb + fuseChunkBlocks - 1) / fuseChunkBlocks)
	}
	return (p.n + fuseChunkBlocks*vec.SumBlock - 1) / (fuseChunkBlocks * vec.SumBlock)
}

// run executes the program on c's inputs.
func (p *program) run(c *Context) ([]*tfops.Tensor, error) {
	outs := make([]*tfops.Tensor, len(p.outs))
	outData := make([][]float32, len(p.outs))
	for k, o := range p.outs {
		if o.kind == kindMeta {
			t, err := metaOutput(c, o)
			if err != nil {
				return nil, err
			}
			outs[k] = t
			continue
		}
		t, err := c.AllocUninit(tfops.Float, o.shape...)
		if err != nil {
			return nil, err
		}
		outs[k], outData[k] = t, t.Float32s()
	}
	inData := make([][]float32, len(c.Inputs))
	for j, t := range c.Inputs {
		if t.DType() == tfops.Float {
			inData[j] = t.Float32s()
		}
	}
	scal := make([]float32, len(p.scalars))
	for s, src := range p.scalars {
		if src.input >= 0 {
			scal[s] = inData[src.input][0]
		} else {
			scal[s] = src.value
		}
	}
	nch := p.chunks()
	nblocks := 0
	if p.count > 1 {
		nblocks = p.n / p.count * p.blocksPerRun()
	}
	partial := p.partials(p.sinks * nblocks)
	defer p.partialPool.Put(partial)
	k := vec.Current()
	var next atomic.Int64
	threads := min(c.Threads(), (nch+minGrab-1)/minGrab)
	worker := func() {
		w := p.worker(scal, k)
		defer p.release(w)
		for {
			j0, end, ok := grabChunks(&next, nch, threads)
			if !ok {
				return
			}
			for j := j0; j < end; {
				if cnt := w.fullChunks(p, j, end); cnt > 0 {
					w.multiChunk(k, p, inData, outData, *partial, nblocks, j, cnt)
					j += cnt
					continue
				}
				lo, hi, block := p.chunk(j)
				w.chunk(k, p, inData, outData, *partial, nblocks, block, lo, hi)
				j++
			}
		}
	}
	parallel.Team(threads, worker)
	for k, o := range p.outs {
		if o.kind != kindReduce {
			continue
		}
		nb := p.blocksPerRun()
		part := (*partial)[o.sink*nblocks : (o.sink+1)*nblocks]
		dst := outData[k]
		for run := range dst {
			s := 0.0
			for _, v := range part[run*nb : (run+1)*nb] {
				s += v
			}
			if o.mean {
				s /= float64(p.count)
			}
			dst[run] = out32(s)
		}
	}
	return outs, nil
}

// minGrab is the fewest chunks a goroutine takes at once (64 KiB of each
// input): the last takes are this small, so that the goroutines finish
// within about one take's time of each other.
const minGrab = 16

// grabChunks takes the next chunks [lo, hi) of nch for one of threads
// goroutines: a quarter of the remaining chunks' share of each goroutine
// (guided self-scheduling), at least minGrab; ok is false when none are
// left.
func grabChunks(next *atomic.Int64, nch, threads int) (lo, hi int, ok bool) {
	for {
		cur := int(next.Load())
		if cur >= nch {
			return 0, 0, false
		}
		g := max(minGrab, (nch-cur)/(4*threads))
		hi := min(nch, cur+g)
		if next.CompareAndSwap(int64(cur), int64(hi)) {
			return cur, hi, true
		}
	}
}

// partials returns a buffer of n per-block sums (every element is
// written by the run before it is read: the chunks cover the blocks).
func (p *program) partials(n int) *[]float64 {
	if b, _ := p.partialPool.Get().(*[]float64); b != nil && len(*b) == n {
		return b
	}
	b := make([]float64, n)
	return &b
}

// metaOutput computes Shape, Size or Rank of a region value.
func metaOutput(c *Context, o outSpec) (*tfops.Tensor, error) {
	mc := &Context{Ctx: c.Ctx, Node: o.m.nd.def, State: c.State, depth: c.depth}
	if o.m.op == "Rank" {
		return tfops.FromScalar(int32(len(o.shape))), nil
	}
	d, err := mc.outIndexType("out_type")
	if err != nil {
		return nil, err
	}
	if o.m.op == "Size" {
		return mc.indexTensor(d, []int64{int64(tfops.NumElements(o.shape))})
	}
	v := make([]int64, len(o.shape))
	for i, e := range o.shape {
		v[i] = int64(e)
	}
	return mc.indexTensor(d, v, len(v))
}

// progWorker is one goroutine's buffers.
type progWorker struct {
	k       *vec.Kernels // the kernel set the buffers were made for
	temps   [][]float32
	scalars [][]float32
	// scalarVal[s] is the value scalars[s] is filled with.
	scalarVal []float32
	views     [][]float32
	// filled[t] > 0: temp t holds fillVal[t] in its first filled elements
	// (a broadcast operand constant over the last chunks).
	filled  []int
	fillVal []float32
	lanes   [vec.SumLaneCount]float64
	// The runner (fuse_runner.go), when the kernels have one: its code,
	// the operand table (the slots' chunk pointers, then sumLanes), the
	// table for the elements after a chunk's whole tiles, and for several
	// chunks per call the table and the lanes of every sum of every chunk.
	rc       *runnerCode
	ptrs     []unsafe.Pointer
	ptrsRest []unsafe.Pointer
	mptrs    []unsafe.Pointer
	mlanes   []float64
	msums    []float64 // multiChunk's block sums, chunk-major (CombineLanesN)
	sumLanes [][vec.SumLaneCount]float64
}

// The runner keeps one lane buffer per sum: a chunk must lie in one
// summation block.
var _ [1]struct{} = [fuseChunkBlocks]struct{}{}

// worker returns a goroutine's buffers for one run with the scalars scal
// on the kernel set k: one kept from an earlier run of p when it was made
// for the same kernel set and runner code (the scalars refilled, no
// broadcast fill assumed), else new ones.
func (p *program) worker(scal []float32, k *vec.Kernels) *progWorker {
	w, _ := p.workers.Get().(*progWorker)
	if w == nil || w.k != k || (w.rc != nil && w.rc != p.runner(k, scal)) {
		return newProgWorker(p, scal, k)
	}
	clear(w.filled)
	for s, v := range scal {
		// Constants are the same every run: refill only what changed
		// (a fill is 4 KiB of stores, a cache-cold microsecond after a
		// large input has streamed through).
		if f32Bits(w.scalarVal[s]) != f32Bits(v) {
			fill32(w.scalars[s], v)
			w.scalarVal[s] = v
		}
	}
	return w
}

// release keeps w for the next run of p, without its references to this
// run's inputs and outputs (a kept worker must not hold tensors alive).
func (p *program) release(w *progWorker) {
	clear(w.views)
	for s, sl := range p.slots {
		if sl.kind == slotTemp || sl.kind == slotScalar {
			continue
		}
		for _, t := range [][]unsafe.Pointer{w.ptrs, w.ptrsRest, w.mptrs} {
			if t != nil {
				t[s] = nil
			}
		}
	}
	p.workers.Put(w)
}

func newProgWorker(p *program, scal []float32, k *vec.Kernels) *progWorker {
	w := &progWorker{k: k, views: make([][]float32, len(p.slots)), filled: make([]int, p.temps), fillVal: make([]float32, p.temps)}
	if k.Prog != nil || k.Chunks != nil {
		w.rc = p.runner(k, scal)
		sums := len(w.rc.sinks)
		w.sumLanes = make([][vec.SumLaneCount]float64, sums)
		w.ptrs = make([]unsafe.Pointer, len(p.slots)+sums)
		w.ptrsRest = make([]unsafe.Pointer, len(p.slots)+sums)
		for j := range w.sumLanes {
			w.ptrs[len(p.slots)+j] = unsafe.Pointer(&w.sumLanes[j])
			w.ptrsRest[len(p.slots)+j] = w.ptrs[len(p.slots)+j]
		}
		if w.rc.unified != nil {
			w.mptrs = make([]unsafe.Pointer, len(p.slots)+sums)
			w.mlanes = make([]float64, maxMultiChunks*sums*vec.SumLaneCount)
			w.msums = make([]float64, maxMultiChunks*sums)
		}
	}
	const size = fuseChunkBlocks * vec.SumBlock
	buf := make([]float32, (p.temps+len(scal))*size)
	for t := 0; t < p.temps; t++ {
		w.temps = append(w.temps, buf[t*size:(t+1)*size])
	}
	for s, v := range scal {
		b := buf[(p.temps+s)*size : (p.temps+s+1)*size]
		fill32(b, v)
		w.scalars = append(w.scalars, b)
	}
	w.scalarVal = slices.Clone(scal)
	if w.ptrs != nil {
		for s, sl := range p.slots {
			switch sl.kind {
			case slotTemp:
				w.ptrs[s] = unsafe.Pointer(&w.temps[sl.idx][0])
			case slotScalar:
				w.ptrs[s] = unsafe.Pointer(&w.scalars[sl.idx][0])
			}
		}
	}
	return w
}

// chunk runs the program on elements [lo, hi), whose first summation block
// is block (of nblocks per sink).
func (w *progWorker) chunk(k *vec.Kernels, p *program, in, out [][]float32, partial []float64, nblocks, block, lo, hi int) {
	n := hi - lo
	if k.Prog != nil && w.rc != nil && !w.rc.hasGo {
		w.runnerChunk(k, p, in, out, partial, nblocks, block, lo, hi)
		return
	}
	for s, sl := range p.slots {
		switch sl.kind {
		case slotInput:
			w.views[s] = in[sl.idx][lo:hi]
		case slotOutput:
			w.views[s] = out[sl.idx][lo:hi]
		case slotTemp:
			w.views[s] = w.temps[sl.idx][:n]
		case slotScalar:
			w.views[s] = w.scalars[sl.idx][:n]
		case slotBcast:
			w.bcast(&p.slots[s], in, lo, hi)
			w.views[s] = w.temps[sl.buf][:n]
		}
	}
	if k.Prog != nil && w.rc != nil {
		for s, v := range w.views {
			w.ptrs[s] = unsafe.Pointer(unsafe.SliceData(v))
		}
		w.runSegments(k, p, partial, nblocks, block, n)
		return
	}
	for _, in := range p.instrs {
		w.goInstr(k, in, partial, nblocks, block)
	}
}

// goInstr runs one instruction on the chunk whose views are set.
func (w *progWorker) goInstr(k *vec.Kernels, in instr, partial []float64, nblocks, block int) {
	v := w.views
	if in.op < numVecOps {
		k.Apply(vec.Op(in.op), v[in.dst], v[in.a], w.view(in.b), w.view(in.c))
		return
	}
	switch in.op {
	case vSqDiff:
		k.Sub(v[in.dst], v[in.a], v[in.b])
		k.Mul(v[in.dst], v[in.dst], v[in.dst])
	case vCopy:
		copy(v[in.dst], v[in.a])
	case vPow:
		if w.scalars[in.scalar][0] == 2 {
			k.Mul(v[in.dst], v[in.a], v[in.a])
		} else {
			applyFunc2(v[in.dst], v[in.a], v[in.b], in.unfusedPow, in.mode)
		}
	case vFunc1:
		applyFunc1(v[in.dst], v[in.a], in.f1, in.mode)
	case vFunc2:
		applyFunc2(v[in.dst], v[in.a], v[in.b], in.f2, in.mode)
	case vSum:
		x := v[in.a]
		for b, off := block, 0; off < len(x); b, off = b+1, off+vec.SumBlock {
			w.lanes = [vec.SumLaneCount]float64{}
			k.SumLanes(x[off:min(off+vec.SumBlock, len(x))], &w.lanes)
			partial[in.sink*nblocks+b] = vec.CombineLanes(&w.lanes)
		}
	}
}

// view is slot s's chunk view, nil for an unused operand (s < 0).
func (w *progWorker) view(s int) []float32 {
	if s < 0 {
		return nil
	}
	return w.views[s]
}

// applyFunc1 is applyUnary's loop for one chunk.
func applyFunc1(dst, x []float32, f func(float32) float32, mode flushMode) {
	x = x[:len(dst)]
	for i := range dst {
		a := x[i]
		if mode == flushArith {
			a = flush32(a)
		}
		r := f(a)
		if mode != flushNone {
			r = flush32(r)
		}
		dst[i] = r
	}
}

// applyFunc2 is applyBinary's loop for one chunk.
func applyFunc2(dst, x, y []float32, f func(a, b float32) float32, mode flushMode) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		a, b := x[i], y[i]
		if mode == flushArith {
			a, b = flush32(a), flush32(b)
		}
		r := f(a, b)
		if mode != flushNone {
			r = flush32(r)
		}
		dst[i] = r
	}
}

// fill32 sets every element of s to v (by doubling copies, which memmove
// vectorizes).
func fill32(s []float32, v float32) {
	if len(s) == 0 {
		return
	}
	s[0] = v
	for n := 1; n < len(s); n *= 2 {
		copy(s[n:], s[:n])
	}
}

// gatherBcast fills dst with the elements lo, lo+1, ... of a value of
// (merged) dims whose element at multi-index idx is src[Σ idx·strides].
func gatherBcast(dst, src []float32, dims, strides []int, lo int) {
	nd := len(dims)
	var idxBuf [16]int
	var idx []int
	if nd > len(idxBuf) {
		idx = make([]int, nd)
	} else {
		idx = idxBuf[:nd]
	}
	off, r := 0, lo
	for d := nd - 1; d >= 0; d-- {
		idx[d] = r % dims[d]
		r /= dims[d]
		off += idx[d] * strides[d]
	}
	inner, s := dims[nd-1], strides[nd-1]
	for i := 0; i < len(dst); {
		k := min(inner-idx[nd-1], len(dst)-i)
		switch s {
		case 0:
			fill32(dst[i:i+k], src[off])
		case 1:
			copy(dst[i:i+k], src[off:off+k])
		default:
			for t := 0; t < k; t++ {
				dst[i+t] = src[off+t*s]
			}
		}
		i += k
		idx[nd-1] += k
		off += k * s
		if idx[nd-1] < inner {
			continue
		}
		off -= inner * s
		idx[nd-1] = 0
		for d := nd - 2; d >= 0; d-- {
			idx[d]++
			off += strides[d]
			if idx[d] < dims[d] {
				break
			}
			off -= dims[d] * strides[d]
			idx[d] = 0
		}
	}
}
