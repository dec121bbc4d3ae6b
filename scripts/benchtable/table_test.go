package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/tfseg/tfseg/bench
BenchmarkLoss/name=focal/engine=go/size=16x512x512x1-2         	       2	 600000000 ns/op	  55.9 MB/s	385898016 B/op	     507 allocs/op
BenchmarkLoss/name=focal/engine=tensorflow/size=16x512x512x1-2 	      40	  30000000 ns/op	 1118 MB/s	     328 B/op	      11 allocs/op
BenchmarkLoss/name=focal/engine=go/size=16x512x512x1-2         	       2	 500000000 ns/op	  67.1 MB/s	385898016 B/op	     507 allocs/op
BenchmarkLoss/name=focal/engine=tensorflow/size=16x512x512x1-2 	      40	  20000000 ns/op	 1677 MB/s	     328 B/op	      11 allocs/op
BenchmarkLoss/name=focal/engine=go/size=16x512x512x1-2         	       2	 700000000 ns/op	  47.9 MB/s	385898016 B/op	     507 allocs/op
BenchmarkLoss/name=focal/engine=tensorflow/size=16x512x512x1-2 	      40	  25000000 ns/op	 1342 MB/s	     328 B/op	      11 allocs/op
BenchmarkLoss/name=dice_image/engine=go/size=16x512x512x1-2    	     300	   2000000 ns/op	 16777 MB/s	33562496 B/op	     186 allocs/op
BenchmarkLoss/name=dice_image/engine=tensorflow/size=16x512x512x1-2 	     300	   4000000 ns/op	 8388 MB/s	     328 B/op	      12 allocs/op
BenchmarkUNet/engine=go/size=1x572x572x1-2         	       1	14000000000 ns/op	   0.09 MB/s	         1.0 GFLOP/s	592954304 B/op	    2573 allocs/op
BenchmarkUNet/engine=tensorflow/size=1x572x572x1-2 	       1	 140000000 ns/op	   9.35 MB/s	       100.0 GFLOP/s	 2271272 B/op	      39 allocs/op
BenchmarkLoss/name=focal/engine=pytorch/size=16x512x512x1-2 	      40	  50000000 ns/op	 671 MB/s
BenchmarkLoss/name=focal/engine=onnxruntime/size=16x512x512x1-2 	      40	  10000000 ns/op	 3355 MB/s
BenchmarkLoss/name=dice_image/engine=pytorch/size=16x512x512x1-2 	     300	   4100000 ns/op	 8184 MB/s
BenchmarkUNet/engine=pytorch/size=1x572x572x1-2 	       1	 2000000000 ns/op	   0.65 MB/s	       7.0 GFLOP/s
BenchmarkUNet/engine=onnxruntime/size=1x572x572x1-2 	       1	 20000000000 ns/op	   0.07 MB/s	       0.7 GFLOP/s
BenchmarkWeightmap/size=1024x1024/objects=50-2     	      10	 100000000 ns/op	  10.49 MB/s	 1000 B/op	 10 allocs/op
PASS
ok  	github.com/tfseg/tfseg/bench	57.778s
`

func TestParse(t *testing.T) {
	rs, err := Parse(strings.NewReader(sample))
	require.NoError(t, err)
	require.Len(t, rs, 16)
	assert.Equal(t, Result{Key: "Loss/name=focal/size=16x512x512x1", Engine: "go", Procs: 2, N: 2,
		Values: map[string]float64{"ns/op": 6e8, "MB/s": 55.9, "B/op": 385898016, "allocs/op": 507}}, rs[0])
	assert.Equal(t, "tensorflow", rs[1].Engine)
	assert.Equal(t, 100.0, rs[9].Values["GFLOP/s"])
	assert.Equal(t, Result{Key: "Weightmap/size=1024x1024/objects=50", Engine: "go", Procs: 2, N: 10,
		Values: map[string]float64{"ns/op": 1e8, "MB/s": 10.49, "B/op": 1000, "allocs/op": 10}}, rs[15])
	assert.Equal(t, "onnxruntime", rs[11].Engine)

	_, err = Parse(strings.NewReader("BenchmarkX-2 10 5 ns/op 3\n"))
	assert.ErrorContains(t, err, "line 1")
	_, err = Parse(strings.NewReader("BenchmarkX-2 10 abc ns/op\n"))
	assert.ErrorContains(t, err, `"abc"`)
}

func TestRender(t *testing.T) {
	rs, err := Parse(strings.NewReader(sample))
	require.NoError(t, err)
	var buf bytes.Buffer
	Render(&buf, rs, Limits{ReadGBps: 20, PeakGFLOPs: 200, ReadKernel: "r", PeakKernel: "p"})
	lines := strings.Split(buf.String(), "\n")
	row := func(prefix string) string {
		for _, l := range lines {
			if strings.HasPrefix(l, "| "+prefix+" |") {
				return l
			}
		}
		t.Fatalf("no row %s in\n%s", prefix, buf.String())
		return ""
	}
	// focal: Go median 600 ms, TF median 25 ms: 24x, range 500/30 .. 700/20;
	// PyTorch 50 ms (12x), ONNX Runtime 10 ms (60x), the best peer.
	focal := row("Loss/name=focal/size=16x512x512x1")
	assert.Contains(t, focal, "| 600 ms (500 ms–700 ms, n=3) | 25 ms (20 ms–30 ms, n=3) | 50 ms (50 ms–50 ms, n=1) | 10 ms (10 ms–10 ms, n=1) |")
	assert.Contains(t, focal, "| **24x** (16.7–35) | **12x** (10–14) | **60x** (50–70) |")
	assert.Contains(t, focal, "0.06 GB/s = 0.3% BW") // 55.9 MB/s of 20 GB/s
	assert.Contains(t, focal, "ORT: 3.35 GB/s = 16.8% BW")
	assert.Contains(t, focal, "368 MiB, 507")
	assert.Contains(t, focal, "≤0.5x best peer: **not met**")
	// dice_image: 0.5x TF (the best peer of those that ran), 0.488x
	// PyTorch, 16.8 GB/s = 84% of 20 GB/s: met.
	dice := row("Loss/name=dice_image/size=16x512x512x1")
	assert.Contains(t, dice, "| **0.5x** (0.5–0.5) | **0.488x** (0.488–0.488) | – |")
	assert.Contains(t, dice, "16.78 GB/s = 83.9% BW")
	assert.Contains(t, dice, "TF: 8.39 GB/s = 41.9% BW")
	assert.Contains(t, dice, "≤0.5x best peer, ≥70% BW: met")
	unet := row("UNet/size=1x572x572x1")
	assert.Contains(t, unet, "1.0 GFLOP/s = 0.5% peak")
	assert.Contains(t, unet, "TF: 100.0 GFLOP/s = 50.0% peak")
	assert.Contains(t, unet, "≤0.7x PyTorch, ≤0.8x ORT, ≥70% peak: **not met**")
	wm := row("Weightmap/size=1024x1024/objects=50")
	assert.Contains(t, wm, "100 ms (100 ms–100 ms, n=1) | – | – | – | – | – | – | 10.5 MB/s")

	// A faster third peer (ONNX Runtime, 3.9 ms) becomes the best: 0.513x.
	more, err := Parse(strings.NewReader("BenchmarkLoss/name=dice_image/engine=onnxruntime/size=16x512x512x1-2 \t 300 \t 3900000 ns/op\n"))
	require.NoError(t, err)
	buf.Reset()
	Render(&buf, append(rs, more...), Limits{ReadGBps: 20, PeakGFLOPs: 200})
	assert.Contains(t, buf.String(), "| **0.513x** (0.513–0.513) | 16.78 GB/s = 83.9% BW | ORT: – | 32 MiB, 186 | ≤0.5x best peer, ≥70% BW: **not met** |")
}

// TestRenderRoundPeaks checks that the FP32 peaks benchtable peak writes
// in each round (BenchmarkLimits/fp32) replace the limits file's: the
// U-Net's share and its target are of their median, the footer says so,
// and they are not a row of the table.
func TestRenderRoundPeaks(t *testing.T) {
	var line bytes.Buffer
	RoundPeak(&line, 1)
	round, err := Parse(&line)
	require.NoError(t, err)
	require.Len(t, round, 1, "benchtable peak writes one result Parse reads")
	assert.Equal(t, roundPrefix, round[0].Key)
	assert.Greater(t, round[0].Values["GFLOP/s"], 0.0)

	in := "BenchmarkUNet/engine=go/size=1x572x572x1-2 \t 5 \t 40000000 ns/op \t 300.0 GFLOP/s\n" +
		"BenchmarkUNet/engine=pytorch/size=1x572x572x1-2 \t 5 \t 100000000 ns/op\n" +
		"BenchmarkUNet/engine=onnxruntime/size=1x572x572x1-2 \t 5 \t 100000000 ns/op\n" +
		"BenchmarkLimits/fp32-2 \t 1 \t 0 ns/op \t 440.0 GFLOP/s\n" +
		"BenchmarkLimits/fp32-2 \t 1 \t 0 ns/op \t 420.0 GFLOP/s\n" +
		"BenchmarkLimits/fp32-2 \t 1 \t 0 ns/op \t 480.0 GFLOP/s\n"
	rs, err := Parse(strings.NewReader(in))
	require.NoError(t, err)
	var buf bytes.Buffer
	Render(&buf, rs, Limits{ReadGBps: 20, PeakGFLOPs: 500, PeakKernel: "p"})
	out := buf.String()
	// 300 of the median 440 is 68.2% (of the start's 500 it would be 60%).
	assert.Contains(t, out, "300.0 GFLOP/s = 68.2% peak")
	assert.Contains(t, out, "≥70% peak: **not met**")
	assert.Contains(t, out, "FP32 peak 440 GFLOP/s, the median of its 3 measurements (420–480), one right before each round's Go engine run (500 in the limits measured at the start) (p)")
	assert.NotContains(t, out, "| Limits/")
	// 70% of 440 is 308: a U-Net at 310 GFLOP/s meets it.
	rs[0].Values["GFLOP/s"] = 310
	buf.Reset()
	Render(&buf, rs, Limits{PeakGFLOPs: 500})
	assert.Contains(t, buf.String(), "70.5% peak")
	assert.Contains(t, buf.String(), "≤0.7x PyTorch, ≤0.8x ORT, ≥70% peak: met")
}

// peakSample is BenchmarkUNetPeak output from the default build (engine go
// only) and the tensorflow build (both engines), next to a BenchmarkUNet
// line.
const peakSample = `BenchmarkUNet/engine=go/size=1x572x572x1-2         	       3	 300000000 ns/op	   3.9 MB/s	        40.0 GFLOP/s	 3000000 B/op	    2346 allocs/op
BenchmarkUNet/engine=tensorflow/size=1x572x572x1-2 	       3	 600000000 ns/op	   1.9 MB/s	        20.0 GFLOP/s	 2000000 B/op	      39 allocs/op
BenchmarkUNetPeak/build=default/engine=go/size=1x572x572x1-2         	       1	 990160325 ns/op	        11.42 base-MiB	        22.43 load-MiB	       267.0 peak-MiB	       244.0 run-MiB
BenchmarkUNetPeak/build=default/engine=go/size=4x188x188x1-2         	       1	 426359793 ns/op	        11.30 base-MiB	        21.90 load-MiB	       111.0 peak-MiB	        89.0 run-MiB
BenchmarkUNetPeak/build=default/engine=go/size=1x572x572x1-2         	       1	 990160325 ns/op	        11.60 base-MiB	        22.43 load-MiB	       270.0 peak-MiB	       246.0 run-MiB
BenchmarkUNetPeak/build=default/engine=go/size=4x188x188x1-2         	       1	 426359793 ns/op	        11.40 base-MiB	        21.90 load-MiB	       113.0 peak-MiB	        91.0 run-MiB
BenchmarkUNetPeak/build=default/engine=go/size=1x572x572x1-2         	       1	 990160325 ns/op	        11.50 base-MiB	        22.43 load-MiB	       265.0 peak-MiB	       243.0 run-MiB
BenchmarkUNetPeak/build=default/engine=go/size=4x188x188x1-2         	       1	 426359793 ns/op	        11.50 base-MiB	        21.90 load-MiB	       112.0 peak-MiB	        90.0 run-MiB
BenchmarkUNetPeak/build=tensorflow/engine=go/size=1x572x572x1-2         	       1	1753773570 ns/op	        64.77 base-MiB	        76.09 load-MiB	       327.0 peak-MiB	       250.0 run-MiB
BenchmarkUNetPeak/build=tensorflow/engine=go/size=4x188x188x1-2         	       1	 438137882 ns/op	        64.59 base-MiB	        75.38 load-MiB	       165.0 peak-MiB	        90.0 run-MiB
BenchmarkUNetPeak/build=tensorflow/engine=tensorflow/size=1x572x572x1-2 	       1	2779595181 ns/op	        64.80 base-MiB	       112.8 load-MiB	       311.0 peak-MiB	       198.0 run-MiB
BenchmarkUNetPeak/build=tensorflow/engine=tensorflow/size=4x188x188x1-2 	       1	1653672168 ns/op	        65.11 base-MiB	       114.4 load-MiB	       150.0 peak-MiB	       101.0 run-MiB
BenchmarkUNetPeak/build=tensorflow/engine=tensorflow/size=1x572x572x1-2 	       1	2779595181 ns/op	        65.20 base-MiB	       112.8 load-MiB	       400.0 peak-MiB	       282.0 run-MiB
BenchmarkUNetPeak/build=tensorflow/engine=tensorflow/size=1x572x572x1-2 	       1	2779595181 ns/op	        64.90 base-MiB	       112.8 load-MiB	       332.0 peak-MiB	       214.0 run-MiB
BenchmarkUNetPeak/build=onnxruntime/engine=onnxruntime/size=1x572x572x1-2 	1	3584676130 ns/op	291.0 peak-MiB	51.2 base-MiB
BenchmarkUNetPeak/build=pytorch/engine=pytorch/size=1x572x572x1-2 	1	3584676130 ns/op	391.0 peak-MiB	151.2 base-MiB
`

func TestRenderPeak(t *testing.T) {
	rs, err := Parse(strings.NewReader(peakSample))
	require.NoError(t, err)
	require.Len(t, rs, 16)
	assert.Equal(t, "UNetPeak/build=tensorflow/size=4x188x188x1", rs[11].Key)
	assert.Equal(t, "tensorflow", rs[11].Engine)
	assert.Equal(t, 150.0, rs[11].Values["peak-MiB"])

	var buf bytes.Buffer
	Render(&buf, rs, Limits{ReadGBps: 20, PeakGFLOPs: 200, ReadKernel: "r", PeakKernel: "p"})
	out := buf.String()
	row := func(prefix string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "| "+prefix+" |") {
				return l
			}
		}
		t.Fatalf("no row %s in\n%s", prefix, out)
		return ""
	}
	// The main table has the U-Net time and no UNetPeak rows.
	assert.Contains(t, row("UNet/size=1x572x572x1"), "≤0.7x PyTorch (no run), ≤0.8x ORT (no run), ≥70% peak: **not met**")
	assert.NotContains(t, out, "| UNetPeak")
	assert.Contains(t, out, "U-Net peak memory (fresh process per engine and size)")

	// 1x572: Go 267 MiB (default build) and 327 MiB (tensorflow build)
	// against TF's median 332 MiB (311, 332, 400): both met.
	big := row("1x572x572x1")
	// ONNX Runtime 291 MiB: met; PyTorch's is shown, not a target.
	assert.Contains(t, big, "| 267 MiB (265–270, n=3) | 327 MiB (327–327, n=1) | 332 MiB (311–400, n=3) | 391 MiB (391–391, n=1) | 291 MiB (291–291, n=1) |")
	assert.Contains(t, big, "| **0.804x** | **0.918x** |")
	assert.Contains(t, big, "244 MiB / 214 MiB")
	assert.Contains(t, big, "Go ≤ TF: met (default build), met (same binary); Go ≤ ORT: met")
	// 4x188: Go 112 MiB in its own build, 165 MiB in TF's binary, TF 150:
	// met in the default build, not in the same binary.
	small := row("4x188x188x1")
	assert.Contains(t, small, "| 112 MiB (111–113, n=3) | 165 MiB (165–165, n=1) | 150 MiB (150–150, n=1) |")
	assert.Contains(t, small, "90 MiB / 101 MiB")
	assert.Contains(t, small, "Go ≤ TF: met (default build), **not met** (same binary)")
	assert.Contains(t, out, "The process before loading the model: 11 MiB in the default build, 65 MiB in the tensorflow build, 51 MiB in the onnxruntime build, 151 MiB in the pytorch build.")

	// Only the peak benchmark: only its table. Only the tensorflow build:
	// Go/TF and the verdict from the same binary.
	var tfOnly []Result
	for _, r := range rs {
		if strings.HasPrefix(r.Key, "UNetPeak/build=tensorflow/") {
			tfOnly = append(tfOnly, r)
		}
	}
	buf.Reset()
	Render(&buf, tfOnly, Limits{})
	out = buf.String()
	assert.True(t, strings.HasPrefix(out, "U-Net peak memory"), out)
	small = row("4x188x188x1")
	assert.Contains(t, small, "| – | 165 MiB (165–165, n=1) | 150 MiB (150–150, n=1) | – | – | **1.1x** | – | 90 MiB / 101 MiB | Go ≤ TF: **not met** (same binary) |")
}

func TestRenderCorpusPeak(t *testing.T) {
	rs, err := Parse(strings.NewReader(`BenchmarkCorpusPeak/build=default/engine=go/model=seg-lenny-unet-2 	1	29639221375 ns/op	11.83 base-MiB	36.66 load-MiB	688.4 peak-MiB	651.8 run-MiB
BenchmarkCorpusPeak/build=tensorflow/engine=tensorflow/model=seg-lenny-unet-2 	1	29639221375 ns/op	65 base-MiB	100 load-MiB	600 peak-MiB	500 run-MiB
BenchmarkCorpusPeak/build=default/engine=go/model=cnn-enhancer-2 	1	183526934 ns/op	11.96 base-MiB	17.47 load-MiB	28.74 peak-MiB	11.27 run-MiB
BenchmarkUNetPeak/build=default/engine=go/size=1x572x572x1-2 	1	990160325 ns/op	11.42 base-MiB	22.43 load-MiB	267.0 peak-MiB	244.0 run-MiB
`))
	require.NoError(t, err)
	var buf bytes.Buffer
	Render(&buf, rs, Limits{})
	out := buf.String()
	assert.Contains(t, out, "U-Net peak memory (fresh process per engine and size):\n\n| size |")
	assert.Contains(t, out, "Corpus models' peak memory (fresh process per engine and model, BenchmarkCorpusPeak):\n\n| model |")
	assert.Contains(t, out, "| seg-lenny-unet | 688 MiB (688–688, n=1) | – | 600 MiB (600–600, n=1) | – | – | **1.15x** | – | 652 MiB / 500 MiB | Go ≤ TF: **not met** (default build) |")
	assert.Contains(t, out, "| cnn-enhancer | 29 MiB (29–29, n=1) | – | – |")
}

func TestRunErrors(t *testing.T) {
	var out, errw bytes.Buffer
	for _, args := range [][]string{nil, {"nope"}, {"table"}, {"table", "/nonexistent/bench.txt"}, {"limits", "-threads", "0"}} {
		assert.Error(t, run(args, &out, &errw), "args %q", args)
	}
}
