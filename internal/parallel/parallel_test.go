package parallel

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
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
