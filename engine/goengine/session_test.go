package goengine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/tfops"
)

func TestSessionFeedFetchErrors(t *testing.T) {
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(-1, 2))
	y := tfops.Identity(s.WithOpName("y"), x)
	gd, err := s.Finalize()
	require.NoError(t, err)
	sess, err := goengine.Engine{}.NewSession(gd, engine.SessionOptions{})
	require.NoError(t, err)
	defer sess.Close()
	ctx := context.Background()

	in := tfops.MustFromSlice([]float32{1, 2, 3, 4}, 2, 2)
	out, err := sess.Run(ctx, map[string]*tfops.Tensor{"x": in}, []string{y.Name()}, nil)
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2, 3, 4}, out[0].Float32s())

	_, err = sess.Run(ctx, map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]float64{1, 2}, 1, 2)}, []string{"y"}, nil)
	assert.ErrorIs(t, err, engine.ErrFeed)
	assert.ErrorContains(t, err, "expects float32, got float64")

	_, err = sess.Run(ctx, map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]float32{1, 2, 3}, 1, 3)}, []string{"y"}, nil)
	assert.ErrorIs(t, err, engine.ErrFeed)
	assert.ErrorContains(t, err, "(?, 2)")

	_, err = sess.Run(ctx, map[string]*tfops.Tensor{"nope": in}, []string{"y"}, nil)
	assert.ErrorIs(t, err, engine.ErrUnknownNode)
	assert.ErrorContains(t, err, "placeholders: x")

	_, err = sess.Run(ctx, map[string]*tfops.Tensor{"x": in}, []string{"zz:0"}, nil)
	assert.ErrorIs(t, err, engine.ErrUnknownNode)

	_, err = sess.Run(ctx, nil, []string{"y"}, nil)
	assert.ErrorIs(t, err, engine.ErrKernel)
	assert.ErrorContains(t, err, `"x"`)
}

func TestUnsupportedOpNamesNode(t *testing.T) {
	s := tfops.NewScope()
	x := tfops.Const(s, tfops.FromScalar(float32(1)))
	op := s.WithOpName("weird").AddOp(tfops.OpSpec{Type: "NoSuchOp", Inputs: []any{x},
		Outputs: []tfops.OutputInfo{{DType: tfops.Float, Shape: tfops.ScalarShape()}}})
	gd, err := s.Finalize()
	require.NoError(t, err)
	sess, err := goengine.Engine{}.NewSession(gd, engine.SessionOptions{})
	require.NoError(t, err)
	_, err = sess.Run(context.Background(), nil, []string{op.Output(0).Name()}, nil)
	require.Error(t, err)
	assert.True(t, errors.Is(err, engine.ErrUnsupportedOp))
	assert.ErrorContains(t, err, "NoSuchOp")
	assert.ErrorContains(t, err, "weird")
}
