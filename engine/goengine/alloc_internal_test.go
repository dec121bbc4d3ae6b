package goengine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/tfops"
)

// Every test of the package runs with AllocUninit buffers filled with NaN,
// so a kernel that leaves an output element unwritten shows in its results.
func init() { poisonUninit = true }

// The tests' convolutions are small: every max-pool fused into one is
// computed in bands, as a large one is (see convPoolMinBytes).
func init() { convPoolMinBytes = 0 }

func TestRunArenaRecyclesOnlyUnreferencedBuffers(t *testing.T) {
	tests := []struct {
		name string
		// run gets a fresh tracked buffer b and its tensor, and reports
		// whether b may be in the pool afterwards.
		run func(a *runArena, b []float32, bt *tfops.Tensor) bool
	}{
		{"released once", func(a *runArena, _ []float32, bt *tfops.Tensor) bool {
			a.track([]*tfops.Tensor{bt})
			a.release(bt)
			return true
		}},
		{"alias still live", func(a *runArena, _ []float32, bt *tfops.Tensor) bool {
			alias, _ := bt.Reshaped(len(bt.Float32s()))
			a.track([]*tfops.Tensor{bt})
			a.track([]*tfops.Tensor{alias})
			a.release(bt)
			return false
		}},
		{"view still live", func(a *runArena, b []float32, bt *tfops.Tensor) bool {
			view := tfops.MustFromSlice(b[100:200], 100)
			a.track([]*tfops.Tensor{bt})
			a.track([]*tfops.Tensor{view})
			a.release(bt)
			return false
		}},
		{"view and buffer released", func(a *runArena, b []float32, bt *tfops.Tensor) bool {
			view := tfops.MustFromSlice(b[100:200], 100)
			a.track([]*tfops.Tensor{bt, view})
			a.release(view)
			a.release(bt)
			return true
		}},
		{"pinned", func(a *runArena, _ []float32, bt *tfops.Tensor) bool {
			a.track([]*tfops.Tensor{bt})
			a.pin([]*tfops.Tensor{bt})
			a.release(bt)
			return false
		}},
		{"never tracked (fetched or dropped)", func(a *runArena, _ []float32, bt *tfops.Tensor) bool {
			return false
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newBufPool()
			a := newRunArena(p)
			b := a.alloc(minPooledFloats)
			bt := tfops.MustFromSlice(b, len(b))
			want := tc.run(a, b, bt)
			got := p.get(minPooledFloats)
			assert.Equal(t, want, &got[0] == &b[0])
		})
	}
}

func TestAllocUninitPoisonsAndChecksLimits(t *testing.T) {
	st := &State{pool: newBufPool(), limits: engine.Limits{}.WithDefaults()}
	c := &Context{State: st, arena: newRunArena(st.pool)}
	x, err := c.AllocUninit(tfops.Float, 2, 3)
	require.NoError(t, err)
	for _, v := range x.Float32s() {
		assert.True(t, v != v, "want NaN poison, got %v", v)
	}
	i, err := c.AllocUninit(tfops.Int32, 4)
	require.NoError(t, err)
	assert.Equal(t, []int32{0, 0, 0, 0}, i.Int32s())
	st.limits.MaxTensorBytes = 16
	_, err = c.AllocUninit(tfops.Float, 5)
	assert.ErrorContains(t, err, "MaxTensorBytes")
}
