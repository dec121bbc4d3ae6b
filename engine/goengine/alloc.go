package goengine

import (
	"math"
	"os"
	"sync"
	"unsafe"

	"github.com/tfseg/tfseg/tfops"
)

// Buffer reuse. Kernels that overwrite every element of an output allocate
// it with Context.AllocUninit. In a run, the executor counts the live values
// that refer to each such buffer (an Identity or Reshape output, or a view
// into it, is a second reference); when the last one is released, and the
// buffer was never fetched, fed, stored by a stateful op or passed to a
// function call, it goes back to the session's pool, where a later
// AllocUninit of a size up to its own (in this run or another) takes it.

// minPooledFloats is the smallest buffer worth pooling (16 KiB).
const minPooledFloats = 4096

// maxPooledBytes bounds the memory a session's pool keeps idle. A buffer
// the pool refuses becomes garbage that the Go heap keeps until its next
// collection, on top of the buffers allocated to replace it: at 512 MiB a
// U-Net on 2x512x512 images (corpus seg-lenny-unet, about 650 MiB of
// buffers in use at once) dropped and reallocated buffers every run and
// peaked at 1355 MiB of RSS; without the drops, 628 MiB.
const maxPooledBytes = 2 << 30

// poisonUninit makes AllocUninit fill its buffers with NaN, so that a
// kernel that leaves an element unwritten shows it in results. Tests set
// it; so does the environment variable TFSEG_GOENGINE_POISON=1.
var poisonUninit = os.Getenv("TFSEG_GOENGINE_POISON") == "1"

// bufPool is a session's free list of float32 buffers.
type bufPool struct {
	mu    sync.Mutex
	free  [][]float32
	bytes int
}

func newBufPool() *bufPool { return &bufPool{} }

// maxPoolSlack is how much larger than asked a pooled buffer may be: a
// request takes the smallest free buffer of at least n and at most
// maxPoolSlack·n elements. Layers of a network rarely repeat a size
// exactly (a valid convolution takes two pixels off each side), so exact
// sizes would keep one buffer per layer; a U-Net's channel counts double
// as its sizes halve, so 2 missed reuses that 3 makes (peak RSS, fresh
// process, 5 runs: the Keras U-Net fixture at 1x572x572x1 170 -> 157 MiB,
// corpus seg-p8-cityscapes at 2x256x512 321 -> 224 MiB; any size, 205 MiB
// on the fixture: small requests took large buffers).
const maxPoolSlack = 3

// get returns a buffer of at least n elements (its length is its size)
// with unspecified contents.
func (p *bufPool) get(n int) []float32 {
	p.mu.Lock()
	best := -1
	for i, b := range p.free {
		if len(b) >= n && len(b) <= maxPoolSlack*n && (best < 0 || len(b) < len(p.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := p.free[best]
		last := len(p.free) - 1
		p.free[best] = p.free[last]
		p.free[last] = nil
		p.free = p.free[:last]
		p.bytes -= 4 * len(b)
		p.mu.Unlock()
		return b
	}
	p.mu.Unlock()
	return make([]float32, n)
}

// put hands b back; no reference to it may remain.
func (p *bufPool) put(b []float32) {
	n := len(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bytes+4*n > maxPooledBytes {
		return
	}
	p.free = append(p.free, b)
	p.bytes += 4 * n
}

// runArena tracks, for one execute call, the buffers AllocUninit handed out
// and how many live values refer to each.
type runArena struct {
	pool *bufPool
	mu   sync.Mutex
	// bufs maps a buffer's first element to the buffer, for buffers from
	// this run's AllocUninit that have not been pinned or recycled.
	bufs map[*float32][]float32
	refs map[*float32]int
	// dying marks, while execute runs one node's kernel, the inputs whose
	// value no later node or fetch reads (markDying; shared, read only).
	dying []bool
}

func newRunArena(p *bufPool) *runArena {
	if p == nil {
		return nil
	}
	return &runArena{pool: p, bufs: map[*float32][]float32{}, refs: map[*float32]int{}}
}

// alloc returns an n-element buffer owned by the run.
func (a *runArena) alloc(n int) []float32 {
	var b []float32
	if a == nil || n < minPooledFloats {
		b = make([]float32, n)
	} else {
		full := a.pool.get(n)
		a.mu.Lock()
		a.bufs[&full[0]] = full
		a.mu.Unlock()
		b = full[:n:n]
	}
	if poisonUninit {
		nan := float32(math.NaN())
		for i := range b {
			b[i] = nan
		}
	}
	return b
}

// owner returns the key of the tracked buffer t's data lies in, or nil.
// a.mu must be held.
func (a *runArena) owner(t *tfops.Tensor) *float32 {
	if t == nil || t.DType() != tfops.Float {
		return nil
	}
	d, ok := t.Data().([]float32)
	if !ok || cap(d) == 0 {
		return nil
	}
	p := &d[:1][0]
	if _, ok := a.bufs[p]; ok {
		return p
	}
	// A view into a buffer (a slice kernel may return one).
	lo, hi := uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(p))+uintptr(cap(d))*4
	for k, b := range a.bufs {
		blo := uintptr(unsafe.Pointer(k))
		bhi := blo + uintptr(len(b))*4
		if lo < bhi && blo < hi {
			return k
		}
	}
	return nil
}

// each calls f, with a.mu held, with the key of every tracked buffer one
// of ts lies in.
func (a *runArena) each(ts []*tfops.Tensor, f func(k *float32)) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range ts {
		if len(a.bufs) == 0 {
			return
		}
		if k := a.owner(t); k != nil {
			f(k)
		}
	}
}

// track counts the references a node's outputs hold.
func (a *runArena) track(outs []*tfops.Tensor) {
	a.each(outs, func(k *float32) { a.refs[k]++ })
}

// pin stops the buffers of ts from ever being recycled (a stateful op or a
// function call may keep them).
func (a *runArena) pin(ts []*tfops.Tensor) {
	a.each(ts, func(k *float32) {
		delete(a.bufs, k)
		delete(a.refs, k)
	})
}

// release drops one reference to t; the buffer goes back to the pool when
// it was the last.
func (a *runArena) release(t *tfops.Tensor) {
	a.each([]*tfops.Tensor{t}, func(k *float32) {
		if a.refs[k]--; a.refs[k] > 0 {
			return
		}
		b := a.bufs[k]
		delete(a.bufs, k)
		delete(a.refs, k)
		a.pool.put(b)
	})
}

// AllocUninit is Alloc for kernels that write every element of the output:
// a float32 tensor's contents are unspecified (a buffer released earlier in
// this run or by an earlier run of the session). Other dtypes are zeroed.
// The session keeps up to 2 GiB of released buffers for reuse until it
// is dropped.
func (c *Context) AllocUninit(d tfops.DType, dims ...int) (*tfops.Tensor, error) {
	if d != tfops.Float {
		return c.Alloc(d, dims...)
	}
	if err := c.checkAlloc(d, dims); err != nil {
		return nil, err
	}
	return tfops.FromSlice(c.arena.alloc(tfops.NumElements(dims)), dims...)
}

// scratch returns a float32 work buffer of n elements with unspecified
// contents, from the session's pool when the run has one, and the function
// that hands it back (after which the kernel must not touch it).
func (c *Context) scratch(n int) ([]float32, func()) {
	if c.arena == nil || n < minPooledFloats {
		return make([]float32, n), func() {}
	}
	b := c.arena.pool.get(n)
	return b[:n], func() { c.arena.pool.put(b) }
}

// markDying records which of a node's inputs die with it (the
// schedule's dying list for the step, computed once per plan); execute
// sets it before each kernel and clears it (nil) after.
func (a *runArena) markDying(dying []bool) {
	if a != nil {
		a.dying = dying
	}
}

// reuseInput returns input i's float32 elements for the kernel to
// overwrite with an output of the same size, and true, when nothing else
// can read them: no later node or fetch reads the value, and it is a whole
// buffer of this run's (from AllocUninit; not fed, pinned, fetched, or
// shared with another live value). The kernel returns a tensor on them;
// the executor then counts it as the buffer's one reference.
func (c *Context) reuseInput(i int) ([]float32, bool) {
	a := c.arena
	if a == nil || i >= len(a.dying) || !a.dying[i] || i >= len(c.Inputs) {
		return nil, false
	}
	t := c.Inputs[i]
	a.mu.Lock()
	defer a.mu.Unlock()
	k := a.owner(t)
	if k == nil || a.refs[k] != 1 {
		return nil, false
	}
	d := t.Float32s()
	if len(d) == 0 || &d[0] != k {
		return nil, false
	}
	return d, true
}
