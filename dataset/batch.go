package dataset

import (
	"fmt"
	"iter"

	"github.com/tfseg/tfseg/tfops"
)

// Sample is one pair read from disk.
type Sample struct {
	// Index is the pair's position in the slice given to Batches.
	Index int
	Pair
	// Image and Mask are set when the files were read.
	Image *Image
	Mask  *Mask
	// Err says why the pair could not be read (unreadable file, missing
	// mask); Image and Mask are then nil. The message names the file.
	Err error
}

// Batch is a group of samples read together.
type Batch struct {
	// Samples were read and their images share one size and channel
	// count, so they stack into one model input.
	Samples []*Sample
	// Failed holds the samples read with this batch that could not be
	// read (Err set), in order.
	Failed []*Sample
}

// Shape returns the (N, H, W, C) shape of the batch's input tensor.
func (b *Batch) Shape() []int {
	if len(b.Samples) == 0 {
		return []int{0, 0, 0, 0}
	}
	im := b.Samples[0].Image
	return []int{len(b.Samples), im.Height, im.Width, im.Channels}
}

// Tensor stacks the images into one float32 tensor of shape (N, H, W, C).
func (b *Batch) Tensor() *tfops.Tensor {
	shape := b.Shape()
	per := shape[1] * shape[2] * shape[3]
	pix := make([]float32, 0, len(b.Samples)*per)
	for _, s := range b.Samples {
		pix = append(pix, s.Image.Pix...)
	}
	return tfops.MustFromSlice(pix, shape...)
}

// BatchOptions configure Batches.
type BatchOptions struct {
	// Size is the largest number of images per batch (default 8).
	Size int
	// Image and Mask configure the readers (ReadImage, ReadMask).
	Image ImageOptions
	Mask  MaskOptions
}

// Batches reads pairs in order and yields batches of at most opts.Size
// images of one size: a change of size, or of channel count, starts a new
// batch. Only the batch being filled is held, so memory is bounded by the
// batch size and not by len(pairs). Pairs that cannot be read are yielded
// in Failed (a pair without a mask fails with ErrUnpaired). Stop early by
// breaking out of the loop.
func Batches(pairs []Pair, opts BatchOptions) iter.Seq[*Batch] {
	size := opts.Size
	if size <= 0 {
		size = 8
	}
	return func(yield func(*Batch) bool) {
		cur := &Batch{}
		flush := func() bool {
			if len(cur.Samples) == 0 && len(cur.Failed) == 0 {
				return true
			}
			b := cur
			cur = &Batch{}
			return yield(b)
		}
		for i, p := range pairs {
			s := Read(p, opts.Image, opts.Mask)
			s.Index = i
			if s.Err != nil {
				cur.Failed = append(cur.Failed, s)
				if len(cur.Failed) >= size && !flush() {
					return
				}
				continue
			}
			if len(cur.Samples) > 0 {
				first := cur.Samples[0].Image
				if first.Height != s.Image.Height || first.Width != s.Image.Width || first.Channels != s.Image.Channels {
					if !flush() {
						return
					}
				}
			}
			cur.Samples = append(cur.Samples, s)
			if len(cur.Samples) >= size && !flush() {
				return
			}
		}
		flush()
	}
}

// Read reads one pair's image and mask; failures are reported in the
// returned Sample's Err.
func Read(p Pair, imgOpts ImageOptions, maskOpts MaskOptions) *Sample {
	s := &Sample{Pair: p}
	if p.Mask == "" {
		s.Err = fmt.Errorf("%w: image %s has no mask", ErrUnpaired, p.Image)
		return s
	}
	im, err := ReadImage(p.Image, imgOpts)
	if err != nil {
		s.Err = err
		return s
	}
	m, err := ReadMask(p.Mask, maskOpts)
	if err != nil {
		s.Err = err
		return s
	}
	s.Image, s.Mask = im, m
	return s
}
