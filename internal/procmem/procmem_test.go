package procmem

import (
	"runtime"
	"testing"
)

// TestReadSeesAnAllocation touches 64 MiB and checks that RSS and its peak
// grew by most of it, and that the peak is never below RSS.
func TestReadSeesAnAllocation(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/self/status is Linux's")
	}
	before, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 64<<20)
	for i := range b {
		b[i] = byte(i)
	}
	after, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(b)
	if after.RSS-before.RSS < 48<<10 || after.HWM < after.RSS || after.HWM-before.HWM < 48<<10 {
		t.Fatalf("before %+v, after %+v KiB: 64 MiB touched in between", before, after)
	}
}
