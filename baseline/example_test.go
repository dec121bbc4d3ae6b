package baseline_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tfseg/tfseg/baseline"
)

func ExampleCircles_Sample() {
	c := baseline.DefaultCircles
	im, mask := c.Sample(0) // image 0 of seed 1: the same on every machine
	fg := 0
	for _, l := range mask.Labels {
		fg += int(l)
	}
	fmt.Println(im.Height, im.Width, im.Channels, fg > 0)
	// Output: 128 128 1 true
}

func ExampleCircles_WriteDir() {
	dir, _ := os.MkdirTemp("", "circles")
	defer os.RemoveAll(dir)
	c := baseline.DefaultCircles
	c.Height, c.Width = 64, 64
	if err := c.WriteDir(dir, 3); err != nil {
		fmt.Println(err)
		return
	}
	images, _ := filepath.Glob(filepath.Join(dir, "images", "*.png"))
	masks, _ := filepath.Glob(filepath.Join(dir, "masks", "*.png"))
	fmt.Println(len(images), len(masks), filepath.Base(images[0]))
	// Output: 3 3 circle_00000.png
}

func ExampleWriteModel() {
	dir, _ := os.MkdirTemp("", "baseline")
	defer os.RemoveAll(dir)
	model := filepath.Join(dir, "model")
	if err := baseline.WriteModel(model, baseline.DefaultCalibration); err != nil {
		fmt.Println(err)
		return
	}
	_, err := os.Stat(filepath.Join(model, "variables", "variables.index"))
	fmt.Println("variables written:", err == nil)
	fmt.Printf("threshold on the smoothed image: %.4f\n", baseline.DefaultCalibration.Threshold())
	// Output:
	// variables written: true
	// threshold on the smoothed image: 0.4241
}

func ExampleCalibrate() {
	// A quick calibration on 4 images and two widths (the default uses 64
	// images and seven widths: see DefaultCalibration).
	res, err := baseline.Calibrate(baseline.CalibrationCircles, 4, []float64{0.5, 1.5})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("chosen sigma:", res.Best.Sigma)
	fmt.Println("smoothing helps:", res.Dice[1] > res.Dice[0])
	// Output:
	// chosen sigma: 1.5
	// smoothing helps: true
}
