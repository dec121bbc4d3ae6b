package goengine

import (
	"errors"
	"testing"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/tfops"
)

// TestContextErrorfWraps: a kernel error wraps engine.ErrKernel and, through
// %w, its cause; the message is ErrKernel's, then the formatted text.
func TestContextErrorfWraps(t *testing.T) {
	c := &Context{}
	err := c.Errorf("input of shape %s: %w", "[2 3]", tfops.ErrShape)
	if !errors.Is(err, engine.ErrKernel) || !errors.Is(err, tfops.ErrShape) {
		t.Fatalf("%v: want both engine.ErrKernel and tfops.ErrShape", err)
	}
	if want := engine.ErrKernel.Error() + ": input of shape [2 3]: " + tfops.ErrShape.Error(); err.Error() != want {
		t.Fatalf("message %q, want %q", err.Error(), want)
	}
	if err := c.Errorf("100%% of %d", 3); err.Error() != engine.ErrKernel.Error()+": 100% of 3" || errors.Is(err, tfops.ErrShape) {
		t.Fatalf("plain message: %v", err)
	}
}
