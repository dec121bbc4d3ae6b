package weightmap

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tfseg/tfseg/tfops"
)

func TestBatchMatchesPerImage(t *testing.T) {
	const b, h, w = 5, 33, 41
	data := make([]uint8, 0, b*h*w)
	for i := range b {
		data = append(data, lcgDiscs(h, w, i*2, 2, 7, uint64(i+1))...) // 0, 2, 4, ... discs
	}
	for _, tc := range []struct {
		name    string
		shape   []int
		opts    BatchOptions
		workers int
	}{
		{"unet float32 BHW", []int{b, h, w}, BatchOptions{}, 0},
		{"unet float64 BHW1 one worker", []int{b, h, w, 1}, BatchOptions{DType: tfops.Double, Options: Options{Workers: 1, Connectivity: Conn8}}, 1},
		{"unet more workers than images", []int{b, h, w}, BatchOptions{DType: tfops.Double, Options: Options{Workers: 12, Class: ClassNone}}, 12},
		{"nearest sampled", []int{b, h, w, 1}, BatchOptions{Kind: KindNearest, DType: tfops.Double, Options: Options{Sampling: []float64{2, 0.5}}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tfops.MustFromSlice(data, tc.shape...)
			got, err := Batch(m, tc.opts)
			require.NoError(t, err)
			assert.Equal(t, tc.shape, got.Shape())
			for i := range b {
				img := data[i*h*w : (i+1)*h*w]
				var want []float64
				if tc.opts.Kind == KindNearest {
					want, err = Nearest(img, h, w, tc.opts.Sampling)
				} else {
					want, err = UNet(img, h, w, tc.opts.Options)
				}
				require.NoError(t, err)
				if tc.opts.DType == tfops.Double {
					assert.Equal(t, want, got.Float64s()[i*h*w:(i+1)*h*w], "image %d", i)
					continue
				}
				g := got.Float32s()[i*h*w : (i+1)*h*w]
				for j := range want {
					require.Equal(t, float32(want[j]), g[j], "image %d pixel %d", i, j)
				}
			}
		})
	}
}

func TestBatchTypes(t *testing.T) {
	want, err := UNet([]uint8{0, 1, 0, 0, 0, 1}, 2, 3, Options{})
	require.NoError(t, err)
	for _, m := range []*tfops.Tensor{
		tfops.MustFromSlice([]bool{false, true, false, false, false, true}, 1, 2, 3),
		tfops.MustFromSlice([]int8{0, 1, 0, 0, 0, 1}, 1, 2, 3),
		tfops.MustFromSlice([]uint16{0, 255, 0, 0, 0, 255}, 1, 2, 3),
		tfops.MustFromSlice([]int16{0, 1, 0, 0, 0, 1}, 1, 2, 3),
		tfops.MustFromSlice([]uint32{0, 1, 0, 0, 0, 1}, 1, 2, 3),
		tfops.MustFromSlice([]int32{0, 1, 0, 0, 0, 1}, 1, 2, 3),
		tfops.MustFromSlice([]uint64{0, 1, 0, 0, 0, 1}, 1, 2, 3),
		tfops.MustFromSlice([]int64{0, 1, 0, 0, 0, 1}, 1, 2, 3),
		tfops.MustFromSlice([]float32{0, 1, 0, 0, 0, 1}, 1, 2, 3),
		tfops.MustFromSlice([]float64{0, 1, 0, 0, 0, 1}, 1, 2, 3, 1),
	} {
		got, err := Batch(m, BatchOptions{DType: tfops.Double})
		require.NoError(t, err, "%v", m.DType())
		assert.Equal(t, want, got.Float64s(), "%v", m.DType())
	}
}

func TestBatchErrors(t *testing.T) {
	tests := []struct {
		name string
		mask *tfops.Tensor
		opts BatchOptions
		want error
		msg  string
	}{
		{"nil", nil, BatchOptions{}, ErrShape, "nil mask"},
		{"rank 2", tfops.MustFromSlice([]uint8{0, 1}, 1, 2), BatchOptions{}, ErrShape, "shape [1 2]"},
		{"two channels", tfops.MustFromSlice([]uint8{0, 1, 0, 1}, 1, 1, 2, 2), BatchOptions{}, ErrShape, "shape [1 1 2 2]"},
		{"rank 5", tfops.MustFromSlice([]uint8{0, 1}, 1, 1, 2, 1, 1), BatchOptions{}, ErrShape, "shape [1 1 2 1 1]"},
		{"bad value", tfops.MustFromSlice([]uint8{0, 1, 0, 0, 7, 1}, 2, 1, 3), BatchOptions{}, ErrMask, "value 7 at index 4 [1 0 1]"},
		{"string", tfops.MustFromSlice([]string{"a"}, 1, 1, 1), BatchOptions{}, ErrDType, "dtype string"},
		{"result dtype", tfops.MustFromSlice([]uint8{0}, 1, 1, 1), BatchOptions{DType: tfops.Int32}, ErrDType, "result dtype int32"},
		{"kind", tfops.MustFromSlice([]uint8{0}, 1, 1, 1), BatchOptions{Kind: 9}, ErrOption, "Kind = 9"},
		{"options", tfops.MustFromSlice([]uint8{0}, 1, 1, 1), BatchOptions{Options: Options{Sigma: -1}}, ErrOption, "Sigma = -1"},
		{"nearest sampling", tfops.MustFromSlice([]uint8{0}, 1, 1, 1), BatchOptions{Kind: KindNearest, Options: Options{Sampling: []float64{1, 2, 3}}}, ErrOption, "sampling"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Batch(tc.mask, tc.opts)
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorContains(t, err, tc.msg)
		})
	}
}

func TestBatchEmpty(t *testing.T) {
	got, err := Batch(tfops.MustFromSlice([]uint8{}, 0, 4, 4), BatchOptions{})
	require.NoError(t, err)
	assert.Equal(t, []int{0, 4, 4}, got.Shape())
	got, err = Batch(tfops.MustFromSlice([]uint8{}, 2, 0, 4, 1), BatchOptions{Kind: KindNearest})
	require.NoError(t, err)
	assert.Equal(t, []int{2, 0, 4, 1}, got.Shape())
}
