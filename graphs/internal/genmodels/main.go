// Command genmodels writes models/ (one SavedModel per loss and metric with
// default parameters). go generate runs it from package graphs:
//
//	go generate ./graphs
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tfseg/tfseg/graphs/internal/modelset"
)

func main() {
	out := flag.String("out", "../models", "models directory")
	flag.Parse()
	if err := modelset.Generate(*out); err != nil {
		fmt.Fprintln(os.Stderr, "genmodels:", err)
		os.Exit(1)
	}
}
