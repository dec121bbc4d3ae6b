//go:build tensorflow

package tfengine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	tf "github.com/wamuir/graft/tensorflow"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	corepb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/savedmodel"
	"github.com/tfseg/tfseg/tfops"
)

func init() { engine.Register(Engine{}) }

// Engine runs graphs on libtensorflow. Its zero value is ready to use; the
// registry holds one under the name "tensorflow".
type Engine struct{}

var (
	_ engine.Engine           = Engine{}
	_ engine.SavedModelLoader = Engine{}
	_ engine.Session          = (*Session)(nil)
)

// Name returns "tensorflow".
func (Engine) Name() string { return Name }

// NewSession imports graph into a new TensorFlow graph and opens a session
// on it. Of opts.Limits only MaxNodes applies (TensorFlow allocates on its
// own); opts.Threads caps TensorFlow's intra- and inter-op thread pools.
func (Engine) NewSession(graph *graphpb.GraphDef, opts engine.SessionOptions) (engine.Session, error) {
	if graph == nil {
		return nil, fmt.Errorf("%w: nil GraphDef", engine.ErrInvalidGraph)
	}
	limits := opts.Limits.WithDefaults()
	nodes := len(graph.GetNode())
	for _, f := range graph.GetLibrary().GetFunction() {
		nodes += len(f.GetNodeDef())
	}
	if nodes > limits.MaxNodes {
		return nil, fmt.Errorf("%w: graph has %d nodes (with its function library), limit %d", engine.ErrLimit, nodes, limits.MaxNodes)
	}
	def, err := proto.Marshal(graph)
	if err != nil {
		return nil, fmt.Errorf("%w: marshal GraphDef: %w", engine.ErrInvalidGraph, err)
	}
	g := tf.NewGraph()
	if err := g.Import(def, ""); err != nil {
		return nil, importError(err)
	}
	so, err := sessionOptions(opts)
	if err != nil {
		return nil, err
	}
	s, err := tf.NewSession(g, so)
	if err != nil {
		return nil, fmt.Errorf("%w: new TensorFlow session: %w", engine.ErrInvalidGraph, err)
	}
	return &Session{graph: g, sess: s}, nil
}

// LoadSavedModel loads the SavedModel in dir with TensorFlow's loader: the
// MetaGraph tagged with tags (e.g. "serve"), its variables restored and its
// init ops run. The returned *Session also reports the model's signatures.
//
// Two things are done first, and said in Session.LoadNotes:
//
//   - A SavedModel written by a newer TensorFlow than the linked library is
//     rewritten where the change cannot alter what a signature computes
//     (savedmodel.SavedModel.ForLibrary: DisableCopyOnRead, an op of the
//     save path since TensorFlow 2.12, and VarHandleOp's debug_name attr,
//     since 2.15); anything else the library lacks is refused, naming the
//     op or attr and the node.
//   - Variables that the model's functions capture and its restore op does
//     not assign (Keras 3 exports) are restored from the checkpoint through
//     the object graph, as TensorFlow 2's Python loader does
//     (savedmodel.SavedModel.CapturedVariables).
//
// Either way the rewritten saved_model.pb goes to a temporary directory
// beside links to the model's variables and assets, which is removed once
// TensorFlow has loaded it.
func (Engine) LoadSavedModel(dir string, tags []string, opts engine.SessionOptions) (engine.Session, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("%w: SavedModel %s: %w", engine.ErrInvalidGraph, dir, err)
	}
	so, err := sessionOptions(opts)
	if err != nil {
		return nil, err
	}
	sm, err := savedmodel.Read(dir, savedmodel.ReadOptions{Tags: tags})
	if err != nil {
		return nil, err
	}
	lib, err := library()
	if err != nil {
		return nil, err
	}
	rewritten, notes, err := sm.ForLibrary(lib)
	if err != nil {
		return nil, fmt.Errorf("%w: load SavedModel %s on TensorFlow %s: %w", engine.ErrUnsupportedOp, dir, tf.Version(), err)
	}
	captured, err := sm.VerifyVariables()
	if err != nil {
		return nil, fmt.Errorf("%w: load SavedModel %s: the variables cannot be restored: %w", engine.ErrInvalidGraph, dir, err)
	}
	loadDir := dir
	if rewritten != nil || len(captured) > 0 {
		if rewritten == nil {
			rewritten = &corepb.SavedModel{SavedModelSchemaVersion: sm.Proto.GetSavedModelSchemaVersion(),
				MetaGraphs: []*corepb.MetaGraphDef{proto.Clone(sm.MetaGraph).(*corepb.MetaGraphDef)}}
		}
		if len(captured) > 0 {
			gd, err := savedmodel.CaptureRestoreGraph(rewritten.MetaGraphs[0].GetGraphDef(), captured, sm.VariablesPrefix())
			if err != nil {
				return nil, err
			}
			rewritten.MetaGraphs[0].GraphDef = gd
			notes = append(notes, fmt.Sprintf("restored %d variables the functions capture through the object graph (Keras 3 export)", len(captured)))
		}
		tmp, err := stageSavedModel(dir, rewritten)
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		loadDir = tmp
	}
	m, err := tf.LoadSavedModel(loadDir, tags, so)
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), loadDir, dir)
		base := engine.ErrInvalidGraph
		if strings.Contains(msg, "Op type not registered") {
			base = engine.ErrUnsupportedOp
		}
		return nil, fmt.Errorf("%w: load SavedModel %s (tags %q): %s", base, dir, tags, msg)
	}
	s := &Session{graph: m.Graph, sess: m.Session, signatures: m.Signatures, notes: notes}
	if len(captured) > 0 {
		if _, err := s.Run(context.Background(), nil, nil, []string{savedmodel.CaptureRestoreOp}); err != nil {
			s.Close()
			return nil, fmt.Errorf("%w: load SavedModel %s: restoring %d captured variables: %w", engine.ErrInvalidGraph, dir, len(captured), err)
		}
	}
	return s, nil
}

// stageSavedModel writes sm as saved_model.pb to a new temporary directory
// holding links to dir's variables, assets and assets.extra.
func stageSavedModel(dir string, sm *corepb.SavedModel) (string, error) {
	data, err := proto.Marshal(sm)
	if err != nil {
		return "", fmt.Errorf("%w: SavedModel %s: encoding the rewritten model: %w", engine.ErrInvalidGraph, dir, err)
	}
	tmp, err := os.MkdirTemp("", "tfseg-savedmodel-")
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		err = os.WriteFile(filepath.Join(tmp, savedmodel.ModelFilename), data, 0o600)
	}
	for _, sub := range []string{savedmodel.VariablesDirectory, savedmodel.AssetsDirectory, "assets.extra"} {
		if err != nil {
			break
		}
		if _, statErr := os.Stat(filepath.Join(abs, sub)); statErr == nil {
			err = os.Symlink(filepath.Join(abs, sub), filepath.Join(tmp, sub))
		}
	}
	if err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("%w: SavedModel %s: staging the rewritten model: %w", engine.ErrInvalidGraph, dir, err)
	}
	return tmp, nil
}

var (
	libOnce sync.Once
	libOps  savedmodel.Library
	libErr  error
)

// library returns the linked libtensorflow's ops and their attrs.
func library() (savedmodel.Library, error) {
	libOnce.Do(func() {
		ol, err := OpList()
		if err != nil {
			libErr = err
			return
		}
		libOps = savedmodel.Library{}
		for _, op := range ol.GetOp() {
			attrs := map[string]bool{}
			for _, a := range op.GetAttr() {
				attrs[a.GetName()] = true
			}
			libOps[op.GetName()] = attrs
		}
	})
	return libOps, libErr
}

// LoadNotes says what LoadSavedModel changed to load the model (nil for a
// session opened by NewSession, or a model loaded as it is).
func (s *Session) LoadNotes() []string { return s.notes }

// importError classifies a TensorFlow graph import failure.
func importError(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "Op type not registered") {
		return fmt.Errorf("%w: import GraphDef: %s", engine.ErrUnsupportedOp, msg)
	}
	return fmt.Errorf("%w: import GraphDef: %s", engine.ErrInvalidGraph, msg)
}

// sessionOptions turns opts into TensorFlow's session options (a serialized
// ConfigProto), or nil for TensorFlow's defaults.
func sessionOptions(opts engine.SessionOptions) (*tf.SessionOptions, error) {
	if opts.Threads <= 0 {
		return nil, nil
	}
	cfg, err := proto.Marshal(&corepb.ConfigProto{
		IntraOpParallelismThreads: int32(opts.Threads),
		InterOpParallelismThreads: int32(opts.Threads),
	})
	if err != nil {
		return nil, fmt.Errorf("%w: marshal ConfigProto: %w", engine.ErrInvalidGraph, err)
	}
	return &tf.SessionOptions{Config: cfg}, nil
}

// Session is a TensorFlow session with its graph. Run is safe for concurrent
// use; Close waits for running calls to return.
type Session struct {
	graph      *tf.Graph
	sess       *tf.Session
	signatures map[string]tf.Signature
	notes      []string
	closed     atomic.Bool
}

// Graph returns the underlying TensorFlow graph (for callers that use graft
// directly, e.g. to add ops or read its operations).
func (s *Session) Graph() *tf.Graph { return s.graph }

// TF returns the underlying TensorFlow session. It stays owned by s: do not
// close it directly.
func (s *Session) TF() *tf.Session { return s.sess }

// Signatures returns the signatures of a session opened by LoadSavedModel,
// keyed by name ("serving_default", ...), and nil for one opened by
// NewSession. Tensor names in them ("x:0") are valid Run feeds and fetches.
func (s *Session) Signatures() map[string]tf.Signature { return s.signatures }

// Run feeds feeds, computes fetches and runs targets (names "node" or
// "node:index"; targets may carry a leading "^"). The context is checked
// before the run starts and while it runs: when ctx ends first Run returns
// ctx.Err(), and TensorFlow finishes the abandoned step in the background
// (Close waits for it).
func (s *Session) Run(ctx context.Context, feeds map[string]*tfops.Tensor, fetches []string, targets []string) ([]*tfops.Tensor, error) {
	if s.closed.Load() {
		return nil, engine.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tfFeeds := make(map[tf.Output]*tf.Tensor, len(feeds))
	for name, t := range feeds {
		out, err := s.output(name)
		if err != nil {
			return nil, fmt.Errorf("feed %q: %w", name, err)
		}
		if t != nil {
			if want := tfops.DType(out.DataType()).Base(); t.DType() != want {
				return nil, fmt.Errorf("%w: feed %q: got a %v tensor, the graph expects %v", engine.ErrFeed, name, t.DType(), want)
			}
			if want := out.Shape(); !shapeFits(want, t.Shape()) {
				return nil, fmt.Errorf("%w: feed %q: got shape %v, the graph expects %v", engine.ErrFeed, name, t.Shape(), want)
			}
		}
		tt, err := toTF(t)
		if err != nil {
			return nil, fmt.Errorf("feed %q: %w", name, err)
		}
		tfFeeds[out] = tt
	}
	tfFetches := make([]tf.Output, len(fetches))
	for i, name := range fetches {
		out, err := s.output(name)
		if err != nil {
			return nil, fmt.Errorf("fetch %q: %w", name, err)
		}
		if d := tfops.DType(out.DataType()).Base(); !supported(d) {
			return nil, fmt.Errorf("%w: fetch %q: %s", engine.ErrUnsupportedOp, name, unsupportedDType(d))
		}
		tfFetches[i] = out
	}
	tfTargets := make([]*tf.Operation, len(targets))
	for i, name := range targets {
		op := s.graph.Operation(strings.TrimPrefix(name, "^"))
		if op == nil {
			return nil, fmt.Errorf("%w: target %q: no such node in the graph", engine.ErrUnknownNode, name)
		}
		tfTargets[i] = op
	}

	type result struct {
		out []*tf.Tensor
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := s.sess.Run(tfFeeds, tfFetches, tfTargets)
		done <- result{out, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, runError(r.err, fetches)
	}
	res := make([]*tfops.Tensor, len(r.out))
	for i, t := range r.out {
		v, err := fromTF(t)
		if err != nil {
			return nil, fmt.Errorf("%w: fetch %q: %w", engine.ErrKernel, fetches[i], err)
		}
		res[i] = v
	}
	return res, nil
}

// output resolves "node" or "node:index" to a graph output.
func (s *Session) output(name string) (tf.Output, error) {
	node, idx, ctrl, err := tfops.ParseTensorName(name)
	if err != nil {
		return tf.Output{}, fmt.Errorf("%w: %w", engine.ErrUnknownNode, err)
	}
	if ctrl {
		return tf.Output{}, fmt.Errorf("%w: %q names a control input, not a tensor", engine.ErrUnknownNode, name)
	}
	op := s.graph.Operation(node)
	if op == nil {
		return tf.Output{}, fmt.Errorf("%w: no node %q in the graph", engine.ErrUnknownNode, node)
	}
	if n := op.NumOutputs(); idx >= n {
		return tf.Output{}, fmt.Errorf("%w: node %q (%s) has %d outputs, no output %d", engine.ErrUnknownNode, node, op.Type(), n, idx)
	}
	return op.Output(idx), nil
}

// shapeFits reports whether concrete dims match a static shape whose
// unknown rank or dimensions match anything.
func shapeFits(want tf.Shape, dims []int) bool {
	r := want.NumDimensions()
	if r < 0 {
		return true
	}
	if r != len(dims) {
		return false
	}
	for i, d := range dims {
		if w := want.Size(i); w >= 0 && w != int64(d) {
			return false
		}
	}
	return true
}

// runError classifies a TensorFlow run failure.
func runError(err error, fetches []string) error {
	msg := err.Error()
	switch {
	case msg == "session is closed":
		return engine.ErrClosed
	case strings.Contains(msg, "You must feed a value for placeholder"):
		return fmt.Errorf("%w: %s", engine.ErrFeed, msg)
	}
	return fmt.Errorf("%w: TensorFlow run (fetches %q): %s", engine.ErrKernel, fetches, msg)
}

// Close closes the TensorFlow session, waiting for running calls. Closing
// twice returns nil.
func (s *Session) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.sess.Close(); err != nil {
		return fmt.Errorf("tfengine: close session: %w", err)
	}
	return nil
}
