package goengine

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	fpb "github.com/wamuir/graft/tensorflow/core/framework/function_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/tfops"
)

// edge names one output of one node in a compiled graph.
type edge struct{ node, out int }

// node is a compiled NodeDef.
type node struct {
	def  *nodepb.NodeDef
	name string
	op   string
	in   []edge
	ctrl []int
	opd  OpDef
	// argIndex is the function argument index of an _Arg node, else -1.
	argIndex int
	// retains is retainsInputs(n), computed with the node (not on every
	// run: it ranges over the attr map).
	retains bool
}

// graph is a compiled, validated GraphDef or FunctionDef body.
type graph struct {
	nodes  []*node
	byName map[string]int
	// For function bodies: the nodes/edges of the results and control results.
	rets        []edge
	controlRets []int
	stateful    []int
	numArgs     int
	// call is a function body's schedule for its arguments, results,
	// control results and stateful nodes (CallFunction), made on first call.
	call *callSchedule
}

type callSchedule struct {
	once sync.Once
	s    *schedule
}

// compileGraph resolves node inputs to edges. It does not check that every
// op has a kernel: a SavedModel's graph holds ops no signature runs, so an
// op without one fails when a run reaches it (runKernel), and tfseg.Load
// checks what the signatures reach beforehand (Engine.OpInfo).
func compileGraph(nodes []*nodepb.NodeDef, limits engine.Limits) (*graph, error) {
	if len(nodes) > limits.MaxNodes {
		return nil, fmt.Errorf("%w: MaxNodes: graph has %d nodes, limit %d", engine.ErrLimit, len(nodes), limits.MaxNodes)
	}
	g := &graph{byName: make(map[string]int, len(nodes)), call: &callSchedule{}}
	for i, nd := range nodes {
		if nd.GetName() == "" {
			return nil, fmt.Errorf("%w: node %d has no name", engine.ErrInvalidGraph, i)
		}
		if _, dup := g.byName[nd.GetName()]; dup {
			return nil, fmt.Errorf("%w: duplicate node name %q", engine.ErrInvalidGraph, nd.GetName())
		}
		g.byName[nd.GetName()] = i
		opd, _ := LookupOp(nd.GetOp())
		n := &node{def: nd, name: nd.GetName(), op: nd.GetOp(), opd: opd, argIndex: -1}
		n.retains = retainsInputs(n)
		g.nodes = append(g.nodes, n)
	}
	for _, n := range g.nodes {
		for _, in := range n.def.GetInput() {
			src, idx, ctrl, err := tfops.ParseTensorName(in)
			if err != nil {
				return nil, fmt.Errorf("%w: node %q (%s): input %q: %w", engine.ErrInvalidGraph, n.name, n.op, in, err)
			}
			j, ok := g.byName[src]
			if !ok {
				return nil, fmt.Errorf("%w: node %q (%s): input %q names no node", engine.ErrInvalidGraph, n.name, n.op, in)
			}
			if ctrl {
				n.ctrl = append(n.ctrl, j)
			} else {
				n.in = append(n.in, edge{j, idx})
			}
		}
	}
	return g, nil
}

// State is a session's mutable state: resources (variables) shared by every
// Run, and the function library.
type State struct {
	mu        sync.Mutex
	resources map[string]any
	lib       map[string]*fpb.FunctionDef
	funcs     sync.Map // name -> *funcEntry
	consts    sync.Map // *attrpb.AttrValue -> decoded *tfops.Tensor
	// fuseConv rewrites Conv2D/Conv2DBackpropInput -> BiasAdd -> activation
	// chains in library functions into fused kernels (conv_fuse.go).
	fuseConv bool
	limits   engine.Limits
	threads  int
	// pool keeps float32 buffers released by runs for AllocUninit (alloc.go).
	pool *bufPool
}

type funcEntry struct {
	once sync.Once
	g    *graph
	err  error
}

// Resource returns the resource stored under key, creating it with mk when
// absent. Variables live here between runs.
func (s *State) Resource(key string, mk func() any) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.resources[key]; ok {
		return r
	}
	if mk == nil {
		return nil
	}
	r := mk()
	s.resources[key] = r
	return r
}

// Limits returns the session limits.
func (s *State) Limits() engine.Limits { return s.limits }

// Function returns the compiled body of the library function name.
func (s *State) function(name string) (*graph, error) {
	e, _ := s.funcs.LoadOrStore(name, &funcEntry{})
	fe := e.(*funcEntry)
	fe.once.Do(func() {
		fd, ok := s.lib[name]
		if !ok {
			fe.err = fmt.Errorf("%w: function %q is not in the graph's library", engine.ErrInvalidGraph, name)
			return
		}
		fd = functionWithDefaults(fd)
		if s.fuseConv {
			fd = fuseConvFunction(fd)
		}
		fe.g, fe.err = compileFunction(fd, s.limits)
	})
	return fe.g, fe.err
}

// CallFunction runs library function name on args and returns its results.
// Kernels of call ops (PartitionedCall, ...) use it.
func (c *Context) CallFunction(name string, args []*tfops.Tensor) ([]*tfops.Tensor, error) {
	if c.depth+1 > c.State.limits.MaxFunctionDepth {
		return nil, fmt.Errorf("%w: MaxFunctionDepth: calling %q at depth %d, limit %d",
			engine.ErrLimit, name, c.depth+1, c.State.limits.MaxFunctionDepth)
	}
	g, err := c.State.function(name)
	if err != nil {
		return nil, err
	}
	if len(args) != g.numArgs {
		return nil, c.Errorf("function %q takes %d arguments, got %d", name, g.numArgs, len(args))
	}
	feeds := make(map[edge]*tfops.Tensor, len(args))
	for i, n := range g.nodes {
		if n.argIndex >= 0 {
			feeds[edge{i, 0}] = args[n.argIndex]
		}
	}
	g.call.once.Do(func() {
		targets := append(append([]int{}, g.controlRets...), g.stateful...)
		g.call.s = newSchedule(g, feeds, g.rets, targets)
	})
	out, err := execute(c.Ctx, c.State, g, g.call.s, feeds, g.rets, c.depth+1)
	if err != nil {
		return nil, fmt.Errorf("in function %q: %w", name, err)
	}
	return out, nil
}

// compileFunction turns a FunctionDef into a graph: one _Arg node per input
// arg, the body nodes, and edges resolved from the "node:out_arg:index" syntax.
func compileFunction(fd *fpb.FunctionDef, limits engine.Limits) (*graph, error) {
	sig := fd.GetSignature()
	fname := sig.GetName()
	nodes := make([]*nodepb.NodeDef, 0, len(sig.GetInputArg())+len(fd.GetNodeDef()))
	argNames := map[string]int{}
	for i, a := range sig.GetInputArg() {
		argNames[a.GetName()] = i
		nodes = append(nodes, &nodepb.NodeDef{Name: a.GetName(), Op: "_Arg"})
	}
	bodyStart := len(nodes)
	nodes = append(nodes, fd.GetNodeDef()...)
	// Resolve body inputs: rewrite them to plain "node:index" after compiling
	// names, so reuse compileGraph with inputs cleared, then fill edges.
	stripped := make([]*nodepb.NodeDef, len(nodes))
	for i, n := range nodes {
		c := &nodepb.NodeDef{Name: n.GetName(), Op: n.GetOp(), Attr: n.GetAttr(), Device: n.GetDevice()}
		stripped[i] = c
	}
	g, err := compileGraph(stripped, limits)
	if err != nil {
		return nil, fmt.Errorf("function %q: %w", fname, err)
	}
	for i := range sig.GetInputArg() {
		g.nodes[i].argIndex = i
	}
	g.numArgs = len(sig.GetInputArg())
	resolve := func(where, ref string) (edge, bool, error) {
		if strings.HasPrefix(ref, "^") {
			j, ok := g.byName[ref[1:]]
			if !ok {
				return edge{}, true, fmt.Errorf("%w: function %q: %s: control input %q names no node", engine.ErrInvalidGraph, fname, where, ref)
			}
			return edge{j, -1}, true, nil
		}
		parts := strings.Split(ref, ":")
		switch len(parts) {
		case 1:
			j, ok := argNames[parts[0]]
			if !ok {
				return edge{}, false, fmt.Errorf("%w: function %q: %s: input %q is not an argument", engine.ErrInvalidGraph, fname, where, ref)
			}
			return edge{j, 0}, false, nil
		case 3:
			j, ok := g.byName[parts[0]]
			if !ok || j < bodyStart {
				return edge{}, false, fmt.Errorf("%w: function %q: %s: input %q names no node", engine.ErrInvalidGraph, fname, where, ref)
			}
			idx, err := outputIndex(g.nodes[j], parts[1], parts[2])
			if err != nil {
				return edge{}, false, fmt.Errorf("%w: function %q: %s: input %q: %w", engine.ErrInvalidGraph, fname, where, ref, err)
			}
			return edge{j, idx}, false, nil
		}
		return edge{}, false, fmt.Errorf("%w: function %q: %s: malformed input %q", engine.ErrInvalidGraph, fname, where, ref)
	}
	for i := bodyStart; i < len(nodes); i++ {
		n := g.nodes[i]
		for _, in := range nodes[i].GetInput() {
			e, ctrl, err := resolve(fmt.Sprintf("node %q (%s)", n.name, n.op), in)
			if err != nil {
				return nil, err
			}
			if ctrl {
				n.ctrl = append(n.ctrl, e.node)
			} else {
				n.in = append(n.in, e)
			}
		}
		if n.opd.Stateful {
			g.stateful = append(g.stateful, i)
		}
	}
	for _, a := range sig.GetOutputArg() {
		ref, ok := fd.GetRet()[a.GetName()]
		if !ok {
			return nil, fmt.Errorf("%w: function %q: output %q has no ret", engine.ErrInvalidGraph, fname, a.GetName())
		}
		e, _, err := resolve("ret "+a.GetName(), ref)
		if err != nil {
			return nil, err
		}
		g.rets = append(g.rets, e)
	}
	for _, name := range sig.GetControlOutput() {
		ref, ok := fd.GetControlRet()[name]
		if !ok {
			continue
		}
		j, ok := g.byName[ref]
		if !ok {
			return nil, fmt.Errorf("%w: function %q: control ret %q names no node", engine.ErrInvalidGraph, fname, ref)
		}
		g.controlRets = append(g.controlRets, j)
	}
	return g, nil
}

// outputIndex maps an output arg name and index within it to the flat
// output index of n, using the op's OutputArgs.
func outputIndex(n *node, arg, idxs string) (int, error) {
	var idx int
	if _, err := fmt.Sscanf(idxs, "%d", &idx); err != nil || idx < 0 {
		return 0, fmt.Errorf("bad output index %q", idxs)
	}
	if n.opd.OutputArgs == nil {
		return idx, nil
	}
	base := 0
	for _, oa := range n.opd.OutputArgs {
		size := 1
		switch {
		case oa.NumberAttr != "":
			a := n.def.GetAttr()[oa.NumberAttr]
			size = int(a.GetI())
		case oa.TypeListAttr != "":
			a := n.def.GetAttr()[oa.TypeListAttr]
			size = len(a.GetList().GetType())
		}
		if oa.Name == arg {
			if idx >= size {
				return 0, fmt.Errorf("output %s:%d out of range (%d)", arg, idx, size)
			}
			return base + idx, nil
		}
		base += size
	}
	return 0, fmt.Errorf("op %s has no output arg %q", n.op, arg)
}

// execute runs the nodes of g that sc schedules (sc was made for g, for
// the edges of feeds, fetches and the run's targets). Feeds replace node
// outputs. Intermediate tensors are dropped as soon as their last consumer
// has run.
func execute(ctx context.Context, st *State, g *graph, sc *schedule, feeds map[edge]*tfops.Tensor, fetches []edge, depth int) ([]*tfops.Tensor, error) {
	values := make([][]*tfops.Tensor, len(g.nodes))
	arena := newRunArena(st.pool)
	get := func(e edge) (*tfops.Tensor, error) {
		if t, ok := feeds[e]; ok {
			return t, nil
		}
		vs := values[e.node]
		if e.out < 0 || e.out >= len(vs) {
			return nil, fmt.Errorf("%w: node %q (%s) has %d outputs, output %d requested",
				engine.ErrInvalidGraph, g.nodes[e.node].name, g.nodes[e.node].op, len(vs), e.out)
		}
		return vs[e.out], nil
	}
	for k, i := range sc.order {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		nd := g.nodes[i]
		if sc.fed[i] || nd.argIndex >= 0 {
			continue
		}
		ins := make([]*tfops.Tensor, len(nd.in))
		for k, e := range nd.in {
			t, err := get(e)
			if err != nil {
				return nil, err
			}
			ins[k] = t
		}
		arena.markDying(sc.dying[k])
		outs, err := runKernel(ctx, st, nd, ins, depth, arena)
		arena.markDying(nil)
		if err != nil {
			return nil, err
		}
		if nd.retains {
			arena.pin(ins)
		}
		arena.track(outs)
		values[i] = outs
		// Release the inputs whose last consumer this was.
		for _, e := range sc.release[k] {
			if e.out < len(values[e.node]) {
				arena.release(values[e.node][e.out])
				values[e.node][e.out] = nil
			}
		}
	}
	if sc.cyclic > 0 {
		return nil, fmt.Errorf("%w: the graph has a cycle among the %d nodes that could not run", engine.ErrInvalidGraph, sc.cyclic)
	}
	out := make([]*tfops.Tensor, len(fetches))
	for k, e := range fetches {
		t, err := get(e)
		if err != nil {
			return nil, err
		}
		if t == nil {
			return nil, fmt.Errorf("%w: node %q (%s) produced no output %d", engine.ErrInvalidGraph, g.nodes[e.node].name, g.nodes[e.node].op, e.out)
		}
		out[k] = t
	}
	return out, nil
}

// retainsInputs reports whether nd's kernel may keep its inputs beyond the
// run (a stateful op storing a variable, a function call, whose body may
// hold them); their buffers are never recycled.
func retainsInputs(nd *node) bool {
	if nd.opd.Stateful {
		return true
	}
	for _, a := range nd.def.GetAttr() {
		if a.GetFunc() != nil || len(a.GetList().GetFunc()) > 0 {
			return true
		}
	}
	return false
}

// runKernel runs one node's kernel, converting panics and errors into errors
// that name the node and op.
func runKernel(ctx context.Context, st *State, nd *node, ins []*tfops.Tensor, depth int, arena *runArena) (outs []*tfops.Tensor, err error) {
	if nd.opd.Kernel == nil {
		return nil, fmt.Errorf("%w: %s (node %q); the Go engine does not implement it", engine.ErrUnsupportedOp, nd.op, nd.name)
	}
	defer func() {
		if r := recover(); r != nil {
			outs = nil
			err = fmt.Errorf("%w: %w: node %q (%s): panic: %v\n%s", engine.ErrKernel, engine.ErrPanic, nd.name, nd.op, r, firstFrames(debug.Stack()))
		}
	}()
	c := &Context{Ctx: ctx, Node: nd.def, Inputs: ins, State: st, depth: depth, arena: arena}
	outs, err = nd.opd.Kernel(c)
	if err != nil {
		if nd.op == fusedOp { // its error names the member at fault
			return nil, err
		}
		return nil, fmt.Errorf("node %q (%s): %w", nd.name, nd.op, err)
	}
	return outs, nil
}

func firstFrames(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	if len(lines) > 24 {
		lines = lines[:24]
	}
	return strings.Join(lines, "\n")
}

// defaultThreads is the number of goroutines kernels split large work over.
func defaultThreads() int { return runtime.GOMAXPROCS(0) }

// newState builds a session state from a graph's library.
func newState(lib *fpb.FunctionDefLibrary, opts engine.SessionOptions) (*State, error) {
	st := &State{resources: map[string]any{}, lib: map[string]*fpb.FunctionDef{}, limits: opts.Limits.WithDefaults(), threads: opts.Threads, pool: newBufPool()}
	if st.threads <= 0 {
		st.threads = defaultThreads()
	}
	total := 0
	for _, f := range lib.GetFunction() {
		name := f.GetSignature().GetName()
		if _, dup := st.lib[name]; dup {
			return nil, fmt.Errorf("%w: function %q defined twice", engine.ErrInvalidGraph, name)
		}
		st.lib[name] = f
		total += len(f.GetNodeDef())
	}
	if total > st.limits.MaxNodes {
		return nil, fmt.Errorf("%w: MaxNodes: function library has %d nodes, limit %d", engine.ErrLimit, total, st.limits.MaxNodes)
	}
	return st, nil
}
