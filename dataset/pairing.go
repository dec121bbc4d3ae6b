package dataset

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Pairing is the rule Match pairs images and masks by, for callers that
// list the files themselves (a distributed pipeline matching files on
// cloud storage): Match lists two directories and calls Pair.
type Pairing struct {
	// MaskSuffix: see MatchOptions.
	MaskSuffix string
	// SameDir says the images and the masks are in one directory: the
	// files whose name ends in MaskSuffix are the masks, the others the
	// images.
	SameDir bool
}

// base is the last element of p, with either separator (a local path or a
// URL such as gs://bucket/dir/x.png).
func base(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// stem is the file name without extension.
func stem(p string) string {
	name := base(p)
	return strings.TrimSuffix(name, path.Ext(name))
}

// Key returns the name a file pairs by: its name without extension, and
// for a mask without MaskSuffix. Files with the same key are the only
// ones Pair needs together, so a pipeline can group files by key and call
// Pair on each group.
func (pg Pairing) Key(path string, mask bool) string {
	k := stem(path)
	if mask {
		k = strings.TrimSuffix(k, pg.MaskSuffix)
	}
	return k
}

// Pair pairs image files with mask files by name without extension, as
// Match does: hidden files (name starting with ".") are left out, files
// whose extension is not in Extensions are listed as Ignored, two images
// (or two masks) with the same name are an ErrAmbiguous error naming
// both. With SameDir, images and masks may be the same list.
func (pg Pairing) Pair(images, masks []string) (*Listing, error) {
	if pg.SameDir && pg.MaskSuffix == "" {
		return nil, fmt.Errorf("%w: images and masks are in one directory; set a mask suffix to tell them apart", ErrAmbiguous)
	}
	isMask := func(stem string) bool { return pg.SameDir && strings.HasSuffix(stem, pg.MaskSuffix) }
	l := &Listing{}
	imgs, err := byStem(images, func(stem string) bool { return !isMask(stem) }, &l.Ignored)
	if err != nil {
		return nil, err
	}
	maskIgnored := &l.Ignored
	if pg.SameDir {
		maskIgnored = new([]string) // already listed with the images
	}
	msks, err := byStem(masks, func(stem string) bool { return !pg.SameDir || isMask(stem) }, maskIgnored)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	for stem, path := range imgs {
		p := Pair{Name: stem, Image: path}
		if m, ok := msks[stem+pg.MaskSuffix]; ok {
			p.Mask = m
			used[stem+pg.MaskSuffix] = true
		}
		l.Pairs = append(l.Pairs, p)
	}
	for stem, path := range msks {
		if !used[stem] {
			l.MasksWithoutImage = append(l.MasksWithoutImage, path)
		}
	}
	sort.Slice(l.Pairs, func(i, j int) bool { return l.Pairs[i].Name < l.Pairs[j].Name })
	sort.Strings(l.MasksWithoutImage)
	sort.Strings(l.Ignored)
	return l, nil
}

// byStem maps file stems to paths for the supported files that keep says to keep.
func byStem(paths []string, keep func(stem string) bool, ignored *[]string) (map[string]string, error) {
	sorted := append([]string(nil), paths...)
	sort.Strings(sorted)
	out := map[string]string{}
	for _, p := range sorted {
		name := base(p)
		if strings.HasPrefix(name, ".") || name == "" {
			continue
		}
		if !supported(name) {
			*ignored = append(*ignored, p)
			continue
		}
		st := stem(p)
		if !keep(st) {
			continue
		}
		if prev, dup := out[st]; dup {
			return nil, fmt.Errorf("%w: %s and %s", ErrAmbiguous, prev, p)
		}
		out[st] = p
	}
	return out, nil
}
