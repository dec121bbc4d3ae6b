// Package procmem reads this process's resident memory from Linux's
// /proc/self/status, for the peak-memory measurements of the benchmarks
// and of tfseg-beam's worker.
package procmem

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Mem is the process's resident memory in KiB: RSS now (VmRSS) and its
// high-water mark (VmHWM: the peak since the process started or since the
// last write of 5 to /proc/self/clear_refs).
type Mem struct{ RSS, HWM int64 }

// Read returns the process's resident memory, or an error where
// /proc/self/status is missing or lacks VmRSS or VmHWM (not Linux).
func Read() (Mem, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return Mem{}, err
	}
	var m Mem
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			m.RSS, err = strconv.ParseInt(f[1], 10, 64)
		case "VmHWM:":
			m.HWM, err = strconv.ParseInt(f[1], 10, 64)
		}
		if err != nil {
			return Mem{}, fmt.Errorf("/proc/self/status: %q: %w", sc.Text(), err)
		}
	}
	if m.RSS == 0 || m.HWM == 0 {
		return Mem{}, fmt.Errorf("/proc/self/status has no VmRSS or VmHWM")
	}
	return m, nil
}
