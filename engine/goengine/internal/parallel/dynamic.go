package parallel

import (
	"sync"
	"sync/atomic"
)

// Dynamic runs over [0, n) in chunks of chunk indices that up to threads
// goroutines take in order, each taking the next chunk when it finishes
// its last, so that a goroutine that starts late or runs slower (the other
// core busy, a wake-up delay) does less of the work instead of holding the
// others up at the end as For's equal halves do. newWorker is called once
// per goroutine (for its scratch state) and returns the function run on
// each of its chunks. The chunks are disjoint and cover [0, n) once, but
// which goroutine runs which chunk varies from run to run: fn's results
// must not depend on it. When one goroutine would do it all (threads or
// the chunk count 1), fn runs once over [0, n). A panic is re-raised on the calling goroutine.
func Dynamic(threads, n, chunk int, newWorker func() func(lo, hi int)) {
	if n <= 0 {
		return
	}
	chunk = max(chunk, 1)
	chunks := (n + chunk - 1) / chunk
	workers := min(threads, chunks)
	if workers <= 1 {
		newWorker()(0, n)
		return
	}
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		panicked any
	)
	work := func() {
		defer func() {
			if r := recover(); r != nil {
				mu.Lock()
				panicked = r
				mu.Unlock()
				next.Store(int64(chunks)) // the others stop at their next chunk
			}
		}()
		fn := newWorker()
		for {
			i := int(next.Add(1) - 1)
			if i >= chunks {
				return
			}
			fn(i*chunk, min((i+1)*chunk, n))
		}
	}
	wg.Add(workers - 1)
	for range workers - 1 {
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
}
