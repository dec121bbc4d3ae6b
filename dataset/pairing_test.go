package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/tfops"
)

// TestPairingByKeyGroups: pairing each group of files sharing a Key (what
// a pipeline does after grouping by key) gives Match's listing, for
// separate directories and for one directory with a mask suffix.
func TestPairingByKeyGroups(t *testing.T) {
	for _, same := range []bool{false, true} {
		t.Run(fmt.Sprint("same=", same), func(t *testing.T) {
			dir := t.TempDir()
			images, masks := filepath.Join(dir, "images"), filepath.Join(dir, "masks")
			suffix := "_mask"
			if same {
				masks = images
			}
			require.NoError(t, os.MkdirAll(images, 0o755))
			require.NoError(t, os.MkdirAll(masks, 0o755))
			for _, f := range []string{"a.png", "b.jpg", "c.npy", "d.png", "notes.txt", ".hidden.png"} {
				writeRaw(t, filepath.Join(images, f), "x")
			}
			for _, f := range []string{"a_mask.png", "b_mask.npy", "e_mask.png", "f.png", "readme.md"} {
				writeRaw(t, filepath.Join(masks, f), "x")
			}
			want, err := Match(images, masks, MatchOptions{MaskSuffix: suffix})
			require.NoError(t, err)
			list := func(d string) []string {
				ents, err := os.ReadDir(d)
				require.NoError(t, err)
				var out []string
				for _, e := range ents {
					out = append(out, filepath.Join(d, e.Name()))
				}
				return out
			}
			pg := Pairing{MaskSuffix: suffix, SameDir: same}
			groups := map[string][2][]string{}
			for _, p := range list(images) {
				g := groups[pg.Key(p, false)]
				g[0] = append(g[0], p)
				groups[pg.Key(p, false)] = g
			}
			for _, p := range list(masks) {
				g := groups[pg.Key(p, true)]
				g[1] = append(g[1], p)
				groups[pg.Key(p, true)] = g
			}
			got := &Listing{}
			for _, g := range groups {
				l, err := pg.Pair(g[0], g[1])
				require.NoError(t, err)
				got.Pairs = append(got.Pairs, l.Pairs...)
				got.MasksWithoutImage = append(got.MasksWithoutImage, l.MasksWithoutImage...)
				got.Ignored = append(got.Ignored, l.Ignored...)
			}
			sort.Slice(got.Pairs, func(i, j int) bool { return got.Pairs[i].Name < got.Pairs[j].Name })
			sort.Strings(got.MasksWithoutImage)
			sort.Strings(got.Ignored)
			assert.Equal(t, want.Pairs, got.Pairs)
			assert.Equal(t, want.MasksWithoutImage, got.MasksWithoutImage)
			assert.Equal(t, want.Ignored, got.Ignored)
			// Spot checks against the rule, not the code: a pairs with a_mask, d has none.
			assert.Equal(t, Pair{Name: "a", Image: filepath.Join(images, "a.png"), Mask: filepath.Join(masks, "a_mask.png")}, want.Pairs[0])
			assert.Equal(t, "", want.Pairs[3].Mask)
		})
	}
	_, err := Pairing{SameDir: true}.Pair(nil, nil)
	assert.ErrorIs(t, err, ErrAmbiguous)
	_, err = Pairing{}.Pair([]string{"x/a.png", "x/a.npy"}, nil)
	assert.ErrorIs(t, err, ErrAmbiguous)
}

// TestDecodeSameAsRead: DecodeImageFile, DecodeMaskFile and ReadWith on a file's
// bytes give what ReadImage, ReadMask and Read give on the file, errors
// included.
func TestDecodeSameAsRead(t *testing.T) {
	dir := t.TempDir()
	img := writePNG(t, filepath.Join(dir, "i.png"), grey(5, 4, func(x, y int) uint8 { return uint8(x*40 + y) }))
	msk := writeNpy(t, filepath.Join(dir, "m.npy"), tfops.MustFromSlice([]int32{0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1}, 4, 5))
	bad := writeRaw(t, filepath.Join(dir, "bad.png"), "\x89PNG\r\n\x1a\nxx")
	read := func(p string) ([]byte, error) { return os.ReadFile(p) }
	for _, p := range []string{img, bad} {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		want, wantErr := ReadImage(p, ImageOptions{Channels: 3})
		got, gotErr := DecodeImageFile(p, data, ImageOptions{Channels: 3})
		assert.Equal(t, want, got)
		assert.Equal(t, fmt.Sprint(wantErr), fmt.Sprint(gotErr))
	}
	data, err := os.ReadFile(msk)
	require.NoError(t, err)
	want, wantErr := ReadMask(msk, MaskOptions{})
	got, gotErr := DecodeMaskFile(msk, data, MaskOptions{})
	require.NoError(t, wantErr)
	require.NoError(t, gotErr)
	assert.Equal(t, want, got)

	for _, p := range []Pair{{Name: "i", Image: img, Mask: msk}, {Name: "bad", Image: bad, Mask: msk}, {Name: "i", Image: img},
		{Name: "gone", Image: filepath.Join(dir, "gone.png"), Mask: msk}} {
		w, g := Read(p, ImageOptions{}, MaskOptions{}), ReadWith(p, read, ImageOptions{}, MaskOptions{})
		assert.Equal(t, w.Image, g.Image)
		assert.Equal(t, w.Mask, g.Mask)
		assert.Equal(t, fmt.Sprint(w.Err), fmt.Sprint(g.Err), p.Name)
	}
}
