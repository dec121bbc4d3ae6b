// Package goengine is tfseg's pure-Go TensorFlow executor: it runs GraphDefs
// (and the functions in their libraries) with kernels written in Go, no cgo.
// It registers itself with the engine registry as "go" and is the default.
//
// Semantics follow TensorFlow's CPU kernels: NumPy broadcasting, IEEE NaN
// and Inf propagation, float64 accumulation in float32 reductions. Kernels
// never modify their inputs. A kernel that fails or panics is reported as an
// error naming the node and op. NewSession compiles lazily: an op without a
// kernel fails with engine.ErrUnsupportedOp when a run reaches it (a
// SavedModel's library holds training and GPU functions no signature
// calls); tfseg.Load checks, through Engine.OpInfo, every op the model's
// signatures reach before any input is read.
//
// Errors wrap the engine package's sentinels together with their cause
// (%w for both). NewSession checks the graph's structure (names, inputs,
// node counts: engine.ErrInvalidGraph, engine.ErrLimit); Run checks feeds
// against Placeholders (engine.ErrFeed), fetch and target names
// (engine.ErrUnknownNode), then each kernel its own inputs and attrs when
// it runs: a kernel's error names the node and op, an op without a kernel
// is engine.ErrUnsupportedOp, a panic engine.ErrKernel and engine.ErrPanic.
// The design of the executor, the fusion and the vector kernels is in
// docs/design.md.
package goengine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/tfops"
)

// Name is the registry name of the Go engine.
const Name = "go"

// Engine is the pure-Go engine. Its zero value, which the registry holds,
// fuses elementwise regions (see fuse.go).
type Engine struct {
	// Unfused runs every node with its own kernel: no graph-level
	// fusion. Results are the same bits either way; this exists for
	// comparison and debugging.
	Unfused bool
}

func init() { engine.Register(Engine{}) }

// Name returns "go".
func (Engine) Name() string { return Name }

// OpInfo reports whether the Go engine has a kernel for op and whether op
// is stateful (engine.OpLister).
func (Engine) OpInfo(op string) (supported, stateful bool) {
	d, ok := LookupOp(op)
	return ok && d.Kernel != nil, d.Stateful
}

// NewSession compiles graph for execution.
func (e Engine) NewSession(gd *graphpb.GraphDef, opts engine.SessionOptions) (engine.Session, error) {
	if gd == nil {
		return nil, fmt.Errorf("%w: nil GraphDef", engine.ErrInvalidGraph)
	}
	st, err := newState(gd.GetLibrary(), opts)
	if err != nil {
		return nil, err
	}
	nodes, _ := withDefaults(gd.GetNode())
	if !e.Unfused {
		// Convolution chains first, so that their activations are absorbed
		// before the elementwise regions are planned.
		nodes, _ = fuseConvChains(nodes, nil)
		st.fuseConv = true
	}
	g, err := compileGraph(nodes, st.limits)
	if err != nil {
		return nil, err
	}
	return &Session{g: g, st: st, fuse: !e.Unfused}, nil
}

// Session runs one compiled graph. Run is safe for concurrent use; variables
// are shared by all runs of the session.
type Session struct {
	g      *graph
	st     *State
	closed atomic.Bool
	fuse   bool
	// plans caches the fused rewrites of g by planKey.
	plansMu sync.Mutex
	plans   map[string]*execPlan
}

// maxPlans bounds the plans a session keeps (one per combination of feeds
// with their shapes, fetches and targets).
const maxPlans = 64

// plan returns the graph and fetches to execute for this run.
func (s *Session) plan(feeds map[edge]*tfops.Tensor, fetches []edge, targets []int) *execPlan {
	key := planKey(feeds, fetches, targets)
	s.plansMu.Lock()
	defer s.plansMu.Unlock()
	if p, ok := s.plans[key]; ok {
		return p
	}
	sc := newSchedule(s.g, feeds, fetches, targets)
	p := &execPlan{g: s.g, fetches: fetches, sched: sc}
	if s.fuse {
		p = buildPlan(s.g, sc, feeds, fetches, targets)
		p.sched = sc
		if p.g != s.g {
			p.sched = newSchedule(p.g, feeds, p.fetches, targets)
		}
	}
	if s.plans == nil || len(s.plans) >= maxPlans {
		s.plans = map[string]*execPlan{}
	}
	s.plans[key] = p
	return p
}

// State exposes the session's resources (for restoring variables).
func (s *Session) State() *State { return s.st }

// Close releases the session's variables.
func (s *Session) Close() error {
	s.closed.Store(true)
	s.st.mu.Lock()
	s.st.resources = map[string]any{}
	s.st.mu.Unlock()
	return nil
}

func (s *Session) lookup(name, what string) (edge, error) {
	node, idx, ctrl, err := tfops.ParseTensorName(name)
	if err != nil || ctrl {
		return edge{}, fmt.Errorf("%w: %s %q is not a tensor name", engine.ErrUnknownNode, what, name)
	}
	i, ok := s.g.byName[node]
	if !ok {
		return edge{}, fmt.Errorf("%w: %s %q: no node %q in the graph%s", engine.ErrUnknownNode, what, name, node, s.suggest(node))
	}
	return edge{i, idx}, nil
}

// suggest lists Placeholders, the usual feed targets, for error messages.
func (s *Session) suggest(string) string {
	var ph []string
	for _, n := range s.g.nodes {
		if n.op == "Placeholder" || n.op == "PlaceholderWithDefault" {
			ph = append(ph, n.name)
		}
	}
	if len(ph) == 0 || len(ph) > 20 {
		return ""
	}
	sort.Strings(ph)
	return " (placeholders: " + strings.Join(ph, ", ") + ")"
}

// Run feeds, runs and fetches. Feeds into Placeholders are checked against
// the placeholder's dtype and shape.
func (s *Session) Run(ctx context.Context, feeds map[string]*tfops.Tensor, fetches []string, targets []string) ([]*tfops.Tensor, error) {
	if s.closed.Load() {
		return nil, engine.ErrClosed
	}
	if ctx == nil {
		ctx = context.Background()
	}
	fe := make(map[edge]*tfops.Tensor, len(feeds))
	for name, t := range feeds {
		e, err := s.lookup(name, "feed")
		if err != nil {
			return nil, err
		}
		if t == nil {
			return nil, fmt.Errorf("%w: feed %q is nil", engine.ErrFeed, name)
		}
		if err := checkFeed(s.g.nodes[e.node], e.out, t); err != nil {
			return nil, err
		}
		fe[e] = t
	}
	fx := make([]edge, len(fetches))
	for k, name := range fetches {
		e, err := s.lookup(name, "fetch")
		if err != nil {
			return nil, err
		}
		fx[k] = e
	}
	var tg []int
	for _, name := range targets {
		node := strings.TrimPrefix(name, "^")
		if i := strings.LastIndexByte(node, ':'); i >= 0 {
			node = node[:i]
		}
		i, ok := s.g.byName[node]
		if !ok {
			return nil, fmt.Errorf("%w: target %q: no such node", engine.ErrUnknownNode, name)
		}
		tg = append(tg, i)
	}
	p := s.plan(fe, fx, tg)
	return execute(ctx, s.st, p.g, p.sched, fe, p.fetches, 0)
}

func checkFeed(n *node, out int, t *tfops.Tensor) error {
	if n.op != "Placeholder" && n.op != "PlaceholderWithDefault" {
		return nil
	}
	if out != 0 {
		return fmt.Errorf("%w: feed %s:%d: a placeholder has one output", engine.ErrFeed, n.name, out)
	}
	if a := n.def.GetAttr()["dtype"]; a != nil {
		if want := tfops.DType(a.GetType()); want != t.DType() {
			return fmt.Errorf("%w: feed %q: placeholder expects %v, got %v", engine.ErrFeed, n.name, want, t.DType())
		}
	}
	if a := n.def.GetAttr()["shape"]; a != nil {
		want := tfops.ShapeFromProto(a.GetShape())
		if !want.CompatibleWith(t.StaticShape()) {
			return fmt.Errorf("%w: feed %q: placeholder expects shape %v, got %v", engine.ErrFeed, n.name, want, t.StaticShape())
		}
	}
	return nil
}
