package goengine

import (
	"slices"

	"github.com/tfseg/tfseg/tfops"
)

// schedule is the pruned, ordered work of running a graph for one set of
// fed edges, fetches and targets: which nodes are needed, which are fed,
// the order the executor runs them in, and after which step each
// intermediate value is dead. It depends only on the graph's structure and
// on which edges are fed, never on tensor values, so it is computed once:
// a session keeps one per plan (execPlan.sched, for the graph the plan
// runs), a function body one for its arguments (graph.callSchedule), and
// the fusion planner reads the one of the graph it rewrites (buildPlan).
type schedule struct {
	needed []bool
	// fed[i]: node i does not run, its outputs are fed (fedNodes).
	fed []bool
	// consumers[i] are the needed nodes that read node i (data edges that
	// are not fed, and control edges), once per edge; indeg[i] counts them
	// for node i.
	consumers [][]int
	indeg     []int
	// order is the executor's order: Kahn's algorithm over the needed
	// nodes, taking the most recently readied node first (depth first, so
	// values die early).
	order []int
	// release[k] are the values whose last reader is order[k].
	release [][]edge
	// dying[k][j] says input j of order[k] dies with it: released after
	// the step and read once by the node, so its kernel may overwrite it
	// (Context.reuseInput). nil when no input of the step dies.
	dying [][]bool
	// cyclic counts the needed nodes that can never run (a cycle).
	cyclic int
}

// newSchedule computes the schedule of running fetches and targets of g
// with feeds (only which edges are fed matters).
func newSchedule(g *graph, feeds map[edge]*tfops.Tensor, fetches []edge, targets []int) *schedule {
	n := len(g.nodes)
	s := &schedule{fed: fedNodes(g, feeds, fetches), indeg: make([]int, n), consumers: make([][]int, n)}
	s.needed = s.neededNodes(g, feeds, fetches, targets)
	uses := make(map[edge]int)
	for i, nd := range g.nodes {
		if !s.needed[i] || s.fed[i] {
			continue
		}
		for _, e := range nd.in {
			if _, ok := feeds[e]; ok {
				continue
			}
			s.indeg[i]++
			s.consumers[e.node] = append(s.consumers[e.node], i)
			uses[e]++
		}
		for _, c := range nd.ctrl {
			s.indeg[i]++
			s.consumers[c] = append(s.consumers[c], i)
		}
	}
	for _, e := range fetches {
		uses[e]++ // never released
	}
	s.order = s.topo(true)
	total := 0
	for _, b := range s.needed {
		if b {
			total++
		}
	}
	s.cyclic = total - len(s.order)
	s.release = make([][]edge, len(s.order))
	for k, i := range s.order {
		nd := g.nodes[i]
		if s.fed[i] || nd.argIndex >= 0 {
			continue
		}
		for _, e := range nd.in {
			if _, ok := feeds[e]; ok {
				continue
			}
			uses[e]--
			if uses[e] == 0 {
				s.release[k] = append(s.release[k], e)
			}
		}
	}
	s.dying = make([][]bool, len(s.order))
	for k, i := range s.order {
		in := g.nodes[i].in
		for j, e := range in {
			reads := 0
			for _, f := range in {
				if f == e {
					reads++
				}
			}
			if reads == 1 && slices.Contains(s.release[k], e) {
				if s.dying[k] == nil {
					s.dying[k] = make([]bool, len(in))
				}
				s.dying[k][j] = true
			}
		}
	}
	return s
}

// topo orders the needed nodes by Kahn's algorithm: with lifo, the most
// recently readied node first (the executor's order), else the earliest
// (the fusion planner's). Nodes on a cycle are left out.
func (s *schedule) topo(lifo bool) []int {
	indeg := append([]int(nil), s.indeg...)
	var ready, order []int
	for i, b := range s.needed {
		if b && indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		var i int
		if lifo {
			i, ready = ready[len(ready)-1], ready[:len(ready)-1]
		} else {
			i, ready = ready[0], ready[1:]
		}
		order = append(order, i)
		for _, c := range s.consumers[i] {
			indeg[c]--
			if indeg[c] == 0 {
				ready = append(ready, c)
			}
		}
	}
	return order
}

// neededNodes marks the nodes a run of fetches and targets executes: those
// they depend on through unfed edges, stopping at fed nodes and function
// arguments.
func (s *schedule) neededNodes(g *graph, feeds map[edge]*tfops.Tensor, fetches []edge, targets []int) []bool {
	needed := make([]bool, len(g.nodes))
	stack := make([]int, 0, len(fetches)+len(targets))
	for _, e := range fetches {
		stack = append(stack, e.node)
	}
	stack = append(stack, targets...)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if needed[i] {
			continue
		}
		needed[i] = true
		if s.fed[i] || g.nodes[i].argIndex >= 0 {
			continue
		}
		for _, e := range g.nodes[i].in {
			if _, ok := feeds[e]; !ok {
				stack = append(stack, e.node)
			}
		}
		stack = append(stack, g.nodes[i].ctrl...)
	}
	return needed
}

// neededNodes marks the nodes a run of fetches and targets of g executes.
func neededNodes(g *graph, feeds map[edge]*tfops.Tensor, fetches []edge, targets []int) []bool {
	return newSchedule(g, feeds, fetches, targets).needed
}

// fedNodes marks the nodes that do not run: output 0 is fed and no node
// of g, and no fetch, reads another of its outputs unfed (a node with such
// a reader runs, and its fed outputs are still read from the feeds).
// Function arguments are never fed nodes (they are fed, and run nothing).
func fedNodes(g *graph, feeds map[edge]*tfops.Tensor, fetches []edge) []bool {
	fed := make([]bool, len(g.nodes))
	for e := range feeds {
		if e.out == 0 && g.nodes[e.node].argIndex < 0 {
			fed[e.node] = true
		}
	}
	unfed := func(e edge) {
		if _, ok := feeds[e]; !ok && e.out != 0 {
			fed[e.node] = false
		}
	}
	for _, nd := range g.nodes {
		for _, e := range nd.in {
			unfed(e)
		}
	}
	for _, e := range fetches {
		unfed(e)
	}
	return fed
}
