package eval

import (
	"context"
	"errors"
	"fmt"
	"strings"

	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/internal/smload"
	"github.com/tfseg/tfseg/savedmodel"
	"github.com/tfseg/tfseg/tfops"
)

// ErrModel is returned for a model eval cannot use (no such signature, an
// input or output that is not an NHWC float32 image tensor, ...).
var ErrModel = errors.New("eval: unusable model")

// FromLogits says whether losses are computed from the model's logits.
type FromLogits int

const (
	// LogitsAuto (the default): when the model's output is produced by a
	// final Sigmoid or Softmax, fetch that op's input too and give it, as
	// logits with from_logits=true, to every loss that has a from_logits
	// parameter the caller did not set, as Keras does when it computes a
	// cross-entropy during training. Metrics always read probabilities.
	LogitsAuto FromLogits = iota
	// LogitsOff: losses read the model's output as it is.
	LogitsOff
)

// LoadOptions configure Load. The zero value loads the "serve" tag set's
// "serving_default" signature on the default engine, with LogitsAuto.
type LoadOptions struct {
	// Engine is the engine's registry name (default engine.Default, "go").
	Engine string
	// Tags select the MetaGraphDef (default {"serve"}).
	Tags []string
	// Signature is the signature key (default "serving_default").
	Signature string
	// Input and Output are the signature's argument names; they may be
	// empty when the signature has one input and one output.
	Input, Output string
	// FromLogits: see LogitsAuto.
	FromLogits FromLogits
	// Session configures the engine's session.
	Session engine.SessionOptions
}

// Model is a SavedModel loaded for evaluation.
type Model struct {
	// Dir is the SavedModel directory.
	Dir string
	// Engine is the engine's name.
	Engine string
	// Signature is the signature used; InputKey and OutputKey its
	// arguments, Input and Output their tensors.
	Signature           savedmodel.Signature
	InputKey, OutputKey string
	Input, Output       savedmodel.TensorInfo
	// Logits, when set, is the tensor before the final Sigmoid/Softmax,
	// fetched with the output (LogitsAuto).
	Logits *Logits

	eng     engine.Engine
	session engine.Session
}

// Load reads the SavedModel in dir, opens a session on opts.Engine and
// brings the model up the way tfseg.Load does (internal/smload: variables
// restored, captured variables assigned, init op run; failures wrap
// tfseg.ErrLoad). The variables prefix and asset paths are written into
// the graph as constants rather than fed, so that no string tensor
// crosses an engine's boundary (TensorFlow 1.x and 2.x encode them
// differently).
//
// Unlike tfseg.Load, which runs a SavedModel as it is, Load may rewrite
// the graph first (see FindLogits), so it opens the session on the
// rewritten GraphDef on every engine, real TensorFlow included.
func Load(dir string, opts LoadOptions) (*Model, error) {
	name := opts.Engine
	if name == "" {
		name = engine.Default
	}
	eng, err := engine.Get(name)
	if err != nil {
		return nil, err
	}
	sm, err := savedmodel.Read(dir, savedmodel.ReadOptions{Tags: opts.Tags})
	if err != nil {
		return nil, err
	}
	key := opts.Signature
	if key == "" {
		key = savedmodel.DefaultSignatureKey
	}
	sig, err := sm.Signature(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrModel, dir, err)
	}
	m := &Model{Dir: dir, Engine: name, Signature: sig, eng: eng}
	if m.InputKey, m.Input, err = pick("input", sig.Inputs, opts.Input, sig.Key); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrModel, dir, err)
	}
	if m.OutputKey, m.Output, err = pick("output", sig.Outputs, opts.Output, sig.Key); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrModel, dir, err)
	}
	for _, ti := range []struct {
		what string
		info savedmodel.TensorInfo
	}{{"input " + m.InputKey, m.Input}, {"output " + m.OutputKey, m.Output}} {
		if ti.info.DType != tfops.Float {
			return nil, fmt.Errorf("%w: %s: signature %s %s is %v; eval needs float32 images", ErrModel, dir, sig.Key, ti.what, ti.info.DType)
		}
		if sh := ti.info.Shape; sh.RankKnown() && sh.Rank() != 4 {
			return nil, fmt.Errorf("%w: %s: signature %s %s has shape %v; eval needs NHWC images (rank 4)", ErrModel, dir, sig.Key, ti.what, sh)
		}
	}
	rewrite := func(g *graphpb.GraphDef) (*graphpb.GraphDef, error) {
		if opts.FromLogits != LogitsAuto {
			return g, nil
		}
		rewired, l, ok, err := FindLogits(g, m.Output.Name)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrModel, err)
		}
		if ok {
			g, m.Logits = rewired, &l
		}
		return g, nil
	}
	m.session, err = smload.Open(sm, eng, smload.Options{Tags: opts.Tags, Session: opts.Session, Rewrite: rewrite, ConstStrings: true})
	if err != nil {
		return nil, fmt.Errorf("eval: %s on engine %s: %w", dir, name, err)
	}
	return m, nil
}

// pick returns the argument named want, or the only one when want is "".
func pick(what string, args map[string]savedmodel.TensorInfo, want, key string) (string, savedmodel.TensorInfo, error) {
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	if want != "" {
		if ti, ok := args[want]; ok {
			return want, ti, nil
		}
		return "", savedmodel.TensorInfo{}, fmt.Errorf("signature %s has no %s %q; it has: %s", key, what, want, strings.Join(keys, ", "))
	}
	if len(args) != 1 {
		return "", savedmodel.TensorInfo{}, fmt.Errorf("signature %s has %d %ss (%s); name one", key, len(args), what, strings.Join(keys, ", "))
	}
	return keys[0], args[keys[0]], nil
}

// Run feeds a batch (N, H, W, C) and returns the model's output and, when
// m.Logits is set, the logits (else nil).
func (m *Model) Run(ctx context.Context, x *tfops.Tensor) (out, logits *tfops.Tensor, err error) {
	fetches := []string{m.Output.Name}
	if m.Logits != nil {
		fetches = append(fetches, m.Logits.Tensor)
	}
	res, err := m.session.Run(ctx, map[string]*tfops.Tensor{m.Input.Name: x}, fetches, nil)
	if err != nil {
		return nil, nil, err
	}
	if m.Logits != nil {
		return res[0], res[1], nil
	}
	return res[0], nil, nil
}

// InputChannels is the channel count the model's input takes (-1 when
// the signature leaves it open).
func (m *Model) InputChannels() int {
	if sh := m.Input.Shape; sh.RankKnown() && sh.Rank() == 4 {
		return int(sh.Dim(3))
	}
	return -1
}

// EngineImpl returns the engine the model runs on (losses and metrics run there too).
func (m *Model) EngineImpl() engine.Engine { return m.eng }

// Close releases the session.
func (m *Model) Close() error {
	if m.session == nil {
		return nil
	}
	err := m.session.Close()
	m.session = nil
	return err
}
