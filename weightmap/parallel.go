package weightmap

import (
	"runtime"
	"sync"
)

// workerCount returns w, or GOMAXPROCS when w <= 0.
func workerCount(w int) int {
	if w <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return w
}

// parallelRange calls fn on disjoint chunks [lo, hi) covering [0, n), using up
// to workers goroutines. Chunks hold at least minChunk items so that small
// inputs run on the calling goroutine.
func parallelRange(n, workers, minChunk int, fn func(lo, hi int)) {
	if minChunk < 1 {
		minChunk = 1
	}
	parts := min(workers, n/minChunk)
	if parts <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for p := 0; p < parts; p++ {
		lo, hi := n*p/parts, n*(p+1)/parts
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
