package tfseg_test

import (
	"context"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/baseline"
	"github.com/tfseg/tfseg/dataset"
	"github.com/tfseg/tfseg/tfops"
	"github.com/tfseg/tfseg/weightmap"
)

// The focal loss and the Dice coefficient of an image's predicted
// probabilities against its mask (uint8, as decoders give masks), on the
// default pure-Go engine: no engine import, no setup.
func ExampleNewLoss() {
	ctx := context.Background()
	probs := tfops.MustFromSlice([]float32{0.9, 0.2, 0.7, 0.1}, 1, 2, 2, 1) // NHWC
	mask := tfops.MustFromSlice([]uint8{1, 0, 1, 0}, 1, 2, 2, 1)
	focal, err := tfseg.NewLoss("focal", tfseg.Params{"alpha": 0.25, "gamma": 2.0})
	if err != nil {
		log.Fatal(err)
	}
	defer focal.Close()
	dice, _ := tfseg.NewLoss("dice_coef", nil)
	defer dice.Close()
	f, _ := focal.Value(ctx, mask, probs)
	d, _ := dice.Value(ctx, mask, probs)
	fmt.Printf("focal %.6f, dice %.0f\n", f, d)
	// Output: focal 0.003943, dice 1
}

// A loss written with its parameters as the command line takes it
// (tfseg verify --loss, tfseg eval --loss).
func ExampleParseLoss() {
	l, err := tfseg.ParseLoss("focal:alpha=0.25,gamma=2")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	fmt.Println(l.Name(), l.Config()["gamma"], l.Engine())
	// Output: focal 2 go
}

// A loss compiled once and run many times: the graph is built and the
// session opened on the first Run for a shape; later Runs only run. Run
// is safe for concurrent use (see ExampleModel_Run_concurrent for the
// pattern).
func ExampleLoss_Run() {
	l, err := tfseg.NewLoss("dice_image", tfseg.Params{"reduction": "none"})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	z := tfops.MustFromSlice([]float32{1, 0}, 1, 1, 2, 1)
	for _, q := range []float32{1, 0.5, 0.25} {
		v, err := l.Value(context.Background(), z, tfops.MustFromSlice([]float32{q, 0}, 1, 1, 2, 1))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%.4f ", v) // 1 - 2q/(1 + q)
	}
	// Output: 0.0000 0.3333 0.6000
}

// Per-image IoU, Dice and pixel accuracy of a batch held in memory.
func ExampleMetrics_Score() {
	// Two 2x2 images: sigmoid outputs and their masks.
	pred := tfops.MustFromSlice([]float32{0.9, 0.8, 0.2, 0.1, 0.9, 0.6, 0.7, 0.1}, 2, 2, 2, 1)
	masks := tfops.MustFromSlice([]int32{1, 1, 0, 0, 1, 0, 0, 1}, 2, 2, 2)
	m, _ := tfseg.NewMetrics(0.5) // foreground when > 0.5; fails only for a bad engine or threshold
	defer m.Close()
	s, err := m.Score(context.Background(), pred, masks)
	if err != nil {
		log.Fatal(err)
	}
	for n := range s.IoU.Mean {
		fmt.Printf("image %d: IoU %.2f, Dice %.2f, accuracy %.2f\n", n, s.IoU.Mean[n], s.Dice.Mean[n], s.PixelAccuracy[n])
	}
	// Output:
	// image 0: IoU 1.00, Dice 1.00, accuracy 1.00
	// image 1: IoU 0.25, Dice 0.40, accuracy 0.25
}

// A segmentation model run on an image.Image: in as an NHWC tensor, out as
// a mask. The demo model stands in for a Keras U-Net; the calls are the
// same.
func ExampleModel_Run_image() {
	dir, _ := os.MkdirTemp("", "tfseg-example")
	defer os.RemoveAll(dir)
	_ = baseline.WriteModel(filepath.Join(dir, "model"), baseline.DefaultCalibration)
	m, _ := tfseg.Load(filepath.Join(dir, "model"))
	defer m.Close()
	src, _ := baseline.DefaultCircles.Sample(0)
	img, _ := src.ToImage(dataset.ScaleUnit) // any image.Image: decoded, drawn, received
	in, _ := dataset.FromImage(img, dataset.ImageOptions{Channels: 1})
	out, err := m.Run(context.Background(), "serving_default", map[string]*tfops.Tensor{"image": in.Tensor()})
	if err != nil {
		log.Fatal(err)
	}
	mask, _ := dataset.MaskFromOutput(out["probability"], 0, 0.5) // mask.ToImage gives an image.Image
	fmt.Println(out["probability"].Shape(), mask.Height, mask.Width)
	// Output: [1 128 128 1] 128 128
}

// A U-Net weight map as the sample_weight of Keras' binary cross entropy:
// per pixel, so of the loss values' shape (N, H, W).
func Example_weightMapSampleWeight() {
	mask := &dataset.Mask{Height: 4, Width: 4, Labels: []int32{0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0}}
	w, err := weightmap.Batch(mask.Tensor(), weightmap.BatchOptions{}) // float32 (1, 4, 4, 1)
	if err != nil {
		log.Fatal(err)
	}
	sw, _ := w.Reshaped(1, 4, 4)
	probs, _ := tfops.Zeros(tfops.Float, 1, 4, 4, 1)
	for i := range probs.Float32s() {
		probs.Float32s()[i] = 0.5 // every pixel's cross entropy is ln 2
	}
	l, _ := tfseg.NewLoss("keras_bce", nil)
	defer l.Close()
	out, err := l.Run(context.Background(), map[string]*tfops.Tensor{"y_true": mask.Tensor(), "y_pred": probs, "sample_weight": sw})
	if err != nil {
		log.Fatal(err)
	}
	var mean float64
	for _, v := range sw.Float32s() {
		mean += float64(v) / 16
	}
	fmt.Printf("%.5f = ln 2 × mean weight %.5f\n", out.Float32s()[0], math.Ln2*mean)
	// Output: 5.40860 = ln 2 × mean weight 5.40860
}

// Eight goroutines share one Model: Run is safe for concurrent use.
func ExampleModel_Run_concurrent() {
	dir, _ := os.MkdirTemp("", "tfseg-example")
	defer os.RemoveAll(dir)
	if err := baseline.WriteModel(filepath.Join(dir, "model"), baseline.DefaultCalibration); err != nil {
		log.Fatal(err)
	}
	m, err := tfseg.Load(filepath.Join(dir, "model"))
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	im, _ := baseline.DefaultCircles.Sample(1)
	x := im.Tensor()
	sums := make([]float64, 8)
	var wg sync.WaitGroup
	for g := range sums {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := m.Run(context.Background(), "serving_default", map[string]*tfops.Tensor{"image": x})
			if err != nil {
				log.Print(err)
				return
			}
			for _, v := range out["probability"].Float32s() {
				sums[g] += float64(v)
			}
		}()
	}
	wg.Wait()
	same := true
	for _, s := range sums {
		same = same && s == sums[0] && s > 0
	}
	fmt.Println("8 runs, same output:", same)
	// Output: 8 runs, same output: true
}
