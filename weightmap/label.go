package weightmap

import "fmt"

// Label labels the connected components (objects) of a binary h×w mask.
//
// labels[i] is 0 for background pixels and k in 1..n for pixels of the k-th
// object. Objects are numbered in raster order of their first pixel (the
// object holding the first foreground pixel in row-major order is 1, the
// object holding the first pixel not in object 1 is 2, ...), which is the
// numbering scipy.ndimage.label produces:
//
//	labels, n = scipy.ndimage.label(mask)                            # Conn4
//	labels, n = scipy.ndimage.label(mask, structure=np.ones((3, 3)))  # Conn8
//
// The mask holds 0/1 or 0/255 (see the package documentation); any other
// value gives an error wrapping [ErrMask].
func Label[T Elem](mask []T, h, w int, conn Connectivity) (labels []int32, n int, err error) {
	dims := []int{h, w}
	if err := checkDims(dims, len(mask)); err != nil {
		return nil, 0, fmt.Errorf("label: %w", err)
	}
	if err := conn.valid(); err != nil {
		return nil, 0, err
	}
	fg, err := binarize(mask, dims)
	if err != nil {
		return nil, 0, err
	}
	labels = make([]int32, len(fg))
	n = label(fg, h, w, conn, labels)
	return labels, n, nil
}

// label writes the component labels of fg into out (len h*w) and returns the
// number of components. It is a two-pass union-find labeling; the second pass
// renumbers roots in raster order of their first pixel.
func label(fg []bool, h, w int, conn Connectivity, out []int32) int {
	// parent[k] for provisional label k (1-based); parent[0] unused.
	parent := make([]int32, 1, 64)
	find := func(a int32) int32 {
		for parent[a] != a {
			parent[a] = parent[parent[a]]
			a = parent[a]
		}
		return a
	}
	union := func(a, b int32) int32 {
		a, b = find(a), find(b)
		if a == b {
			return a
		}
		if a > b {
			a, b = b, a
		}
		parent[b] = a
		return a
	}
	// merge returns the label a pixel gets from its labeled neighbours l and
	// m (0 for none), joining their sets when both are set and differ.
	merge := func(l, m int32) int32 {
		switch {
		case m == 0 || m == l:
			return l
		case l == 0:
			return m
		}
		return union(l, m)
	}
	for y := 0; y < h; y++ {
		row := y * w
		for x := 0; x < w; x++ {
			i := row + x
			if !fg[i] {
				out[i] = 0
				continue
			}
			var l int32
			if x > 0 {
				l = out[i-1]
			}
			if y > 0 {
				l = merge(l, out[i-w])
				if conn == Conn8 {
					if x > 0 {
						l = merge(l, out[i-w-1])
					}
					if x+1 < w {
						l = merge(l, out[i-w+1])
					}
				}
			}
			if l == 0 {
				l = int32(len(parent))
				parent = append(parent, l)
			}
			out[i] = l
		}
	}
	// Renumber: final[root] in order of the first pixel of each root.
	final := make([]int32, len(parent))
	var n int32
	for i, l := range out {
		if l == 0 {
			continue
		}
		r := find(l)
		if final[r] == 0 {
			n++
			final[r] = n
		}
		out[i] = final[r]
	}
	return int(n)
}
