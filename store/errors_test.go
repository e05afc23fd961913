package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/shard"
)

// shardSet writes the four shards of one split of keys under root, with
// change applied to the Params of shard i (for the mismatch cases).
func shardSet(t *testing.T, root string, keys []string, change func(i int, p *Params)) []string {
	t.Helper()
	var dirs []string
	for i := 1; i <= 4; i++ {
		sp := shard.Spec{Index: i, Count: 4}
		p := testParams(sp)
		if change != nil {
			change(i, &p)
		}
		dir := filepath.Join(root, fmt.Sprintf("store-%d", i))
		writeFinished(t, dir, p, sp.Filter(keys))
		dirs = append(dirs, dir)
	}
	return dirs
}

// oddStores makes stores that do not belong in a set of four shards: one
// that claims shard 2/4 but holds every image, shard 5/8, a finished shard
// 3/4 with a later interrupted run, and a shard 3/4 with only a journal.
func oddStores(t *testing.T, keys []string) [4]string {
	t.Helper()
	// A store that claims to be shard 2/4 but holds every image.
	wrongShard := filepath.Join(t.TempDir(), "wrong")
	writeFinished(t, wrongShard, testParams(shard.Spec{Index: 2, Count: 4}), keys)
	eight := filepath.Join(t.TempDir(), "eight")
	writeStore(t, eight, shard.Spec{Index: 5, Count: 8}, keys)
	unfinished := filepath.Join(t.TempDir(), "unfinished")
	writeStore(t, unfinished, shard.Spec{Index: 3, Count: 4}, keys)
	create(t, unfinished, testParams(shard.Spec{Index: 3, Count: 4}), Options{}).Close()
	journalOnly := filepath.Join(t.TempDir(), "journal-only")
	create(t, journalOnly, testParams(shard.Spec{Index: 3, Count: 4}), Options{}).Close()
	return [4]string{wrongShard, eight, unfinished, journalOnly}
}

func TestMergeRefuses(t *testing.T) {
	keys := testKeys(120)
	good := shardSet(t, t.TempDir(), keys, nil)
	otherModel := shardSet(t, t.TempDir(), keys, func(i int, p *Params) {
		if i == 2 {
			p.Model = strings.Repeat("a", 64)
		}
	})
	otherSettings := shardSet(t, t.TempDir(), keys, func(i int, p *Params) {
		if i == 4 {
			p.Settings = map[string]string{"aligned": "true"}
		}
	})
	odd := oddStores(t, keys)
	wrongShard, eight, unfinished, journalOnly := odd[0], odd[1], odd[2], odd[3]

	tests := []struct {
		name string
		srcs []string
		err  error
		msg  []string
	}{
		{"missing shard", []string{good[0], good[1], good[3]}, ErrShards, []string{"missing shard 3/4"}},
		{"two missing", []string{good[1], good[3]}, ErrShards, []string{"missing shard 1/4, 3/4"}},
		{"shard twice", []string{good[0], good[1], good[1], good[2], good[3]}, ErrShards, []string{"both shard 2/4", good[1]}},
		{"other model", otherModel, ErrMismatch, []string{"model aaaaaaaaaaaa", otherModel[1]}},
		{"other settings", otherSettings, ErrMismatch, []string{"settings", otherSettings[3]}},
		{"other split", []string{good[0], good[1], eight, good[2], good[3]}, ErrShards, []string{"shard 5/8", "different splits"}},
		{"wrong shard", []string{good[0], wrongShard, good[2], good[3]}, ErrOverlap, []string{wrongShard, "belongs to shard"}},
		{"unfinished", []string{good[0], good[1], unfinished, good[3]}, ErrUnfinished, []string{unfinished}},
		{"journal only", []string{good[0], good[1], journalOnly, good[3]}, ErrUnfinished, []string{journalOnly}},
		{"none", nil, ErrShards, []string{"no stores"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "out")
			_, err := Merge(context.Background(), dst, tc.srcs, MergeOptions{})
			if !errors.Is(err, tc.err) {
				t.Fatalf("Merge: %v, want %v", err, tc.err)
			}
			for _, m := range tc.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if _, err := os.Stat(filepath.Join(dst, MetaName)); err == nil {
				t.Error("a refused merge wrote meta.json")
			}
		})
	}
	t.Run("output is a source", func(t *testing.T) {
		if _, err := Merge(context.Background(), good[0], good, MergeOptions{}); err == nil || !strings.Contains(err.Error(), "also a source") {
			t.Fatalf("Merge into a source: %v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Merge(ctx, filepath.Join(t.TempDir(), "out"), good, MergeOptions{}); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Merge: %v", err)
		}
	})
}

// TestMergeChecksHashes: a source whose bytes changed after it was
// written (a flipped bit) is refused, naming the file.
func TestMergeChecksHashes(t *testing.T) {
	for _, name := range []string{EmbeddingsName, IndexName} {
		t.Run(name, func(t *testing.T) {
			srcs := shardSet(t, t.TempDir(), testKeys(80), nil)
			damage(t, filepath.Join(srcs[2], name), func(b []byte) []byte {
				i := len(b) - 30 // a vector's byte, or a character of a path or number
				if name == IndexName {
					i = strings.Index(string(b), "person_") + 7
				}
				b[i] ^= 1
				return b
			})
			_, err := Merge(context.Background(), filepath.Join(t.TempDir(), "out"), srcs, MergeOptions{})
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrOverlap) || !strings.Contains(err.Error(), srcs[2]) {
				t.Fatalf("Merge over a changed %s: %v", name, err)
			}
		})
	}
}

// TestCorruptStore damages each file of a finished store in turn: Open
// (or Verify, or Record) fails with ErrCorrupt and names the file.
func TestCorruptStore(t *testing.T) {
	tests := []struct {
		name, file string
		damage     func([]byte) []byte
		msg        string
	}{
		{"npy truncated", EmbeddingsName, func(b []byte) []byte { return b[:len(b)-1] }, "bytes, want"},
		{"npy header cut", EmbeddingsName, func(b []byte) []byte { return b[:20] }, "truncated"},
		{"npy not npy", EmbeddingsName, func(b []byte) []byte { return []byte("hello") }, "magic"},
		{"npy float64", EmbeddingsName, func(b []byte) []byte { return []byte(strings.Replace(string(b), "<f4", "<f8", 1)) }, "dtype"},
		{"npy shape", EmbeddingsName, func(b []byte) []byte { return []byte(strings.Replace(string(b), "(40, 8)", "(40, 9)", 1)) }, "shape (40, 9)"},
		{"npy data changed", EmbeddingsName, func(b []byte) []byte { b[len(b)-1] ^= 0x40; return b }, "SHA-256"},
		{"index line lost", IndexName, func(b []byte) []byte { return b[:strings.LastIndex(strings.TrimSuffix(string(b), "\n"), "\n")+1] }, "39 lines"},
		{"index no newline", IndexName, func(b []byte) []byte { return b[:len(b)-1] }, "no newline"},
		{"index bad json", IndexName, func(b []byte) []byte { return []byte(strings.Replace(string(b), `"status"`, `"stat"`, 1)) }, IndexName + ":1"},
		{"index bad status", IndexName, func(b []byte) []byte { return []byte(strings.Replace(string(b), `"ok"`, `"fine"`, 1)) }, `status "fine"`},
		{"meta not json", MetaName, func(b []byte) []byte { return []byte("{") }, MetaName},
		{"meta count", MetaName, func(b []byte) []byte { return []byte(strings.Replace(string(b), `"count": 40`, `"count": 41`, 1)) }, "says (41, 8)"},
		{"meta unknown field", MetaName, func(b []byte) []byte { return []byte(strings.Replace(string(b), `"dim"`, `"dims"`, 1)) }, "unknown field"},
		{"meta version", MetaName, func(b []byte) []byte { return []byte(strings.Replace(string(b), `"version": 1`, `"version": 2`, 1)) }, "version 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeStore(t, dir, shard.Whole, testKeys(40))
			damage(t, filepath.Join(dir, tc.file), tc.damage)
			err := openAndRead(dir)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.file) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want ErrCorrupt naming %s and %q", err, tc.file, tc.msg)
			}
		})
	}
}

// openAndRead opens, verifies and reads every record of a store.
func openAndRead(dir string) error {
	s, err := Open(dir)
	if err != nil {
		return err
	}
	defer s.Close()
	for i := range s.Len() {
		if _, err := s.Record(i); err != nil {
			return err
		}
	}
	return s.Verify()
}

// TestJournalDamage: a journal damaged other than at its end is refused,
// naming it, and --force starts it afresh.
func TestJournalDamage(t *testing.T) {
	dir := t.TempDir()
	keys := testKeys(30)
	p := testParams(shard.Whole)
	w := create(t, dir, p, Options{})
	addAll(t, w, keys, 8)
	w.Close()
	jname := filepath.Join(dir, JournalName)
	damage(t, jname, func(b []byte) []byte {
		b[len(b)/2] ^= 0xff
		return b
	})
	if _, err := Create(dir, p, Options{}); err == nil || !strings.Contains(err.Error(), jname) || !strings.Contains(err.Error(), "damaged journal") {
		t.Fatalf("Create over a damaged journal: %v", err)
	}
	w = create(t, dir, p, Options{Force: true})
	if w.Done(keys[0]) != "" || len(w.Notes()) == 0 {
		t.Fatal("forced Create kept records of a damaged journal")
	}
	w.Close()
}

// TestJournalTornEverywhere cuts the journal at every byte of its last
// frame, and fills its end with zeros as a crash can: each time, the
// resumed writer drops only that frame.
func TestJournalTornEverywhere(t *testing.T) {
	full := writeJournal(t, t.TempDir(), testKeys(6)[:5])
	four, err := readJournal(strings.NewReader(string(full)))
	if err != nil || len(four.entries) != 5 {
		t.Fatalf("journal holds %d entries: %v", len(four.entries), err)
	}
	lastStart := four.entries[4].recOff - 8 - 1 - 4
	cases := map[string][]byte{}
	for cut := lastStart; cut < int64(len(full)); cut++ {
		cases[fmt.Sprintf("cut at %d", cut)] = full[:cut]
	}
	zeroed := append([]byte(nil), full[:lastStart]...)
	cases["zeros"] = append(zeroed, make([]byte, 4096)...)
	for name, b := range cases {
		jc, err := readJournal(strings.NewReader(string(b)))
		if err != nil || len(jc.entries) != 4 || jc.valid != lastStart || (int64(len(b)) > lastStart && !jc.torn) {
			t.Fatalf("%s: %d entries, valid %d, torn %v, err %v", name, len(jc.entries), jc.valid, jc.torn, err)
		}
	}
}
