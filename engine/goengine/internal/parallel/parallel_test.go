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
