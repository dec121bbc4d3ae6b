package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/tfops"
)

// TestLoadUNet is the load test: 64 concurrent clients on loopback send
// predict requests (1x100x100x1 images, the Keras U-Net fixture's 60x60x2
// answer) to the server, with batching off and on. Every answer is checked
// against a direct tfseg.Model.Run of the same image; a second version is
// dropped into the base path a third of the way through and must be picked
// up (by the server's own polling) with no failed request. The throughput
// and the p50/p99 latencies are logged, not asserted: they depend on the
// machine. TFSEG_SERVE_LOAD_REQUESTS sets the requests per mode (default
// 256, 64 under the race detector); each mode is bounded to 5 minutes.
func TestLoadUNet(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	fx := fixture(t, "keras-unet-circles")
	total := 256
	if raceEnabled {
		total = 64
	}
	if s := os.Getenv("TFSEG_SERVE_LOAD_REQUESTS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err)
		total = n
	}
	const clients = 64

	// Four distinct images and their answers from a direct run.
	m, err := tfseg.Load(fx)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	var bodies []string
	var want [][]float32
	for range 4 {
		pix := make([]float32, 100*100)
		for i := range pix {
			pix[i] = rng.Float32()
		}
		out, err := m.Run(context.Background(), "serving_default", map[string]*tfops.Tensor{"inputs": tfops.MustFromSlice(pix, 1, 100, 100, 1)})
		require.NoError(t, err)
		want = append(want, out["outputs"].Float32s())
		bodies = append(bodies, fmt.Sprintf(`{"instances": %s}`, nested(pix, 1, 100, 100, 1)))
	}
	m.Close()

	for _, mode := range []struct {
		name     string
		batching *BatchingOptions
	}{
		{"batching=off", nil},
		{"batching=on", &BatchingOptions{MaxBatchSize: 32, BatchTimeout: 2 * time.Millisecond, NumBatchThreads: 2}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			base := t.TempDir()
			addVersion(t, base, 1, "keras-unet-circles")
			srv, hs := start(t, Options{Models: []ModelConfig{{Name: "unet", BasePath: base}}, Batching: mode.batching,
				PollInterval: 100 * time.Millisecond, RequestTimeout: 2 * time.Minute})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
			var next, failed atomic.Int64
			latencies := make([]time.Duration, total)
			var dropOnce sync.Once
			start := time.Now()
			var wg sync.WaitGroup
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1)) - 1
						if i >= total || ctx.Err() != nil {
							return
						}
						if i == total/3 {
							dropOnce.Do(func() { addVersion(t, base, 2, "keras-unet-circles") })
						}
						k := i % len(bodies)
						t0 := time.Now()
						req, _ := http.NewRequestWithContext(ctx, "POST", hs.URL+"/v1/models/unet:predict", strings.NewReader(bodies[k]))
						resp, err := client.Do(req)
						if err != nil {
							failed.Add(1)
							t.Errorf("request %d: %v", i, err)
							continue
						}
						var got struct{ Predictions [][][][]float32 }
						err = json.NewDecoder(resp.Body).Decode(&got)
						resp.Body.Close()
						latencies[i] = time.Since(t0)
						if err != nil || resp.StatusCode != 200 || len(got.Predictions) != 1 || len(got.Predictions[0]) != 60 {
							failed.Add(1)
							t.Errorf("request %d: status %d, err %v", i, resp.StatusCode, err)
							continue
						}
						if !sameOutput(got.Predictions[0], want[k]) {
							failed.Add(1)
							t.Errorf("request %d: the answer is not image %d's", i, k)
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			require.NoError(t, ctx.Err(), "the load test hit its time bound")
			assert.Zero(t, failed.Load(), "failed requests")
			sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
			t.Logf("%s: %d requests, %d clients, %d failed: %.1f requests/s, p50 %v, p99 %v",
				mode.name, total, clients, failed.Load(), float64(total)/elapsed.Seconds(),
				latencies[total/2].Round(time.Millisecond), latencies[total*99/100].Round(time.Millisecond))

			// The new version was picked up and the old one unloaded.
			deadline := time.Now().Add(30 * time.Second)
			for {
				_, body := do(t, "GET", hs.URL+"/v1/models/unet", "")
				if strings.Contains(body, `"version": "2",`+"\n"+`   "state": "AVAILABLE"`) && strings.Contains(body, `"version": "1",`+"\n"+`   "state": "END"`) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("version 2 not picked up: %s", body)
				}
				time.Sleep(100 * time.Millisecond)
			}
			_, metrics := doRaw(t, hs.URL+"/metrics")
			count, sum := histogram(t, metrics, "tfseg_serve_batch_size", `model="unet"`)
			t.Logf("%s: %.0f model runs for %.0f rows (mean batch %.1f)", mode.name, count, sum, sum/max(count, 1))
			_ = srv
		})
	}
}

// sameOutput compares a [60][60][2] answer with a flat direct run, within
// 1e-4 (a batched convolution may sum in another order).
func sameOutput(got [][][]float32, want []float32) bool {
	i := 0
	for _, row := range got {
		for _, px := range row {
			for _, v := range px {
				if i >= len(want) || v-want[i] > 1e-4 || want[i]-v > 1e-4 {
					return false
				}
				i++
			}
		}
	}
	return i == len(want)
}
