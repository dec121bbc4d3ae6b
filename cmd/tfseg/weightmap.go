package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // masks may be JPEG
	_ "image/png"  // and PNG
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tfseg/tfseg/internal/atomicfile"
	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/tfops"
	"github.com/tfseg/tfseg/weightmap"
)

func init() {
	register(&command{name: "weightmap",
		args:    "--mask M.npy|M.png [--w0 10] [--sigma 5] [--class-weights none|balanced|W0,W1] [--variant unet|nearest] [--connectivity 4|8] --out W.npy [--png W.png]",
		summary: "compute the U-Net weight map (or the nearest-object distance map) of binary masks", run: runWeightmap})
}

// maxMaskPixels bounds the pixels of a decoded image mask.
const maxMaskPixels = 1 << 26

func runWeightmap(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["weightmap"])
	maskPath := fs.String("mask", "", "binary mask `M.npy` ((H,W), (B,H,W) or (B,H,W,1); 0/1 or 0/255) or `M.png`")
	w0 := fs.Float64("w0", weightmap.DefaultW0, "border weight w0")
	sigma := fs.Float64("sigma", weightmap.DefaultSigma, "border width sigma, in pixels")
	cw := fs.String("class-weights", "balanced", "class weights w_c: none, balanced, or `W0,W1` (background, foreground)")
	variant := fs.String("variant", "unet", "unet (w_c + w0 exp(-(d1+d2)^2/2sigma^2)) or nearest (distance to the nearest object: distance_ce's weights)")
	conn := fs.Int("connectivity", 4, "object connectivity: 4 or 8")
	out := fs.String("out", "", "output `W.npy` (float32, the mask's shape)")
	pngOut := fs.String("png", "", "also write a colour-mapped picture with a legend to `W.png` (single mask only)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("weightmap takes no arguments, got %q", pos)
	}
	if *maskPath == "" || *out == "" {
		return usagef("weightmap needs --mask and --out")
	}
	opts := weightmap.BatchOptions{DType: tfops.Float}
	opts.W0, opts.Sigma = *w0, *sigma
	if *w0 == 0 {
		opts.NoBorder = true // Options reads W0 = 0 as "the default"
	}
	switch *variant {
	case "unet":
		opts.Kind = weightmap.KindUNet
	case "nearest":
		opts.Kind = weightmap.KindNearest
	default:
		return usagef("--variant %q: want unet or nearest", *variant)
	}
	switch *conn {
	case 4:
		opts.Connectivity = weightmap.Conn4
	case 8:
		opts.Connectivity = weightmap.Conn8
	default:
		return usagef("--connectivity %d: want 4 or 8", *conn)
	}
	switch *cw {
	case "balanced":
		opts.Class = weightmap.ClassBalanced
	case "none":
		opts.Class = weightmap.ClassNone
	default:
		parts := strings.Split(*cw, ",")
		if len(parts) != 2 {
			return usagef("--class-weights %q: want none, balanced or two numbers W0,W1", *cw)
		}
		opts.Class = weightmap.ClassExplicit
		for i, p := range parts {
			v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				return usagef("--class-weights %q: %q is not a number", *cw, p)
			}
			opts.ClassWeights[i] = v
		}
	}
	mask, squeeze, err := readBinaryMask(*maskPath)
	if err != nil {
		return err
	}
	if *pngOut != "" && mask.Shape()[0] != 1 {
		return usagef("--png draws one mask; %s holds %d", *maskPath, mask.Shape()[0])
	}
	wm, err := weightmap.Batch(mask, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", *maskPath, err)
	}
	// Encode everything before writing anything.
	var pic bytes.Buffer
	if *pngOut != "" {
		f32 := wm.Float32s()
		f64 := make([]float64, len(f32))
		for i, v := range f32 {
			f64[i] = float64(v)
		}
		if err := weightmap.WritePNG(&pic, f64, mask.Shape()[1], mask.Shape()[2]); err != nil {
			return err
		}
	}
	if squeeze != nil {
		if wm, err = wm.Reshaped(squeeze...); err != nil {
			return &internalError{err}
		}
	}
	if err := npy.WriteFile(*out, wm); err != nil {
		return err
	}
	if *pngOut != "" {
		if err := atomicfile.WriteFile(*pngOut, pic.Bytes()); err != nil {
			os.Remove(*out)
			return err
		}
	}
	lo, hi := minMax(wm.Float32s())
	fmt.Fprintf(e.stdout, "%s map of %v: min %g, max %g -> %s\n", *variant, wm.Shape(), lo, hi, *out)
	return nil
}

func minMax(v []float32) (float32, float32) {
	if len(v) == 0 {
		return 0, 0
	}
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

// readBinaryMask reads a mask for weightmap.Batch as a (B, H, W[, 1])
// tensor with its stored values (weightmap checks they are 0/1 or 0/255).
// squeeze is the shape to give the result back when the input was (H, W).
func readBinaryMask(path string) (*tfops.Tensor, []int, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		t, err := npy.ReadFile(path, npy.Options{})
		if err != nil {
			return nil, nil, err
		}
		switch t.Rank() {
		case 2:
			r, _ := t.Reshaped(1, t.Shape()[0], t.Shape()[1])
			return r, append([]int{}, t.Shape()...), nil
		case 3, 4:
			return t, nil, nil
		}
		return nil, nil, fmt.Errorf("%s: mask has shape %v; want (H,W), (B,H,W) or (B,H,W,1)", path, t.Shape())
	case ".png", ".jpg", ".jpeg":
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		defer f.Close()
		cfg, _, err := image.DecodeConfig(f)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxMaskPixels {
			return nil, nil, fmt.Errorf("%s: image of %dx%d pixels (limit %d)", path, cfg.Width, cfg.Height, maxMaskPixels)
		}
		if _, err := f.Seek(0, 0); err != nil {
			return nil, nil, err
		}
		img, _, err := image.Decode(f)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		b := img.Bounds()
		h, w := b.Dy(), b.Dx()
		vals := make([]uint8, h*w)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				vals[y*w+x] = color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y
			}
		}
		t, err := tfops.FromSlice(vals, 1, h, w)
		return t, []int{h, w}, err
	}
	return nil, nil, fmt.Errorf("%s: unknown mask format (want .npy, .png or .jpg)", path)
}
