package bench_test

import (
	"context"
	"fmt"
	"runtime"

	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"

	"github.com/tfseg/tfseg/engine"
	_ "github.com/tfseg/tfseg/engine/goengine" // engine "go"
	"github.com/tfseg/tfseg/tfops"
)

// A runner runs one prepared graph: feeds bound, fetch chosen.
type runner struct {
	run   func() (outElems int, err error) // the fetched tensor's element count
	close func()
}

// An engineOpener prepares def with feeds (tensor name -> value) to fetch
// one tensor, outside the timed loop.
type engineOpener struct {
	name string
	open func(def *graphpb.GraphDef, feeds map[string]*tfops.Tensor, fetch string) (runner, error)
}

// engines are the engines compared; the tensorflow build appends its own.
var engines = []engineOpener{{name: "go", open: openEngine("go")}}

// buildName names the build in BenchmarkUNetPeak: "default", or
// "tensorflow" (-tags tensorflow: libtensorflow is linked and initialized
// in the process, whichever engine runs).
var buildName = "default"

// threads is what every engine gets: GOMAXPROCS (go test -cpu N).
func threads() int { return runtime.GOMAXPROCS(0) }

// openEngine prepares a graph through the engine package's Session.
func openEngine(name string) func(*graphpb.GraphDef, map[string]*tfops.Tensor, string) (runner, error) {
	return func(def *graphpb.GraphDef, feeds map[string]*tfops.Tensor, fetch string) (runner, error) {
		eng, err := engine.Get(name)
		if err != nil {
			return runner{}, err
		}
		sess, err := eng.NewSession(def, engine.SessionOptions{Threads: threads()})
		if err != nil {
			return runner{}, fmt.Errorf("engine %s: %w", name, err)
		}
		ctx := context.Background()
		fetches := []string{fetch}
		return runner{
			run: func() (int, error) {
				out, err := sess.Run(ctx, feeds, fetches, nil)
				if err != nil {
					return 0, err
				}
				return out[0].Len(), nil
			},
			close: func() { sess.Close() },
		}, nil
	}
}
