package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Pair is an image and its mask, matched by name.
type Pair struct {
	// Name is the file name without extension (and without MaskSuffix).
	Name string
	// Image is the image's path.
	Image string
	// Mask is the mask's path, "" when the image has none.
	Mask string
}

// Listing is the result of Match.
type Listing struct {
	// Pairs holds every image, sorted by Name; an image without a mask has
	// Mask == "" (see Unpaired).
	Pairs []Pair
	// MasksWithoutImage lists masks no image matched, sorted.
	MasksWithoutImage []string
	// Ignored lists files that are neither PNG, JPEG nor .npy, sorted.
	// Hidden files and directories are skipped silently.
	Ignored []string
}

// Unpaired returns the images that have no mask.
func (l *Listing) Unpaired() []Pair {
	var out []Pair
	for _, p := range l.Pairs {
		if p.Mask == "" {
			out = append(out, p)
		}
	}
	return out
}

// MatchOptions configure Match.
type MatchOptions struct {
	// MaskSuffix is appended to an image's name to find its mask: with
	// "_mask", image cat.png pairs with cat_mask.png (or cat_mask.npy, ...).
	// When the images and masks directories are the same, files whose name
	// ends in MaskSuffix are the masks.
	MaskSuffix string
}

// Match pairs the images in imagesDir with the masks in masksDir by file
// name without extension: images/cat.jpg pairs with masks/cat.png. Files
// whose extension is not in Extensions are listed as Ignored; two files of
// one directory with the same name (cat.png, cat.npy) are an ErrAmbiguous
// error naming both. Subdirectories are not searched.
func Match(imagesDir, masksDir string, opts MatchOptions) (*Listing, error) {
	same := filepath.Clean(imagesDir) == filepath.Clean(masksDir)
	if same && opts.MaskSuffix == "" {
		return nil, fmt.Errorf("%w: images and masks are both in %s; set a mask suffix to tell them apart", ErrAmbiguous, imagesDir)
	}
	isMask := func(stem string) bool { return same && strings.HasSuffix(stem, opts.MaskSuffix) }
	l := &Listing{}
	images, err := listDir(imagesDir, func(stem string) bool { return !isMask(stem) }, &l.Ignored)
	if err != nil {
		return nil, err
	}
	maskIgnored := &l.Ignored
	if same {
		maskIgnored = new([]string) // already listed with the images
	}
	masks, err := listDir(masksDir, func(stem string) bool { return !same || isMask(stem) }, maskIgnored)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	for stem, path := range images {
		p := Pair{Name: stem, Image: path}
		if m, ok := masks[stem+opts.MaskSuffix]; ok {
			p.Mask = m
			used[stem+opts.MaskSuffix] = true
		}
		l.Pairs = append(l.Pairs, p)
	}
	for stem, path := range masks {
		if !used[stem] {
			l.MasksWithoutImage = append(l.MasksWithoutImage, path)
		}
	}
	sort.Slice(l.Pairs, func(i, j int) bool { return l.Pairs[i].Name < l.Pairs[j].Name })
	sort.Strings(l.MasksWithoutImage)
	sort.Strings(l.Ignored)
	return l, nil
}

// listDir maps file stems to paths for the supported files of dir that keep says to keep.
func listDir(dir string, keep func(stem string) bool, ignored *[]string) (map[string]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	out := map[string]string{}
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") || e.IsDir() {
			continue
		}
		path := filepath.Join(dir, name)
		if !supported(name) {
			*ignored = append(*ignored, path)
			continue
		}
		stem := strings.TrimSuffix(name, filepath.Ext(name))
		if !keep(stem) {
			continue
		}
		if prev, dup := out[stem]; dup {
			return nil, fmt.Errorf("%w: %s and %s", ErrAmbiguous, prev, path)
		}
		out[stem] = path
	}
	return out, nil
}
