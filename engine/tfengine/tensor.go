//go:build tensorflow

package tfengine

import (
	"bytes"
	"fmt"
	"unsafe"

	tf "github.com/wamuir/graft/tensorflow"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/tfops"
)

// This file converts tensors between tfops and TensorFlow. Both sides hold
// numeric data dense, row-major and in native byte order, so a conversion is
// one copy of the element bytes. String tensors are refused: TensorFlow 2.x
// headers (which graft compiles against) lay out TF_TString differently from
// the TensorFlow 1.15 library scripts/install-libtensorflow.sh installs.

// supported reports whether dtype d converts in both directions.
func supported(d tfops.DType) bool {
	switch d {
	case tfops.Float, tfops.Double, tfops.Int32, tfops.Int64, tfops.Bool,
		tfops.Uint8, tfops.Int8, tfops.Int16, tfops.Uint16:
		return true
	}
	return false
}

// unsupportedDType explains why dtype d cannot cross the C API.
func unsupportedDType(d tfops.DType) string {
	if d == tfops.String {
		return "string tensors are not supported by the tensorflow engine (the TensorFlow 1.x and 2.x string layouts differ)"
	}
	return fmt.Sprintf("dtype %v is not supported by the tensorflow engine (float32, float64, int8/16/32/64, uint8/16 and bool are)", d)
}

// rawBytes returns the bytes of a numeric element slice without copying.
func rawBytes(data any) ([]byte, error) {
	switch s := data.(type) {
	case []float32:
		return sliceBytes(s), nil
	case []float64:
		return sliceBytes(s), nil
	case []int32:
		return sliceBytes(s), nil
	case []int64:
		return sliceBytes(s), nil
	case []bool:
		return sliceBytes(s), nil
	case []uint8:
		return s, nil
	case []int8:
		return sliceBytes(s), nil
	case []int16:
		return sliceBytes(s), nil
	case []uint16:
		return sliceBytes(s), nil
	}
	return nil, fmt.Errorf("element slice %T", data)
}

func sliceBytes[T any](s []T) []byte {
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(z)))
}

// toTF copies t into a new TensorFlow tensor.
func toTF(t *tfops.Tensor) (*tf.Tensor, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: nil tensor", engine.ErrFeed)
	}
	if !supported(t.DType()) {
		return nil, fmt.Errorf("%w: %s", engine.ErrFeed, unsupportedDType(t.DType()))
	}
	raw, err := rawBytes(t.Data())
	if err != nil {
		return nil, fmt.Errorf("%w: %v tensor holds %w", engine.ErrFeed, t.DType(), err)
	}
	shape := make([]int64, t.Rank())
	for i, d := range t.Shape() {
		shape[i] = int64(d)
	}
	if want := t.NumElements() * t.DType().Size(); want != len(raw) {
		return nil, fmt.Errorf("%w: %v tensor of shape %v holds %d bytes, want %d", engine.ErrFeed, t.DType(), t.Shape(), len(raw), want)
	}
	out, err := tf.ReadTensor(tf.DataType(t.DType()), shape, bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %v tensor of shape %v: %w", engine.ErrFeed, t.DType(), t.Shape(), err)
	}
	return out, nil
}

// fixedWriter copies what is written into a preallocated buffer.
type fixedWriter struct {
	buf []byte
	n   int
}

func (w *fixedWriter) Write(p []byte) (int, error) {
	if len(p) > len(w.buf)-w.n {
		return 0, fmt.Errorf("tensor data larger than its shape (%d bytes)", len(w.buf))
	}
	w.n += copy(w.buf[w.n:], p)
	return len(p), nil
}

// fromTF copies a TensorFlow tensor into a new tfops tensor.
func fromTF(t *tf.Tensor) (*tfops.Tensor, error) {
	d := tfops.DType(t.DataType())
	if !supported(d) {
		return nil, fmt.Errorf("%s", unsupportedDType(d))
	}
	dims := make([]int, len(t.Shape()))
	for i, v := range t.Shape() {
		dims[i] = int(v)
	}
	out, err := tfops.Zeros(d, dims...)
	if err != nil {
		return nil, err
	}
	raw, err := rawBytes(out.Data())
	if err != nil {
		return nil, err
	}
	w := &fixedWriter{buf: raw}
	if _, err := t.WriteContentsTo(w); err != nil {
		return nil, fmt.Errorf("%v tensor of shape %v: %w", d, dims, err)
	}
	if w.n != len(raw) {
		return nil, fmt.Errorf("%v tensor of shape %v: got %d bytes of data, want %d", d, dims, w.n, len(raw))
	}
	return out, nil
}
