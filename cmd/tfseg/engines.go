package main

import (
	"context"
	"fmt"

	"github.com/tfseg/tfseg/engine"
	_ "github.com/tfseg/tfseg/engine/goengine" // the default engine
)

func init() {
	register(&command{name: "engines", summary: "list the engines built into this binary", run: runEngines})
}

func runEngines(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["engines"])
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	for _, n := range engine.Names() {
		fmt.Fprintln(e.stdout, n)
	}
	return nil
}
