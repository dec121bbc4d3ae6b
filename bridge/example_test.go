//go:build tensorflow

package bridge_test

import (
	"fmt"
	"log"

	tf "github.com/wamuir/graft/tensorflow"
	"github.com/wamuir/graft/tensorflow/op"

	"github.com/tfseg/tfseg/bridge"
)

// A graft program adds the per-image Dice loss to its own graph, on its own
// tensors, and runs it in its own session.
func ExampleImportLoss() {
	s := op.NewScope()
	// One 2x2 image, one channel: labels z and predicted probabilities p.
	labels := op.Const(s.SubScope("labels"), [][][][]float32{{{{1}, {1}}, {{0}, {0}}}})
	probs := op.Const(s.SubScope("probs"), [][][][]float32{{{{0.9}, {0.6}}, {{0.2}, {0.1}}}})
	g, err := s.Finalize()
	if err != nil {
		log.Fatal(err)
	}

	// 1 - 2 Σzp / Σ(z + p) = 1 - 2·1.5 / 3.8
	loss, err := bridge.ImportLoss(g, "", "dice_image", nil, labels, probs, nil)
	if err != nil {
		log.Fatal(err)
	}
	sess, err := tf.NewSession(g, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer sess.Close()
	out, err := sess.Run(nil, []tf.Output{loss}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(loss.Op.Name(), out[0].Shape(), out[0].Value())
	// Output: dice_image/loss [1] [0.21052629]
}
