package eval

import (
	"context"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/baseline"
)

// TestMemoryFlat checks that what an evaluation keeps does not grow with
// the dataset: the live heap after a GC, sampled after every batch, is
// about the same for 8 times more images. (scripts/eval-memory.sh measures
// the process's peak RSS on 200 and 2000 images of 256x256.)
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluates 288 images")
	}
	m := loadBaseline(t)
	c := baseline.DefaultCircles
	c.Height, c.Width = 64, 64
	live := func(n int) uint64 {
		_, l := circles(t, c, n)
		var peak uint64
		var ms runtime.MemStats
		_, err := Run(context.Background(), m, l, Options{Workers: 1, BatchSize: 8, Progress: func(done, total int) {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}})
		require.NoError(t, err)
		return peak
	}
	small, large := live(32), live(256)
	t.Logf("peak live heap: %.2f MiB for 32 images, %.2f MiB for 256", float64(small)/(1<<20), float64(large)/(1<<20))
	assert.Less(t, float64(large), 1.25*float64(small)+(1<<20), "live heap grows with the dataset")
}
