package tfops

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNHWCAccessors(t *testing.T) {
	// (2, 2, 3, 2): element (n, y, x, c) holds 1000n + 100y + 10x + c.
	data := make([]int32, 24)
	for n := 0; n < 2; n++ {
		for y := 0; y < 2; y++ {
			for x := 0; x < 3; x++ {
				for c := 0; c < 2; c++ {
					data[((n*2+y)*3+x)*2+c] = int32(1000*n + 100*y + 10*x + c)
				}
			}
		}
	}
	x := MustFromSlice(data, 2, 2, 3, 2)
	n, h, w, c, err := x.NHWC()
	require.NoError(t, err)
	assert.Equal(t, []int{2, 2, 3, 2}, []int{n, h, w, c})
	assert.Equal(t, 1121.0, x.At(1, 1, 2, 1))
	assert.Equal(t, ((0*2+1)*3+1)*2+1, x.Offset(0, 1, 1, 1))
	assert.PanicsWithValue(t, "tfops: index (2, 0, 0, 0) out of range for shape [2 2 3 2]", func() { x.At(2, 0, 0, 0) })
	assert.Panics(t, func() { MustFromSlice([]string{"a"}, 1, 1, 1, 1).At(0, 0, 0, 0) })

	img, err := x.Image(1)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 3, 2}, img.Shape())
	assert.Equal(t, 1121.0, img.At(0, 1, 2, 1))
	img.Int32s()[0] = -1 // shares x's data
	assert.Equal(t, -1.0, x.At(1, 0, 0, 0))
	b, err := x.Batch(0, 2)
	require.NoError(t, err)
	assert.Equal(t, x.Shape(), b.Shape())
	_, err = x.Image(2)
	assert.ErrorIs(t, err, ErrShape)
	_, err = x.Batch(1, 0)
	assert.ErrorIs(t, err, ErrShape)
	_, err = FromScalar(float32(1)).Batch(0, 0)
	assert.ErrorIs(t, err, ErrShape)
	_, _, _, _, err = MustFromSlice([]float32{1}, 1).NHWC()
	assert.ErrorIs(t, err, ErrShape)

	s, err := Stack([]*Tensor{MustFromSlice([]float32{1, 2}, 2), MustFromSlice([]float32{3, 4}, 2)})
	require.NoError(t, err)
	assert.Equal(t, []int{2, 2}, s.Shape())
	assert.Equal(t, []float32{1, 2, 3, 4}, s.Float32s())
	_, err = Stack([]*Tensor{MustFromSlice([]float32{1, 2}, 2), MustFromSlice([]float32{3}, 1)})
	assert.ErrorIs(t, err, ErrShape)
	_, err = Stack([]*Tensor{MustFromSlice([]float32{1}, 1), MustFromSlice([]float64{3}, 1)})
	assert.ErrorIs(t, err, ErrDType)
	_, err = Stack(nil)
	assert.ErrorIs(t, err, ErrArg)
}
