//go:build tensorflow

package bench_test

import (
	"bytes"
	"fmt"

	tf "github.com/wamuir/graft/tensorflow"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/tfengine"
	"github.com/tfseg/tfseg/tfops"
)

func init() {
	engines = append(engines, engineOpener{name: tfengine.Name, open: openTensorFlow})
	buildName = "tensorflow"
}

// openTensorFlow imports def into TensorFlow (through the tfengine, so the
// graph and session options are what the engine does) and binds feeds as
// TensorFlow tensors once, so the loop times TensorFlow's Session.Run only.
func openTensorFlow(def *graphpb.GraphDef, feeds map[string]*tfops.Tensor, fetch string) (runner, error) {
	s, err := tfengine.Engine{}.NewSession(def, engine.SessionOptions{Threads: threads()})
	if err != nil {
		return runner{}, err
	}
	sess := s.(*tfengine.Session)
	out := func(name string) (tf.Output, error) {
		node, idx, _, err := tfops.ParseTensorName(name)
		if err != nil {
			return tf.Output{}, err
		}
		op := sess.Graph().Operation(node)
		if op == nil {
			return tf.Output{}, fmt.Errorf("no node %s in the graph", node)
		}
		return op.Output(idx), nil
	}
	tfFeeds := map[tf.Output]*tf.Tensor{}
	for name, t := range feeds {
		o, err := out(name)
		if err != nil {
			s.Close()
			return runner{}, err
		}
		dims := make([]int64, t.Rank())
		for i, d := range t.Shape() {
			dims[i] = int64(d)
		}
		tt, err := tf.ReadTensor(tf.DataType(t.DType()), dims, bytes.NewReader(tfops.EncodeContent(t)))
		if err != nil {
			s.Close()
			return runner{}, fmt.Errorf("feed %s: %w", name, err)
		}
		tfFeeds[o] = tt
	}
	f, err := out(fetch)
	if err != nil {
		s.Close()
		return runner{}, err
	}
	fetches := []tf.Output{f}
	return runner{
		run: func() (int, error) {
			out, err := sess.TF().Run(tfFeeds, fetches, nil)
			if err != nil {
				return 0, err
			}
			n := 1
			for _, d := range out[0].Shape() {
				n *= int(d)
			}
			return n, nil
		},
		close: func() { s.Close() },
	}, nil
}
