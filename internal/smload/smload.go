// Package smload brings a SavedModel up on an engine: the one loading path
// of tfseg.Load and eval.Load (and so of the commands and the server).
//
// Open does what TensorFlow's loader (tensorflow/cc/saved_model/loader.cc)
// does: it opens a session on the MetaGraphDef's graph, restores the
// variables (the SaverDef's restore op with the filename tensor set to
// dir/variables/variables: TF1 "save/restore_all", TF2 the traced restore
// function), assigns the variables the model's functions capture that
// the restore op leaves uninitialized (Keras 3 exports, see
// savedmodel.CapturedVariables), and runs the init op with the asset paths.
// Engines that implement engine.SavedModelLoader (TensorFlow) load the
// model with their own loader, unless the caller rewrites the graph.
//
// Errors: every failure after the SavedModel was read wraps ErrLoad and
// its cause (%w for both: errors.Is finds savedmodel.ErrFormat, engine
// sentinels, ... through it); the message names the directory and the
// step (restore op, captured variable, init op).
package smload

import (
	"context"
	"errors"
	"fmt"

	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	"google.golang.org/protobuf/proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/savedmodel"
	"github.com/tfseg/tfseg/tfops"
)

// ErrLoad marks a SavedModel that could not be brought up (tfseg.ErrLoad).
var ErrLoad = errors.New("tfseg: cannot load SavedModel")

// Options configure Open.
type Options struct {
	// Tags select the MetaGraphDef for an engine's own loader (the
	// SavedModel given to Open was read with the same tags).
	Tags []string
	// Session configures the engine's session.
	Session engine.SessionOptions
	// Rewrite, when set, changes the graph before the session opens (eval:
	// fetching the logits, FindLogits). The session is then opened on the
	// rewritten graph on every engine: an engine's own loader is not used.
	Rewrite func(*graphpb.GraphDef) (*graphpb.GraphDef, error)
	// ConstStrings writes the variables prefix and the asset paths into
	// the graph as string Consts instead of feeding them, for engines
	// that take no string feeds (the tensorflow engine refuses them: see
	// engine/tfengine). With an engine's own loader it has no effect.
	ConstStrings bool
}

// Open opens a session on eng with sm's variables restored and its init
// op run.
func Open(sm *savedmodel.SavedModel, eng engine.Engine, o Options) (engine.Session, error) {
	if loader, ok := eng.(engine.SavedModelLoader); ok && o.Rewrite == nil {
		return loader.LoadSavedModel(sm.Dir, o.Tags, o.Session)
	}
	gd, captured, err := captureRestoreGraph(sm)
	if err != nil {
		return nil, err
	}
	if o.Rewrite != nil {
		if gd, err = o.Rewrite(gd); err != nil {
			return nil, fmt.Errorf("%w %s: %w", ErrLoad, sm.Dir, err)
		}
	}
	feeds, err := stringFeeds(sm)
	if err != nil {
		return nil, err
	}
	if o.ConstStrings {
		if gd, err = withConsts(gd, feeds); err != nil {
			return nil, fmt.Errorf("%w %s: %w", ErrLoad, sm.Dir, err)
		}
		feeds = nil
	}
	sess, err := eng.NewSession(gd, o.Session)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sm.File, err)
	}
	if err := bringUp(sess, sm, captured, feeds); err != nil {
		sess.Close()
		return nil, err
	}
	return sess, nil
}

// captureRestoreGraph returns the graph to open a session on: the
// MetaGraphDef's, plus (see savedmodel.CapturedVariables) the ops that
// restore the variables that the model's functions capture and its
// SaverDef's restore op does not assign, as Keras 3 exports need.
func captureRestoreGraph(sm *savedmodel.SavedModel) (*graphpb.GraphDef, []savedmodel.CapturedVariable, error) {
	vars, err := sm.VerifyVariables()
	if err != nil {
		return nil, nil, fmt.Errorf("%w %s: the variables cannot be restored: %w", ErrLoad, sm.Dir, err)
	}
	gd, err := savedmodel.CaptureRestoreGraph(sm.Graph(), vars, sm.VariablesPrefix())
	if err != nil {
		return nil, nil, fmt.Errorf("%w %s: %w", ErrLoad, sm.Dir, err)
	}
	return gd, vars, nil
}

// stringFeeds are the string tensors loading feeds: the asset paths and,
// when the variables are restored, the SaverDef's filename tensor.
func stringFeeds(sm *savedmodel.SavedModel) (map[string]string, error) {
	assets, err := sm.Assets()
	if err != nil {
		return nil, err
	}
	feeds := map[string]string{}
	for _, a := range assets {
		if a.TensorName != "" {
			feeds[a.TensorName] = a.Path
		}
	}
	if restoreOp(sm) != "" {
		feeds[sm.SaverDef().GetFilenameTensorName()] = sm.VariablesPrefix()
	}
	return feeds, nil
}

// restoreOp is the SaverDef's restore op, "" when there is nothing to
// restore.
func restoreOp(sm *savedmodel.SavedModel) string {
	if sd := sm.SaverDef(); sd != nil && sm.HasVariables() {
		return sd.GetRestoreOpName()
	}
	return ""
}

// bringUp restores the variables and runs the init op, as TensorFlow's
// loader does, then assigns the captured variables the restore op leaves
// uninitialized. feeds are the string feeds (nil when they are Consts).
func bringUp(sess engine.Session, sm *savedmodel.SavedModel, captured []savedmodel.CapturedVariable, feeds map[string]string) error {
	ctx := context.Background()
	tensors := map[string]*tfops.Tensor{}
	for k, v := range feeds {
		tensors[k] = tfops.FromScalar(v)
	}
	if op := restoreOp(sm); op != "" {
		if _, err := sess.Run(ctx, tensors, nil, []string{savedmodel.NodeName(op)}); err != nil {
			return fmt.Errorf("%w %s: restoring variables from %s (restore op %q): %w",
				ErrLoad, sm.Dir, sm.VariablesPrefix(), op, err)
		}
	}
	if len(captured) > 0 {
		if _, err := sess.Run(ctx, nil, nil, []string{savedmodel.CaptureRestoreOp}); err != nil {
			return fmt.Errorf("%w %s: restoring %d captured variables (the first %q, checkpoint key %q) from %s: %w",
				ErrLoad, sm.Dir, len(captured), captured[0].Handle, captured[0].Key, sm.VariablesPrefix(), err)
		}
	}
	if op := sm.InitOp(); op != "" {
		if sd := sm.SaverDef(); sd != nil {
			delete(tensors, sd.GetFilenameTensorName()) // the init op is given the asset paths
		}
		if _, err := sess.Run(ctx, tensors, nil, []string{op}); err != nil {
			return fmt.Errorf("%w %s: running init op %q: %w", ErrLoad, sm.Dir, op, err)
		}
	}
	return nil
}

// withConsts returns a copy of g in which the node producing each tensor
// of values (output 0) is a string Const holding its value.
func withConsts(g *graphpb.GraphDef, values map[string]string) (*graphpb.GraphDef, error) {
	if len(values) == 0 {
		return g, nil
	}
	c := proto.Clone(g).(*graphpb.GraphDef)
	index := map[string]int{}
	for i, n := range c.GetNode() {
		index[n.GetName()] = i
	}
	for tensor, v := range values {
		node, idx, _, err := tfops.ParseTensorName(tensor)
		if err != nil || idx != 0 {
			return nil, fmt.Errorf("string tensor %q is not output 0 of a node", tensor)
		}
		i, ok := index[node]
		if !ok {
			return nil, fmt.Errorf("string tensor %q: no node %q in the graph", tensor, node)
		}
		val, err := tfops.ToProto(tfops.FromScalar(v))
		if err != nil {
			return nil, err
		}
		c.Node[i] = &nodepb.NodeDef{Name: node, Op: "Const", Device: c.Node[i].GetDevice(), Attr: map[string]*attrpb.AttrValue{
			"dtype": {Value: &attrpb.AttrValue_Type{Type: tfops.String.Proto()}},
			"value": {Value: &attrpb.AttrValue_Tensor{Tensor: val}},
		}}
	}
	return c, nil
}
