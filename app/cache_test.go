package app

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"slices"
	"sync"
	"testing"
)

const testModelHash = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

func testVec(seed int) []float32 {
	v := make([]float32, 512)
	for i := range v {
		v[i] = float32(math.Sin(float64(seed*512+i))) / 16
	}
	return v
}

func sameEntry(a, b CacheEntry) bool {
	if a.Failure != b.Failure || a.Flags != b.Flags || len(a.Vec) != len(b.Vec) {
		return false
	}
	for i := range a.Vec {
		if math.Float32bits(a.Vec[i]) != math.Float32bits(b.Vec[i]) {
			return false
		}
	}
	return true
}

func openTestCache(t *testing.T, dir string) *EmbeddingCache {
	t.Helper()
	c, err := OpenEmbeddingCache(dir, testModelHash)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testPuts are entries of every kind: vectors, a failure, a fallback flag,
// a denormal and a negative zero (bit patterns must survive).
func testPuts() []CachePut {
	v := testVec(3)
	v[0], v[1] = float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32
	return []CachePut{
		{EmbeddingKey(testModelHash, "aligned-112", "c1", "none"), CacheEntry{Vec: testVec(1)}},
		{EmbeddingKey(testModelHash, "aligned-112", "c1", `{"style":"paper"}`), CacheEntry{Vec: testVec(2), Flags: FlagFallback}},
		{EmbeddingKey(testModelHash, "aligned-112", "c2", "none"), CacheEntry{Failure: "x.png: detect: no face found"}},
		{EmbeddingKey(testModelHash, "aligned-112", "c3", "none"), CacheEntry{Vec: v}},
	}
}

func TestCacheRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c := openTestCache(t, dir)
	puts := testPuts()
	if err := c.Put(puts[:2]...); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(puts[2:]...); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	r := openTestCache(t, dir)
	if r.Len() != len(puts) || r.Skipped() != 0 {
		t.Fatalf("reopened: %d entries, %d bytes skipped; want %d, 0", r.Len(), r.Skipped(), len(puts))
	}
	for i, p := range puts {
		got, ok := r.Get(p.Key)
		if !ok || !sameEntry(got, p.Entry) {
			t.Errorf("entry %d: got %v (found %v), want it bit for bit", i, got.Failure, ok)
		}
	}
	if _, ok := r.Get(EmbeddingKey(testModelHash, "aligned-112", "c9", "none")); ok {
		t.Error("a key never put was found")
	}
}

// TestCacheSurvivesDamage: a torn last frame (crash during a write) or a
// flipped byte loses only the frames it touches; frames appended after the
// damage are still found.
func TestCacheSurvivesDamage(t *testing.T) {
	puts := testPuts()
	tests := []struct {
		name   string
		damage func(b []byte) []byte
		lost   []int // indices of puts that must be missing
	}{
		{"torn tail", func(b []byte) []byte { return b[:len(b)-100] }, []int{3}},
		{"torn header", func(b []byte) []byte { return b[:len(b)-frameLen(puts[3])+5] }, []int{3}},
		{"flipped payload byte", func(b []byte) []byte { b[frameLen(puts[0])+200] ^= 1; return b }, []int{1}},
		{"flipped length", func(b []byte) []byte { b[5] ^= 0x40; return b }, []int{0}},
		{"garbage in front", func(b []byte) []byte { return append([]byte("MEC1garbage"), b...) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := openTestCache(t, dir)
			if err := c.Put(puts...); err != nil {
				t.Fatal(err)
			}
			c.Close()
			b, err := os.ReadFile(c.Path())
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(c.Path(), tt.damage(b), 0o644); err != nil {
				t.Fatal(err)
			}
			r := openTestCache(t, dir)
			if r.Skipped() == 0 {
				t.Error("damage not reported as skipped bytes")
			}
			for i, p := range puts {
				_, ok := r.Get(p.Key)
				if want := !slices.Contains(tt.lost, i); ok != want {
					t.Errorf("entry %d found %v, want %v", i, ok, want)
				}
			}
			// Appending after the damage works, and the reader finds it.
			late := CachePut{EmbeddingKey(testModelHash, "p", "late", "none"), CacheEntry{Vec: testVec(9)}}
			if err := r.Put(late); err != nil {
				t.Fatal(err)
			}
			r.Close()
			again := openTestCache(t, dir)
			if got, ok := again.Get(late.Key); !ok || !sameEntry(got, late.Entry) {
				t.Error("entry appended after the damage was not found")
			}
		})
	}
}

func frameLen(p CachePut) int {
	var b bytes.Buffer
	appendCacheFrame(&b, p.Key, p.Entry)
	return b.Len()
}

// TestCacheConcurrentWriters: two handles on one file (two runs at once)
// and several goroutines per handle; every frame is intact afterwards.
func TestCacheConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	handles := []*EmbeddingCache{openTestCache(t, dir), openTestCache(t, dir)}
	var wg sync.WaitGroup
	const perG = 50
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := handles[g%2]
			for i := range perG {
				k := EmbeddingKey(testModelHash, "p", fmt.Sprint(g, "/", i), "none")
				if err := c.Put(CachePut{k, CacheEntry{Vec: testVec(g*perG + i)}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, h := range handles {
		h.Close()
	}
	r := openTestCache(t, dir)
	if r.Len() != 8*perG || r.Skipped() != 0 {
		t.Fatalf("%d entries, %d bytes skipped; want %d, 0", r.Len(), r.Skipped(), 8*perG)
	}
	for g := range 8 {
		for i := range perG {
			e, ok := r.Get(EmbeddingKey(testModelHash, "p", fmt.Sprint(g, "/", i), "none"))
			if !ok || !sameEntry(e, CacheEntry{Vec: testVec(g*perG + i)}) {
				t.Fatalf("entry %d/%d lost or changed", g, i)
			}
		}
	}
}

func TestCacheNilAndErrors(t *testing.T) {
	var c *EmbeddingCache
	if _, ok := c.Get(CacheKey{}); ok {
		t.Error("nil cache found an entry")
	}
	if err := c.Put(testPuts()...); err != nil || c.Len() != 0 || c.Close() != nil {
		t.Error("nil cache must accept and forget")
	}
	for _, h := range []string{"", "ABCDEF0123456789", "../../etc/passwd", "0123"} {
		if _, err := OpenEmbeddingCache(t.TempDir(), h); err == nil {
			t.Errorf("model hash %q accepted as a file name", h)
		}
	}
}

func TestEmbeddingKeyFields(t *testing.T) {
	keys := map[CacheKey]string{}
	for _, f := range [][4]string{
		{"m", "p", "ab", "c"}, {"m", "p", "a", "bc"}, {"m", "pa", "b", "c"},
		{"m2", "p", "ab", "c"}, {"m", "p", "ab", "none"}, {"m", "p", "ab", ""},
	} {
		k := EmbeddingKey(f[0], f[1], f[2], f[3])
		if prev, dup := keys[k]; dup {
			t.Errorf("%v and %s share a key", f, prev)
		}
		keys[k] = fmt.Sprint(f)
	}
	k1, k2 := EmbeddingKey("m", "p", "c", "x"), EmbeddingKey("m", "p", "c", "x")
	if k1 != k2 {
		t.Error("key is not deterministic")
	}
}

// FuzzParseCacheFrames: any bytes load without panicking, and whatever
// loads re-encodes to frames that load to the same entries.
func FuzzParseCacheFrames(f *testing.F) {
	var b bytes.Buffer
	for _, p := range testPuts() {
		appendCacheFrame(&b, p.Key, p.Entry)
	}
	f.Add(b.Bytes())
	f.Add(b.Bytes()[:len(b.Bytes())/2])
	f.Add([]byte("MEC1\x22\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got []CachePut
		skipped := parseCacheFrames(data, func(k CacheKey, e CacheEntry) { got = append(got, CachePut{k, e}) })
		if skipped < 0 || skipped > len(data) {
			t.Fatalf("skipped %d of %d bytes", skipped, len(data))
		}
		var re bytes.Buffer
		for _, p := range got {
			appendCacheFrame(&re, p.Key, p.Entry)
		}
		var again []CachePut
		if n := parseCacheFrames(re.Bytes(), func(k CacheKey, e CacheEntry) { again = append(again, CachePut{k, e}) }); n != 0 {
			t.Fatalf("re-encoded frames skipped %d bytes", n)
		}
		if len(again) != len(got) {
			t.Fatalf("%d entries, re-encoded %d", len(got), len(again))
		}
		for i := range got {
			if got[i].Key != again[i].Key || !sameEntry(got[i].Entry, again[i].Entry) {
				t.Fatalf("entry %d changed on re-encoding", i)
			}
		}
	})
}
