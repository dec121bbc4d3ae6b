// Package bench holds the benchmarks that compare the Go engine with real
// TensorFlow on the work tfseg is for; it has no API, only _test.go files.
// scripts/bench.sh runs them and prints one table (medians, spread, Go/TF
// ratio, and each result as a fraction of the machine's measured memory
// bandwidth or FP32 peak).
//
// The benchmarks are named so a comparison reads itself:
//
//	BenchmarkLoss/name=focal/engine=go/size=16x512x512x1
//	BenchmarkLoss/name=focal/engine=tensorflow/size=16x512x512x1
//	BenchmarkUNet/engine=go/size=1x572x572x1
//
// Engine "go" is always there; the build tag `tensorflow` adds engine
// "tensorflow" to the same binary. Both run with as many threads as
// GOMAXPROCS (go test -cpu N).
//
// # What is timed
//
// BenchmarkLoss: one session run of the loss graph of graphs.Build (default
// parameters, and reduction=none for ce, so ce, dice_image and
// tversky_image return their unreduced values: a (B, H, W) map and one
// value per image) on y_true a 0/1 mask
// and y_pred probabilities (logits for lovasz_hinge), generated once from a
// fixed seed. The session is opened and the inputs made before the timer
// starts; on TensorFlow the inputs are converted to TensorFlow tensors
// once, and graft's Session.Run is called directly, so neither engine pays
// for conversions in the loop. Bytes per op (MB/s) are the inputs read
// plus the output written, the least traffic the loss needs.
//
// BenchmarkUNet: Model.Run of the Keras U-Net fixture
// (../shared/fixtures/savedmodels/keras-unet-circles, loaded with
// tfseg.Load; TensorFlow uses its own SavedModel loader) on a noisy-circles
// batch. Bytes per op are the input's; GFLOP/s counts the multiply-adds of
// its convolutions (2 FLOPs each), computed from the layer shapes in
// unetLayers, which a test checks against the fixture's kernels.
//
// BenchmarkUNetPeak/build=default|tensorflow/engine=.../size=...: the peak
// resident memory (VmHWM) of a fresh process that loads the U-Net fixture
// as BenchmarkUNet does and runs it 5 times on the same input: this test
// binary run again, once per iteration, as TestUNetPeakMemoryChild (which
// skips unless TFSEG_UNET_PEAK is set), with GOGC and GOMEMLIMIT at the Go
// runtime's defaults. It reports peak-MiB, run-MiB (the peak during the
// runs minus the RSS before the first), load-MiB and base-MiB (the RSS
// before the load); build says whether libtensorflow is in the process
// (tensorflow) or not (default, the Go engine's own build). ns/op is the
// child's wall time, not a figure to compare.
//
// BenchmarkCorpusPeak/build=.../engine=.../model=NAME is BenchmarkUNetPeak
// for the published SavedModels of ../shared/fixtures/corpus (child:
// TestCorpusPeakMemoryChild), at the sizes corpusPeakModels gives; a model
// an engine cannot run is skipped on that engine.
//
// TestWritePeerData (skipped unless TFSEG_BENCH_PEERS_DIR names a
// directory) writes what the peers of scripts/bench.sh need to run the same
// work: the inputs of BenchmarkLoss and BenchmarkUNet, the Go engine's
// outputs on them (each peer's output is checked against them before it is
// timed) and the U-Net fixture's variables read with package savedmodel,
// as .npy files listed in manifest.json. scripts/bench_peers.py (PyTorch)
// and scripts/bench_ort.js (ONNX Runtime) read them and print their results
// as engine=pytorch and engine=onnxruntime benchmark lines.
//
// BenchmarkWeightmap/size=1024x1024/objects=50 lives in package weightmap;
// scripts/bench.sh runs it from there.
package bench
