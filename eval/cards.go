package eval

import (
	"bytes"
	"errors"
	"fmt"
	"image/png"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tfseg/tfseg/dataset"
	"github.com/tfseg/tfseg/overlay"
)

// Card is the overlay card of one of the worst images, as PNG data.
type Card struct {
	// Index is the image's position in Report.Images.
	Index int
	// Name is the image's name.
	Name string
	// PNG is the card (overlay.RenderCard) encoded as PNG.
	PNG []byte
}

// candidate is an image that may get a card: its cropped image, mask and
// prediction, kept while it is among the worst.
type candidate struct {
	index  int
	name   string
	values []float64
	image  *dataset.Image
	truth  *dataset.Mask
	pred   *dataset.Mask
}

// keep returns how many worst images must be kept for cards.
func (r *run) keep() int {
	k := r.opts.Gallery
	if r.overlayDir != "" && !r.opts.OverlaysAll {
		k = max(k, r.opts.OverlayWorst)
	}
	return k
}

// candidate returns res's card material, or nil when no card is wanted or
// the output is larger than the image (an upsampling model: noted).
func (r *run) candidate(s *dataset.Sample, res *ImageResult, mask *dataset.Mask, pred []int32) *candidate {
	if r.keep() == 0 && !(r.opts.OverlaysAll && r.overlayDir != "") {
		return nil
	}
	im := s.Image
	if im.Height != res.Height || im.Width != res.Width {
		c, err := im.CenterCrop(res.Height, res.Width)
		if err != nil {
			r.mu.Lock()
			r.notes = append(r.notes, fmt.Sprintf("no overlay for %s: the output (%dx%d) is larger than the image (%dx%d)", s.Name, res.Height, res.Width, im.Height, im.Width))
			r.mu.Unlock()
			return nil
		}
		im = c
	}
	return &candidate{index: s.Index, name: s.Name, values: res.Values, image: im, truth: mask,
		pred: &dataset.Mask{Height: res.Height, Width: res.Width, Labels: pred}}
}

// rankValue is c's value in the ranking column (0 for every image when
// there is none, so that the listing order decides).
func (r *run) rankValue(c *candidate) float64 {
	if r.rankKey < 0 {
		return 0
	}
	return c.values[r.rankKey]
}

// worse reports whether a ranks before b in the report's worst list:
// the worse value first, ties in listing order.
func (r *run) worse(a, b *candidate) bool {
	va, vb := r.rankValue(a), r.rankValue(b)
	if va != vb {
		return va < vb == r.lowerIsWorse
	}
	return a.index < b.index
}

// keepWorst adds c to the worst images when it is among the keep() worst.
// The caller holds r.mu.
func (r *run) keepWorst(c *candidate) {
	k := r.keep()
	if c == nil || k == 0 || math.IsNaN(r.rankValue(c)) {
		return
	}
	if len(r.worst) == k && !r.worse(c, r.worst[k-1]) {
		return
	}
	i := sort.Search(len(r.worst), func(i int) bool { return r.worse(c, r.worst[i]) })
	r.worst = append(r.worst, nil)
	copy(r.worst[i+1:], r.worst[i:])
	r.worst[i] = c
	if len(r.worst) > k {
		r.worst = r.worst[:k]
	}
}

// caption returns the card's score line: the ranking column, then the
// other losses and metrics (per-class columns left out), at most five.
func (r *run) caption(values []float64) []string {
	cols := r.columns()
	var parts []string
	add := func(k int) {
		parts = append(parts, fmt.Sprintf("%s=%s", cols[k].Name, fixed(values[k])))
	}
	if r.rankKey >= 0 {
		add(r.rankKey)
	}
	for k, c := range cols {
		if len(parts) >= 5 {
			break
		}
		if k != r.rankKey && c.Kind != "fraction" && !strings.HasSuffix(c.Name, "]") {
			add(k)
		}
	}
	return []string{strings.Join(parts, "  ")}
}

// renderCard encodes c's card as PNG.
func (r *run) renderCard(c *candidate) ([]byte, error) {
	m, err := overlay.RenderCard(c.image, c.truth, c.pred, c.name, r.caption(c.values))
	if err != nil {
		return nil, fmt.Errorf("eval: overlay of %s: %w", c.name, err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		return nil, fmt.Errorf("eval: overlay of %s: %w", c.name, err)
	}
	return b.Bytes(), nil
}

// OverlayMarker is the file Run writes in every overlay directory: a
// directory holding it may be replaced by a later run.
const OverlayMarker = ".tfseg-overlays"

// ErrOverlayDir is returned for an overlay directory Run must not replace.
var ErrOverlayDir = errors.New("eval: overlay directory")

// CheckOverlayDir returns an error wrapping ErrOverlayDir unless dir is
// absent, empty, or an overlay directory an earlier Run wrote (it holds
// OverlayMarker): Run replaces the whole directory, and must not delete
// files it did not write.
func CheckOverlayDir(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%w: %w", ErrOverlayDir, err)
	case len(ents) == 0:
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, OverlayMarker)); err != nil {
		return fmt.Errorf("%w: %s exists and was not written by tfseg (no %s); it would be replaced: choose another directory", ErrOverlayDir, dir, OverlayMarker)
	}
	return nil
}

// cardFile is the file name of an image's card.
func cardFile(name string) string { return name + ".png" }

// writeCard writes c's card to the overlay directory.
func (r *run) writeCard(c *candidate) error {
	data, err := r.renderCard(c)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(r.overlayDir, cardFile(c.name)), data, 0o644); err != nil {
		return fmt.Errorf("eval: overlays: %w", err)
	}
	return nil
}

// cards writes the worst images' cards (all images' were written as they
// came with OverlaysAll), fills the gallery and records the file names.
func (r *run) cards(rep *Report) error {
	pos := make(map[int]int, len(rep.Images))
	for i, im := range rep.Images {
		pos[im.Index] = i
	}
	for rank, c := range r.worst {
		inOverlays := r.overlayDir != "" && !r.opts.OverlaysAll && rank < r.opts.OverlayWorst
		inGallery := rank < r.opts.Gallery
		if !inOverlays && !inGallery {
			continue
		}
		data, err := r.renderCard(c)
		if err != nil {
			return err
		}
		i := pos[c.index]
		if inOverlays {
			if err := os.WriteFile(filepath.Join(r.overlayDir, cardFile(c.name)), data, 0o644); err != nil {
				return fmt.Errorf("eval: overlays: %w", err)
			}
			rep.Images[i].Overlay = cardFile(c.name)
		}
		if inGallery {
			rep.Gallery = append(rep.Gallery, Card{Index: i, Name: c.name, PNG: data})
		}
	}
	return nil
}
