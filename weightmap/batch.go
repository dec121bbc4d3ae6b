package weightmap

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tfseg/tfseg/tfops"
)

// Kind selects the map [Batch] computes for each image.
type Kind int

const (
	// KindUNet is the U-Net weight map of [UNet] (the zero value).
	KindUNet Kind = iota
	// KindNearest is the distance map of [Nearest], the weights input of the
	// distance_ce loss.
	KindNearest
)

// String returns "unet" or "nearest".
func (k Kind) String() string {
	switch k {
	case KindUNet:
		return "unet"
	case KindNearest:
		return "nearest"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// BatchOptions configures [Batch].
type BatchOptions struct {
	// Kind is the map to compute: KindUNet (default) or KindNearest.
	Kind Kind
	// Options are the map's parameters. KindNearest uses only Sampling and
	// Workers. Workers bounds the goroutines for the whole batch.
	Options
	// DType is the result's element type: tfops.Float (float32, the loss
	// graphs' type; also selected by the zero value tfops.Invalid) or
	// tfops.Double.
	DType tfops.DType
}

// Batch computes a map for every image of a mask tensor of shape (B, H, W) or
// (B, H, W, 1), with any of the element types bool, uint8, int8, uint16,
// int16, uint32, int32, uint64, int64, float32 and float64, holding 0/1 or
// 0/255. The result has the mask's shape and opts.DType. Images are computed
// in parallel (one goroutine per image, and within an image over objects and
// rows when there are fewer images than workers). Class weights
// (ClassBalanced) are computed per image.
//
// A mask of another rank, or with a last dimension other than 1 at rank 4,
// gives an error wrapping [ErrShape]; an invalid value, one wrapping [ErrMask]
// that names it and its index in the tensor.
func Batch(mask *tfops.Tensor, opts BatchOptions) (*tfops.Tensor, error) {
	if mask == nil {
		return nil, fmt.Errorf("%w: nil mask tensor", ErrShape)
	}
	shape := mask.Shape()
	if r := len(shape); r != 3 && !(r == 4 && shape[3] == 1) {
		return nil, fmt.Errorf("%w: mask tensor of shape %v (want (B, H, W) or (B, H, W, 1))", ErrShape, shape)
	}
	b, h, w := shape[0], shape[1], shape[2]
	var p params
	var samp []float64
	var err error
	switch opts.Kind {
	case KindUNet:
		p, err = opts.Options.params()
	case KindNearest:
		samp, err = checkSampling(opts.Sampling, 2)
	default:
		err = fmt.Errorf("%w: Kind = %d (want KindUNet or KindNearest)", ErrOption, int(opts.Kind))
	}
	if err != nil {
		return nil, err
	}
	dt := opts.DType
	if dt == tfops.Invalid {
		dt = tfops.Float
	}
	if dt != tfops.Float && dt != tfops.Double {
		return nil, fmt.Errorf("%w: result dtype %v (want float32 or float64)", ErrDType, dt)
	}
	fg, err := tensorMask(mask)
	if err != nil {
		return nil, err
	}
	out, err := tfops.Zeros(dt, shape...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDType, err)
	}
	f32, f64 := out.Float32s(), out.Float64s()

	workers := workerCount(opts.Workers)
	outer := min(workers, b)
	inner := 1
	if outer > 0 {
		inner = max(1, workers/outer)
	}
	p.workers = inner
	hw := h * w
	var next atomic.Int64
	var wg sync.WaitGroup
	for range outer {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var scratch []float64
			if f32 != nil {
				scratch = make([]float64, hw)
			}
			for {
				i := int(next.Add(1)) - 1
				if i >= b {
					return
				}
				dst := scratch
				if f64 != nil {
					dst = f64[i*hw : (i+1)*hw]
				}
				img := fg[i*hw : (i+1)*hw]
				if opts.Kind == KindNearest {
					nearestMap(img, h, w, samp, dst, inner)
				} else {
					unetMap(img, h, w, p, dst)
				}
				if f32 != nil {
					for j, v := range dst {
						f32[i*hw+j] = float32(v)
					}
				}
			}
		}()
	}
	wg.Wait()
	return out, nil
}

// tensorMask validates a mask tensor and returns its foreground.
func tensorMask(t *tfops.Tensor) ([]bool, error) {
	dims := t.Shape()
	switch t.DType() {
	case tfops.Bool:
		return binarize(tfops.Values[bool](t), dims)
	case tfops.Uint8:
		return binarize(tfops.Values[uint8](t), dims)
	case tfops.Int8:
		return binarize(tfops.Values[int8](t), dims)
	case tfops.Uint16:
		return binarize(tfops.Values[uint16](t), dims)
	case tfops.Int16:
		return binarize(tfops.Values[int16](t), dims)
	case tfops.Uint32:
		return binarize(tfops.Values[uint32](t), dims)
	case tfops.Int32:
		return binarize(tfops.Values[int32](t), dims)
	case tfops.Uint64:
		return binarize(tfops.Values[uint64](t), dims)
	case tfops.Int64:
		return binarize(tfops.Values[int64](t), dims)
	case tfops.Float:
		return binarize(tfops.Values[float32](t), dims)
	case tfops.Double:
		return binarize(tfops.Values[float64](t), dims)
	}
	return nil, fmt.Errorf("%w: mask tensor of dtype %v", ErrDType, t.DType())
}
