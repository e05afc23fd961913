package appendlog

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestAppend: a torn tail is cut off, records follow each other whole at
// the offsets Append reports, also from several goroutines, and Close
// leaves exactly them.
func TestAppend(t *testing.T) {
	name := filepath.Join(t.TempDir(), "j")
	if err := os.WriteFile(name, []byte("kept|torn"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(f, 5, 3, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	offs := make([]int64, 20)
	for i := range offs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if offs[i], err = l.Append([]byte(fmt.Sprintf("<%02d>", i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if l.Size() != 5+20*4 {
		t.Errorf("size %d, want %d", l.Size(), 5+20*4)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:5]) != "kept|" || len(b) != 85 {
		t.Fatalf("file %q", b)
	}
	for i, off := range offs {
		if got := string(b[off : off+4]); got != fmt.Sprintf("<%02d>", i) {
			t.Errorf("record %d at %d reads %q", i, off, got)
		}
	}
}
