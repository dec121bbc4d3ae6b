package tfseg_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/internal/fixtures"
	"github.com/tfseg/tfseg/tfops"
)

// Concurrency: Model.Run, tfseg.Eval and a shared loss session are called
// from concGoroutines goroutines, concCalls times each (concShortCalls with
// -short), on a few distinct inputs; every result must be bit-identical to
// the serial run of the same input. Under -race this also checks that no
// run shares mutable state with another. The U-Net test dominates: about
// 2 CPU-minutes under -race.
const (
	concGoroutines = 8
	concCalls      = 100
	concShortCalls = 10
)

// concFixture returns the path of a fixture SavedModel, skipping (failing
// under CI=true) when ../shared/fixtures is absent.
func concFixture(t *testing.T, name string) string {
	t.Helper()
	return fixtures.SavedModel(t, name)
}

// concPattern is a deterministic float32 tensor of the given shape with
// values in [0, 1), different for each seed.
func concPattern(seed int, dims ...int) *tfops.Tensor {
	n := tfops.NumElements(dims)
	v := make([]float32, n)
	for i := range v {
		x := math.Sin(float64(i*7+seed*131)) * 43758.5453
		v[i] = float32(x - math.Floor(x))
	}
	return tfops.MustFromSlice(v, dims...)
}

// tensorBytes is a tensor's dtype, shape and raw content, for bit-exact
// comparison (NaN payloads included).
func tensorBytes(t *tfops.Tensor) []byte {
	return append([]byte(fmt.Sprint(t.DType(), t.Shape())), tfops.EncodeContent(t)...)
}

// hammer calls run(input) serially once per input to get the reference
// results, then from concGoroutines goroutines concCalls times each
// (concShortCalls with -short),
// cycling through the inputs, and fails on the first result that differs
// from the reference by a single bit.
func hammer(t *testing.T, inputs int, run func(input int) ([]byte, error)) {
	t.Helper()
	want := make([][]byte, inputs)
	for i := range want {
		b, err := run(i)
		require.NoError(t, err, "serial run of input %d", i)
		want[i] = b
	}
	calls := concCalls
	if testing.Short() {
		calls = concShortCalls
	}
	var wg sync.WaitGroup
	errs := make(chan error, concGoroutines)
	for g := 0; g < concGoroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for c := 0; c < calls; c++ {
				in := (g + c) % inputs
				got, err := run(in)
				if err != nil {
					errs <- fmt.Errorf("goroutine %d call %d (input %d): %w", g, c, in, err)
					return
				}
				if !bytes.Equal(got, want[in]) {
					errs <- fmt.Errorf("goroutine %d call %d (input %d): result differs from the serial run", g, c, in)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestConcurrentModelRunUNet runs the Keras U-Net fixture (TF 2.10: nested
// function calls, Conv2D, Conv2DBackpropInput, MaxPool, Softmax) on 44x44
// inputs, the smallest its valid padding allows (4x4 outputs).
func TestConcurrentModelRunUNet(t *testing.T) {
	m, err := tfseg.Load(concFixture(t, "keras-unet-circles"))
	require.NoError(t, err)
	defer m.Close()
	inputs := []*tfops.Tensor{concPattern(1, 1, 44, 44, 1), concPattern(2, 1, 44, 44, 1), concPattern(3, 1, 44, 44, 1)}
	hammer(t, len(inputs), func(i int) ([]byte, error) {
		res, err := m.Run(context.Background(), "serving_default", map[string]*tfops.Tensor{"inputs": inputs[i]})
		if err != nil {
			return nil, err
		}
		return tensorBytes(res["outputs"]), nil
	})
}

// TestConcurrentModelRunHalfPlusTwo runs the TF1 half-plus-two fixture
// (VariableV2 restored through save/restore_all) through two signatures.
func TestConcurrentModelRunHalfPlusTwo(t *testing.T) {
	m, err := tfseg.Load(concFixture(t, "half-plus-two-tf1"))
	require.NoError(t, err)
	defer m.Close()
	type call struct{ key, in, out string }
	calls := []call{{"serving_default", "x", "y"}, {"regress_x2_to_y3", "inputs", "outputs"}}
	inputs := []*tfops.Tensor{concPattern(1, 3, 1), concPattern(2, 5, 1), concPattern(3, 1, 1), concPattern(4, 7, 1)}
	hammer(t, len(inputs), func(i int) ([]byte, error) {
		c := calls[i%len(calls)]
		res, err := m.Run(context.Background(), c.key, map[string]*tfops.Tensor{c.in: inputs[i]})
		if err != nil {
			return nil, err
		}
		return tensorBytes(res[c.out]), nil
	})
}

// concLosses are the losses the concurrency tests evaluate: sorting
// (Lovász), reductions, a distance map input and a metric.
var concLosses = []struct {
	name string
	cfg  graphs.Config
	// weights adds the distance_ce "weights" input.
	weights bool
}{
	{"keras_bce", nil, false},
	{"focal", nil, false},
	{"dice", nil, false},
	{"lovasz_hinge", nil, false},
	{"distance_ce", graphs.Config{"beta": "0.7"}, true},
	{"iou", nil, false},
}

// concLossInputs are the inputs of loss i: binary labels and
// probabilities of shape (2, 8, 8, 1).
func concLossInputs(i int, weights bool) map[string]*tfops.Tensor {
	yTrue := concPattern(i+10, 2, 8, 8, 1)
	for k, v := range yTrue.Float32s() {
		yTrue.Float32s()[k] = float32(math.Round(float64(v)))
	}
	in := map[string]*tfops.Tensor{graphs.InputTrue: yTrue, graphs.InputPred: concPattern(i+20, 2, 8, 8, 1)}
	if weights {
		in[graphs.InputWeights] = concPattern(i+30, 2, 8, 8, 1)
	}
	return in
}

// TestConcurrentLossEval calls tfseg.Eval (graph built and session
// opened per call) for several losses at once.
func TestConcurrentLossEval(t *testing.T) {
	eng, err := engine.Get(engine.Default)
	require.NoError(t, err)
	hammer(t, len(concLosses), func(i int) ([]byte, error) {
		l := concLosses[i]
		out, err := tfseg.Eval(context.Background(), eng, l.name, l.cfg, concLossInputs(i, l.weights))
		if err != nil {
			return nil, err
		}
		return tensorBytes(out), nil
	})
}

// TestConcurrentLossSessions shares one session per loss between all
// goroutines, as a server evaluating one configured loss does.
func TestConcurrentLossSessions(t *testing.T) {
	eng, err := engine.Get(engine.Default)
	require.NoError(t, err)
	type prepared struct {
		sess   engine.Session
		g      *graphs.Graph
		inputs map[string]*tfops.Tensor
	}
	ps := make([]prepared, len(concLosses))
	for i, l := range concLosses {
		g, err := graphs.Build(l.name, l.cfg)
		require.NoError(t, err)
		sess, err := eng.NewSession(g.GraphDef, engine.SessionOptions{})
		require.NoError(t, err)
		defer sess.Close()
		feeds := map[string]*tfops.Tensor{}
		for k, v := range concLossInputs(i, l.weights) {
			feeds[g.Inputs[k]] = v
		}
		ps[i] = prepared{sess, g, feeds}
	}
	hammer(t, len(ps), func(i int) ([]byte, error) {
		p := ps[i]
		out, err := p.sess.Run(context.Background(), p.inputs, []string{p.g.Output}, nil)
		if err != nil {
			return nil, err
		}
		return tensorBytes(out[0]), nil
	})
}
