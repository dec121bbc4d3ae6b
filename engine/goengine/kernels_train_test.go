package goengine_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/tfops"
)

func TestBroadcastGradientArgs(t *testing.T) {
	for _, tc := range []struct {
		s0, s1, r0, r1 []int32
	}{
		{[]int32{2, 3, 5}, []int32{1}, []int32{}, []int32{0, 1, 2}},
		{[]int32{2, 1, 5}, []int32{2, 3, 1}, []int32{1}, []int32{2}},
		{[]int32{1}, []int32{1}, []int32{}, []int32{}},
		{[]int32{4, 5}, []int32{4, 5}, []int32{}, []int32{}},
		{[]int32{1, 5}, []int32{5}, []int32{0}, []int32{0}},
		{[]int32{}, []int32{3, 1}, []int32{0, 1}, []int32{1}},
	} {
		t.Run(fmt.Sprint(tc.s0, tc.s1), func(t *testing.T) {
			out, err := nnRunOp("BroadcastGradientArgs", nil, 2, tfops.MustFromSlice(tc.s0, len(tc.s0)), tfops.MustFromSlice(tc.s1, len(tc.s1)))
			require.NoError(t, err)
			assert.Equal(t, tc.r0, out[0].Int32s(), "r0")
			assert.Equal(t, tc.r1, out[1].Int32s(), "r1")
		})
	}
	_, err := nnRunOp("BroadcastGradientArgs", nil, 2, tfops.MustFromSlice([]int32{2, 3}, 2), tfops.MustFromSlice([]int32{4}, 1))
	assert.ErrorContains(t, err, "incompatible shapes [2 3] and [4]")
}

// trainGraph holds float32 variables "var", "m", "v" of shape [2] and
// applies op to them with the given extra inputs.
func trainRun(t *testing.T, op string, attrs map[string]any, nvars int, init [][]float32, extra ...*tfops.Tensor) [][]float32 {
	t.Helper()
	s := tfops.NewScope()
	var handles []tfops.Output
	var reads []string
	for i := 0; i < nvars; i++ {
		name := fmt.Sprintf("var%d", i)
		h := s.AddOp(tfops.OpSpec{Type: "VarHandleOp", Name: name, Attrs: map[string]any{"dtype": tfops.Float, "shape": tfops.MakeShape(2), "shared_name": name},
			Outputs: []tfops.OutputInfo{{DType: tfops.Resource}}}).Output(0)
		handles = append(handles, h)
		c := tfops.Const(s.WithOpName(name+"/init"), tfops.MustFromSlice(init[i], 2))
		s.AddOp(tfops.OpSpec{Type: "AssignVariableOp", Name: name + "/assign", Inputs: []any{h, c}, Attrs: map[string]any{"dtype": tfops.Float}})
		s.AddOp(tfops.OpSpec{Type: "ReadVariableOp", Name: name + "/read", Inputs: []any{h}, Attrs: map[string]any{"dtype": tfops.Float},
			Outputs: []tfops.OutputInfo{{DType: tfops.Float}}})
		reads = append(reads, name+"/read")
	}
	ins := []any{}
	for _, h := range handles {
		ins = append(ins, h)
	}
	for i, e := range extra {
		ins = append(ins, tfops.Const(s.WithOpName(fmt.Sprintf("extra%d", i)), e))
	}
	s.AddOp(tfops.OpSpec{Type: op, Name: "apply", Inputs: ins, Attrs: attrs})
	sess := goSession(t, s)
	ctx := context.Background()
	var targets []string
	for i := 0; i < nvars; i++ {
		targets = append(targets, fmt.Sprintf("var%d/assign", i))
	}
	_, err := sess.Run(ctx, nil, nil, targets)
	require.NoError(t, err)
	_, err = sess.Run(ctx, nil, nil, []string{"apply"})
	require.NoError(t, err)
	out, err := sess.Run(ctx, nil, reads, nil)
	require.NoError(t, err)
	res := make([][]float32, nvars)
	for i := range out {
		res[i] = out[i].Float32s()
	}
	return res
}

func f32(v float32) *tfops.Tensor { return tfops.FromScalar(v) }

func TestResourceApplyOptimizers(t *testing.T) {
	g := tfops.MustFromSlice([]float32{0.5, -2}, 2)
	t.Run("GradientDescent", func(t *testing.T) {
		got := trainRun(t, "ResourceApplyGradientDescent", nil, 1, [][]float32{{1, 1}}, f32(0.1), g)
		assert.InDeltaSlice(t, []float32{0.95, 1.2}, got[0], 1e-7)
	})
	t.Run("Momentum", func(t *testing.T) {
		got := trainRun(t, "ResourceApplyMomentum", nil, 2, [][]float32{{1, 1}, {0.5, 0.5}}, f32(0.1), g, f32(0.9))
		// accum = 0.5·0.9 + g; var -= 0.1·accum
		assert.InDeltaSlice(t, []float32{0.95, -1.55}, got[1], 1e-6)
		assert.InDeltaSlice(t, []float32{0.905, 1.155}, got[0], 1e-6)
	})
	t.Run("KerasMomentum", func(t *testing.T) {
		got := trainRun(t, "ResourceApplyKerasMomentum", nil, 2, [][]float32{{1, 1}, {0.5, 0.5}}, f32(0.1), g, f32(0.9))
		// accum = 0.5·0.9 - 0.1·g; var += accum
		assert.InDeltaSlice(t, []float32{0.4, 0.65}, got[1], 1e-6)
		assert.InDeltaSlice(t, []float32{1.4, 1.65}, got[0], 1e-6)
	})
	t.Run("Adam", func(t *testing.T) {
		got := trainRun(t, "ResourceApplyAdam", nil, 3, [][]float32{{1, 1}, {0, 0}, {0, 0}},
			f32(0.9), f32(0.999), f32(0.1), f32(0.9), f32(0.999), f32(1e-7), g)
		// First step from m = v = 0: m = 0.1·g, v = 0.001·g², lr_t = 0.1·sqrt(0.001)/0.1,
		// so var -= 0.1·g/(|g| + 1e-7/sqrt(0.001)).
		for i, gv := range []float64{0.5, -2} {
			want := 1 - 0.1*gv/(math.Abs(gv)+1e-7/math.Sqrt(0.001))
			assert.InDelta(t, want, float64(got[0][i]), 1e-6)
			assert.InDelta(t, 0.1*gv, float64(got[1][i]), 1e-7)
			assert.InEpsilon(t, 0.001*gv*gv, float64(got[2][i]), 1e-4)
		}
	})
}

func TestResourceApplyErrors(t *testing.T) {
	s := tfops.NewScope()
	h := s.AddOp(tfops.OpSpec{Type: "VarHandleOp", Name: "w", Attrs: map[string]any{"dtype": tfops.Float, "shape": tfops.MakeShape(2)},
		Outputs: []tfops.OutputInfo{{DType: tfops.Resource}}}).Output(0)
	c := tfops.Const(s.WithOpName("c"), tfops.MustFromSlice([]float32{1, 2}, 2))
	s.AddOp(tfops.OpSpec{Type: "AssignVariableOp", Name: "assign", Inputs: []any{h, c}, Attrs: map[string]any{"dtype": tfops.Float}})
	alpha := tfops.Const(s.WithOpName("alpha"), f32(0.1))
	bad := tfops.Const(s.WithOpName("bad"), tfops.MustFromSlice([]float32{1, 2, 3}, 3))
	s.AddOp(tfops.OpSpec{Type: "ResourceApplyGradientDescent", Name: "apply_early", Inputs: []any{h, alpha, c}})
	s.AddOp(tfops.OpSpec{Type: "ResourceApplyGradientDescent", Name: "apply_bad", Inputs: []any{h, alpha, bad}})
	sess := goSession(t, s)
	ctx := context.Background()
	_, err := sess.Run(ctx, nil, nil, []string{"apply_early"})
	assert.ErrorContains(t, err, `variable "w" is uninitialized`)
	_, err = sess.Run(ctx, nil, nil, []string{"assign"})
	require.NoError(t, err)
	_, err = sess.Run(ctx, nil, nil, []string{"apply_bad"})
	assert.ErrorContains(t, err, "delta float32(3,) does not match the variable float32(2,)")
	assert.ErrorContains(t, err, `"apply_bad"`)
}
