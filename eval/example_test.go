package eval_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tfseg/tfseg/baseline"
	"github.com/tfseg/tfseg/dataset"
	_ "github.com/tfseg/tfseg/engine/goengine" // the default engine
	"github.com/tfseg/tfseg/eval"
	"github.com/tfseg/tfseg/tfops"
)

func Example() {
	dir, _ := os.MkdirTemp("", "eval")
	defer os.RemoveAll(dir)
	// A model and a dataset: the baseline and 4 noisy circles.
	model := filepath.Join(dir, "model")
	if err := baseline.WriteModel(model, baseline.DefaultCalibration); err != nil {
		fmt.Println(err)
		return
	}
	if err := baseline.DefaultCircles.WriteDir(filepath.Join(dir, "data"), 4); err != nil {
		fmt.Println(err)
		return
	}

	m, err := eval.Load(model, eval.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	l, err := dataset.Match(filepath.Join(dir, "data", "images"), filepath.Join(dir, "data", "masks"), dataset.MatchOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := eval.Run(context.Background(), m, l, eval.Options{
		Losses:  []eval.Measure{{Name: "keras_bce"}},
		Metrics: []eval.Measure{{Name: "dice_coef"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("images:", len(rep.Images))
	fmt.Println("losses read the logits before the final", m.Logits.Activation)
	fmt.Println("mean Dice above 0.9:", rep.Mean("dice_coef") > 0.9)
	fmt.Println("worst image:", rep.Worst[0].Name)
	// Output:
	// images: 4
	// losses read the logits before the final Sigmoid
	// mean Dice above 0.9: true
	// worst image: circle_00001
}

// The report as an HTML page, with the overlay cards of the 3 worst images
// inlined, and the cards of the 2 worst as files.
func ExampleReport_WriteHTML() {
	dir, _ := os.MkdirTemp("", "eval")
	defer os.RemoveAll(dir)
	model := filepath.Join(dir, "model")
	if err := baseline.WriteModel(model, baseline.DefaultCalibration); err != nil {
		fmt.Println(err)
		return
	}
	if err := baseline.DefaultCircles.WriteDir(filepath.Join(dir, "data"), 6); err != nil {
		fmt.Println(err)
		return
	}
	m, err := eval.Load(model, eval.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	l, err := dataset.Match(filepath.Join(dir, "data", "images"), filepath.Join(dir, "data", "masks"), dataset.MatchOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := eval.Run(context.Background(), m, l, eval.Options{Gallery: 3, Overlays: filepath.Join(dir, "overlays"), OverlayWorst: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	var page strings.Builder
	if err := rep.WriteHTML(&page, eval.HTMLPage{Title: "baseline on 6 circles"}); err != nil {
		fmt.Println(err)
		return
	}
	files, _ := filepath.Glob(filepath.Join(dir, "overlays", "*.png"))
	fmt.Println("cards inlined:", strings.Count(page.String(), "data:image/png;base64,"))
	fmt.Println("card files:", len(files))
	fmt.Println("worst:", rep.Gallery[0].Name, filepath.Base(rep.OverlayPath(rep.Gallery[0].Index)))
	// Output:
	// cards inlined: 3
	// card files: 2
	// worst: circle_00001 circle_00001.png
}

func ExampleParseMeasure() {
	m, err := eval.ParseMeasure("lovasz_softmax:class_weights=1,2,3,per_image=true")
	fmt.Println(m.Name, m.Config["class_weights"], m.Config["per_image"], err)
	fmt.Println(m)
	// Output:
	// lovasz_softmax 1,2,3 true <nil>
	// lovasz_softmax:class_weights=1,2,3,per_image=true
}

func ExampleFindLogits() {
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(-1, 4, 4, 1))
	logits := tfops.Mul(s.WithOpName("logits"), x, tfops.Scalar(s, tfops.Float, 3))
	tfops.Identity(s.WithOpName("out"), tfops.Sigmoid(s.WithOpName("prob"), logits))
	g, _ := s.Finalize()
	_, l, ok, err := eval.FindLogits(g, "out:0")
	fmt.Println(ok, err, l.Tensor, l.Activation, l.Path)
	// Output: true <nil> logits Sigmoid [out prob]
}

// Two reports on the same three images: B improves the Dice coefficient of
// every image by about 0.1.
func ExampleCompare() {
	report := func(dice ...float64) *eval.Report {
		r := &eval.Report{Model: eval.ModelInfo{Dir: "model"}, Classes: 2, RankedBy: "dice_coef",
			Columns: []eval.Column{{Name: "dice_coef", Kind: "metric"}}}
		for i, d := range dice {
			r.Images = append(r.Images, eval.ImageResult{Name: fmt.Sprint("im", i), Values: []float64{d}})
		}
		return r
	}
	c, err := eval.Compare(report(0.5, 0.6, 0.7), report(0.61, 0.7, 0.79), eval.CompareOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	d := c.Differences[0]
	fmt.Printf("%s: %+.4f, better %d, worse %d, interval within [0.09, 0.11]: %v\n", d.Column, d.Diff, d.Better, d.Worse, d.Low >= 0.09 && d.High <= 0.11)
	fmt.Println("changed most:", c.Changed[0].Name)
	// Output:
	// dice_coef: +0.1000, better 3, worse 0, interval within [0.09, 0.11]: true
	// changed most: im0
}
