package engine

import (
	"errors"
	"strings"
	"testing"
)

// TestGetUnknownHints checks the message for an engine that is not
// registered: the hint says how to get "go" and "tensorflow", and an empty
// registry is named, not left blank.
func TestGetUnknownHints(t *testing.T) {
	mu.Lock()
	saved := registry
	registry = map[string]Engine{}
	mu.Unlock()
	defer func() { mu.Lock(); registry = saved; mu.Unlock() }()
	for name, want := range map[string]string{
		"go":         `unknown engine "go" (the package github.com/tfseg/tfseg registers it, as does a blank import of github.com/tfseg/tfseg/engine/goengine); available: none`,
		"tensorflow": `unknown engine "tensorflow" (build with -tags tensorflow); available: none`,
		"tpu":        `unknown engine "tpu"; available: none`,
	} {
		_, err := Get(name)
		if !errors.Is(err, ErrUnknownEngine) || !strings.Contains(err.Error(), want) {
			t.Errorf("Get(%q) = %v; want ErrUnknownEngine with %q", name, err, want)
		}
	}
}
