package goengine_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/tfops"
)

// TestKerasOpsExtremeArgs: arguments whose sizes TensorFlow computes with
// overflowing or undefined arithmetic give an error naming the problem
// (or, for ScaleAndTranslate's scales, a defined result) instead of a
// panic or a wrong-sized tensor.
func TestKerasOpsExtremeArgs(t *testing.T) {
	img := tfops.MustFromSlice(make([]float32, 1*4*4*4), 1, 4, 4, 4)
	size := tfops.MustFromSlice([]int32{3, 5}, 2)
	zero2 := tfops.MustFromSlice([]float32{0, 0}, 2)
	for _, sc := range []float32{1e-30, 1e30} {
		for _, aa := range []bool{false, true} {
			outs, err := nnRunOp("ScaleAndTranslate", map[string]any{"T": tfops.Float, "kernel_type": "lanczos3", "antialias": aa}, 1,
				img, size, tfops.MustFromSlice([]float32{sc, sc}, 2), zero2)
			require.NoError(t, err, "scale %v antialias %v", sc, aa)
			assert.Equal(t, []int{1, 3, 5, 4}, outs[0].Shape())
		}
	}
	_, err := nnRunOp("ScaleAndTranslate", map[string]any{"T": tfops.Float, "kernel_type": "cubic"}, 1, img, size, zero2, zero2)
	assert.ErrorContains(t, err, "Unrecognized kernel type: cubic")

	_, err = nnRunOp("DepthToSpace", map[string]any{"T": tfops.Float, "block_size": int64(1) << 40}, 1, img)
	assert.ErrorIs(t, err, engine.ErrKernel)
	assert.ErrorContains(t, err, "too large")

	i32 := func(v ...int32) *tfops.Tensor { return tfops.MustFromSlice(v, len(v)) }
	pads := tfops.MustFromSlice([]int32{0, 0, 0, 0}, 2, 2)
	_, err = nnRunOp("SpaceToBatchND", map[string]any{"T": tfops.Float}, 1,
		tfops.MustFromSlice(make([]float32, 0), 1, 0, 0, 1), i32(1<<20, 1<<20), pads)
	assert.ErrorContains(t, err, "too large")

	// A VALID 3-D window larger than the input fails with TensorFlow's
	// message and sizes.
	vol := tfops.MustFromSlice(make([]float32, 2*2*2), 1, 2, 2, 2, 1)
	_, err = nnRunOp("MaxPool3D", map[string]any{"ksize": []int{1, 4, 1, 1, 1}, "strides": []int{1, 1, 1, 1, 1}, "padding": "VALID"}, 1, vol)
	assert.ErrorContains(t, err, "depth: Computed output size would be negative: -1 [input_size: 2, effective_filter_size: 4, stride: 1]")
	assert.ErrorContains(t, err, `"op"`)
}
