package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServeUsage(t *testing.T) {
	runCLICases(t, []cliCase{
		{name: "no model", args: []string{"serve"}, code: exitUsage, want: "serve needs --model_base_path"},
		{name: "both", args: []string{"serve", "--model_base_path", "a", "--model_config_file", "b"}, code: exitUsage, want: "not both"},
		{name: "batching file alone", args: []string{"serve", "--model_base_path", "a", "--batching_parameters_file", "b"}, code: exitUsage, want: "needs --enable_batching"},
		{name: "no version", args: []string{"serve", "--model_base_path", t.TempDir()}, code: exitInput, want: "no numbered version directory"},
	})
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeCommand runs `tfseg serve` on a free port, sends TensorFlow
// Serving's documented predict request, then ends it as SIGTERM would.
func TestServeCommand(t *testing.T) {
	fx, err := filepath.Abs(fixture(t, "half-plus-two-tf1"))
	require.NoError(t, err)
	base := t.TempDir()
	require.NoError(t, os.Symlink(fx, filepath.Join(base, "1")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--model_base_path", base, "--model_name", "half_plus_two", "--port", "0", "--host", "127.0.0.1"},
			&env{stdout: io.Discard, stderr: &stderr})
	}()
	addr := regexp.MustCompile(`exporting HTTP/REST API at (\S+)`)
	var url string
	for deadline := time.Now().Add(20 * time.Second); url == ""; {
		if m := addr.FindStringSubmatch(stderr.String()); m != nil {
			url = "http://" + m[1]
		}
		require.True(t, time.Now().Before(deadline), "server did not start: %s", stderr.String())
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Post(url+"/v1/models/half_plus_two:predict", "application/json", strings.NewReader(`{"instances": [1.0, 2.0, 5.0]}`))
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.JSONEq(t, `{"predictions": [2.5, 3.0, 4.5]}`, string(body))
	cancel()
	assert.Equal(t, exitOK, <-done, stderr.String())
}
