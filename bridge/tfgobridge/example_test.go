//go:build tensorflow

package tfgobridge_test

import (
	"fmt"
	"log"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	tg "github.com/galeone/tfgo"

	"github.com/tfseg/tfseg/bridge/tfgobridge"
	"github.com/tfseg/tfseg/graphs"
)

// A tfgo program adds the focal loss to its scope, on its own tensors, and
// runs it with tfgo's Exec.
func ExampleImportLoss() {
	root := tg.NewRoot()
	// One 1x2 image, one channel: labels z and predicted probabilities p.
	labels := tg.Const(root, [][][][]float32{{{{1}, {0}}}})
	probs := tg.Const(root, [][][][]float32{{{{0.8}, {0.3}}}})

	// mean(α (1 - p)^γ (-log p) for z = 1, (1 - α) p^γ (-log(1 - p)) for z = 0)
	// = (0.25·0.2²·0.223144 + 0.75·0.3²·0.356675) / 2 = 0.0131535
	loss, err := tfgobridge.ImportLoss(root, "focal", graphs.Config{"alpha": "0.25", "gamma": "2"}, labels, probs, nil)
	if err != nil {
		log.Fatal(err)
	}
	out := tg.Exec(root, []tf.Output{loss}, nil, nil)
	fmt.Printf("%s %.6f\n", loss.Op.Name(), out[0].Value())
	// Output: focal/loss 0.013154
}
