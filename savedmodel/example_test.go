package savedmodel_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/tfseg/tfseg/savedmodel"
	"github.com/tfseg/tfseg/tfops"
)

// exportHalfPlusTwo writes y = a*x + b with a = 0.5 and b = 2 to dir and
// returns dir: the model the examples read.
func exportHalfPlusTwo(dir string) string {
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(-1, 1))
	a := savedmodel.VarHandleOp(s, "a", tfops.Float, tfops.ScalarShape())
	b := savedmodel.VarHandleOp(s, "b", tfops.Float, tfops.ScalarShape())
	ax := tfops.Mul(s, savedmodel.ReadVariableOp(s, a, tfops.Float, tfops.ScalarShape()), x)
	y := tfops.Identity(s.WithOpName("y"), tfops.AddV2(s, ax, savedmodel.ReadVariableOp(s, b, tfops.Float, tfops.ScalarShape())))
	gd, err := s.Finalize()
	if err != nil {
		log.Fatal(err)
	}
	err = savedmodel.Write(dir, &savedmodel.Export{
		Graph: gd,
		Signatures: map[string]savedmodel.Signature{
			savedmodel.DefaultSignatureKey: {
				MethodName: savedmodel.PredictMethod,
				Inputs:     map[string]savedmodel.TensorInfo{"x": {Name: x.Name(), DType: x.DType(), Shape: x.Shape()}},
				Outputs:    map[string]savedmodel.TensorInfo{"y": {Name: y.Name(), DType: y.DType(), Shape: y.Shape()}},
			},
		},
		Variables: map[string]*tfops.Tensor{"a": tfops.FromScalar(float32(0.5)), "b": tfops.FromScalar(float32(2))},
	})
	if err != nil {
		log.Fatal(err)
	}
	return dir
}

func ExampleWrite() {
	tmp, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(tmp)
	dir := exportHalfPlusTwo(filepath.Join(tmp, "half_plus_two", "1"))

	m, err := savedmodel.Read(dir, savedmodel.ReadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	sd := m.SaverDef()
	fmt.Println("restore:", sd.GetRestoreOpName(), "fed with", sd.GetFilenameTensorName())
	// Output:
	// restore: save/restore_all fed with save/Const:0
}

func ExampleRead() {
	tmp, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(tmp)
	dir := exportHalfPlusTwo(filepath.Join(tmp, "m"))

	m, err := savedmodel.Read(dir, savedmodel.ReadOptions{Tags: []string{"serve"}})
	if err != nil {
		log.Fatal(err)
	}
	for _, key := range m.SignatureKeys() {
		sig, _ := m.Signature(key)
		for _, in := range sig.InputKeys() {
			t := sig.Inputs[in]
			fmt.Printf("%s input %s: %s %v %v\n", key, in, t.Name, t.DType, t.Shape)
		}
		for _, out := range sig.OutputKeys() {
			t := sig.Outputs[out]
			fmt.Printf("%s output %s: %s %v %v\n", key, out, t.Name, t.DType, t.Shape)
		}
	}
	// Output:
	// serving_default input x: x:0 float32 (?, 1)
	// serving_default output y: y:0 float32 (?, 1)
}

func ExampleSavedModel_OpenVariables() {
	tmp, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(tmp)
	m, err := savedmodel.Read(exportHalfPlusTwo(filepath.Join(tmp, "m")), savedmodel.ReadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	b, err := m.OpenVariables(savedmodel.BundleOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	for _, k := range b.Keys() {
		t, err := b.Tensor(k)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(k, t.Float32s())
	}
	// Output:
	// a [0.5]
	// b [2]
}

func ExampleWriteBundle() {
	tmp, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(tmp)
	prefix := filepath.Join(tmp, "ckpt")
	err := savedmodel.WriteBundle(prefix, map[string]*tfops.Tensor{
		"kernel": tfops.MustFromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3),
		"step":   tfops.FromScalar(int64(42)),
		"vocab":  tfops.MustFromSlice([]string{"background", "cell"}, 2),
	})
	if err != nil {
		log.Fatal(err)
	}
	b, err := savedmodel.OpenBundle(prefix, savedmodel.BundleOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	for _, k := range b.Keys() {
		e, _ := b.Entry(k)
		t, _ := b.Tensor(k)
		fmt.Println(k, tfops.DType(e.GetDtype()), t.Shape(), t.Data())
	}
	// Output:
	// kernel float32 [2 3] [1 2 3 4 5 6]
	// step int64 [] [42]
	// vocab string [2] [background cell]
}

func ExampleOpenBundle() {
	// A bundle of 2 GiB is refused before anything is allocated unless the
	// limit allows it.
	tmp, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(tmp)
	prefix := filepath.Join(tmp, "ckpt")
	if err := savedmodel.WriteBundle(prefix, map[string]*tfops.Tensor{"w": tfops.MustFromSlice(make([]float32, 1024), 1024)}); err != nil {
		log.Fatal(err)
	}
	b, err := savedmodel.OpenBundle(prefix, savedmodel.BundleOptions{MaxTensorBytes: 1000})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	_, err = b.Tensor("w")
	fmt.Println(errors.Is(err, savedmodel.ErrTooBig))
	// Output:
	// true
}

func ExampleVarHandleOp() {
	s := tfops.NewScope()
	v := savedmodel.VarHandleOp(s.SubScope("dense"), "kernel", tfops.Float, tfops.MakeShape(3, 2))
	r := savedmodel.ReadVariableOp(s, v, tfops.Float, tfops.MakeShape(3, 2))
	fmt.Println(v.Name(), v.Op.Type(), string(v.Op.Attr("shared_name").GetS()))
	fmt.Println(r.Name(), r.Shape())
	// Output:
	// dense/kernel:0 VarHandleOp dense/kernel
	// ReadVariableOp:0 (3, 2)
}
