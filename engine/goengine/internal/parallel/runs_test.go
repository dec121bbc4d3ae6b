package parallel

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunsCoversEachIndexOnce checks that Runs calls fn once per index,
// that cont is true exactly when the same goroutine ran i-1 just before
// within a segment, and that the goroutines break their stretches only a
// few times (each break recomputes rows in the convolution bands that use
// Runs).
func TestRunsCoversEachIndexOnce(t *testing.T) {
	for _, tc := range []struct{ threads, n, seg int }{
		{1, 10, 0}, {2, 10, 0}, {2, 67, 0}, {2, 92, 23}, {4, 1000, 0}, {3, 100, 7}, {8, 5, 0}, {2, 0, 0}, {2, 1, 0}, {2, 9, 1},
	} {
		starts := func(i int) bool { return tc.seg > 0 && i%tc.seg == 0 }
		hits := make([]int32, tc.n)
		var mu sync.Mutex
		breaks := 0
		Runs(tc.threads, tc.n, starts, func() func(i int, cont bool) {
			prev := -1
			return func(i int, cont bool) {
				atomic.AddInt32(&hits[i], 1)
				assert.Equal(t, prev >= 0 && prev == i-1 && !starts(i) && i > 0, cont, "index %d after %d of %+v", i, prev, tc)
				if !cont {
					mu.Lock()
					breaks++
					mu.Unlock()
				}
				prev = i
				time.Sleep(time.Duration(i%3) * 10 * time.Microsecond)
			}
		})
		for i, h := range hits {
			assert.Equal(t, int32(1), h, "index %d of %+v", i, tc)
		}
		segs := 1
		if tc.seg > 0 {
			segs = (tc.n + tc.seg - 1) / tc.seg
		}
		if tc.n > 0 {
			// A segment start, plus about log2 splits per goroutine.
			assert.LessOrEqual(t, breaks, segs+4*tc.threads, "%+v", tc)
		}
	}
}

func TestRunsPanicsOnCaller(t *testing.T) {
	require.PanicsWithValue(t, "band 50", func() {
		Runs(2, 100, func(int) bool { return false }, func() func(int, bool) {
			return func(i int, _ bool) {
				if i == 50 {
					panic("band 50")
				}
			}
		})
	})
}
