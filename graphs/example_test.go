package graphs_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/engine"
	_ "github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/savedmodel"
	"github.com/tfseg/tfseg/tfops"
)

func ExampleLookup() {
	spec, err := graphs.Lookup("dice_image")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range spec.Params {
		fmt.Printf("%s (%s, default %v): %v\n", p.Name, p.Kind, p.Default, p.Choices)
	}
	_, err = graphs.Lookup("dise")
	fmt.Println(err != nil)
	// Output:
	// empty (word, default one): [one zero nan skip]
	// reduction (word, default none): [none sum_over_batch_size sum mean]
	// true
}

func ExampleSpec_Parse() {
	spec, _ := graphs.Lookup("keras_tversky")
	v, err := spec.Parse(graphs.Config{"alpha": "0.3", "axis": "1,2,3"})
	fmt.Println(v.Float("alpha"), v.Float("beta"), v.Ints("axis"), v.Word("reduction"), err)
	_, err = spec.Parse(graphs.Config{"gamma": "2"})
	fmt.Println(err)
	// Output:
	// 0.3 0.5 [1 2 3] sum_over_batch_size <nil>
	// graphs: bad parameter: keras_tversky has no parameter "gamma"; valid parameters: alpha, beta, axis, reduction, keras
}

func ExampleBuild() {
	g, err := graphs.Build("balanced_ce", graphs.Config{"beta": "auto"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(g.Inputs["y_true"], g.Inputs["y_pred"], g.InputShapes["y_pred"], g.Output)
	// Output: y_true:0 y_pred:0 (?, ?, ?, ?) loss:0
}

func ExampleBuildInto() {
	s := tfops.NewScope()
	logits := tfops.Placeholder(s.WithOpName("logits"), tfops.Float, tfops.UnknownShapeOfRank(4))
	mask := tfops.Placeholder(s.WithOpName("mask"), tfops.Float, tfops.UnknownShapeOfRank(4))
	// A model's sigmoid output: Keras' binary cross entropy uses its logits.
	probs := tfops.Sigmoid(s.WithOpName("probs"), logits)
	loss, err := graphs.BuildInto(s, "keras_bce", nil, mask, probs, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	gd, err := s.Finalize()
	if err != nil {
		fmt.Println(err)
		return
	}
	eng, _ := engine.Get("go")
	sess, err := eng.NewSession(gd, engine.SessionOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close()
	out, err := sess.Run(context.Background(), map[string]*tfops.Tensor{
		"logits:0": tfops.MustFromSlice([]float32{-200, 200}, 1, 1, 2, 1),
		"mask:0":   tfops.MustFromSlice([]float32{1, 1}, 1, 1, 2, 1),
	}, []string{loss.Name()}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	// (200 + 0) / 2: no clipping at 1e-7 since the logits are used.
	fmt.Println(out[0].Float32s()[0])
	// Output: 100
}

func ExampleExport() {
	dir, err := os.MkdirTemp("", "tfseg-export")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	if err := graphs.Export(filepath.Join(dir, "focal"), "focal", graphs.Config{"gamma": "3"}); err != nil {
		fmt.Println(err)
		return
	}
	_, err = os.Stat(filepath.Join(dir, "focal", "saved_model.pb"))
	fmt.Println(err == nil)
	// Output: true
}

// Keras' test input for Tversky(alpha=0.2, beta=0.8): Keras 3.16 weighs
// the false positives by alpha, Keras 3.15 (and 3.3 to 3.14) swapped the
// two weights.
func ExampleKerasChangesFor() {
	for _, c := range graphs.KerasChangesFor("keras_tversky") {
		fmt.Printf("%s: %s (%s)\n", c.Since, c.What, c.Test())
	}
	in := map[string]*tfops.Tensor{
		"y_true": tfops.MustFromSlice([]float32{1, 2, 1, 2}, 2, 2),
		"y_pred": tfops.MustFromSlice([]float32{4, 1, 6, 1}, 2, 2),
	}
	for _, keras := range []string{graphs.NewestKeras, "3.15"} {
		loss, err := tfseg.Eval(context.Background(), nil, "keras_tversky",
			graphs.Config{"alpha": "0.2", "beta": "0.8", "keras": keras}, in)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("keras=%s: %.6f\n", keras, loss.Float32s()[0])
	}
	// Output:
	// 3.16: which sums alpha and beta weigh in keras.losses.Tversky (TestKerasVersions/tversky_alpha_beta)
	// 3.7: the reductions mean and mean_with_sample_weight (TestKerasVersions/reduction_mean)
	// 3.3: keras.losses.Tversky (TestKerasVersions/tversky_since)
	// 3.8: Tversky's axis argument (TestKerasVersions/tversky_axis)
	// keras=3.16: -0.944444
	// keras=3.15: -0.296296
}

// Exporting Tversky twice to one directory: the second export replaces
// the first only when asked to.
func ExampleExport_replace() {
	tmp, _ := os.MkdirTemp("", "tfseg-export")
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "tversky")
	fmt.Println(graphs.Export(dir, "tversky", graphs.Config{"beta": "0.3"}))
	err := graphs.Export(dir, "tversky", graphs.Config{"beta": "0.7"})
	fmt.Println(errors.Is(err, savedmodel.ErrExport))
	fmt.Println(graphs.Export(dir, "tversky", graphs.Config{"beta": "0.7"}, graphs.WithReplace()))
	// Output:
	// <nil>
	// true
	// <nil>
}

// Parse a loss with its parameters as the command line writes it, and
// check the parameters against the loss's own.
func ExampleParseLoss() {
	name, cfg, err := graphs.ParseLoss("lovasz_softmax:class_weights=1,2,3,per_image=true")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(name, cfg["class_weights"], cfg["per_image"])
	spec, _ := graphs.Lookup(name)
	if _, err := spec.Parse(cfg); err != nil {
		fmt.Println(err)
	}
	fmt.Println(graphs.FormatLoss(name, cfg))

	_, _, err = graphs.ParseLoss("focal:gamma")
	fmt.Println(errors.Is(err, graphs.ErrParam), err)
	// Output:
	// lovasz_softmax 1,2,3 true
	// lovasz_softmax:class_weights=1,2,3,per_image=true
	// true graphs: bad parameter: "gamma" in "focal:gamma": want NAME or NAME:key=value[,key=value]
}
