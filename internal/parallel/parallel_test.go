package parallel

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestForCoversEveryIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 1000} {
		seen := make([]int32, n)
		For(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&seen[i], 1)
			}
		})
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d: index %d visited %d times", n, i, c)
			}
		}
	}
}

// TestChunksCoversEveryIndexOnce: every index runs once, in the chunks
// that size fixes, whatever the core count.
func TestChunksCoversEveryIndexOnce(t *testing.T) {
	for _, procs := range []int{1, 2, 5} {
		old := runtime.GOMAXPROCS(procs)
		for _, tc := range []struct{ n, size int }{{0, 3}, {1, 1}, {7, 3}, {7, 0}, {1000, 7}, {1000, 1000}, {5, 100}} {
			seen := make([]int32, tc.n)
			var bad atomic.Int32
			Chunks(tc.n, tc.size, func(lo, hi int) {
				size := max(tc.size, 1)
				if lo%size != 0 || hi != min(tc.n, lo+size) {
					bad.Add(1)
				}
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&seen[i], 1)
				}
			})
			if bad.Load() > 0 {
				t.Errorf("procs %d, n=%d size=%d: %d chunks not [k·size, (k+1)·size)", procs, tc.n, tc.size, bad.Load())
			}
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("procs %d, n=%d size=%d: index %d visited %d times", procs, tc.n, tc.size, i, c)
				}
			}
		}
		runtime.GOMAXPROCS(old)
	}
}

// TestChunksCallerWorks: the caller claims chunks itself, so the work is
// done even when no other goroutine gets to run before it ends.
func TestChunksCallerWorks(t *testing.T) {
	old := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(old)
	var callerChunks atomic.Int32
	caller := goid()
	Chunks(64, 1, func(lo, hi int) {
		if goid() == caller {
			callerChunks.Add(1)
		} else {
			time.Sleep(time.Millisecond) // a helper alone would need 64 ms
		}
	})
	if callerChunks.Load() == 0 {
		t.Error("the calling goroutine ran no chunk")
	}
}

// TestTeamSections: many sections in a row on one team, with pauses long
// enough for the helpers to fall asleep between some of them, each cover
// their indices once; Close ends every helper.
func TestTeamSections(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, workers := range []int{1, 2, 4} {
		team := NewTeam(workers)
		if team.Workers() != workers {
			t.Errorf("Workers() = %d, want %d", team.Workers(), workers)
		}
		for section := 0; section < 300; section++ {
			n, size := section%37, 1+section%5
			seen := make([]int32, n)
			team.Chunks(n, size, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&seen[i], 1)
				}
			})
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("workers %d, section %d: index %d visited %d times", workers, section, i, c)
				}
			}
			if section%50 == 0 {
				time.Sleep(2 * time.Millisecond) // helpers go to sleep
			}
		}
		team.Close()
		team.Close()
	}
	for deadline := time.Now().Add(time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
}

// TestTeamCloseAtOnce: a team closed before its helpers have started
// still ends them (they must not wait for a section that never comes).
func TestTeamCloseAtOnce(t *testing.T) {
	done := make(chan struct{})
	go func() {
		for range 1000 {
			NewTeam(4).Close()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not return")
	}
}

// goid identifies the running goroutine by its stack header line.
func goid() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	return string(buf[:bytes.IndexByte(buf, '[')])
}

func TestEachCoversEveryIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 1000} {
		for _, workers := range []int{-1, 0, 1, 3, 2000} {
			seen := make([]int32, n)
			var active, most atomic.Int32
			err := Each(context.Background(), n, workers, func(i int) {
				a := active.Add(1)
				for m := most.Load(); a > m && !most.CompareAndSwap(m, a); m = most.Load() {
				}
				atomic.AddInt32(&seen[i], 1)
				active.Add(-1)
			})
			if err != nil {
				t.Fatalf("n=%d workers=%d: %v", n, workers, err)
			}
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("n=%d workers=%d: index %d visited %d times", n, workers, i, c)
				}
			}
			if workers > 0 && int(most.Load()) > workers {
				t.Errorf("n=%d workers=%d: %d calls ran at once", n, workers, most.Load())
			}
		}
	}
}

// TestEachOneWorkerInOrder: indices are handed out in increasing order, so
// one worker sees them in order.
func TestEachOneWorkerInOrder(t *testing.T) {
	var got []int
	if err := Each(context.Background(), 50, 1, func(i int) { got = append(got, i) }); err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("call %d got index %d: %v", i, v, got)
		}
	}
	if len(got) != 50 {
		t.Fatalf("%d calls, want 50", len(got))
	}
}

func TestEachStopsWhenCancelled(t *testing.T) {
	t.Run("one worker", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var got []int
		err := Each(ctx, 100, 1, func(i int) {
			got = append(got, i)
			if i == 5 {
				cancel()
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if !slices.Equal(got, []int{0, 1, 2, 3, 4, 5}) {
			t.Errorf("calls %v, want 0…5", got)
		}
	})
	t.Run("many workers", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		const workers = 4
		var calls atomic.Int32
		var once sync.Once
		err := Each(ctx, 100000, workers, func(int) {
			calls.Add(1)
			once.Do(cancel)
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		// After the cancel each worker can be past its check, at most.
		if n := calls.Load(); n > 2*workers+1 {
			t.Errorf("%d calls after cancelling in the first", n)
		}
	})
	t.Run("done before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		called := false
		if err := Each(ctx, 10, 2, func(int) { called = true }); !errors.Is(err, context.Canceled) || called {
			t.Errorf("err = %v, called = %v; want context.Canceled and no call", err, called)
		}
	})
}

// TestEachWorker: every index once, and one worker's calls never overlap.
func TestEachWorker(t *testing.T) {
	const n, workers = 500, 4
	var busy [workers]atomic.Int32
	seen := make([]atomic.Int32, n)
	err := EachWorker(context.Background(), n, workers, func(w, i int) {
		if busy[w].Add(1) != 1 {
			t.Errorf("worker %d runs two calls at once", w)
		}
		seen[i].Add(1)
		busy[w].Add(-1)
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range seen {
		if seen[i].Load() != 1 {
			t.Fatalf("index %d called %d times", i, seen[i].Load())
		}
	}
}
