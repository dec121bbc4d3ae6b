package dataset_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"log"
	"os"
	"path/filepath"

	"github.com/tfseg/tfseg/dataset"
	"github.com/tfseg/tfseg/tfops"
)

// save writes a w x h grey PNG whose pixels are all v.
func save(path string, w, h int, v uint8) {
	m := image.NewGray(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = v
	}
	f, _ := os.Create(path)
	_ = png.Encode(f, m)
	_ = f.Close()
}

func Example() {
	root, _ := os.MkdirTemp("", "dataset-example")
	defer os.RemoveAll(root)
	images, masks := filepath.Join(root, "images"), filepath.Join(root, "masks")
	_ = os.Mkdir(images, 0o755)
	_ = os.Mkdir(masks, 0o755)
	save(filepath.Join(images, "a.png"), 4, 4, 255)
	save(filepath.Join(images, "b.png"), 4, 4, 51)
	save(filepath.Join(images, "c.png"), 6, 6, 0)
	save(filepath.Join(masks, "a.png"), 4, 4, 255) // binary 0/255: foreground
	save(filepath.Join(masks, "b.png"), 4, 4, 0)

	l, err := dataset.Match(images, masks, dataset.MatchOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range l.Unpaired() {
		fmt.Println("no mask for", p.Name)
	}
	for b := range dataset.Batches(l.Pairs, dataset.BatchOptions{Size: 8}) {
		if len(b.Samples) > 0 {
			x := b.Tensor()
			fmt.Println("batch", x.Shape(), "first pixel", x.Float32s()[0], "first label", b.Samples[0].Mask.Labels[0])
		}
		for _, s := range b.Failed {
			fmt.Println("failed:", s.Name)
		}
	}
	// Output:
	// no mask for c
	// batch [2 4 4 1] first pixel 1 first label 1
	// failed: c
}

func ExampleMask_Fit() {
	// A 100x100 mask and a valid-padding U-Net whose output is 60x60.
	m := &dataset.Mask{Height: 100, Width: 100, Labels: make([]int32, 100*100)}
	fitted, cropped, err := m.Fit(100, 100, 60, 60)
	fmt.Println(fitted.Height, fitted.Width, cropped, err)
	_, _, err = m.Fit(120, 120, 80, 80)
	fmt.Println(err)
	// Output:
	// 60 60 true <nil>
	// dataset: bad mask: mask is 100x100, fitting neither the image (120x120) nor the model output (80x80)
}

// An image and a mask from bytes in memory (an upload, a message), read as
// the file readers read files.
func ExampleDecodeImage() {
	g := image.NewGray(image.Rect(0, 0, 2, 2))
	copy(g.Pix, []uint8{0, 51, 102, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, g); err != nil {
		log.Fatal(err)
	}
	data := buf.Bytes()
	im, err := dataset.DecodeImage(bytes.NewReader(data), dataset.ImageOptions{})
	if err != nil {
		log.Fatal(err)
	}
	m, err := dataset.DecodeMask(bytes.NewReader(data), dataset.MaskOptions{Encoding: dataset.MaskBinary})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%v %.4f %v\n", im.Tensor().Shape(), im.Pix, m.Labels) // v/255, and any non-zero value is foreground
	// Output: [1 2 2 1] [0.0000 0.2000 0.4000 1.0000] [0 1 1 1]
}

// A model's output to masks (argmax over the classes) and to a picture.
func ExampleMaskFromOutput() {
	// One 1x2 image, three class scores per pixel.
	out := tfops.MustFromSlice([]float32{0.1, 0.7, 0.2, 0.3, 0.3, 0.4}, 1, 1, 2, 3)
	m, err := dataset.MaskFromOutput(out, 0, 0.5) // the threshold applies to one-channel outputs
	if err != nil {
		log.Fatal(err)
	}
	pic, _ := m.ToImage(dataset.MaskIndex)
	fmt.Println(m.Labels, pic.At(1, 0))
	// Output: [1 2] {2}
}
