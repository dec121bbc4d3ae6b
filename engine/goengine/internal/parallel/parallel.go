// Package parallel splits index ranges over goroutines for the Go
// engine's kernels and its GEMM. All of them run on Team: the calling
// goroutine and helpers from one pool, which poll for work for a while
// after their last, so that back-to-back parallel work finds them awake
// and no construct's fresh goroutine waits behind another's polling
// helper.
package parallel

import "sync/atomic"

// For runs fn over [0, n) split into contiguous chunks, using up to
// threads goroutines. Chunks hold at least grain indices, so small work
// runs inline on the calling goroutine with no scheduling cost. fn must be
// safe to run concurrently on disjoint ranges. The chunks are the same
// whoever runs them: the caller and the helpers that have started take
// them in order (Team), so a helper that starts late runs fewer instead of
// holding the caller up. A panic in fn is re-raised on the calling
// goroutine (where the executor turns it into an error).
func For(threads, n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	chunks := min(threads, (n+grain-1)/grain)
	if chunks <= 1 {
		fn(0, n)
		return
	}
	size := (n + chunks - 1) / chunks
	pieces := (n + size - 1) / size
	var next atomic.Int64
	Team(chunks, func() {
		for {
			i := int(next.Add(1)) - 1
			if i >= pieces {
				return
			}
			fn(i*size, min((i+1)*size, n))
		}
	})
}
