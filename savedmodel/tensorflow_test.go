//go:build tensorflow

package savedmodel

// These tests check this package's files against real TensorFlow (the C
// library, through github.com/wamuir/graft): TensorFlow's loader restores
// the variables of a SavedModel Write produced, TensorFlow's RestoreV2 reads
// a bundle WriteBundle produced, and OpenBundle reads a bundle TensorFlow's
// SaveV2 produced. Build with -tags tensorflow (scripts/install-libtensorflow.sh
// prints the environment). TensorFlow 1.15 and 2.x differ in how string
// tensors cross the C API, so strings stay inside the graphs here.

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tfseg/tfseg/tfops"
	tf "github.com/wamuir/graft/tensorflow"
	"google.golang.org/protobuf/proto"
)

func TestTensorFlowLoadsExport(t *testing.T) {
	gd, sigs := halfPlusTwo(t)
	dir := filepath.Join(t.TempDir(), "m")
	require.NoError(t, Write(dir, &Export{Graph: gd, Signatures: sigs,
		Variables: map[string]*tfops.Tensor{"a": tfops.FromScalar(float32(0.5)), "b": tfops.FromScalar(float32(2))}}))
	m, err := tf.LoadSavedModel(dir, []string{ServeTag}, nil)
	require.NoError(t, err, "TensorFlow %s cannot load the export", tf.Version())
	defer m.Session.Close()
	sig, ok := m.Signatures[DefaultSignatureKey]
	require.True(t, ok, "TensorFlow sees signatures %v", m.Signatures)
	assert.Equal(t, "x:0", sig.Inputs["x"].Name)
	x, err := tf.NewTensor([][]float32{{2}, {4}})
	require.NoError(t, err)
	out, err := m.Session.Run(map[tf.Output]*tf.Tensor{m.Graph.Operation("x").Output(0): x},
		[]tf.Output{m.Graph.Operation("y").Output(0)}, nil)
	require.NoError(t, err)
	assert.Equal(t, [][]float32{{3}, {4}}, out[0].Value(), "y = 0.5x + 2 with the restored variables")
}

func TestTensorFlowLoadsRefVariableExport(t *testing.T) {
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Int64, tfops.MakeShape(2))
	w := s.AddOp(tfops.OpSpec{Type: "VariableV2", Name: "w",
		Attrs:   map[string]any{"dtype": tfops.Int64, "shape": tfops.MakeShape(2), "container": "", "shared_name": ""},
		Outputs: []tfops.OutputInfo{{DType: tfops.Int64, Shape: tfops.MakeShape(2)}}})
	tfops.Identity(s.WithOpName("y"), tfops.AddV2(s, x, w.Output(0)))
	gd, err := s.Finalize()
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "m")
	require.NoError(t, Write(dir, &Export{Graph: gd, Variables: map[string]*tfops.Tensor{"w": tfops.MustFromSlice([]int64{1 << 40, -3}, 2)}}))
	m, err := tf.LoadSavedModel(dir, []string{ServeTag}, nil)
	require.NoError(t, err)
	defer m.Session.Close()
	xt, err := tf.NewTensor([]int64{1, 1})
	require.NoError(t, err)
	out, err := m.Session.Run(map[tf.Output]*tf.Tensor{m.Graph.Operation("x").Output(0): xt},
		[]tf.Output{m.Graph.Operation("y").Output(0)}, nil)
	require.NoError(t, err)
	assert.Equal(t, []int64{1<<40 + 1, -2}, out[0].Value())
}

// bundleDTypes are the tensors exchanged with TensorFlow's SaveV2/RestoreV2.
func bundleDTypes() map[string]*tfops.Tensor {
	return map[string]*tfops.Tensor{
		"bool": tfops.MustFromSlice([]bool{true, false}, 2),
		"f32":  tfops.MustFromSlice([]float32{1.5, -2, 3e-7}, 3, 1),
		"f64":  tfops.MustFromSlice([]float64{1e300, -0.25}, 2),
		"i16":  tfops.MustFromSlice([]int16{-300, 300}, 2),
		"i32":  tfops.MustFromSlice([]int32{-1, 1 << 30}, 1, 2),
		"i64":  tfops.FromScalar(int64(-1 << 50)),
		"i8":   tfops.MustFromSlice([]int8{-128, 5}, 2),
		"u8":   tfops.MustFromSlice([]uint8{0, 200}, 2),
		"str":  tfops.MustFromSlice([]string{"ab", "", strings.Repeat("long enough for a two-byte varint length ", 5), "\x00\xff"}, 2, 2),
	}
}

func runGraph(t *testing.T, s *tfops.Scope, fetches []string, targets []string) []*tf.Tensor {
	t.Helper()
	gd, err := s.Finalize()
	require.NoError(t, err)
	b, err := proto.Marshal(gd)
	require.NoError(t, err)
	g := tf.NewGraph()
	require.NoError(t, g.Import(b, ""))
	sess, err := tf.NewSession(g, nil)
	require.NoError(t, err)
	defer sess.Close()
	var outs []tf.Output
	for _, f := range fetches {
		node, idx, _, err := tfops.ParseTensorName(f)
		require.NoError(t, err)
		outs = append(outs, g.Operation(node).Output(idx))
	}
	var ops []*tf.Operation
	for _, n := range targets {
		ops = append(ops, g.Operation(n))
	}
	res, err := sess.Run(nil, outs, ops)
	require.NoError(t, err)
	return res
}

func stringVec(s []string) *tfops.Tensor {
	return tfops.MustFromSlice(append([]string{}, s...), len(s))
}

func TestTensorFlowRestoresWriteBundle(t *testing.T) {
	want := bundleDTypes()
	prefix := filepath.Join(t.TempDir(), "ckpt")
	require.NoError(t, WriteBundle(prefix, want))
	keys := sortedKeys(want)
	var dtypes []tfops.DType
	for _, k := range keys {
		dtypes = append(dtypes, want[k].DType())
	}
	s := tfops.NewScope()
	outs := make([]tfops.OutputInfo, len(keys))
	for i, k := range keys {
		outs[i] = tfops.OutputInfo{DType: want[k].DType(), Shape: want[k].StaticShape()}
	}
	rv := s.AddOp(tfops.OpSpec{Type: "RestoreV2", Inputs: []any{
		tfops.Const(s, tfops.FromScalar(prefix)), tfops.Const(s, stringVec(keys)), tfops.Const(s, stringVec(make([]string, len(keys))))},
		Attrs: map[string]any{"dtypes": dtypes}, Outputs: outs})
	var fetches []string
	for i, k := range keys {
		if k == "str" {
			// Strings stay in the graph: fetch their lengths.
			l := s.AddOp(tfops.OpSpec{Type: "StringLength", Inputs: []any{rv.Output(i)},
				Outputs: []tfops.OutputInfo{{DType: tfops.Int32, Shape: want[k].StaticShape()}}})
			fetches = append(fetches, l.Output(0).Name())
			continue
		}
		fetches = append(fetches, rv.Output(i).Name())
	}
	got := runGraph(t, s, fetches, nil)
	for i, k := range keys {
		w := want[k]
		if k == "str" {
			var lens [][]int32
			for r := 0; r < 2; r++ {
				lens = append(lens, []int32{int32(len(w.Strings()[2*r])), int32(len(w.Strings()[2*r+1]))})
			}
			assert.Equal(t, lens, got[i].Value(), k)
			continue
		}
		assert.Equal(t, w.Shape(), intDims(got[i].Shape()), k)
		assert.Equal(t, tfops.EncodeContent(w), tfFlatBytes(t, got[i]), k)
	}
}

func TestOpenBundleReadsTensorFlowSaveV2(t *testing.T) {
	want := bundleDTypes()
	keys := sortedKeys(want)
	prefix := filepath.Join(t.TempDir(), "ckpt")
	s := tfops.NewScope()
	var values []tfops.Output
	var dtypes []tfops.DType
	for _, k := range keys {
		values = append(values, tfops.Const(s, want[k]))
		dtypes = append(dtypes, want[k].DType())
	}
	s.AddOp(tfops.OpSpec{Type: "SaveV2", Name: "save", Inputs: []any{
		tfops.Const(s, tfops.FromScalar(prefix)), tfops.Const(s, stringVec(keys)), tfops.Const(s, stringVec(make([]string, len(keys)))), values},
		Attrs: map[string]any{"dtypes": dtypes}})
	runGraph(t, s, nil, []string{"save"})
	b, err := OpenBundle(prefix, BundleOptions{})
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, keys, b.Keys())
	got, err := b.Tensors()
	require.NoError(t, err)
	for _, k := range keys {
		assert.Equal(t, want[k].Shape(), got[k].Shape(), k)
		assert.Equal(t, want[k].Data(), got[k].Data(), k)
	}
}

func intDims(d []int64) []int {
	out := make([]int, len(d))
	for i, v := range d {
		out[i] = int(v)
	}
	return out
}

// tfFlatBytes returns a TensorFlow tensor's elements as little-endian bytes.
func tfFlatBytes(t *testing.T, x *tf.Tensor) []byte {
	t.Helper()
	var buf bytes.Buffer
	_, err := x.WriteContentsTo(&buf)
	require.NoError(t, err)
	return buf.Bytes()
}
