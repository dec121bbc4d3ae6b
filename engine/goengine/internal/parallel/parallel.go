// Package parallel splits index ranges over goroutines for the Go
// engine's kernels and its GEMM.
package parallel

import "sync"

// For runs fn over [0, n) split into contiguous chunks, using up to
// threads goroutines. Chunks hold at least grain indices, so small work
// runs inline on the calling goroutine with no scheduling cost. fn must be
// safe to run concurrently on disjoint ranges. A panic in fn is re-raised
// on the calling goroutine (where the executor turns it into an error).
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
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		panicked any
	)
	size := (n + chunks - 1) / chunks
	for lo := size; lo < n; lo += size {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					mu.Lock()
					panicked = r
					mu.Unlock()
				}
			}()
			fn(lo, hi)
		}(lo, min(lo+size, n))
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				mu.Lock()
				panicked = r
				mu.Unlock()
			}
		}()
		fn(0, min(size, n))
	}()
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
}
