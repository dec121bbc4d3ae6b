package dataset

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// source is where an image or mask is read from: the file path, or its
// content already in memory (data non-nil) with path naming it.
type source struct {
	path string
	data []byte
}

func fileSource(path string) source { return source{path: path} }

// readSeekCloser is what the decoders read.
type readSeekCloser interface {
	io.ReadSeeker
	io.Closer
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func (s source) open() (readSeekCloser, error) {
	if s.data != nil {
		return nopCloser{bytes.NewReader(s.data)}, nil
	}
	return os.Open(s.path)
}

// DecodeImageFile is ReadImage on a file's content already read (from any
// storage, say a Beam filesystem): name is the file's path, used for its
// extension and in errors. The result, errors included, is the same as
// ReadImage's on a file holding data (DecodeImage, which reads an
// io.Reader, recognises the format by content alone).
func DecodeImageFile(name string, data []byte, opts ImageOptions) (*Image, error) {
	im, err := readImage(source{path: name, data: nonNil(data)}, opts)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", name, err)
	}
	return im, nil
}

// DecodeMaskFile is ReadMask on a file's content already read; see
// DecodeImageFile.
func DecodeMaskFile(name string, data []byte, opts MaskOptions) (*Mask, error) {
	m, err := readMask(source{path: name, data: nonNil(data)}, opts)
	if err != nil {
		return nil, fmt.Errorf("mask %s: %w", name, err)
	}
	return m, nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// ReadWith is Read with the files' contents fetched by read (from any
// storage): a pair without a mask fails with ErrUnpaired, a file read
// cannot fetch fails with ErrFormat naming it, and decoding is the same as
// Read's.
func ReadWith(p Pair, read func(path string) ([]byte, error), imgOpts ImageOptions, maskOpts MaskOptions) *Sample {
	s := &Sample{Pair: p}
	if p.Mask == "" {
		s.Err = fmt.Errorf("%w: image %s has no mask", ErrUnpaired, p.Image)
		return s
	}
	data, err := read(p.Image)
	if err != nil {
		s.Err = fmt.Errorf("image %s: %w: %w", p.Image, ErrFormat, err)
		return s
	}
	im, err := DecodeImageFile(p.Image, data, imgOpts)
	if err != nil {
		s.Err = err
		return s
	}
	if data, err = read(p.Mask); err != nil {
		s.Err = fmt.Errorf("mask %s: %w: %w", p.Mask, ErrFormat, err)
		return s
	}
	m, err := DecodeMaskFile(p.Mask, data, maskOpts)
	if err != nil {
		s.Err = err
		return s
	}
	s.Image, s.Mask = im, m
	return s
}
