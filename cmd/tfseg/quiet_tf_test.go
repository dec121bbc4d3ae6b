//go:build tensorflow

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTensorFlowQuiet builds the tensorflow binary and runs an evaluation
// on the tensorflow engine: TensorFlow's info lines ("I tensorflow/...")
// are gone unless the user sets TF_CPP_MIN_LOG_LEVEL (0 brings them back).
func TestTensorFlowQuiet(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "tfseg")
	build := exec.Command("go", "build", "-tags", "tensorflow", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	model, images, masks := writeDemoData(t, 2)
	stderrOf := func(level string) string {
		cmd := exec.Command(bin, "eval", "--engine", "tensorflow", "--model", model, "--images", images, "--masks", masks)
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "TF_CPP_MIN_LOG_LEVEL=") {
				env = append(env, kv)
			}
		}
		if level != "" {
			env = append(env, "TF_CPP_MIN_LOG_LEVEL="+level)
		}
		cmd.Env = env
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Run(), stderr.String())
		return stderr.String()
	}
	assert.NotContains(t, stderrOf(""), "I tensorflow/", "info lines silenced by default")
	assert.Contains(t, stderrOf("0"), "I tensorflow/", "the user's TF_CPP_MIN_LOG_LEVEL=0 is kept")
}
