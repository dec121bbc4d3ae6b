//go:build tensorflow

package bridge_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	tf "github.com/wamuir/graft/tensorflow"
	"github.com/wamuir/graft/tensorflow/op"

	"github.com/tfseg/tfseg/bridge"
	"github.com/tfseg/tfseg/bridge/internal/bridgetest"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/tfops"
)

// toTF converts a tfops tensor to a TensorFlow tensor.
func toTF(t *testing.T, x *tfops.Tensor) *tf.Tensor { return bridgetest.ToTF(t, x, tf.ReadTensor) }

// values returns a fetched TensorFlow tensor's elements as float64.
func values(t *testing.T, x *tf.Tensor) []float64 {
	return bridgetest.Values(t, x, uint32(x.DataType()))
}

// TestImportLossMatchesGoEngine imports each loss into a graft graph on the
// caller's tensors (y_true a Const, y_pred and the extra inputs fed
// placeholders), runs it on libtensorflow and compares with the loss run on
// the Go engine.
func TestImportLossMatchesGoEngine(t *testing.T) {
	for i, c := range bridgetest.Cases() {
		t.Run(c.Label(), func(t *testing.T) {
			in := bridgetest.Inputs(uint64(i+1), c)
			want := bridgetest.Want(t, c, in)

			s := op.NewScope()
			yTrue := op.Const(s.SubScope("labels"), toTF(t, in[graphs.InputTrue]))
			feeds := map[tf.Output]*tf.Tensor{}
			ph := func(k string) tf.Output {
				o := op.Placeholder(s.SubScope(k), tf.DataType(c.DType))
				feeds[o] = toTF(t, in[k])
				return o
			}
			yPred := ph(graphs.InputPred)
			extra := map[string]tf.Output{}
			for _, k := range c.Extra {
				extra[k] = ph(k)
			}
			g, err := s.Finalize()
			require.NoError(t, err)
			loss, err := bridge.ImportLoss(g, "", c.Name, c.Cfg, yTrue, yPred, extra)
			require.NoError(t, err)
			assert.Equal(t, c.Name+"/loss", loss.Op.Name())
			assert.Equal(t, tf.DataType(c.DType), loss.DataType())

			sess, err := tf.NewSession(g, nil)
			require.NoError(t, err)
			defer sess.Close()
			out, err := sess.Run(feeds, []tf.Output{loss}, nil)
			require.NoError(t, err)
			bridgetest.Compare(t, c, want, values(t, out[0]))
		})
	}
}

// TestImportLossTwice imports two losses under default prefixes: the second
// gets a unique one, and both run.
func TestImportLossTwice(t *testing.T) {
	s := op.NewScope()
	z := op.Const(s.SubScope("z"), [][][][]float32{{{{1}, {0}}}})
	p := op.Const(s.SubScope("p"), [][][][]float32{{{{0.8}, {0.3}}}})
	g, err := s.Finalize()
	require.NoError(t, err)
	a, err := bridge.ImportLoss(g, "", "ce", graphs.Config{"reduction": "none"}, z, p, nil)
	require.NoError(t, err)
	b, err := bridge.ImportLoss(g, "", "ce", graphs.Config{"reduction": "sum"}, z, p, nil)
	require.NoError(t, err)
	c, err := bridge.ImportLoss(g, "mine", "dice", nil, z, p, nil)
	require.NoError(t, err)
	assert.Equal(t, "ce/loss", a.Op.Name())
	assert.Equal(t, "ce_1/loss", b.Op.Name())
	assert.Equal(t, "mine/loss", c.Op.Name())

	sess, err := tf.NewSession(g, nil)
	require.NoError(t, err)
	defer sess.Close()
	out, err := sess.Run(nil, []tf.Output{a, b}, nil)
	require.NoError(t, err)
	// -log 0.8 and -log 0.7 per pixel; sum over them.
	ce := []float64{-math.Log(0.8), -math.Log(0.7)}
	assert.InDeltaSlice(t, ce, values(t, out[0]), 1e-6)
	assert.InDelta(t, ce[0]+ce[1], values(t, out[1])[0], 1e-6)
}

// TestImportLossErrors: bad input is an error naming the loss and the
// tensor at fault, wrapping the graphs or bridge sentinel; the graph is
// left without the loss.
func TestImportLossErrors(t *testing.T) {
	s := op.NewScope()
	z := op.Const(s.SubScope("z"), [][][][]float32{{{{1}, {0}}}})
	p := op.Const(s.SubScope("p"), [][][][]float32{{{{0.8}, {0.3}}}})
	p3 := op.Const(s.SubScope("p3"), [][][]float32{{{0.8, 0.3}}})
	pWide := op.Const(s.SubScope("pwide"), [][][][]float32{{{{0.8}, {0.3}, {0.5}}}})
	pInt := op.Const(s.SubScope("pint"), [][][][]int32{{{{1}, {0}}}})
	zCplx := op.Const(s.SubScope("zcplx"), [][][][]complex64{{{{1}, {0}}}})
	op.Const(s.SubScope("taken"), float32(1)) // a node under "taken"
	g, err := s.Finalize()
	require.NoError(t, err)

	other := op.NewScope()
	foreign := op.Const(other.SubScope("foreign"), [][][][]float32{{{{0.8}, {0.3}}}})

	cases := []struct {
		name   string
		graph  *tf.Graph
		prefix string
		loss   string
		cfg    graphs.Config
		yTrue  tf.Output
		yPred  tf.Output
		extra  map[string]tf.Output
		is     error
		says   []string
	}{
		{name: "unknown loss", graph: g, loss: "nope", yTrue: z, yPred: p, is: graphs.ErrUnknown, says: []string{`"nope"`, "focal"}},
		{name: "bad parameter", graph: g, loss: "focal", cfg: graphs.Config{"gamma": "-1"}, yTrue: z, yPred: p, is: graphs.ErrParam, says: []string{"focal", "gamma"}},
		{name: "int y_pred", graph: g, loss: "focal", yTrue: z, yPred: pInt, is: graphs.ErrInput, says: []string{"focal", "y_pred", "pint/Const:0", "int32"}},
		{name: "complex y_true", graph: g, loss: "ce", yTrue: zCplx, yPred: p, is: graphs.ErrInput, says: []string{"ce", "y_true", "zcplx/Const:0"}},
		{name: "shape mismatch", graph: g, loss: "dice_image", yTrue: z, yPred: pWide, is: graphs.ErrInput, says: []string{"dice_image", "pwide/Const:0", "(1, 1, 3, 1)", "(1, 1, 2, 1)"}},
		{name: "wrong rank", graph: g, loss: "dice_image", yTrue: p3, yPred: p3, is: graphs.ErrInput, says: []string{"dice_image", "rank 4", "p3/Const:0"}},
		{name: "missing weights", graph: g, loss: "distance_ce", cfg: graphs.Config{"beta": "0.5"}, yTrue: z, yPred: p, is: graphs.ErrInput, says: []string{"distance_ce", "weights"}},
		{name: "unknown extra", graph: g, loss: "focal", yTrue: z, yPred: p, extra: map[string]tf.Output{"weights": p}, is: graphs.ErrInput, says: []string{"focal", `"weights"`}},
		{name: "y_true in extra", graph: g, loss: "focal", yTrue: z, yPred: p, extra: map[string]tf.Output{"y_true": z}, is: graphs.ErrInput, says: []string{"focal", "y_true"}},
		{name: "nil op", graph: g, loss: "focal", yTrue: z, yPred: tf.Output{}, is: graphs.ErrInput, says: []string{"focal", "y_pred", "nil Op"}},
		{name: "bad index", graph: g, loss: "focal", yTrue: z, yPred: tf.Output{Op: p.Op, Index: 3}, is: graphs.ErrInput, says: []string{"focal", "p/Const:3"}},
		{name: "foreign tensor", graph: g, loss: "focal", yTrue: z, yPred: foreign, is: graphs.ErrInput, says: []string{"focal", "foreign/Const:0", "not in the graph"}},
		{name: "nil graph", graph: nil, loss: "focal", yTrue: z, yPred: p, is: graphs.ErrInput, says: []string{"focal", "nil graph"}},
		{name: "prefix in use", graph: g, prefix: "taken", loss: "focal", yTrue: z, yPred: p, is: bridge.ErrImport, says: []string{"focal", `"taken"`, "taken/Const"}},
		{name: "invalid prefix", graph: g, prefix: "a b", loss: "focal", yTrue: z, yPred: p, is: bridge.ErrImport, says: []string{"focal", `"a b"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := 0
			if tc.graph != nil {
				before = len(tc.graph.Operations())
			}
			_, err := bridge.ImportLoss(tc.graph, tc.prefix, tc.loss, tc.cfg, tc.yTrue, tc.yPred, tc.extra)
			bridgetest.Says(t, err, tc.is, tc.says...)
			if tc.graph != nil {
				assert.Len(t, tc.graph.Operations(), before, "a failed import must leave the graph as it was")
			}
		})
	}
}
