package dataset

import (
	"fmt"
	"os"
	"path/filepath"
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
	pg := Pairing{MaskSuffix: opts.MaskSuffix, SameDir: filepath.Clean(imagesDir) == filepath.Clean(masksDir)}
	if pg.SameDir && opts.MaskSuffix == "" {
		return nil, fmt.Errorf("%w: images and masks are both in %s; set a mask suffix to tell them apart", ErrAmbiguous, imagesDir)
	}
	images, err := listDir(imagesDir)
	if err != nil {
		return nil, err
	}
	masks := images
	if !pg.SameDir {
		if masks, err = listDir(masksDir); err != nil {
			return nil, err
		}
	}
	return pg.Pair(images, masks)
}

// listDir lists the files of dir (not directories).
func listDir(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}
