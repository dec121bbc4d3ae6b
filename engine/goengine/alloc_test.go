package goengine_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/tfops"
)

// TestFetchedTensorsSurviveLaterRuns checks that buffer reuse never hands
// out a tensor a caller holds: fetched intermediates (also consumed by
// later nodes), fetched aliases of intermediates, and fetched results keep
// their values through further runs of the session.
func TestFetchedTensorsSurviveLaterRuns(t *testing.T) {
	for _, e := range []goengine.Engine{{}, {Unfused: true}} {
		t.Run(map[bool]string{false: "fused", true: "unfused"}[e.Unfused], func(t *testing.T) {
			testFetchedTensorsSurvive(t, e)
		})
	}
}

func testFetchedTensorsSurvive(t *testing.T, e goengine.Engine) {
	const n = 1 << 14
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(n))
	a := tfops.AddV2(s.WithOpName("a"), x, x)
	b := tfops.Log1p(s.WithOpName("b"), a)
	i := tfops.Identity(s.WithOpName("i"), b)
	c := tfops.AddV2(s.WithOpName("c"), b, x)
	d := tfops.Log1p(s.WithOpName("d"), c)
	gd, err := s.Finalize()
	require.NoError(t, err)
	sess, err := e.NewSession(gd, engine.SessionOptions{})
	require.NoError(t, err)
	defer sess.Close()
	fetches := []string{a.Name(), i.Name(), d.Name()}

	input := func(seed uint64) *tfops.Tensor {
		r := rand.New(rand.NewPCG(seed, 1))
		v := make([]float32, n)
		for k := range v {
			v[k] = r.Float32()
		}
		return tfops.MustFromSlice(v, n)
	}
	ctx := context.Background()
	first, err := sess.Run(ctx, map[string]*tfops.Tensor{"x": input(1)}, fetches, nil)
	require.NoError(t, err)
	want := make([][]float32, len(first))
	for k, f := range first {
		want[k] = append([]float32{}, f.Float32s()...)
	}
	for seed := uint64(2); seed < 8; seed++ {
		_, err := sess.Run(ctx, map[string]*tfops.Tensor{"x": input(seed)}, fetches, nil)
		require.NoError(t, err)
	}
	for k, f := range first {
		assert.Equal(t, want[k], f.Float32s(), "fetch %s changed after later runs", fetches[k])
	}
	// And a repeat run of the first input reproduces them.
	again, err := sess.Run(ctx, map[string]*tfops.Tensor{"x": input(1)}, fetches, nil)
	require.NoError(t, err)
	for k, f := range again {
		assert.Equal(t, want[k], f.Float32s(), "fetch %s", fetches[k])
	}
}

// TestUNetConcurrentRunsMatchSerial runs the Keras U-Net fixture 20 times
// from 4 goroutines on one Model, each run on its own input, and checks
// every output is bit-identical to the serial run of that input: reused
// buffers must not leak between runs or goroutines.
func TestUNetConcurrentRunsMatchSerial(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "fixtures", "savedmodels", "keras-unet-circles")
	if _, err := os.Stat(filepath.Join(dir, "saved_model.pb")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("fixture SavedModel %s is missing: %v", dir, err)
		}
		t.Skipf("fixture SavedModel %s not found: %v", dir, err)
	}
	m, err := tfseg.Load(dir, tfseg.WithEngine("go"))
	require.NoError(t, err)
	defer m.Close()
	const runs, workers = 20, 4
	ctx := context.Background()
	inputs := make([]*tfops.Tensor, runs)
	want := make([]map[string][]float32, runs)
	for k := range inputs {
		r := rand.New(rand.NewPCG(uint64(k), 7))
		v := make([]float32, 2*60*60)
		for j := range v {
			v[j] = r.Float32()
		}
		inputs[k] = tfops.MustFromSlice(v, 2, 60, 60, 1)
		out, err := m.Run(ctx, "serving_default", map[string]*tfops.Tensor{"inputs": inputs[k]})
		require.NoError(t, err)
		want[k] = map[string][]float32{}
		for name, o := range out {
			want[k][name] = append([]float32{}, o.Float32s()...)
		}
	}
	got := make([]map[string]*tfops.Tensor, runs)
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; k < runs; k += workers {
				got[k], errs[k] = m.Run(ctx, "serving_default", map[string]*tfops.Tensor{"inputs": inputs[k]})
			}
		}()
	}
	wg.Wait()
	for k := range got {
		require.NoError(t, errs[k], "run %d", k)
		require.Len(t, got[k], len(want[k]))
		for name, o := range got[k] {
			assert.Equal(t, want[k][name], o.Float32s(), "run %d output %s", k, name)
		}
	}
	// The first serial results are still what they were.
	out, err := m.Run(ctx, "serving_default", map[string]*tfops.Tensor{"inputs": inputs[0]})
	require.NoError(t, err)
	for name, o := range out {
		assert.Equal(t, want[0][name], o.Float32s(), "output %s", name)
	}
}
