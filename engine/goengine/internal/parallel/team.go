package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Team runs work on the calling goroutine and on up to threads-1 helper
// goroutines at once, for work that shares itself out (each call takes
// pieces from a common counter until none remain, as Dynamic's workers
// do): a helper that has not started work by the time the caller's call
// returns is not waited for, and does not run it.
//
// The helpers come from a pool of goroutines that, after their last work,
// wait for the next by polling for spinWait before they sleep. A goroutine
// started with go, or woken from sleep, on a core that is idle begins
// tens to hundreds of microseconds later (measured on a 2-vCPU VM: 137 µs
// median, 500 µs at the 90th percentile, while the go statement itself
// took 3-25 µs in the caller); a memory-bound loss runs about 1 ms, so on
// a late start most of its first part runs on one core. A polling helper
// starts within a microsecond. ONNX Runtime's thread pool and OpenMP's
// do the same (their workers spin before they block).
//
// A panic in work is re-raised on the calling goroutine after every
// helper that started has returned.
func Team(threads int, work func()) {
	// More goroutines than processors add no parallelism.
	threads = min(threads, runtime.GOMAXPROCS(0))
	if threads <= 1 {
		work()
		return
	}
	j := &teamJob{work: work}
	hs := pool.get(threads - 1)
	j.state = make([]atomic.Int32, len(hs))
	for i, h := range hs {
		h.assign(j, i)
	}
	j.run(work)
	for i := range hs {
		// A helper that has not started never will: it sees the job taken.
		if j.state[i].CompareAndSwap(helperAssigned, helperCancelled) {
			continue
		}
		// It is running work, whose last piece is small: wait without
		// sleeping, yielding now and then as poll does.
		for spins := 0; j.state[i].Load() != helperDone; spins++ {
			if spins%64 == 63 {
				runtime.Gosched()
				osYield()
			}
		}
	}
	if j.panicked != nil {
		panic(j.panicked)
	}
}

// spinWait is how long an idle helper polls for work before it sleeps.
// Work that comes back to back (a benchmark loop, a model's next layer,
// the next image of a batch) then finds it awake: between two runs of
// dice_image's 16x512x512 sums the fused region is idle 70-140 µs on the
// loaded 2-vCPU machine (less on a quiet one). Measured (same-run A/B, 12
// alternations, quiet and loaded windows): 100 µs was as fast as 500 µs
// when quiet and faster under load.
const spinWait = 100 * time.Microsecond

// maxHelpers bounds the pool's goroutines (concurrent callers beyond it
// run with fewer helpers).
func maxHelpers() int { return 4 * runtime.GOMAXPROCS(0) }

// Helper states in a job.
const (
	helperAssigned int32 = iota
	helperStarted
	helperCancelled
	helperDone
)

// teamJob is one Team call.
type teamJob struct {
	work     func()
	state    []atomic.Int32 // per helper
	mu       sync.Mutex
	panicked any
}

// run calls work, recording a panic.
func (j *teamJob) run(work func()) {
	defer func() {
		if r := recover(); r != nil {
			j.mu.Lock()
			if j.panicked == nil {
				j.panicked = r
			}
			j.mu.Unlock()
		}
	}()
	work()
}

// helper is one pooled goroutine.
type helper struct {
	mail chan teamSlot // capacity 1: the sender never blocks
}

// teamSlot is a job and the helper's index in it.
type teamSlot struct {
	j *teamJob
	i int
}

func (h *helper) assign(j *teamJob, i int) { h.mail <- teamSlot{j, i} }

// loop runs the helper's jobs; it polls its mailbox for spinWait after
// each, then blocks on it.
func (h *helper) loop() {
	for {
		s, ok := h.poll()
		if !ok {
			s = <-h.mail
		}
		if s.j.state[s.i].CompareAndSwap(helperAssigned, helperStarted) {
			s.j.run(s.j.work)
			s.j.state[s.i].Store(helperDone)
		}
		if !pool.put(h) {
			return
		}
	}
}

// poll waits for a job for up to spinWait without sleeping. Between
// rounds of polling it yields the processor to other goroutines and the
// core to other threads (sched_yield): without the latter, a polling
// helper on a machine whose cores are all busy took CPU time from the
// caller and other processes, and dice_image ran 20% slower than with no
// polling at all (with it, 10-20% faster).
func (h *helper) poll() (teamSlot, bool) {
	deadline := time.Now().Add(spinWait)
	for {
		for range 64 {
			select {
			case s := <-h.mail:
				return s, true
			default:
			}
		}
		if time.Now().After(deadline) {
			return teamSlot{}, false
		}
		runtime.Gosched()
		osYield()
	}
}

// helperPool keeps the idle helpers, the most recently idle last (the one
// most likely to be polling, so handed out first).
type helperPool struct {
	mu    sync.Mutex
	idle  []*helper
	count int // helpers alive
}

var pool helperPool

// get returns up to n idle helpers, starting new ones while the pool is
// below maxHelpers.
func (p *helperPool) get(n int) []*helper {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := min(n, len(p.idle))
	hs := make([]*helper, 0, n)
	for range k {
		hs = append(hs, p.idle[len(p.idle)-1])
		p.idle = p.idle[:len(p.idle)-1]
	}
	for len(hs) < n && p.count < maxHelpers() {
		h := &helper{mail: make(chan teamSlot, 1)}
		p.count++
		go h.loop()
		hs = append(hs, h)
	}
	return hs
}

// put returns h to the idle helpers; false (h exits) when enough are
// idle already.
func (p *helperPool) put(h *helper) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) >= runtime.GOMAXPROCS(0) {
		p.count--
		return false
	}
	p.idle = append(p.idle, h)
	return true
}
