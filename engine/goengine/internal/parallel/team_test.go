package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// teamCounter shares n items out among Team's goroutines as the fused
// programs do: each call takes items from a common counter until none
// remain.
func teamCounter(threads, n int) (hits []int32, calls int32) {
	hits = make([]int32, n)
	var next, c atomic.Int32
	Team(threads, func() {
		c.Add(1)
		for {
			i := int(next.Add(1)) - 1
			if i >= n {
				return
			}
			atomic.AddInt32(&hits[i], 1)
		}
	})
	return hits, c.Load()
}

func TestTeamCoversEachItemOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, tc := range []struct{ threads, n int }{{1, 10}, {2, 1000}, {4, 100000}, {8, 5}, {3, 0}} {
		for rep := 0; rep < 20; rep++ {
			hits, calls := teamCounter(tc.threads, tc.n)
			for i, h := range hits {
				require.Equal(t, int32(1), h, "item %d of %+v", i, tc)
			}
			assert.LessOrEqual(t, calls, int32(min(max(tc.threads, 1), 4)), "%+v: at most threads (and GOMAXPROCS) calls", tc)
			assert.GreaterOrEqual(t, calls, int32(1), "%+v: the caller always runs work", tc)
		}
	}
}

func TestTeamOneThreadRunsInline(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	// With GOMAXPROCS 1, Team(4) runs work once, on the caller.
	var calls int32
	Team(4, func() { calls++ }) // not atomic: a second goroutine would race
	assert.Equal(t, int32(1), calls)
}

// TestTeamNoWorkAfterReturn: when Team returns, every helper call of work
// has returned, and a helper that had not started by then never calls it
// (it is not waited for).
func TestTeamNoWorkAfterReturn(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for rep := 0; rep < 100; rep++ {
		var in, out atomic.Int32
		Team(2, func() {
			in.Add(1)
			defer out.Add(1)
		})
		got := in.Load()
		assert.Equal(t, got, out.Load(), "a call of work still running after Team returned")
		if rep%10 == 0 {
			time.Sleep(time.Millisecond) // past a parked helper's wake-up
		}
		assert.Equal(t, got, in.Load(), "a helper called work after Team returned")
	}
}

func TestTeamPanicsOnCaller(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for rep := 0; rep < 50; rep++ {
		var calls atomic.Int32
		assert.PanicsWithValue(t, "boom", func() {
			Team(2, func() {
				if calls.Add(1) == 1 {
					panic("boom")
				}
			})
		})
	}
	// The pool still works.
	hits, _ := teamCounter(2, 1000)
	for i, h := range hits {
		require.Equal(t, int32(1), h, "item %d", i)
	}
}

// TestTeamHelperPanicsOnCaller: a panic on a helper reaches the caller.
func TestTeamHelperPanicsOnCaller(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	caller := make(chan struct{})
	var gotHelper bool
	for rep := 0; rep < 200 && !gotHelper; rep++ {
		var mine atomic.Bool
		func() {
			defer func() {
				if r := recover(); r != nil {
					assert.Equal(t, "helper boom", r)
					gotHelper = true
				}
			}()
			Team(2, func() {
				if mine.CompareAndSwap(false, true) {
					// First in (the caller): give a helper time to start.
					select {
					case <-caller:
					case <-time.After(2 * time.Millisecond):
					}
					return
				}
				panic("helper boom")
			})
		}()
	}
	assert.True(t, gotHelper, "no helper ran in 200 tries")
}

func TestTeamConcurrentCallers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := 0; rep < 50; rep++ {
				hits, _ := teamCounter(3, 5000)
				for i, h := range hits {
					if h != 1 {
						t.Errorf("item %d hit %d times", i, h)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	pool.mu.Lock()
	defer pool.mu.Unlock()
	assert.LessOrEqual(t, pool.count, maxHelpers(), "helpers alive")
	assert.LessOrEqual(t, len(pool.idle), pool.count, "idle helpers")
}

// TestNestedParallel: For and Dynamic called from inside each other's
// work (a kernel in a For calling the GEMM) cover their ranges once and
// return.
func TestNestedParallel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	const outer, inner = 8, 1000
	hits := make([]int32, outer*inner)
	For(2, outer, 1, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			Dynamic(2, inner, 64, func() func(lo, hi int) {
				return func(a, b int) {
					for i := a; i < b; i++ {
						atomic.AddInt32(&hits[o*inner+i], 1)
					}
				}
			})
		}
	})
	for i, h := range hits {
		require.Equal(t, int32(1), h, "index %d", i)
	}
}
