package parallel

import "sync/atomic"

// Dynamic runs over [0, n) in chunks of chunk indices that up to threads
// goroutines take in order, each taking the next chunk when it finishes
// its last, so that a goroutine that starts late or runs slower (the other
// core busy, a wake-up delay) does less of the work instead of holding the
// others up at the end as equal halves do. newWorker is called once per
// goroutine that takes a chunk (for its scratch state) and returns the
// function run on each of its chunks. The chunks are disjoint and cover
// [0, n) once, but which goroutine runs which chunk varies from run to
// run: fn's results must not depend on it. When one goroutine would do it
// all (threads or the chunk count 1), fn runs once over [0, n). A panic is
// re-raised on the calling goroutine; the others stop at their next chunk.
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
	var next atomic.Int64
	Team(workers, func() {
		defer func() {
			if r := recover(); r != nil {
				next.Store(int64(chunks)) // the others stop at their next chunk
				panic(r)
			}
		}()
		var fn func(lo, hi int)
		for {
			i := int(next.Add(1) - 1)
			if i >= chunks {
				return
			}
			if fn == nil {
				fn = newWorker()
			}
			fn(i*chunk, min((i+1)*chunk, n))
		}
	})
}
