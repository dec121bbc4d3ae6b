package ulp

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDist counts steps against math.Nextafter walks and known distances.
func TestDist(t *testing.T) {
	tiny32 := float32(math.SmallestNonzeroFloat32)
	assert.Equal(t, uint64(0), Dist32(0, float32(math.Copysign(0, -1))))
	assert.Equal(t, uint64(1), Dist32(0, tiny32))
	assert.Equal(t, uint64(2), Dist32(-tiny32, tiny32))
	x := float32(1)
	for i := 0; i < 100; i++ {
		x = math.Nextafter32(x, 2)
	}
	assert.Equal(t, uint64(100), Dist32(1, x))
	assert.Equal(t, uint64(100), Dist32(x, 1))
	assert.Equal(t, uint64(1), Dist64(1, math.Nextafter(1, 2)))
	assert.Equal(t, uint64(2), Dist64(math.Float64frombits(1), -math.Float64frombits(1)))
	// From -MaxFloat64 to MaxFloat64: every finite value but the two zeros
	// counted once, 2·(2^63 - 2^52 - 1) steps, which fits in uint64.
	assert.Equal(t, 2*(uint64(1)<<63-uint64(1)<<52-1), Dist64(-math.MaxFloat64, math.MaxFloat64))
	nan := math.NaN()
	assert.Equal(t, uint64(0), Dist64(nan, nan))
	assert.Equal(t, uint64(math.MaxUint64), Dist64(nan, 1))
	assert.Equal(t, uint64(math.MaxUint64), Dist32(1, float32(nan)))
}
