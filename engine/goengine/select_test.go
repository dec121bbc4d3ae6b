package goengine_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/tfops"
)

// TestSelectV1 checks TensorFlow 1's Select: elementwise, scalar and
// per-row conditions, and the shapes it refuses (it does not broadcast).
func TestSelectV1(t *testing.T) {
	for _, name := range engine.Names() {
		eng, err := engine.Get(name)
		require.NoError(t, err)
		t.Run(name, func(t *testing.T) { testSelectV1(t, eng) })
	}
}

func testSelectV1(t *testing.T, eng engine.Engine) {
	x := tfops.MustFromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	y := tfops.MustFromSlice([]float32{-1, -2, -3, -4, -5, -6}, 2, 3)
	cases := []struct {
		name string
		cond *tfops.Tensor
		want []float32
		err  string
	}{
		{"elementwise", tfops.MustFromSlice([]bool{true, false, true, false, true, false}, 2, 3), []float32{1, -2, 3, -4, 5, -6}, ""},
		{"scalar", tfops.FromScalar(false), []float32{-1, -2, -3, -4, -5, -6}, ""},
		{"per row", tfops.MustFromSlice([]bool{false, true}, 2), []float32{-1, -2, -3, 4, 5, 6}, ""},
		{"wrong rows", tfops.MustFromSlice([]bool{false, true, true}, 3), nil, "first dimension is 2"},
		{"no broadcasting", tfops.MustFromSlice([]bool{false, true, true}, 1, 3), nil, "Select wants"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := tfops.NewScope()
			cond := tfops.Const(s, c.cond)
			op := s.AddOp(tfops.OpSpec{Type: "Select", Inputs: []any{cond, tfops.Const(s, x), tfops.Const(s, y)},
				Attrs: map[string]any{"T": tfops.Float}, Outputs: []tfops.OutputInfo{{DType: tfops.Float, Shape: tfops.MakeShape(2, 3)}}})
			gd, err := s.Finalize()
			require.NoError(t, err)
			sess, err := eng.NewSession(gd, engine.SessionOptions{})
			if err != nil && c.err != "" && eng.Name() != goengine.Name {
				return // TensorFlow refuses the shapes already at import
			}
			require.NoError(t, err)
			defer sess.Close()
			out, err := sess.Run(context.Background(), nil, []string{op.Output(0).Name()}, nil)
			if c.err != "" {
				require.Error(t, err)
				if eng.Name() == goengine.Name {
					require.ErrorIs(t, err, engine.ErrKernel)
					assert.ErrorContains(t, err, c.err)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, out[0].Float32s())
		})
	}
}
