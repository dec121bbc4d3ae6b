package goengine

import "github.com/tfseg/tfseg/engine/goengine/internal/parallel"

// parallel is parallel.For with the kernel's thread budget.
func (c *Context) parallel(n, grain int, fn func(lo, hi int)) {
	parallel.For(c.Threads(), n, grain, fn)
}

// Grain sizes: elements per chunk below which splitting costs more than it
// saves. Cheap elementwise ops need large chunks, transcendental ones less.
const (
	grainCheap = 1 << 15
	grainHeavy = 1 << 12
)
