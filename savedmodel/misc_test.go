package savedmodel

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tfseg/tfseg/tfops"
	"google.golang.org/protobuf/encoding/prototext"
)

// TestReadText reads a saved_model.pbtxt: the half-plus-two-tf1 fixture
// converted to the text format.
func TestReadText(t *testing.T) {
	src, err := Read(fixture(t, "half-plus-two-tf1"), ReadOptions{})
	require.NoError(t, err)
	text, err := prototext.Marshal(src.Proto)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, ModelTextFilename), text, 0o644))
	m, err := Read(dir, ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, ModelTextFilename), m.File)
	assert.Equal(t, src.Signatures(), m.Signatures())
	assertTF1ServingLayout(t, m)
	// The TF1 asset list lives in a collection of Any messages, which the
	// text format spells with their type URL.
	assets, err := m.Assets()
	require.NoError(t, err)
	require.Len(t, assets, 1)
	assert.Equal(t, "Const:0", assets[0].TensorName)
	assert.NoFileExists(t, assets[0].Path, "assets are listed from the MetaGraphDef even when the file is absent")
}

func TestAssetOutsideDirectory(t *testing.T) {
	src, err := Read(fixture(t, "half-plus-two-tf2"), ReadOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, src.MetaGraph.GetAssetFileDef())
	src.MetaGraph.GetAssetFileDef()[0].Filename = "../../etc/passwd"
	_, err = src.Assets()
	require.ErrorIs(t, err, ErrFormat)
	assert.Contains(t, err.Error(), "../../etc/passwd")
}

func TestBundleConcurrentReads(t *testing.T) {
	want := roundTripTensors()
	prefix := filepath.Join(t.TempDir(), "ckpt")
	require.NoError(t, WriteBundle(prefix, want))
	b, err := OpenBundle(prefix, BundleOptions{})
	require.NoError(t, err)
	defer b.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, k := range b.Keys() {
				if _, err := b.Tensor(k); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestVariableOps(t *testing.T) {
	s := tfops.NewScope()
	v := VarHandleOp(s, "v", tfops.Float, tfops.MakeShape(2))
	v2 := VarHandleOp(s, "v", tfops.Float, tfops.MakeShape(2))
	assert.Equal(t, "v", string(v.Op.Attr("shared_name").GetS()))
	assert.Equal(t, "v_1", string(v2.Op.Attr("shared_name").GetS()), "a renamed variable shares under its own name")
	assert.Equal(t, tfops.Resource, v.DType())
	r := ReadVariableOp(s, v, tfops.Float, tfops.MakeShape(2))
	assert.Equal(t, "(2,)", r.Shape().String())
	a := AssignVariableOp(s, v2, r)
	require.NotNil(t, a)
	assert.Equal(t, "AssignVariableOp", a.Type())
	assert.Equal(t, 0, a.NumOutputs())
	_, err := s.Finalize()
	require.NoError(t, err)

	// A non-resource handle is a sticky error naming the tensor.
	s = tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(2))
	assert.Nil(t, AssignVariableOp(s, x, x))
	_, err = s.Finalize()
	require.ErrorIs(t, err, tfops.ErrDType)
	assert.Contains(t, err.Error(), "x:0")
	s = tfops.NewScope()
	x = tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(2))
	assert.False(t, ReadVariableOp(s, x, tfops.Float, tfops.MakeShape(2)).Valid())
	assert.False(t, VarHandleOp(s, "v", tfops.Float, tfops.MakeShape(2)).Valid(), "no-op after the first error")
	_, err = s.Finalize()
	require.ErrorIs(t, err, tfops.ErrDType)
}
