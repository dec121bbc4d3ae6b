package goengine_test

import (
	"testing"

	"github.com/tfseg/tfseg/engine/enginetest"
	"github.com/tfseg/tfseg/engine/goengine"
)

// TestConformance runs the engine conformance suite on the Go engine.
func TestConformance(t *testing.T) {
	enginetest.Run(t, goengine.Engine{})
}
