// Package weightmap computes the per-pixel weight maps that the U-Net
// distance-weighted cross entropy and the seed's distance_ce loss take as an
// input: connected-component labeling, the exact Euclidean distance transform
// and the U-Net border weight map of Ronneberger et al. (2015).
//
// Everything here is pure Go and matches SciPy: [Label] numbers components as
// scipy.ndimage.label does, [EDT] equals scipy.ndimage.distance_transform_edt
// (including its behaviour on inputs without any zero), and [UNet] and
// [Nearest] are built from those two. The weight map is an input of the loss
// graph, so it is computed ahead of training, here, from the mask; [Batch]
// does that for a (B, H, W) or (B, H, W, 1) mask tensor on all cores.
//
// # Masks
//
// A mask is a row-major slice of any numeric or bool element type holding
// either the values 0 and 1 or the values 0 and 255 (a mask mixing 1 and 255
// is rejected). Nonzero is foreground (an object), zero is background.
// Invalid masks give an error wrapping [ErrMask] that names the first bad
// value and where it is.
//
// # Distances
//
// Distances are Euclidean, between pixel centres, in units of the per-axis
// sampling (pixel size); with no sampling every pixel is 1×1. Results are
// float64.
//
// # References
//
//   - O. Ronneberger, P. Fischer, T. Brox. U-Net: Convolutional Networks for
//     Biomedical Image Segmentation. MICCAI 2015, eq. 2.
//   - P. F. Felzenszwalb, D. P. Huttenlocher. Distance Transforms of Sampled
//     Functions. Theory of Computing 8 (2012), 415–428.
//   - F. A. Guerrero-Peña, unetwmap.m (github.com/bioimaging-lab/deepCyAn), the
//     reference implementation of the U-Net weight map that later ports copy.
package weightmap
