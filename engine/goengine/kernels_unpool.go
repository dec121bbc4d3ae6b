package goengine

import (
	"github.com/tfseg/tfseg/tfops"
)

// MaxPoolWithArgmax and ScatterNd: SegNet-style segmentation models pool
// with tf.nn.max_pool_with_argmax and unpool by scattering the pooled
// values back to the argmax positions with tf.scatter_nd. Op definitions:
// tensorflow/core/ops/nn_ops.cc (MaxPoolWithArgmax) and array_ops.cc
// (ScatterNd); kernels: tensorflow/core/kernels/maxpooling_op.cc
// (SpatialMaxPoolWithArgMaxHelper) and scatter_nd_op.cc.

func init() {
	RegisterOp("MaxPoolWithArgmax", OpDef{Kernel: maxPoolWithArgmaxKernel, OutputArgs: []OutputArg{{Name: "output"}, {Name: "argmax"}}})
	Register("ScatterNd", scatterNdKernel)
}

// maxPoolWithArgmaxKernel: each output is the first maximum of its window
// in row-major order (a later element replaces it only when strictly
// greater, as the CPU kernel's scan does; a NaN wins only as the window's
// first element), and argmax its flat index (y·W + x)·C + c, plus
// b·H·W·C when include_batch_in_index.
func maxPoolWithArgmaxKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(1); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	if x.Rank() != 4 {
		return nil, c.Errorf("tensor_in must be 4-dimensional, got %v", x.StaticShape())
	}
	ksize, err := c.AttrInts("ksize")
	if err != nil {
		return nil, err
	}
	if len(ksize) != 4 || ksize[0] != 1 || ksize[3] != 1 {
		return nil, c.Errorf("ksize %v must be [1, h, w, 1] (pooling over batch or depth is not supported)", ksize)
	}
	strides, err := c.AttrInts("strides")
	if err != nil {
		return nil, err
	}
	withBatch, err := c.AttrBoolOr("include_batch_in_index", false)
	if err != nil {
		return nil, err
	}
	at, err := c.outIndexType("Targmax")
	if err != nil {
		return nil, err
	}
	if c.Attr("Targmax") == nil {
		at = tfops.Int64
	}
	xs := x.Shape()
	wh, ww, err := c.nhwcWindows(xs[1], xs[2], int(ksize[1]), int(ksize[2]), strides, false)
	if err != nil {
		return nil, err
	}
	n, h, w, ch := xs[0], xs[1], xs[2], xs[3]
	out, err := c.Alloc(x.DType(), n, wh.out, ww.out, ch)
	if err != nil {
		return nil, err
	}
	idx := make([]int64, out.NumElements())
	switch x.DType() {
	case tfops.Float:
		argmaxPool(x.Float32s(), out.Float32s(), idx, n, h, w, ch, wh, ww, withBatch)
	case tfops.Double:
		argmaxPool(x.Float64s(), out.Float64s(), idx, n, h, w, ch, wh, ww, withBatch)
	case tfops.Int32:
		argmaxPool(x.Int32s(), out.Int32s(), idx, n, h, w, ch, wh, ww, withBatch)
	case tfops.Int64:
		argmaxPool(x.Int64s(), out.Int64s(), idx, n, h, w, ch, wh, ww, withBatch)
	default:
		return nil, c.unsupportedDType(x.DType())
	}
	am, err := c.indexTensor(at, idx, out.Shape()...)
	if err != nil {
		return nil, err
	}
	return []*tfops.Tensor{out, am}, nil
}

func argmaxPool[T number](x, out []T, idx []int64, n, h, w, ch int, wh, ww window, withBatch bool) {
	k := 0
	for b := 0; b < n; b++ {
		for oy := 0; oy < wh.out; oy++ {
			for ox := 0; ox < ww.out; ox++ {
				for q := 0; q < ch; q++ {
					best, at := T(0), int64(-1)
					for a := 0; a < wh.k; a++ {
						y, ok := wh.src(oy, a)
						if !ok {
							continue
						}
						for e := 0; e < ww.k; e++ {
							v, ok := ww.src(ox, e)
							if !ok {
								continue
							}
							off := (y*w+v)*ch + q
							if val := x[b*h*w*ch+off]; at < 0 || best < val {
								best, at = val, int64(off)
								if withBatch {
									at += int64(b * h * w * ch)
								}
							}
						}
					}
					out[k], idx[k] = best, at
					k++
				}
			}
		}
	}
}

// scatterNdKernel: a zero tensor of shape with each updates slice added at
// its index tuple (repeated indices sum, in order); an index outside shape
// is an error, as on the CPU.
func scatterNdKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	indices, updates := c.Inputs[0], c.Inputs[1]
	if d := indices.DType(); d != tfops.Int32 && d != tfops.Int64 {
		return nil, c.Errorf("indices must be int32 or int64, got %v", d)
	}
	shape, err := c.dimsInput(2, "shape")
	if err != nil {
		return nil, err
	}
	if indices.Rank() < 1 {
		return nil, c.Errorf("indices must be at least a vector, got shape %s", dimsString(indices.Shape()))
	}
	is := indices.Shape()
	k := is[len(is)-1]
	if k > len(shape) {
		return nil, c.Errorf("index innermost dimension length %d exceeds the rank of shape %s", k, dimsString(shape))
	}
	want := append(append([]int{}, is[:len(is)-1]...), shape[k:]...)
	if !equalDims(updates.Shape(), want) {
		return nil, c.Errorf("updates has shape %s; indices of shape %s into shape %s need updates of shape %s",
			dimsString(updates.Shape()), dimsString(is), dimsString(shape), dimsString(want))
	}
	out, err := c.Alloc(updates.DType(), shape...)
	if err != nil {
		return nil, err
	}
	iv := indexValues(indices)
	st := rowMajorStrides(shape)
	nidx := tfops.NumElements(is[:len(is)-1])
	inner := tfops.NumElements(shape[k:])
	dst := make([]int, nidx)
	for i := range dst {
		for d := 0; d < k; d++ {
			v := iv[i*k+d]
			if v < 0 || v >= int64(shape[d]) {
				return nil, c.Errorf("indices%s = [%s] does not index into shape %s", sliceDebug(i, is[:len(is)-1]), joinInts(iv[i*k:(i+1)*k]), dimsString(shape))
			}
			dst[i] += int(v) * st[d]
		}
	}
	switch o := out.Data().(type) {
	case []float32:
		scatterAdd(o, updates.Float32s(), dst, inner, func(a, b float32) float32 { return out32(float64(flush32(a)) + float64(flush32(b))) })
	case []float64:
		scatterAdd(o, updates.Float64s(), dst, inner, func(a, b float64) float64 { return flush64(flush64(a) + flush64(b)) })
	case []int32:
		scatterAdd(o, updates.Int32s(), dst, inner, add[int32])
	case []int64:
		scatterAdd(o, updates.Int64s(), dst, inner, add[int64])
	default:
		return nil, c.unsupportedDType(updates.DType())
	}
	return []*tfops.Tensor{out}, nil
}

func scatterAdd[T number](o, u []T, dst []int, inner int, add func(a, b T) T) {
	for i, d := range dst {
		row := o[d : d+inner]
		for j, v := range u[i*inner : (i+1)*inner] {
			row[j] = add(row[j], v)
		}
	}
}
