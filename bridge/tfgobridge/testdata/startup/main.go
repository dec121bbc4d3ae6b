//go:build tensorflow

// Command startup is a tfgo program that imports tfgobridge and nothing
// else of tfseg's internals: TestStartup runs it with
// GOLANG_PROTOBUF_REGISTRATION_CONFLICT unset and checks that it starts
// (no panic), prints no warning and computes the loss.
package main

import (
	"fmt"
	"log"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	tg "github.com/galeone/tfgo"

	"github.com/tfseg/tfseg/bridge/tfgobridge"
)

func main() {
	root := tg.NewRoot()
	labels := tg.Const(root, [][][][]float32{{{{1}, {0}}}})
	probs := tg.Const(root, [][][][]float32{{{{0.8}, {0.3}}}})
	loss, err := tfgobridge.ImportLoss(root, "focal", nil, labels, probs, nil)
	if err != nil {
		log.Fatal(err)
	}
	out := tg.Exec(root, []tf.Output{loss}, nil, nil)
	fmt.Printf("%s %.6f\n", loss.Op.Name(), out[0].Value())
}
