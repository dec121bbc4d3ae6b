package goengine

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGrabChunksGuided: takes are contiguous, cover the chunks once, shrink
// as the chunks run out, and are never below minGrab but at the end.
func TestGrabChunksGuided(t *testing.T) {
	for _, tc := range []struct{ nch, threads int }{{4096, 2}, {4096, 1}, {100, 4}, {5, 2}, {16, 2}, {1 << 20, 8}} {
		var next atomic.Int64
		want, prev := 0, tc.nch+1
		for {
			lo, hi, ok := grabChunks(&next, tc.nch, tc.threads)
			if !ok {
				break
			}
			require.Equal(t, want, lo, "%+v", tc)
			require.Greater(t, hi, lo, "%+v", tc)
			if hi < tc.nch {
				assert.GreaterOrEqual(t, hi-lo, minGrab, "%+v: take [%d, %d)", tc, lo, hi)
			}
			assert.LessOrEqual(t, hi-lo, prev, "%+v: takes do not grow", tc)
			assert.LessOrEqual(t, hi-lo, max(minGrab, tc.nch/(4*tc.threads)), "%+v", tc)
			prev, want = hi-lo, hi
		}
		assert.Equal(t, tc.nch, want, "%+v: all chunks taken", tc)
	}
	// Concurrent takers cover every chunk once.
	const nch = 1 << 16
	hits := make([]int32, nch)
	var next atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo, hi, ok := grabChunks(&next, nch, 4)
				if !ok {
					return
				}
				for j := lo; j < hi; j++ {
					atomic.AddInt32(&hits[j], 1)
				}
			}
		}()
	}
	wg.Wait()
	for j, h := range hits {
		require.Equal(t, int32(1), h, "chunk %d", j)
	}
}
