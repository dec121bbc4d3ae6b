package savedmodel

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tfseg/tfseg/tfops"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	pb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
)

// halfPlusTwo builds y = a*x + b with resource variables a and b, the
// graph of the half_plus_two fixture, and its serving signature.
func halfPlusTwo(t testing.TB) (*graphpb.GraphDef, map[string]Signature) {
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(-1, 1))
	a := VarHandleOp(s, "a", tfops.Float, tfops.ScalarShape())
	b := VarHandleOp(s, "b", tfops.Float, tfops.ScalarShape())
	ra := ReadVariableOp(s.SubScope("a"), a, tfops.Float, tfops.ScalarShape())
	rb := ReadVariableOp(s.SubScope("b"), b, tfops.Float, tfops.ScalarShape())
	y := tfops.Identity(s.WithOpName("y"), tfops.AddV2(s, tfops.Mul(s, ra, x), rb))
	gd, err := s.Finalize()
	require.NoError(t, err)
	sig := Signature{MethodName: PredictMethod,
		Inputs:  map[string]TensorInfo{"x": {Name: x.Name(), DType: tfops.Float, Shape: x.Shape()}},
		Outputs: map[string]TensorInfo{"y": {Name: y.Name(), DType: tfops.Float, Shape: y.Shape()}}}
	return gd, map[string]Signature{DefaultSignatureKey: sig}
}

func node(gd *graphpb.GraphDef, name string) *nodepb.NodeDef {
	for _, n := range gd.GetNode() {
		if n.GetName() == name {
			return n
		}
	}
	return nil
}

// assertTF1ServingLayout checks what the half-plus-two-tf1 fixture, written
// by TensorFlow 1.14, and this package's exports have in common: the serving
// signature x:0 -> y:0 and a SaverDef restoring through save/restore_all.
func assertTF1ServingLayout(t *testing.T, m *SavedModel) {
	t.Helper()
	s, err := m.Signature(DefaultSignatureKey)
	require.NoError(t, err)
	assert.Equal(t, "x:0", s.Inputs["x"].Name)
	assert.Equal(t, "y:0", s.Outputs["y"].Name)
	assert.Equal(t, PredictMethod, s.MethodName)
	sd := m.SaverDef()
	require.NotNil(t, sd)
	assert.Equal(t, "save/Const:0", sd.GetFilenameTensorName())
	assert.Equal(t, "save/restore_all", sd.GetRestoreOpName())
}

func TestWriteReadRoundTrip(t *testing.T) {
	gd, sigs := halfPlusTwo(t)
	dir := filepath.Join(t.TempDir(), "export", "1")
	vars := map[string]*tfops.Tensor{"a": tfops.FromScalar(float32(0.5)), "b": tfops.FromScalar(float32(2))}
	require.NoError(t, Write(dir, &Export{Graph: gd, Signatures: sigs, Variables: vars}))

	m, err := Read(dir, ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{ServeTag}, m.Tags)
	assert.Equal(t, []string{DefaultSignatureKey}, m.SignatureKeys())
	assertTF1ServingLayout(t, m)
	assert.Equal(t, "(?, 1)", m.signatures[DefaultSignatureKey].Inputs["x"].Shape.String())
	sd := m.SaverDef()
	assert.Equal(t, "save/control_dependency:0", sd.GetSaveTensorName())
	assert.Equal(t, pb.SaverDef_V2, sd.GetVersion())
	g := m.Graph()
	assert.Len(t, g.GetNode(), len(gd.GetNode())+14, "the saver adds 14 nodes")
	restore := node(g, "save/restore_all")
	require.NotNil(t, restore)
	assert.Equal(t, "NoOp", restore.GetOp())
	assert.Equal(t, []string{"^save/AssignVariableOp_0", "^save/AssignVariableOp_1"}, restore.GetInput())
	assign := node(g, "save/AssignVariableOp_1")
	require.NotNil(t, assign)
	assert.Equal(t, []string{"b", "save/RestoreV2:1"}, assign.GetInput())
	rv := node(g, "save/RestoreV2")
	require.NotNil(t, rv)
	assert.Equal(t, "save/Const", rv.GetInput()[0])
	names := node(g, "save/RestoreV2/tensor_names")
	nt, err := tfops.FromProto(names.GetAttr()["value"].GetTensor())
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, nt.Strings())
	assert.Equal(t, "a", string(node(g, "a").GetAttr()["shared_name"].GetS()))

	// The variables, restored the way RestoreV2 reads them.
	b, err := m.OpenVariables(BundleOptions{})
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, []string{"a", "b"}, b.Keys())
	got, err := b.Tensors()
	require.NoError(t, err)
	assert.Equal(t, []float32{0.5}, got["a"].Float32s())
	assert.Equal(t, []float32{2}, got["b"].Float32s())

	// Nothing else is left in the parent directory.
	ents, err := os.ReadDir(filepath.Dir(dir))
	require.NoError(t, err)
	require.Len(t, ents, 1)
	assert.Equal(t, "1", ents[0].Name())
}

func TestWriteWithoutVariables(t *testing.T) {
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(-1))
	y := tfops.Identity(s.WithOpName("y"), tfops.Log1p(s, x))
	gd, err := s.Finalize()
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "m")
	require.NoError(t, os.Mkdir(dir, 0o755)) // an existing empty directory is fine
	sig := Signature{Inputs: map[string]TensorInfo{"x": {Name: x.Name(), DType: tfops.Float, Shape: x.Shape()}},
		Outputs: map[string]TensorInfo{"y": {Name: y.Name(), DType: tfops.Float, Shape: y.Shape()}}}
	require.NoError(t, Write(dir, &Export{Graph: gd, Tags: []string{"serve", "tpu"},
		Signatures: map[string]Signature{"log1p": sig}}))
	m, err := Read(dir, ReadOptions{Tags: []string{"tpu", "serve"}})
	require.NoError(t, err)
	assert.Nil(t, m.SaverDef())
	assert.False(t, m.HasVariables())
	assert.DirExists(t, m.VariablesDir())
	_, err = m.OpenVariables(BundleOptions{})
	assert.ErrorIs(t, err, ErrNoVariables)
	assert.Equal(t, []string{"log1p"}, m.SignatureKeys())
	assets, err := m.Assets()
	require.NoError(t, err)
	assert.Empty(t, assets)

	// Replacing needs Replace; the old content is then gone.
	err = Write(dir, &Export{Graph: gd, Signatures: map[string]Signature{"log1p": sig}})
	require.ErrorIs(t, err, ErrExport)
	assert.Contains(t, err.Error(), "not empty")
	require.NoError(t, Write(dir, &Export{Graph: gd, Signatures: map[string]Signature{"again": sig}, Replace: true}))
	m, err = Read(dir, ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"again"}, m.SignatureKeys())
	ents, err := os.ReadDir(filepath.Dir(dir))
	require.NoError(t, err)
	assert.Len(t, ents, 1, "no temporary directory is left behind")
}

func TestWriteSaverPrefixCollision(t *testing.T) {
	s := tfops.NewScope()
	v := VarHandleOp(s, "v", tfops.Int64, tfops.MakeShape(2))
	tfops.Scalar(s.WithOpName("save/Const"), tfops.Float, 1)
	_ = v
	gd, err := s.Finalize()
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "m")
	require.NoError(t, Write(dir, &Export{Graph: gd, Variables: map[string]*tfops.Tensor{"v": tfops.MustFromSlice([]int64{7, 8}, 2)}}))
	m, err := Read(dir, ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, "save_1/restore_all", m.SaverDef().GetRestoreOpName())
	assert.Equal(t, "save_1/Const:0", m.SaverDef().GetFilenameTensorName())
}

func TestWriteRefVariable(t *testing.T) {
	// A TF1 VariableV2 is restored with Assign, as the half-plus-two-tf1 fixture is.
	s := tfops.NewScope()
	s.AddOp(tfops.OpSpec{Type: "VariableV2", Name: "w",
		Attrs:   map[string]any{"dtype": tfops.Float, "shape": tfops.MakeShape(2), "container": "", "shared_name": ""},
		Outputs: []tfops.OutputInfo{{DType: tfops.Float + 100, Shape: tfops.MakeShape(2)}}})
	gd, err := s.Finalize()
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "m")
	require.NoError(t, Write(dir, &Export{Graph: gd, Variables: map[string]*tfops.Tensor{"w": tfops.MustFromSlice([]float32{1, 2}, 2)}}))
	m, err := Read(dir, ReadOptions{})
	require.NoError(t, err)
	a := node(m.Graph(), "save/Assign_0")
	require.NotNil(t, a)
	assert.Equal(t, "Assign", a.GetOp())
	assert.Equal(t, []string{"w", "save/RestoreV2"}, a.GetInput())
	assert.Equal(t, []string{"save/Const", "save/SaveV2/tensor_names", "save/SaveV2/shape_and_slices", "w"}, node(m.Graph(), "save/SaveV2").GetInput())
}

func TestWriteErrors(t *testing.T) {
	gd, sigs := halfPlusTwo(t)
	okVars := map[string]*tfops.Tensor{"a": tfops.FromScalar(float32(0.5)), "b": tfops.FromScalar(float32(2))}
	sigWith := func(in TensorInfo) map[string]Signature {
		s := sigs[DefaultSignatureKey]
		return map[string]Signature{DefaultSignatureKey: {Inputs: map[string]TensorInfo{"x": in}, Outputs: s.Outputs}}
	}
	dupGraph := &graphpb.GraphDef{Node: append(append([]*nodepb.NodeDef{}, gd.Node...), &nodepb.NodeDef{Name: "x", Op: "NoOp"})}
	cases := []struct {
		name     string
		export   *Export
		contains string
	}{
		{"nil export", nil, "no graph"},
		{"nil graph", &Export{}, "no graph"},
		{"duplicate node", &Export{Graph: dupGraph}, `two nodes named "x"`},
		{"signature tensor without node", &Export{Graph: gd, Signatures: sigWith(TensorInfo{Name: "nope:0", DType: tfops.Float})}, `no node "nope"`},
		{"signature tensor without dtype", &Export{Graph: gd, Signatures: sigWith(TensorInfo{Name: "x:0"})}, "no dtype"},
		{"signature tensor with bad name", &Export{Graph: gd, Signatures: sigWith(TensorInfo{Name: "x:", DType: tfops.Float})}, "not a tensor name"},
		{"signature key mismatch", &Export{Graph: gd, Signatures: map[string]Signature{"a": {Key: "b"}}}, `has Key "b"`},
		{"composite signature tensor", &Export{Graph: gd, Signatures: sigWith(TensorInfo{Name: "x:0", DType: tfops.Float, Encoding: EncodingComposite})}, "cannot write encoding"},
		{"variable without node", &Export{Graph: gd, Variables: map[string]*tfops.Tensor{"nope": tfops.FromScalar(float32(1))}}, `"nope": no such node`},
		{"variable of wrong dtype", &Export{Graph: gd, Variables: map[string]*tfops.Tensor{"a": tfops.FromScalar(1.0)}}, "dtype float32, its value is float64"},
		{"variable of wrong shape", &Export{Graph: gd, Variables: map[string]*tfops.Tensor{"a": tfops.MustFromSlice([]float32{1, 2}, 2)}}, "has shape ()"},
		{"variable is not a variable", &Export{Graph: gd, Variables: map[string]*tfops.Tensor{"x": tfops.FromScalar(float32(1))}}, "Placeholder node"},
		{"nil variable", &Export{Graph: gd, Variables: map[string]*tfops.Tensor{"a": nil}}, "nil value"},
		{"saver def without its ops", &Export{Graph: gd, Variables: okVars, SaverDef: &pb.SaverDef{FilenameTensorName: "save/Const:0", RestoreOpName: "save/restore_all"}}, `"save/Const:0", which is not a graph node`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "m")
			err := Write(dir, tc.export)
			require.ErrorIs(t, err, ErrExport)
			assert.Contains(t, err.Error(), tc.contains)
			assert.Contains(t, err.Error(), dir)
			ents, err := os.ReadDir(parent)
			require.NoError(t, err)
			assert.Empty(t, ents, "nothing is written on error")
		})
	}
}

func TestWriteTargetIsFile(t *testing.T) {
	gd, sigs := halfPlusTwo(t)
	dir := filepath.Join(t.TempDir(), "m")
	require.NoError(t, os.WriteFile(dir, []byte("x"), 0o644))
	err := Write(dir, &Export{Graph: gd, Signatures: sigs, Replace: true})
	require.ErrorIs(t, err, ErrExport)
	assert.Contains(t, err.Error(), "not a directory")
	b, err := os.ReadFile(dir)
	require.NoError(t, err)
	assert.Equal(t, "x", string(b), "the file is untouched")
}

// TestRewriteFixture reads a SavedModel written by TensorFlow 1.14 and
// writes it back with its own SaverDef: the copy has the same signatures,
// graph and variables.
func TestRewriteFixture(t *testing.T) {
	src, err := Read(fixture(t, "half-plus-two-tf1"), ReadOptions{})
	require.NoError(t, err)
	b, err := src.OpenVariables(BundleOptions{})
	require.NoError(t, err)
	defer b.Close()
	vars, err := b.Tensors()
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "copy")
	require.NoError(t, Write(dir, &Export{Graph: src.Graph(), Tags: src.Tags, Signatures: src.Signatures(),
		Variables: vars, SaverDef: src.SaverDef()}))
	dst, err := Read(dir, ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, src.Signatures(), dst.Signatures())
	assert.Equal(t, len(src.Graph().GetNode()), len(dst.Graph().GetNode()))
	assert.Equal(t, src.SaverDef().String(), dst.SaverDef().String())
	b2, err := dst.OpenVariables(BundleOptions{})
	require.NoError(t, err)
	defer b2.Close()
	vars2, err := b2.Tensors()
	require.NoError(t, err)
	assert.Equal(t, vars, vars2)
	// The data file is byte for byte TensorFlow's, and so is every table
	// entry (header and BundleEntryProtos); only the index keys of the
	// blocks may differ (TensorFlow shortens them).
	assert.Equal(t, b.Keys(), b2.Keys())
	tfData, err := os.ReadFile(DataFilename(src.VariablesPrefix(), 0, 1))
	require.NoError(t, err)
	ourData, err := os.ReadFile(DataFilename(dst.VariablesPrefix(), 0, 1))
	require.NoError(t, err)
	assert.Equal(t, tfData, ourData)
	tfIndex, err := os.ReadFile(IndexFilename(src.VariablesPrefix()))
	require.NoError(t, err)
	ourIndex, err := os.ReadFile(IndexFilename(dst.VariablesPrefix()))
	require.NoError(t, err)
	tfEntries, err := parseTable("tf", tfIndex)
	require.NoError(t, err)
	ourEntries, err := parseTable("ours", ourIndex)
	require.NoError(t, err)
	assert.Equal(t, tfEntries, ourEntries)
}
