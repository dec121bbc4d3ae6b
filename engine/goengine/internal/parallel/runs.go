package parallel

import "sync"

// Runs calls fn(i, cont) once for each i in [0, n) on up to threads
// goroutines, which take indices one at a time, as Dynamic does, but
// each prefers the index right after the one it just ran: cont reports
// that i follows the goroutine's previous index i-1 within a segment
// (segments start where starts(i) is true, and at 0), so that fn can
// reuse what it computed for i-1 (a band of rows computed for one band
// that the next band reads again). A goroutine whose next index is taken
// or starts a segment takes the first index of an untaken run that no one
// is about to reach (a run starting a segment), or else splits the longest
// untaken run: it starts at the segment start nearest the run's middle, or
// at the middle itself, leaving the first half to whoever runs the index
// before it. So each goroutine runs long stretches of consecutive indices
// and cont is false only a few times per goroutine and segment, while a
// goroutine that runs slower (the other core busy) still does less of the
// work. newWorker is called once per goroutine that takes an index.
// Which goroutine runs which index varies from run to run: fn's results
// must not depend on it. With one thread (or n = 1) the indices run in
// order on the calling goroutine. A panic is re-raised on the calling
// goroutine; the others stop at their next index.
func Runs(threads, n int, starts func(i int) bool, newWorker func() func(i int, cont bool)) {
	if n <= 0 {
		return
	}
	segStart := func(i int) bool { return i == 0 || starts(i) }
	if threads <= 1 || n == 1 {
		fn := newWorker()
		for i := range n {
			fn(i, !segStart(i))
		}
		return
	}
	c := &runClaims{taken: make([]bool, n), left: n, starts: segStart}
	Team(min(threads, n), func() {
		defer func() {
			if r := recover(); r != nil {
				c.stop()
				panic(r)
			}
		}()
		var fn func(i int, cont bool)
		for prev := -1; ; {
			i, cont := c.next(prev)
			if i < 0 {
				return
			}
			if fn == nil {
				fn = newWorker()
			}
			fn(i, cont)
			prev = i
		}
	})
}

// runClaims are the indices of a Runs call that goroutines have taken.
type runClaims struct {
	mu     sync.Mutex
	taken  []bool
	left   int // untaken indices (-1 after a panic)
	starts func(i int) bool
}

// stop makes next return -1 to every goroutine.
func (c *runClaims) stop() {
	c.mu.Lock()
	c.left = -1
	c.mu.Unlock()
}

// next takes and returns the index a goroutine runs after prev (-1: none
// yet), with whether it continues prev's stretch; -1 when none is left.
func (c *runClaims) next(prev int) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.left <= 0 {
		return -1, false
	}
	if i := prev + 1; prev >= 0 && i < len(c.taken) && !c.taken[i] && !c.starts(i) {
		c.taken[i] = true
		c.left--
		return i, true
	}
	best, bestLen := -1, 0
	for s := 0; s < len(c.taken); {
		if c.taken[s] {
			s++
			continue
		}
		e := s + 1
		for e < len(c.taken) && !c.taken[e] {
			e++
		}
		at := s
		if !c.starts(s) {
			// Someone runs s-1 and goes on to s: split the run at the
			// segment start nearest its middle, or at the middle.
			mid := s + (e-s)/2
			at = mid
			for j, d := s+1, e-s; j < e; j++ {
				if c.starts(j) && abs(j-mid) < d {
					at, d = j, abs(j-mid)
				}
			}
		}
		if e-at > bestLen {
			best, bestLen = at, e-at
		}
		s = e
	}
	c.taken[best] = true
	c.left--
	return best, false
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
