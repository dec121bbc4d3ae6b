package parallel

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParallelForCoversEachIndexOnce(t *testing.T) {
	for _, tc := range []struct{ threads, n, grain int }{
		{1, 10, 1}, {4, 10, 1}, {4, 10, 100}, {3, 1000, 7}, {8, 5, 1}, {2, 0, 1}, {4, 1 << 16, 1 << 10},
	} {
		hits := make([]int32, tc.n)
		var calls atomic.Int32
		For(tc.threads, tc.n, tc.grain, func(lo, hi int) {
			calls.Add(1)
			assert.LessOrEqual(t, 0, lo)
			assert.LessOrEqual(t, hi, tc.n)
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&hits[i], 1)
			}
		})
		for i, h := range hits {
			assert.Equal(t, int32(1), h, "index %d of %+v", i, tc)
		}
		assert.LessOrEqual(t, int(calls.Load()), max(tc.threads, 1), "%+v", tc)
		if tc.n > 0 && tc.n <= tc.grain {
			assert.Equal(t, int32(1), calls.Load(), "small work runs inline: %+v", tc)
		}
	}
}

func TestParallelForPanicsOnCaller(t *testing.T) {
	assert.PanicsWithValue(t, "boom", func() {
		For(4, 100, 1, func(lo, hi int) {
			if lo > 0 {
				panic("boom")
			}
		})
	})
}

func TestDynamicCoversEachIndexOnce(t *testing.T) {
	for _, tc := range []struct{ threads, n, chunk int }{
		{1, 10, 1}, {4, 10, 1}, {4, 10, 100}, {3, 1000, 7}, {8, 5, 1}, {2, 0, 1}, {2, 1 << 16, 1 << 6}, {2, 9, 0},
	} {
		hits := make([]int32, tc.n)
		var workers, chunks atomic.Int32
		Dynamic(tc.threads, tc.n, tc.chunk, func() func(lo, hi int) {
			workers.Add(1)
			return func(lo, hi int) {
				chunks.Add(1)
				assert.LessOrEqual(t, 0, lo)
				assert.LessOrEqual(t, hi, tc.n)
				if tc.threads > 1 {
					assert.LessOrEqual(t, hi-lo, max(tc.chunk, 1), "%+v", tc)
				}
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&hits[i], 1)
				}
			}
		})
		for i, h := range hits {
			assert.Equal(t, int32(1), h, "index %d of %+v", i, tc)
		}
		assert.LessOrEqual(t, int(workers.Load()), max(tc.threads, 1), "%+v", tc)
		switch want := (tc.n + max(tc.chunk, 1) - 1) / max(tc.chunk, 1); {
		case tc.n == 0:
			assert.Zero(t, chunks.Load(), "%+v", tc)
		case tc.threads == 1 || want == 1:
			assert.Equal(t, int32(1), chunks.Load(), "one goroutine runs [0, n) at once: %+v", tc)
		default:
			assert.Equal(t, int32(want), chunks.Load(), "chunks of %+v", tc)
		}
	}
}

func TestDynamicPanicsOnCaller(t *testing.T) {
	for _, bad := range []int{0, 50, 99} {
		assert.PanicsWithValue(t, "boom", func() {
			Dynamic(4, 100, 1, func() func(lo, hi int) {
				return func(lo, hi int) {
					if lo == bad {
						panic("boom")
					}
				}
			})
		})
	}
}
