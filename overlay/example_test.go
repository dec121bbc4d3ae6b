package overlay_test

import (
	"fmt"

	"github.com/tfseg/tfseg/dataset"
	"github.com/tfseg/tfseg/overlay"
)

func ExampleRender() {
	im := &dataset.Image{Height: 1, Width: 3, Channels: 1, Pix: []float32{0, 0.5, 1}}
	truth := &dataset.Mask{Height: 1, Width: 3, Labels: []int32{0, 1, 0}}
	pred := &dataset.Mask{Height: 1, Width: 3, Labels: []int32{1, 0, 0}}
	m, _ := overlay.Render(im, truth, pred)
	for x := range 3 {
		fmt.Println(m.NRGBAAt(x, 0))
	}
	// Output:
	// {128 56 0 255}
	// {240 228 66 255}
	// {255 255 255 255}
}

func ExampleRenderCard() {
	// A 60x60 output (the Keras U-Net's) is enlarged 5 times to 300 px.
	im := &dataset.Image{Height: 60, Width: 60, Channels: 1, Pix: make([]float32, 3600)}
	truth := &dataset.Mask{Height: 60, Width: 60, Labels: make([]int32, 3600)}
	card, _ := overlay.RenderCard(im, truth, truth, "circle_00003", []string{"dice_coef[1]=0.0000"})
	fmt.Println(overlay.Scale(60, 60), card.Bounds().Dx())
	// Output: 5 300
}
