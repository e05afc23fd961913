package dynlib

import (
	"runtime"
	"strings"
	"testing"
)

func TestOpenMissing(t *testing.T) {
	names := []string{"libdoes-not-exist-1.so.7", "libdoes-not-exist-2.so.7"}
	h, name, err := Open(names)
	if err == nil || h != 0 || name != "" {
		t.Fatalf("Open of missing libraries: handle %#x, name %q, error %v", h, name, err)
	}
	// Each name's failure is in the error, in order.
	first, second := strings.Index(err.Error(), names[0]), strings.Index(err.Error(), names[1])
	if first < 0 || second < first {
		t.Errorf("error %q does not list both names in order", err)
	}
}

// TestOpenFallsThrough: a missing first name is passed over for the C
// library, whose symbols are found and whose missing ones are not.
func TestOpenFallsThrough(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SKIP: the test names the Linux C library (libc.so.6)")
	}
	h, name, err := Open([]string{"libdoes-not-exist.so.7", "libc.so.6"})
	if err != nil || h == 0 || name != "libc.so.6" {
		t.Fatalf("Open: handle %#x, name %q, error %v", h, name, err)
	}
	if p, ok := Symbol(h, "strlen"); !ok || p == 0 {
		t.Errorf("strlen: %#x, %v", p, ok)
	}
	if p, ok := Symbol(h, "no_such_function_in_libc"); ok || p != 0 {
		t.Errorf("a missing function found at %#x", p)
	}
}
