package goengine

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBcastPlanMergesDimensions(t *testing.T) {
	// (2, 3, 4) with (1, 3, 4): the last two dimensions merge into one of 12.
	p := newBcastPlan([]int{2, 3, 4}, []int{2, 3, 4}, []int{1, 3, 4})
	assert.Equal(t, []int{2, 12}, p.dims)
	assert.Equal(t, [][]int{{12, 1}, {0, 1}}, p.strides)
	// A scalar against a matrix.
	p = newBcastPlan([]int{5, 6}, []int{}, []int{5, 6})
	assert.Equal(t, []int{30}, p.dims)
	assert.Equal(t, [][]int{{0}, {1}}, p.strides)
	_, err := broadcastDims([]int{2, 3}, []int{4})
	assert.EqualError(t, err, "Incompatible shapes: [2,3] vs. [4]")
}

func TestOut32FlushesLikeTheProcessor(t *testing.T) {
	assert.Equal(t, float32(0), out32(0x1p-127))
	assert.Equal(t, float32(0x1p-126), out32(0x1p-126-0x1p-151), "rounds up to the smallest normal: kept")
	assert.Equal(t, float32(0), out32(0x1p-126-0x1p-150), "rounds to below the smallest normal: flushed")
	assert.True(t, out32(-1e-40) == 0 && 1/out32(-1e-40) < 0, "negative results flush to -0")
	assert.Equal(t, float32(1.5), out32(1.5))
}
