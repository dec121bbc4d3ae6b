//go:build tensorflow

package tfgobridge_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/bridge/internal/bridgetest"
	"github.com/tfseg/tfseg/bridge/tfgobridge"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/tfops"
)

// toTF converts a tfops tensor to a TensorFlow tensor.
func toTF(t *testing.T, x *tfops.Tensor) *tf.Tensor { return bridgetest.ToTF(t, x, tf.ReadTensor) }

// values returns a fetched TensorFlow tensor's elements as float64.
func values(t *testing.T, x *tf.Tensor) []float64 {
	return bridgetest.Values(t, x, uint32(x.DataType()))
}

// run finalizes s and fetches outs with feeds.
func run(t *testing.T, s *op.Scope, feeds map[tf.Output]*tf.Tensor, outs ...tf.Output) []*tf.Tensor {
	t.Helper()
	g, err := s.Finalize()
	require.NoError(t, err)
	sess, err := tf.NewSession(g, nil)
	require.NoError(t, err)
	defer sess.Close()
	res, err := sess.Run(feeds, outs, nil)
	require.NoError(t, err)
	return res
}

// TestImportLossMatchesGoEngine adds each loss to an op.Scope under a
// sub-scope and control dependency of the caller's, on the caller's
// tensors (y_true a Const, y_pred and the extra inputs fed placeholders),
// runs it on libtensorflow and compares with the loss run on the Go engine.
func TestImportLossMatchesGoEngine(t *testing.T) {
	for i, c := range bridgetest.Cases() {
		t.Run(c.Label(), func(t *testing.T) {
			in := bridgetest.Inputs(uint64(i+1), c)
			want := bridgetest.Want(t, c, in)

			root := op.NewScope()
			yTrue := op.Const(root.SubScope("labels"), toTF(t, in[graphs.InputTrue]))
			feeds := map[tf.Output]*tf.Tensor{}
			ph := func(k string) tf.Output {
				o := op.Placeholder(root.SubScope(k), tf.DataType(c.DType))
				feeds[o] = toTF(t, in[k])
				return o
			}
			yPred := ph(graphs.InputPred)
			extra := map[string]tf.Output{}
			for _, k := range c.Extra {
				extra[k] = ph(k)
			}
			s := root.SubScope("train").WithControlDependencies(yTrue.Op)
			loss, err := tfgobridge.ImportLoss(s, c.Name, c.Cfg, yTrue, yPred, extra)
			require.NoError(t, err)
			assert.Equal(t, "train/"+c.Name+"/loss", loss.Op.Name())
			assert.Equal(t, tf.DataType(c.DType), loss.DataType())
			bridgetest.Compare(t, c, want, values(t, run(t, root, feeds, loss)[0]))
		})
	}
}

// TestImportLossTwice adds the same loss twice to one scope: the second
// lands in a unique sub-scope, and both run.
func TestImportLossTwice(t *testing.T) {
	root := op.NewScope()
	z := op.Const(root.SubScope("z"), [][][][]float32{{{{1}, {0}}}})
	p := op.Const(root.SubScope("p"), [][][][]float32{{{{0.8}, {0.3}}}})
	a, err := tfgobridge.ImportLoss(root, "ce", graphs.Config{"reduction": "none"}, z, p, nil)
	require.NoError(t, err)
	b, err := tfgobridge.ImportLoss(root, "ce", graphs.Config{"reduction": "sum"}, z, p, nil)
	require.NoError(t, err)
	assert.Equal(t, "ce/loss", a.Op.Name())
	assert.Equal(t, "ce_1/loss", b.Op.Name())
	out := run(t, root, nil, a, b)
	// -log 0.8 and -log 0.7 per pixel; their sum.
	assert.InDeltaSlice(t, []float64{0.22314355, 0.35667494}, values(t, out[0]), 1e-6)
	assert.InDelta(t, 0.57981849, values(t, out[1])[0], 1e-6)
}

// TestImportLossErrors: bad input is an error naming the loss and the
// tensor at fault, and adds nothing to the scope (it stays usable).
func TestImportLossErrors(t *testing.T) {
	root := op.NewScope()
	z := op.Const(root.SubScope("z"), [][][][]float32{{{{1}, {0}}}})
	p := op.Const(root.SubScope("p"), [][][][]float32{{{{0.8}, {0.3}}}})
	pWide := op.Const(root.SubScope("pwide"), [][][][]float32{{{{0.8}, {0.3}, {0.5}}}})
	pInt := op.Const(root.SubScope("pint"), [][][][]int32{{{{1}, {0}}}})
	cases := []struct {
		name  string
		scope *op.Scope
		loss  string
		cfg   graphs.Config
		yTrue tf.Output
		yPred tf.Output
		extra map[string]tf.Output
		is    error
		says  []string
	}{
		{name: "unknown loss", scope: root, loss: "nope", yTrue: z, yPred: p, is: graphs.ErrUnknown, says: []string{`"nope"`}},
		{name: "bad parameter", scope: root, loss: "focal", cfg: graphs.Config{"alpha": "2"}, yTrue: z, yPred: p, is: graphs.ErrParam, says: []string{"focal", "alpha"}},
		{name: "int y_pred", scope: root, loss: "focal", yTrue: z, yPred: pInt, is: graphs.ErrInput, says: []string{"focal", "y_pred", "pint/Const:0", "int32"}},
		{name: "shape mismatch", scope: root, loss: "dice_image", yTrue: z, yPred: pWide, is: graphs.ErrInput, says: []string{"dice_image", "pwide/Const:0", "(1, 1, 3, 1)"}},
		{name: "missing weights", scope: root, loss: "distance_ce", cfg: graphs.Config{"beta": "0.5"}, yTrue: z, yPred: p, is: graphs.ErrInput, says: []string{"distance_ce", "weights"}},
		{name: "y_pred in extra", scope: root, loss: "ce", yTrue: z, yPred: p, extra: map[string]tf.Output{"y_pred": p}, is: graphs.ErrInput, says: []string{"ce", "y_pred"}},
		{name: "nil op", scope: root, loss: "ce", yTrue: tf.Output{}, yPred: p, is: graphs.ErrInput, says: []string{"ce", "y_true", "nil Op"}},
		{name: "bad index", scope: root, loss: "ce", yTrue: z, yPred: tf.Output{Op: p.Op, Index: 1}, is: graphs.ErrInput, says: []string{"ce", "p/Const:1"}},
		{name: "nil scope", scope: nil, loss: "ce", yTrue: z, yPred: p, is: graphs.ErrInput, says: []string{"ce", "nil scope"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tfgobridge.ImportLoss(tc.scope, tc.loss, tc.cfg, tc.yTrue, tc.yPred, tc.extra)
			bridgetest.Says(t, err, tc.is, tc.says...)
		})
	}
	require.NoError(t, root.Err())
	g, err := root.Finalize()
	require.NoError(t, err)
	assert.Len(t, g.Operations(), 4, "failed imports must add no op")

	// A failed scope is reported, not built on.
	bad := op.NewScope()
	bad.UpdateErr("MyOp", errors.New("broken on purpose"))
	_, err = tfgobridge.ImportLoss(bad, "ce", nil, z, p, nil)
	bridgetest.Says(t, err, tfgobridge.ErrImport, "ce", "already failed", "broken on purpose")
}

// TestStartup builds a tfgo program that imports tfgobridge (the
// testdata/startup command) and runs it with
// GOLANG_PROTOBUF_REGISTRATION_CONFLICT unset: it must start without the
// registration panic, print nothing on stderr (no warnings) and compute
// the focal loss of the package example.
func TestStartup(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "startup")
	build := exec.Command("go", "build", "-tags", "tensorflow", "-o", bin, "./testdata/startup")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	cmd := exec.Command(bin)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOLANG_PROTOBUF_REGISTRATION_CONFLICT=") && !strings.HasPrefix(kv, "TF_CPP_MIN_LOG_LEVEL=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "TF_CPP_MIN_LOG_LEVEL=1") // hides libtensorflow's INFO lines (CPU features), not its warnings
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())
	assert.Equal(t, "focal/loss 0.013154\n", stdout.String())
	assert.Empty(t, stderr.String(), "no protobuf registration warning")
}
