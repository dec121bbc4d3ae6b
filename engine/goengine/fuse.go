package goengine

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"

	"github.com/tfseg/tfseg/engine/goengine/internal/vec"
	"github.com/tfseg/tfseg/tfops"
)

// Graph-level fusion of elementwise float32 work.
//
// Before a session runs a graph for a given set of feeds (with their
// shapes), fetches and targets, it looks for regions: connected sets of
// elementwise float32 ops (arithmetic, Exp/Log/..., ClipByValue, Pow,
// OnesLike, Identity, ...) whose intermediate values are not needed
// outside the region, optionally ending in Sum or Mean reductions over
// contiguous runs of elements (all axes, or trailing ones) and in Shape,
// Size or Rank of region values. Each region with two members or more is
// replaced by one node (op "_Fused") that evaluates the members chunk by
// chunk (fuse_program.go): inputs are read once, intermediates live in
// small per-goroutine buffers, reductions add per-chunk partial sums in
// the canonical summation order (vec.SumBlock in internal/vec). The results are the bits the unfused
// kernels produce: the chunk program calls the same vector kernels (or,
// for ops without one, the same per-element functions with the same
// flush-to-zero handling), and the unfused Sum and Mean use the same
// summation order.
//
// A region is convex: no path leaves it and comes back through a node
// outside it, so the fused node can run where its members ran. Nodes with
// control edges, fed nodes, targets and nodes of other dtypes stay as
// they are. When the shapes seen at run time do not fit a region (a
// broadcast that grows a region value, different reduction lengths), the
// fused node runs its members one by one with their own kernels, so
// results and error messages are those of the unfused graph.

// fusedOp is the op name of fused nodes in rewritten graphs.
const fusedOp = "_Fused"

// memberKind classifies region members.
type memberKind int

const (
	// kindElem: an elementwise op; its value has the region's element
	// count and can feed other members.
	kindElem memberKind = iota
	// kindReduce: Sum or Mean of a region value; a region output only.
	kindReduce
	// kindMeta: Shape, Size or Rank of a region value; a region output only.
	kindMeta
)

// fuseClass describes how an op may join a region.
type fuseClass struct {
	kind  memberKind
	arity int
	// typeAttr is the attr holding the element dtype (must be float).
	typeAttr string
}

var fuseClasses = map[string]fuseClass{}

func init() {
	// The ops of the vector kernel table (internal/vec/simd_gen.go's vecOps).
	for op, v := range vec.TFOps {
		fuseClasses[op] = fuseClass{kindElem, v.Arity(), "T"}
	}
	// Ops that run per element in Go (under their flush mode), aliases
	// and fills.
	for _, op := range []string{"Square", "Relu6", "Sqrt", "Rsqrt", "Reciprocal", "Inv", "Tanh", "Expm1",
		"Floor", "Ceil", "Round", "Sign", "Elu", "Identity", "Snapshot", "StopGradient", "OnesLike", "ZerosLike"} {
		fuseClasses[op] = fuseClass{kindElem, 1, "T"}
	}
	fuseClasses["PlaceholderWithDefault"] = fuseClass{kindElem, 1, "dtype"}
	for _, op := range []string{"SquaredDifference", "Pow"} {
		fuseClasses[op] = fuseClass{kindElem, 2, "T"}
	}
	fuseClasses["Sum"] = fuseClass{kindReduce, 2, "T"}
	fuseClasses["Mean"] = fuseClass{kindReduce, 2, "T"}
	for _, op := range []string{"Shape", "Size", "Rank"} {
		fuseClasses[op] = fuseClass{kindMeta, 1, "T"}
	}
}

// execPlan is a graph rewritten for one combination of feeds, fetches and
// targets.
type execPlan struct {
	g       *graph
	fetches []edge
	// sched is g's schedule for the plan's feeds, fetches and targets.
	sched *schedule
	// regions are the fused regions (for tests and debugging).
	regions []*region
}

// planKey identifies what a plan was made for: fed edges with their
// shapes, fetches and targets.
func planKey(feeds map[edge]*tfops.Tensor, fetches []edge, targets []int) string {
	var b strings.Builder
	fe := make([]edge, 0, len(feeds))
	for e := range feeds {
		fe = append(fe, e)
	}
	slices.SortFunc(fe, func(a, b edge) int {
		if a.node != b.node {
			return cmp.Compare(a.node, b.node)
		}
		return cmp.Compare(a.out, b.out)
	})
	// strconv, not fmt: this runs on every Session.Run.
	num := make([]byte, 0, 20)
	writeInt := func(v int, sep byte) {
		b.Write(strconv.AppendInt(num[:0], int64(v), 10))
		b.WriteByte(sep)
	}
	for _, e := range fe {
		writeInt(e.node, ':')
		writeInt(e.out, '[')
		for _, d := range feeds[e].Shape() {
			writeInt(d, ' ')
		}
		b.WriteString("];")
	}
	b.WriteByte('|')
	for _, e := range fetches {
		writeInt(e.node, ':')
		writeInt(e.out, ';')
	}
	b.WriteByte('|')
	for _, t := range targets {
		b.WriteString(strconv.Itoa(t))
		b.WriteByte(';')
	}
	return b.String()
}

// fuser holds the analysis of one graph for one plan.
type fuser struct {
	g       *graph
	feeds   map[edge]*tfops.Tensor
	sc      *schedule // g's for the plan: needed, fed nodes, consumers
	needed  []bool
	order   []int   // needed nodes in topological order (earliest ready first)
	users   [][]int // data and control consumers among needed nodes
	fetched map[edge]bool
	shapes  [][]int // static shape of output 0, nil when unknown
	known   []bool
	region  []int // region index of each node, -1 when none
	regions []*fuseRegion
}

// fuseRegion is a region under construction.
type fuseRegion struct {
	members []int
	// count is the reduction length of its Sum/Mean members when known
	// (0: none yet or unknown).
	count int
}

// buildPlan rewrites g for feeds, fetches and targets, fusing regions;
// sc is g's schedule for them.
func buildPlan(g *graph, sc *schedule, feeds map[edge]*tfops.Tensor, fetches []edge, targets []int) *execPlan {
	f := &fuser{g: g, feeds: feeds, sc: sc, needed: sc.needed, users: sc.consumers, fetched: map[edge]bool{}}
	for _, e := range fetches {
		f.fetched[e] = true
	}
	f.order = sc.topo(false)
	if sc.cyclic > 0 {
		return &execPlan{g: g, fetches: fetches, sched: sc}
	}
	f.inferShapes()
	isTarget := map[int]bool{}
	for _, t := range targets {
		isTarget[t] = true
	}
	f.region = make([]int, len(g.nodes))
	for i := range f.region {
		f.region[i] = -1
	}
	for _, i := range f.order {
		if isTarget[i] {
			continue
		}
		f.place(i)
	}
	f.mergeSiblings()
	return f.rewrite(fetches)
}

// mergeSiblings merges regions that read the same input (dice's Σ z·p and
// Σ (z + p) read z and p), so that the input is read once, when the merged
// region is convex and its reductions have the same length.
func (f *fuser) mergeSiblings() {
	for changed := true; changed; {
		changed = false
		reads := map[edge][]int{} // external edge -> regions reading it
		for r, reg := range f.regions {
			seen := map[edge]bool{}
			for _, i := range reg.members {
				for _, e := range f.g.nodes[i].in {
					if _, fed := f.feeds[e]; !fed && f.region[e.node] == r {
						continue
					}
					if !seen[e] {
						seen[e] = true
						reads[e] = append(reads[e], r)
					}
				}
			}
		}
		edges := make([]edge, 0, len(reads))
		for e := range reads {
			edges = append(edges, e)
		}
		sort.Slice(edges, func(a, b int) bool {
			if edges[a].node != edges[b].node {
				return edges[a].node < edges[b].node
			}
			return edges[a].out < edges[b].out
		})
	scan:
		for _, e := range edges {
			rs := reads[e]
			for a := 0; a < len(rs); a++ {
				for b := a + 1; b < len(rs); b++ {
					if f.tryMerge(rs[a], rs[b]) {
						changed = true
						break scan
					}
				}
			}
		}
	}
}

// tryMerge merges region b into region a when the union is convex and
// the reduction lengths agree.
func (f *fuser) tryMerge(a, b int) bool {
	ra, rb := f.regions[a], f.regions[b]
	if len(ra.members) == 0 || len(rb.members) == 0 {
		return false
	}
	if ra.count != 0 && rb.count != 0 && ra.count != rb.count {
		return false
	}
	union := append(append([]int{}, ra.members...), rb.members[1:]...)
	in := map[int]bool{rb.members[0]: true}
	for _, m := range union {
		in[m] = true
	}
	// Reductions and shape ops end a region: no member may read one.
	for m := range in {
		for _, e := range f.g.nodes[m].in {
			if _, fed := f.feeds[e]; !fed && in[e.node] && f.memberKind(e.node) != kindElem {
				return false
			}
		}
	}
	if !f.convex(union, rb.members[0]) {
		return false
	}
	for _, m := range rb.members {
		f.region[m] = a
	}
	ra.members = append(ra.members, rb.members...)
	rb.members = nil
	if ra.count == 0 {
		ra.count = rb.count
	}
	return true
}

// inferShapes computes the static shapes the fusion decisions need: fed
// tensors, constants, and what elementwise ops and reductions make of
// them.
func (f *fuser) inferShapes() {
	g := f.g
	f.shapes = make([][]int, len(g.nodes))
	f.known = make([]bool, len(g.nodes))
	set := func(i int, s []int) { f.shapes[i], f.known[i] = s, true }
	for e, t := range f.feeds {
		if e.out == 0 {
			set(e.node, t.Shape())
		}
	}
	in := func(nd *node, k int) ([]int, bool) {
		if k >= len(nd.in) {
			return nil, false
		}
		e := nd.in[k]
		if t, ok := f.feeds[e]; ok {
			return t.Shape(), true
		}
		if e.out != 0 {
			return nil, false
		}
		return f.shapes[e.node], f.known[e.node]
	}
	for _, i := range f.order {
		nd := g.nodes[i]
		if f.sc.fed[i] {
			continue
		}
		switch {
		case nd.op == "Const":
			if t := nd.def.GetAttr()["value"].GetTensor(); t != nil {
				s := tfops.ShapeFromProto(t.GetTensorShape())
				if s.FullyDefined() {
					set(i, s.IntDims())
				}
			}
		case fuseClasses[nd.op].kind == kindElem:
			args := len(nd.in)
			if nd.op == "ClipByValue" {
				args = 1 // the bounds are scalars or x's shape
			}
			var dims [][]int
			ok := true
			for k := 0; k < args; k++ {
				s, known := in(nd, k)
				ok = ok && known
				dims = append(dims, s)
			}
			if ok && len(dims) > 0 {
				if out, err := broadcastDims(dims...); err == nil {
					set(i, out)
				}
			}
		case fuseClasses[nd.op].kind == kindReduce:
			x, ok := in(nd, 0)
			axes, ok2 := f.constInts(nd, 1)
			if ok && ok2 {
				if out, _, _, err := reduceShape(x, axes, keepDims(nd.def)); err == nil {
					set(i, out)
				}
			}
		}
	}
}

// constInts returns the int32/int64 values of input k of nd when it is a
// Const node.
func (f *fuser) constInts(nd *node, k int) ([]int64, bool) {
	if k >= len(nd.in) {
		return nil, false
	}
	e := nd.in[k]
	if _, fed := f.feeds[e]; fed || e.out != 0 {
		return nil, false
	}
	return constInts(f.g.nodes[e.node].def)
}

func keepDims(def *nodepb.NodeDef) bool { return def.GetAttr()["keep_dims"].GetB() }

// reduceShape returns the output shape of reducing dims over axes, the
// number of elements each output reduces, and whether each output's
// elements are one contiguous run (all reduced axes after all kept ones,
// ignoring dimensions of size 1).
func reduceShape(dims []int, axes []int64, keep bool) (out []int, count int, contiguous bool, err error) {
	r := len(dims)
	red := make([]bool, r)
	for _, a := range axes {
		if a < -int64(r) || a >= int64(r) {
			if r == 0 && (a == 0 || a == -1) {
				continue
			}
			return nil, 0, false, fmt.Errorf("axis %d out of range for rank %d", a, r)
		}
		if a < 0 {
			a += int64(r)
		}
		red[a] = true
	}
	count = 1
	out = []int{}
	contiguous = true
	seenReduced := false
	for d, n := range dims {
		if red[d] {
			count *= n
			if keep {
				out = append(out, 1)
			}
			if n != 1 {
				seenReduced = true
			}
			continue
		}
		out = append(out, n)
		if n != 1 && seenReduced {
			contiguous = false
		}
	}
	return out, count, contiguous, nil
}

// candidate reports whether node i may join a region.
func (f *fuser) candidate(i int) (fuseClass, bool) {
	nd := f.g.nodes[i]
	cl, ok := fuseClasses[nd.op]
	if !ok || nd.argIndex >= 0 || f.sc.fed[i] || len(nd.ctrl) > 0 || len(nd.in) != cl.arity {
		return cl, false
	}
	if a := nd.def.GetAttr()[cl.typeAttr]; a == nil || tfops.DType(a.GetType()) != tfops.Float {
		return cl, false
	}
	for _, u := range f.users[i] {
		for _, c := range f.g.nodes[u].ctrl {
			if c == i {
				return cl, false // a control source
			}
		}
	}
	for _, e := range nd.in {
		if e.out != 0 && f.region[e.node] >= 0 {
			return cl, false
		}
	}
	return cl, true
}

// regionValue reports whether edge e is a value inside region r that
// members may read.
func (f *fuser) regionValue(e edge) (int, bool) {
	if _, fed := f.feeds[e]; fed || e.out != 0 {
		return -1, false
	}
	r := f.region[e.node]
	if r < 0 {
		return -1, false
	}
	return r, f.memberKind(e.node) == kindElem
}

// memberKind is the kind node i has as a member (count-1 reductions act as
// elementwise ops).
func (f *fuser) memberKind(i int) memberKind {
	cl := fuseClasses[f.g.nodes[i].op]
	if cl.kind == kindReduce {
		if c, ok := f.reduceCount(i); ok && c == 1 {
			return kindElem
		}
	}
	return cl.kind
}

// reduceCount returns the static reduction length of reduction node i,
// and reports whether it is known and contiguous.
func (f *fuser) reduceCount(i int) (int, bool) {
	nd := f.g.nodes[i]
	var x []int
	e := nd.in[0]
	if t, ok := f.feeds[e]; ok {
		x = t.Shape()
	} else if e.out == 0 && f.known[e.node] {
		x = f.shapes[e.node]
	} else {
		return 0, false
	}
	axes, ok := f.constInts(nd, 1)
	if !ok {
		return 0, false
	}
	_, count, contiguous, err := reduceShape(x, axes, keepDims(nd.def))
	if err != nil || !contiguous || count == 0 {
		return 0, false
	}
	return count, true
}

// place adds node i to a region when it can join one.
func (f *fuser) place(i int) {
	cl, ok := f.candidate(i)
	if !ok {
		return
	}
	nd := f.g.nodes[i]
	kind := f.memberKind(i)
	var prs []int
	seen := map[int]bool{}
	for k, e := range nd.in {
		if kind != kindElem && k > 0 {
			break // reduction axes are inputs, not region values
		}
		if r, ok := f.regionValue(e); ok && !seen[r] {
			seen[r] = true
			prs = append(prs, r)
		}
	}
	if kind != kindElem {
		// Sinks join the region of their input only. A sum of a value
		// from outside any region (a fed input) starts a region of its
		// own, which mergeSiblings can merge with a region reading the
		// same value (tversky_image's Σz and Σp next to Σ z·p); alone, it
		// is not rewritten.
		if len(prs) == 0 && cl.kind == kindReduce {
			if c, known := f.reduceCount(i); known {
				f.region[i] = len(f.regions)
				f.regions = append(f.regions, &fuseRegion{members: []int{i}, count: c})
			}
			return
		}
		if len(prs) != 1 {
			return
		}
		r := prs[0]
		reg := f.regions[r]
		c, known := 0, false
		if cl.kind == kindReduce {
			c, known = f.reduceCount(i)
			if known && reg.count != 0 && reg.count != c {
				return
			}
		}
		if f.convex(reg.members, i) {
			if known {
				reg.count = c
			}
			f.join(r, i)
		}
		return
	}
	if len(prs) > 0 {
		// Try all producer regions merged, then each alone (largest first).
		var all []int
		countOK := true
		cnt := 0
		for _, r := range prs {
			all = append(all, f.regions[r].members...)
			if c := f.regions[r].count; c != 0 {
				if cnt != 0 && cnt != c {
					countOK = false
				}
				cnt = c
			}
		}
		if countOK && f.convex(all, i) {
			dst := prs[0]
			for _, r := range prs[1:] {
				for _, m := range f.regions[r].members {
					f.region[m] = dst
				}
				f.regions[dst].members = append(f.regions[dst].members, f.regions[r].members...)
				f.regions[r].members = nil
			}
			f.regions[dst].count = cnt
			f.join(dst, i)
			return
		}
		sort.Slice(prs, func(a, b int) bool { return len(f.regions[prs[a]].members) > len(f.regions[prs[b]].members) })
		for _, r := range prs {
			if f.convex(f.regions[r].members, i) {
				f.join(r, i)
				return
			}
		}
	}
	f.region[i] = len(f.regions)
	f.regions = append(f.regions, &fuseRegion{members: []int{i}})
}

func (f *fuser) join(r, i int) {
	f.region[i] = r
	f.regions[r].members = append(f.regions[r].members, i)
}

// convex reports whether members plus node i form a region no path leaves
// and re-enters: no node outside it is reachable from it through outside
// nodes and also feeds it.
func (f *fuser) convex(members []int, i int) bool {
	in := map[int]bool{i: true}
	for _, m := range members {
		in[m] = true
	}
	// Outside nodes reachable from the set through outside nodes.
	reach := map[int]bool{}
	var stack []int
	for m := range in {
		for _, u := range f.users[m] {
			if !in[u] && !reach[u] {
				reach[u] = true
				stack = append(stack, u)
			}
		}
	}
	for len(stack) > 0 {
		w := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, u := range f.users[w] {
			if in[u] {
				return false
			}
			if !reach[u] {
				reach[u] = true
				stack = append(stack, u)
			}
		}
	}
	return true
}

// rewrite builds the plan's graph: each region of two or more members
// becomes one fused node appended to the node list; consumers and fetches
// of region outputs are redirected to it.
func (f *fuser) rewrite(fetches []edge) *execPlan {
	g := f.g
	nodes := append([]*node(nil), g.nodes...)
	remap := map[edge]edge{}
	var regs []*region
	for ri, fr := range f.regions {
		if len(fr.members) < 2 && !f.worthAlone(fr.members) {
			continue
		}
		sort.Ints(fr.members)
		// Members in topological order.
		pos := map[int]int{}
		for k, i := range f.order {
			pos[i] = k
		}
		sort.Slice(fr.members, func(a, b int) bool { return pos[fr.members[a]] < pos[fr.members[b]] })
		reg := f.makeRegion(ri, fr)
		idx := len(nodes)
		name := "fused/" + g.nodes[fr.members[0]].name
		for k := 2; ; k++ {
			if _, dup := g.byName[name]; !dup {
				break
			}
			name = fmt.Sprintf("fused/%s_%d", g.nodes[fr.members[0]].name, k)
		}
		reg.name = name
		nodes = append(nodes, &node{
			def:      &nodepb.NodeDef{Name: name, Op: fusedOp},
			name:     name,
			op:       fusedOp,
			in:       reg.inputs,
			opd:      OpDef{Kernel: reg.kernel},
			argIndex: -1,
		})
		for k, o := range reg.outputs {
			remap[edge{reg.members[o.member].node, 0}] = edge{idx, k}
		}
		regs = append(regs, reg)
	}
	if len(regs) == 0 {
		return &execPlan{g: g, fetches: fetches}
	}
	for i, nd := range nodes {
		changed := false
		for _, e := range nd.in {
			if _, ok := remap[e]; ok {
				changed = true
			}
		}
		if !changed {
			continue
		}
		c := *nd
		c.in = make([]edge, len(nd.in))
		for k, e := range nd.in {
			if to, ok := remap[e]; ok {
				e = to
			}
			c.in[k] = e
		}
		nodes[i] = &c
	}
	fx := make([]edge, len(fetches))
	for k, e := range fetches {
		if to, ok := remap[e]; ok {
			e = to
		}
		fx[k] = e
	}
	ng := *g
	ng.nodes = nodes
	return &execPlan{g: &ng, fetches: fx, regions: regs}
}

// worthAlone reports whether a one-node region still pays: an op with a
// vector kernel whose unfused kernel is scalar, on a tensor not known to
// be small.
func (f *fuser) worthAlone(members []int) bool {
	if len(members) != 1 {
		return false
	}
	i := members[0]
	switch f.g.nodes[i].op {
	case "AddV2", "Add", "Sub", "Mul", "RealDiv", "Div", "DivNoNan", "Maximum", "Minimum",
		"SquaredDifference", "ClipByValue", "Square":
	default:
		return false
	}
	return !f.known[i] || tfops.NumElements(f.shapes[i]) >= 4*vec.SumBlock
}

// makeRegion turns a fuseRegion into the region the fused kernel runs:
// members with operands resolved to members or fused-node inputs, and the
// outputs (members used outside or fetched).
func (f *fuser) makeRegion(ri int, fr *fuseRegion) *region {
	g := f.g
	reg := &region{}
	memberIdx := map[int]int{}
	inputIdx := map[edge]int{}
	for k, i := range fr.members {
		memberIdx[i] = k
	}
	for _, i := range fr.members {
		nd := g.nodes[i]
		m := &member{node: i, nd: nd, op: nd.op, kind: f.memberKind(i)}
		for _, e := range nd.in {
			if mi, ok := memberIdx[e.node]; ok && e.out == 0 {
				if _, fed := f.feeds[e]; !fed {
					m.args = append(m.args, operand{member: mi, input: -1})
					continue
				}
			}
			j, ok := inputIdx[e]
			if !ok {
				j = len(reg.inputs)
				inputIdx[e] = j
				reg.inputs = append(reg.inputs, e)
				_, fed := f.feeds[e]
				reg.constant = append(reg.constant, !fed && g.nodes[e.node].op == "Const")
			}
			m.args = append(m.args, operand{member: -1, input: j})
		}
		reg.members = append(reg.members, m)
	}
	for k, i := range fr.members {
		used := f.fetched[edge{i, 0}]
		for _, u := range f.users[i] {
			if f.region[u] != ri {
				used = true
			}
		}
		if used {
			reg.members[k].output = len(reg.outputs)
			reg.outputs = append(reg.outputs, regionOutput{member: k})
		} else {
			reg.members[k].output = -1
		}
	}
	return reg
}
