// Package engine defines how tfseg runs a TensorFlow graph: an Engine opens a
// Session on a GraphDef, and a Session runs it with feeds and fetches.
// Engines register themselves by name (the pure-Go engine as "go", real
// TensorFlow as "tensorflow" when built with -tags tensorflow); callers ask
// the registry for one by name, as image.RegisterFormat does for decoders.
package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"

	"github.com/tfseg/tfseg/tfops"
)

// Sentinel errors shared by every engine. Messages say which node, op,
// feed or fetch is at fault; test with errors.Is.
var (
	ErrUnknownEngine = errors.New("engine: unknown engine")
	ErrUnknownNode   = errors.New("engine: unknown node")
	ErrUnsupportedOp = errors.New("engine: unsupported op")
	ErrFeed          = errors.New("engine: bad feed")
	ErrInvalidGraph  = errors.New("engine: invalid graph")
	ErrKernel        = errors.New("engine: kernel failed")
	ErrLimit         = errors.New("engine: limit exceeded")
	ErrClosed        = errors.New("engine: session closed")
	// ErrPanic marks a kernel that panicked: a bug in the engine, not bad
	// input. Such errors wrap ErrKernel too.
	ErrPanic = errors.New("engine: kernel panicked")
)

// Limits bound what an untrusted graph may make an engine do. The zero value
// means the defaults below.
type Limits struct {
	// MaxTensorBytes bounds any single tensor an op allocates (default 4 GiB).
	MaxTensorBytes int64
	// MaxFunctionDepth bounds nested function calls (default 64).
	MaxFunctionDepth int
	// MaxNodes bounds the number of nodes in a graph and its library (default 1,000,000).
	MaxNodes int
	// MaxLoopIterations bounds the iterations of one While loop (default
	// 100,000,000); a run is also stopped by its context between iterations.
	MaxLoopIterations int
}

// WithDefaults fills zero fields with the defaults.
func (l Limits) WithDefaults() Limits {
	if l.MaxTensorBytes <= 0 {
		l.MaxTensorBytes = 4 << 30
	}
	if l.MaxFunctionDepth <= 0 {
		l.MaxFunctionDepth = 64
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = 1_000_000
	}
	if l.MaxLoopIterations <= 0 {
		l.MaxLoopIterations = 100_000_000
	}
	return l
}

// SessionOptions configure a session.
type SessionOptions struct {
	// Limits bound what the graph may make the engine do (zero: defaults).
	Limits Limits
	// Threads caps the worker goroutines a session uses (0: GOMAXPROCS).
	Threads int
}

// Engine opens sessions on graphs.
type Engine interface {
	// Name is the registry name ("go", "tensorflow").
	Name() string
	// NewSession validates graph and prepares it to run.
	NewSession(graph *graphpb.GraphDef, opts SessionOptions) (Session, error)
}

// Session runs a prepared graph. Run is safe for concurrent use.
type Session interface {
	// Run feeds tensors by name ("node" or "node:index"), runs what fetches
	// and targets need, and returns one tensor per fetch, in order.
	Run(ctx context.Context, feeds map[string]*tfops.Tensor, fetches []string, targets []string) ([]*tfops.Tensor, error)
	// Close releases the session's resources.
	Close() error
}

// SavedModelLoader is implemented by engines that load SavedModels with
// their own loader (real TensorFlow). Engines without it get the graph and
// restore variables through the savedmodel package.
type SavedModelLoader interface {
	LoadSavedModel(dir string, tags []string, opts SessionOptions) (Session, error)
}

// OpLister is implemented by engines that know, before running a graph,
// which ops they can run (the Go engine). tfseg.Load uses it to report the
// ops a SavedModel's signatures need and the engine lacks when the model is
// loaded, before any input is read.
type OpLister interface {
	// OpInfo reports whether the engine runs op, and whether op is
	// stateful (run inside a function even when nothing reads it).
	OpInfo(op string) (supported, stateful bool)
}

// LoadNoter is implemented by sessions that changed something to load a
// SavedModel (the tensorflow engine rewrites what an older libtensorflow
// cannot read); LoadNotes says what, one line per kind of change.
type LoadNoter interface {
	LoadNotes() []string
}

var (
	mu       sync.RWMutex
	registry = map[string]Engine{}
)

// Register makes an engine available by name. It panics when the name is
// taken, as registering twice is a programming error (like sql.Register).
func Register(e Engine) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[e.Name()]; dup {
		panic("engine: Register called twice for " + e.Name())
	}
	registry[e.Name()] = e
}

// Get returns the engine registered as name.
func Get(name string) (Engine, error) {
	mu.RLock()
	defer mu.RUnlock()
	e, ok := registry[name]
	if !ok {
		names := make([]string, 0, len(registry))
		for n := range registry {
			names = append(names, n)
		}
		sort.Strings(names)
		hint := ""
		switch name {
		case "tensorflow":
			hint = " (build with -tags tensorflow)"
		case Default:
			hint = " (the package github.com/tfseg/tfseg registers it, as does a blank import of github.com/tfseg/tfseg/engine/goengine)"
		}
		list := strings.Join(names, ", ")
		if list == "" {
			list = "none"
		}
		return nil, fmt.Errorf("%w %q%s; available: %s", ErrUnknownEngine, name, hint, list)
	}
	return e, nil
}

// Names lists the registered engines, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Default is the name of the engine used when none is asked for.
const Default = "go"
