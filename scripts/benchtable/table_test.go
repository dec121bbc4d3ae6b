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
BenchmarkWeightmap/size=1024x1024/objects=50-2     	      10	 100000000 ns/op	  10.49 MB/s	 1000 B/op	 10 allocs/op
PASS
ok  	github.com/tfseg/tfseg/bench	57.778s
`

func TestParse(t *testing.T) {
	rs, err := Parse(strings.NewReader(sample))
	require.NoError(t, err)
	require.Len(t, rs, 11)
	assert.Equal(t, Result{Key: "Loss/name=focal/size=16x512x512x1", Engine: "go", Procs: 2, N: 2,
		Values: map[string]float64{"ns/op": 6e8, "MB/s": 55.9, "B/op": 385898016, "allocs/op": 507}}, rs[0])
	assert.Equal(t, "tensorflow", rs[1].Engine)
	assert.Equal(t, 100.0, rs[9].Values["GFLOP/s"])
	assert.Equal(t, Result{Key: "Weightmap/size=1024x1024/objects=50", Engine: "go", Procs: 2, N: 10,
		Values: map[string]float64{"ns/op": 1e8, "MB/s": 10.49, "B/op": 1000, "allocs/op": 10}}, rs[10])

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
	// focal: Go median 600 ms, TF median 25 ms: 24x, range 500/30 .. 700/20.
	focal := row("Loss/name=focal/size=16x512x512x1")
	assert.Contains(t, focal, "600 ms (500 ms–700 ms, n=3)")
	assert.Contains(t, focal, "25 ms (20 ms–30 ms, n=3)")
	assert.Contains(t, focal, "**24x** (16.7–35)")
	assert.Contains(t, focal, "0.06 GB/s = 0.3% BW") // 55.9 MB/s of 20 GB/s
	assert.Contains(t, focal, "368 MiB, 507")
	assert.Contains(t, focal, "≤0.25x: **not met**")
	// dice_image: 0.5x and 16.8 GB/s = 84% of 20 GB/s: both met.
	dice := row("Loss/name=dice_image/size=16x512x512x1")
	assert.Contains(t, dice, "**0.5x**")
	assert.Contains(t, dice, "16.78 GB/s = 83.9% BW")
	assert.Contains(t, dice, "≤0.5x, ≥60% BW: met")
	unet := row("UNet/size=1x572x572x1")
	assert.Contains(t, unet, "1.0 GFLOP/s = 0.5% peak")
	assert.Contains(t, unet, "100.0 GFLOP/s = 50.0% peak")
	assert.Contains(t, unet, "≤1x: **not met**")
	wm := row("Weightmap/size=1024x1024/objects=50")
	assert.Contains(t, wm, "100 ms (100 ms–100 ms, n=1) | – | – | 10.5 MB/s")
}

func TestRunErrors(t *testing.T) {
	var out, errw bytes.Buffer
	for _, args := range [][]string{nil, {"nope"}, {"table"}, {"table", "/nonexistent/bench.txt"}, {"limits", "-threads", "0"}} {
		assert.Error(t, run(args, &out, &errw), "args %q", args)
	}
}
