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

// TestFeedOneOutputOfMany feeds output 0 of a node with two outputs while
// output 1 is read unfed: the node runs (for output 1), output 0 comes
// from the feed, with and without fusion, on every run of the session
// (its cached schedule).
func TestFeedOneOutputOfMany(t *testing.T) {
	s := tfops.NewScope()
	x := tfops.Const(s.WithOpName("x"), tfops.MustFromSlice([]float32{1, 2, 3, 4}, 2, 2))
	parts := tfops.Unpack(s.WithOpName("u"), x, 2, 0)
	a := tfops.Identity(s.WithOpName("a"), parts[0])
	b := tfops.Identity(s.WithOpName("b"), parts[1])
	gd, err := s.Finalize()
	require.NoError(t, err)
	for _, unfused := range []bool{false, true} {
		sess, err := goengine.Engine{Unfused: unfused}.NewSession(gd, engine.SessionOptions{})
		require.NoError(t, err)
		feed := map[string]*tfops.Tensor{parts[0].Name(): tfops.MustFromSlice([]float32{9, 8}, 2)}
		for run := 0; run < 2; run++ {
			out, err := sess.Run(context.Background(), feed, []string{a.Name(), b.Name()}, nil)
			require.NoError(t, err, "unfused %v run %d", unfused, run)
			assert.Equal(t, []float32{9, 8}, out[0].Float32s(), "fed output 0")
			assert.Equal(t, []float32{3, 4}, out[1].Float32s(), "computed output 1")
		}
		require.NoError(t, sess.Close())
	}
}
