package bench_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/savedmodel"
	"github.com/tfseg/tfseg/tfops"
)

// peersEnv names the directory TestWritePeerData writes to.
const peersEnv = "TFSEG_BENCH_PEERS_DIR"

// A peerCase is one benchmark the peers (scripts/bench_peers.py for
// PyTorch, scripts/bench_ort.js for ONNX Runtime) run on the inputs the Go
// benchmark uses, checking their output against the Go engine's first.
type peerCase struct {
	Bench  string   `json:"bench"`  // the Go benchmark's name with engine=ENGINE for the peer's
	Kind   string   `json:"kind"`   // "loss" or "unet"
	Name   string   `json:"name"`   // the loss's name; "unet"
	Inputs []string `json:"inputs"` // .npy files: y_true, y_pred for a loss; the NHWC image for the U-Net
	Output string   `json:"output"` // .npy file: the Go engine's output on the inputs
	FLOPs  float64  `json:"flops"`  // the U-Net's convolution FLOPs (bench's unetFLOPs), else 0
}

// peerManifest is manifest.json of the directory TestWritePeerData writes.
type peerManifest struct {
	Cases   []peerCase        `json:"cases"`
	Weights map[string]string `json:"weights"` // checkpoint key (variables/0, ...) -> .npy file of the U-Net fixture
}

// TestWritePeerData writes, into the directory named by TFSEG_BENCH_PEERS_DIR
// (scripts/bench.sh sets it; the test skips without it), what the peers need
// to run the work of BenchmarkLoss and BenchmarkUNet: the same inputs (the
// same generators and seeds), the Go engine's output on them, and the U-Net
// fixture's variables read with package savedmodel, as .npy files, with
// manifest.json listing them.
func TestWritePeerData(t *testing.T) {
	dir := os.Getenv(peersEnv)
	if dir == "" {
		t.Skipf("writes the peers' inputs for scripts/bench.sh; runs only with %s set", peersEnv)
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	write := func(name string, x *tfops.Tensor) string {
		require.NoError(t, npy.WriteFile(filepath.Join(dir, name), x))
		return name
	}
	var man peerManifest
	ctx := context.Background()
	eng, err := engine.Get("go")
	require.NoError(t, err)

	for _, dims := range lossSizes {
		size := sizeName(dims)
		for _, logits := range []bool{false, true} {
			z, p := lossInputs(dims, logits)
			kind := "prob"
			if logits {
				kind = "logit"
			}
			zf := write(fmt.Sprintf("loss_%s_%s_true.npy", size, kind), z)
			pf := write(fmt.Sprintf("loss_%s_%s_pred.npy", size, kind), p)
			for _, name := range benchLosses {
				if logitLosses[name] != logits {
					continue
				}
				g, err := graphs.Build(name, benchConfig[name])
				require.NoError(t, err, name)
				sess, err := eng.NewSession(g.GraphDef, engine.SessionOptions{Threads: threads()})
				require.NoError(t, err, name)
				out, err := sess.Run(ctx, map[string]*tfops.Tensor{g.Inputs[graphs.InputTrue]: z, g.Inputs[graphs.InputPred]: p}, []string{g.Output}, nil)
				sess.Close()
				require.NoError(t, err, name)
				man.Cases = append(man.Cases, peerCase{
					Bench: fmt.Sprintf("Loss/name=%s/engine=ENGINE/size=%s", name, size), Kind: "loss", Name: name,
					Inputs: []string{zf, pf}, Output: write(fmt.Sprintf("loss_%s_%s_go.npy", name, size), out[0]),
				})
			}
		}
	}

	udir := unetFixture(t)
	m, err := tfseg.Load(udir, tfseg.WithThreads(threads()))
	require.NoError(t, err)
	defer m.Close()
	for _, dims := range unetSizes {
		size := sizeName(dims)
		in := unetInput(dims)
		out, err := m.Run(ctx, "serving_default", map[string]*tfops.Tensor{"inputs": in})
		require.NoError(t, err, size)
		flops, _, _ := unetFLOPs(dims[0], dims[1], dims[2])
		man.Cases = append(man.Cases, peerCase{
			Bench: fmt.Sprintf("UNet/engine=ENGINE/size=%s", size), Kind: "unet", Name: "unet",
			Inputs: []string{write("unet_"+size+"_in.npy", in)}, Output: write("unet_"+size+"_go.npy", out["outputs"]),
			FLOPs: flops,
		})
	}
	bundle, err := savedmodel.OpenBundle(filepath.Join(udir, "variables", "variables"), savedmodel.BundleOptions{})
	require.NoError(t, err)
	defer bundle.Close()
	man.Weights = map[string]string{}
	for _, l := range unetLayers {
		bias := l.kernel[:strings.LastIndex(l.kernel, "/")+1] + "bias"
		if strings.HasPrefix(l.kernel, "variables/") { // variables/2k is a kernel, variables/2k+1 its bias
			var k int
			_, err := fmt.Sscanf(l.kernel, "variables/%d", &k)
			require.NoError(t, err)
			bias = fmt.Sprintf("variables/%d", k+1)
		}
		for _, key := range []string{l.kernel, bias} {
			x, err := bundle.Tensor(key + "/.ATTRIBUTES/VARIABLE_VALUE")
			require.NoError(t, err, key)
			man.Weights[key] = write("w_"+strings.ReplaceAll(key, "/", "_")+".npy", x)
		}
	}
	b, err := json.MarshalIndent(man, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644))
}
