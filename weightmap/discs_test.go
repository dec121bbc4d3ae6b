package weightmap

// lcg is the 64-bit linear congruential generator (Knuth's MMIX constants)
// that scripts/goldens_weightmap.py and scripts/bench_weightmap_scipy.py use
// too, so Go and Python build the same masks.
type lcg uint64

// next returns the top 31 bits of the advanced state.
func (s *lcg) next() int {
	*s = *s*6364136223846793005 + 1442695040888963407
	return int(uint64(*s) >> 33)
}

// lcgDiscs places up to count discs (radius rmin..rmax) in an h×w mask,
// rejecting any that would come within 2 pixels of a placed one, so the
// discs are separate objects under either connectivity; discs may be cut by
// the image border. It mirrors lcg_discs in scripts/goldens_weightmap.py.
func lcgDiscs(h, w, count, rmin, rmax int, seed uint64) []uint8 {
	s := lcg(seed)
	type disc struct{ y, x, r int }
	var ds []disc
	for attempt := 0; attempt < 100*count && len(ds) < count; attempt++ {
		d := disc{s.next() % h, s.next() % w, rmin + s.next()%(rmax-rmin+1)}
		ok := true
		for _, e := range ds {
			dy, dx, g := d.y-e.y, d.x-e.x, d.r+e.r+2
			if dy*dy+dx*dx <= g*g {
				ok = false
				break
			}
		}
		if ok {
			ds = append(ds, d)
		}
	}
	m := make([]uint8, h*w)
	for _, d := range ds {
		for y := max(0, d.y-d.r); y <= min(h-1, d.y+d.r); y++ {
			for x := max(0, d.x-d.r); x <= min(w-1, d.x+d.r); x++ {
				if (y-d.y)*(y-d.y)+(x-d.x)*(x-d.x) <= d.r*d.r {
					m[y*w+x] = 1
				}
			}
		}
	}
	return m
}
