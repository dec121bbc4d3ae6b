// Package bridgetest holds what the tests of both TensorFlow bridges share:
// the losses they import, deterministic inputs, the Go engine's values to
// compare with, and tensor conversion through raw little-endian bytes
// (which both bindings' ReadTensor and WriteContentsTo speak).
package bridgetest

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine"
	_ "github.com/tfseg/tfseg/engine/goengine" // the reference engine
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/tfops"
)

// RelTol is the relative tolerance between a bridged loss on libtensorflow
// and the same loss on the Go engine.
const RelTol = 1e-6

// Case is one loss to import and compare.
type Case struct {
	Name   string
	Cfg    graphs.Config
	DType  tfops.DType
	Logits bool     // y_pred holds logits in (-4, 4), not probabilities
	Extra  []string // inputs besides y_true and y_pred ("weights")
	Dims   []int
}

// Label names the case for t.Run.
func (c Case) Label() string { return c.Name + "/" + c.DType.String() }

// Cases are the losses both bridges are checked on: the benchmarked losses,
// a float64 one and one with a weights input.
func Cases() []Case {
	return []Case{
		{Name: "ce", DType: tfops.Float, Dims: []int{2, 8, 8, 1}},
		{Name: "focal", DType: tfops.Float, Dims: []int{2, 8, 8, 1}},
		{Name: "focal", Cfg: graphs.Config{"alpha": "0.5", "gamma": "3"}, DType: tfops.Double, Dims: []int{2, 5, 7, 1}},
		{Name: "dice_image", DType: tfops.Float, Dims: []int{3, 8, 8, 1}},
		{Name: "tversky_image", Cfg: graphs.Config{"beta": "0.7"}, DType: tfops.Float, Dims: []int{3, 8, 8, 1}},
		{Name: "lovasz_hinge", DType: tfops.Float, Logits: true, Dims: []int{2, 8, 8, 1}},
		{Name: "keras_bce", DType: tfops.Float, Dims: []int{2, 8, 8, 1}},
		{Name: "ce_dice", DType: tfops.Float, Dims: []int{2, 8, 8, 1}},
		{Name: "distance_ce", Cfg: graphs.Config{"beta": "0.6"}, DType: tfops.Float, Extra: []string{graphs.InputWeights}, Dims: []int{2, 8, 8, 1}},
	}
}

// Inputs makes the case's inputs from seed: y_true a 0/1 mask, y_pred in
// (0.02, 0.98) (or logits), weights in [0, 5).
func Inputs(seed uint64, c Case) map[string]*tfops.Tensor {
	r := rand.New(rand.NewPCG(seed, 7))
	n := tfops.NumElements(c.Dims)
	z, p, w := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range z {
		if r.Float64() < 0.4 {
			z[i] = 1
		}
		p[i] = 0.02 + 0.96*r.Float64()
		if c.Logits {
			p[i] = 8*r.Float64() - 4
		}
		w[i] = 5 * r.Float64()
	}
	mk := func(v []float64) *tfops.Tensor {
		if c.DType == tfops.Double {
			return tfops.MustFromSlice(v, c.Dims...)
		}
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		return tfops.MustFromSlice(f, c.Dims...)
	}
	in := map[string]*tfops.Tensor{graphs.InputTrue: mk(z), graphs.InputPred: mk(p)}
	for _, k := range c.Extra {
		if k == graphs.InputWeights {
			in[k] = mk(w)
		}
	}
	return in
}

// Want is the loss on the Go engine, as float64. It runs the graph
// itself rather than through tfseg.Eval: the root package links the
// tensorflow engine (graft's cgo bindings) under the tag, whose C helpers
// clash with galeone's at link time in tfgobridge's test binary.
func Want(t *testing.T, c Case, in map[string]*tfops.Tensor) []float64 {
	t.Helper()
	eng, err := engine.Get("go")
	require.NoError(t, err)
	specs := map[string]graphs.InputSpec{}
	for k, x := range in {
		specs[k] = graphs.InputSpec{DType: x.DType(), Shape: x.StaticShape()}
	}
	g, err := graphs.BuildFor(c.Name, c.Cfg, specs)
	require.NoError(t, err)
	sess, err := eng.NewSession(g.GraphDef, engine.SessionOptions{})
	require.NoError(t, err)
	defer sess.Close()
	feeds := map[string]*tfops.Tensor{}
	for k, x := range in {
		feeds[g.Inputs[k]] = x
	}
	out, err := sess.Run(context.Background(), feeds, []string{g.Output}, nil)
	require.NoError(t, err)
	return Float64s(out[0])
}

// Raw returns x's dtype (TensorFlow's enum), dims and little-endian content.
func Raw(x *tfops.Tensor) (dtype int32, dims []int64, content []byte) {
	dims = make([]int64, x.Rank())
	for i, d := range x.Shape() {
		dims[i] = int64(d)
	}
	return int32(x.DType()), dims, tfops.EncodeContent(x)
}

// ToTF makes a binding's tensor from x with the binding's ReadTensor.
func ToTF[T any, D ~uint32](t *testing.T, x *tfops.Tensor, read func(D, []int64, io.Reader) (T, error)) T {
	t.Helper()
	dt, dims, content := Raw(x)
	tt, err := read(D(dt), dims, bytes.NewReader(content))
	require.NoError(t, err)
	return tt
}

// Fetched is a binding's tensor as a session returns it.
type Fetched interface {
	WriteContentsTo(w io.Writer) (int64, error)
	Shape() []int64
}

// Values returns a fetched tensor of the given dtype (TensorFlow's enum)
// as float64 values.
func Values(t *testing.T, x Fetched, dtype uint32) []float64 {
	t.Helper()
	var buf bytes.Buffer
	_, err := x.WriteContentsTo(&buf)
	require.NoError(t, err)
	return FromRaw(t, int32(dtype), x.Shape(), buf.Bytes())
}

// FromRaw decodes a fetched tensor's content into float64 values.
func FromRaw(t *testing.T, dtype int32, dims []int64, content []byte) []float64 {
	t.Helper()
	d := make([]int, len(dims))
	for i, n := range dims {
		d[i] = int(n)
	}
	x, err := tfops.DecodeContent(tfops.DType(dtype), d, content)
	require.NoError(t, err)
	return Float64s(x)
}

// Float64s returns a float32 or float64 tensor's values as float64.
func Float64s(x *tfops.Tensor) []float64 {
	v, _ := x.AsFloat64s()
	return v
}

// Compare checks got against want element by element within RelTol.
func Compare(t *testing.T, c Case, want, got []float64) {
	t.Helper()
	require.Len(t, got, len(want), "%s: number of loss values", c.Label())
	for j := range want {
		assert.InEpsilonf(t, want[j], got[j], RelTol, "%s element %d: bridged %g, go engine %g", c.Label(), j, got[j], want[j])
	}
}

// Says checks that err wraps is and its message holds every word.
func Says(t *testing.T, err error, is error, words ...string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, is)
	for _, w := range words {
		assert.Contains(t, err.Error(), w)
	}
}
