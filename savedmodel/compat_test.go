package savedmodel

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	pb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

// corpusModel reads a model of ../shared/fixtures/corpus (the models people
// published; see its README), skipping outside CI when it is absent.
func corpusModel(t *testing.T, name string) *SavedModel {
	t.Helper()
	fixturesDirSave := fixturesDir
	fixturesDir = "../../shared/fixtures/corpus"
	defer func() { fixturesDir = fixturesDirSave }()
	sm, err := Read(fixture(t, name), ReadOptions{})
	require.NoError(t, err)
	return sm
}

// libraryOf returns a Library that knows every op and attr sm uses, minus
// the ops and attrs drop names ("Op" or "Op.attr").
func libraryOf(sm *SavedModel, drop ...string) Library {
	lib := Library{}
	add := func(n *nodepb.NodeDef) {
		if lib[n.GetOp()] == nil {
			lib[n.GetOp()] = map[string]bool{}
		}
		for a := range n.GetAttr() {
			lib[n.GetOp()][a] = true
		}
	}
	for _, n := range sm.Graph().GetNode() {
		add(n)
	}
	for _, f := range sm.Graph().GetLibrary().GetFunction() {
		for _, n := range f.GetNodeDef() {
			add(n)
		}
	}
	for _, d := range drop {
		op, attr, ok := strings.Cut(d, ".")
		if ok {
			delete(lib[op], attr)
		} else {
			delete(lib, op)
		}
	}
	return lib
}

func TestForLibrary(t *testing.T) {
	sm := corpusModel(t, "seg-p8-cityscapes") // TF 2.16: DisableCopyOnRead and debug_name
	// A library that knows everything: nothing to rewrite.
	out, notes, err := sm.ForLibrary(libraryOf(sm))
	require.NoError(t, err)
	assert.Nil(t, out)
	assert.Nil(t, notes)

	// TensorFlow 1.15's view: no DisableCopyOnRead, no debug_name.
	out, notes, err = sm.ForLibrary(libraryOf(sm, "DisableCopyOnRead", "VarHandleOp.debug_name"))
	require.NoError(t, err)
	require.NotNil(t, out)
	assert.Equal(t, []string{
		"removed attr debug_name of VarHandleOp (TensorFlow 2.15, read by no kernel): 36 nodes",
		"replaced DisableCopyOnRead (TensorFlow 2.12, save path only) with NoOp: 24 nodes",
	}, notes)
	mg := out.GetMetaGraphs()[0]
	for _, n := range mg.GetGraphDef().GetNode() {
		assert.NotContains(t, n.GetAttr(), "debug_name", n.GetName())
	}
	noops := 0
	for _, f := range mg.GetGraphDef().GetLibrary().GetFunction() {
		for _, n := range f.GetNodeDef() {
			assert.NotEqual(t, "DisableCopyOnRead", n.GetOp())
			if n.GetOp() == "NoOp" && len(n.GetInput()) == 0 && n.GetName() != "NoOp" {
				noops++
			}
		}
	}
	assert.GreaterOrEqual(t, noops, 24)
	// The caller's model is untouched.
	found := false
	for _, n := range sm.Graph().GetNode() {
		if _, ok := n.GetAttr()["debug_name"]; ok {
			found = true
		}
	}
	assert.True(t, found, "ForLibrary must not modify the model it reads")

	// Anything else is refused, naming the op or attr and the node.
	_, _, err = sm.ForLibrary(libraryOf(sm, "DisableCopyOnRead", "VarHandleOp.debug_name", "Conv2D"))
	assert.ErrorIs(t, err, ErrUnsupported)
	assert.ErrorContains(t, err, "op Conv2D is not in the TensorFlow library's op registry")
	_, _, err = sm.ForLibrary(libraryOf(sm, "VarHandleOp.shape"))
	assert.ErrorIs(t, err, ErrUnsupported)
	assert.ErrorContains(t, err, `attr "shape" of op VarHandleOp is not in the TensorFlow library's OpDef`)
}

// A save-only op that a signature reaches cannot be rewritten away.
func TestForLibraryRefusesSaveOnlyOpOnServingPath(t *testing.T) {
	sm := corpusModel(t, "seg-carlos-unet")
	mg := sm.MetaGraph
	// Make the serving output depend on a DisableCopyOnRead node.
	var out string
	for _, ti := range mg.GetSignatureDef()["serving_default"].GetOutputs() {
		out = NodeName(ti.GetName())
	}
	clone := *sm
	gd := cloneGraph(sm)
	for _, n := range gd.GetNode() {
		if n.GetName() == out {
			n.Input = append(n.Input, "^odd_disable")
		}
	}
	gd.Node = append(gd.Node, &nodepb.NodeDef{Name: "odd_disable", Op: "DisableCopyOnRead"})
	clone.MetaGraph = cloneMeta(sm)
	clone.MetaGraph.GraphDef = gd
	_, _, err := clone.ForLibrary(libraryOf(&clone, "DisableCopyOnRead"))
	assert.ErrorIs(t, err, ErrUnsupported)
	assert.ErrorContains(t, err, "op DisableCopyOnRead (TensorFlow 2.12) is used where a signature")
	assert.ErrorContains(t, err, "node odd_disable")
}

func cloneGraph(sm *SavedModel) *graphpb.GraphDef {
	return proto.Clone(sm.Graph()).(*graphpb.GraphDef)
}

func cloneMeta(sm *SavedModel) *pb.MetaGraphDef {
	return proto.Clone(sm.MetaGraph).(*pb.MetaGraphDef)
}

// Keras 3 exports: the serving function's captured variables are found
// through the SavedObjectGraph and the checkpoint's object graph.
func TestCapturedVariables(t *testing.T) {
	sm := corpusModel(t, "cnn-enhancer")
	b, err := sm.OpenVariables(BundleOptions{})
	require.NoError(t, err)
	defer b.Close()
	vars, err := sm.CapturedVariables(b)
	require.NoError(t, err)
	require.Len(t, vars, 10)
	assert.Equal(t, "conv2d/bias", vars[0].Handle)
	assert.Equal(t, "_layers/1/bias/.ATTRIBUTES/VARIABLE_VALUE", vars[0].Key)
	assert.Equal(t, "dense_1/kernel", vars[9].Handle)
	assert.Equal(t, "_layers/9/_kernel/.ATTRIBUTES/VARIABLE_VALUE", vars[9].Key)
	_, err = sm.CapturedVariables(nil)
	assert.ErrorIs(t, err, ErrNoVariables)

	gd, err := CaptureRestoreGraph(sm.Graph(), vars, sm.VariablesPrefix())
	require.NoError(t, err)
	assert.Len(t, gd.GetNode(), len(sm.Graph().GetNode())+4+len(vars)+1)
	assert.Equal(t, CaptureRestoreOp, gd.GetNode()[len(gd.GetNode())-1].GetName())

	// A model whose functions capture nothing beyond what the restore op
	// assigns (TF 2.x without Keras 3) needs nothing.
	sm2 := corpusModel(t, "seg-carlos-unet")
	b2, err := sm2.OpenVariables(BundleOptions{})
	require.NoError(t, err)
	defer b2.Close()
	vars2, err := sm2.CapturedVariables(b2)
	require.NoError(t, err)
	assert.Empty(t, vars2)
}
