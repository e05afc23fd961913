package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sync"
)

// The embedding cache remembers, per recogniser, what the pipeline made of
// one image variant: a 512-d embedding, or the reason it could not make one
// (no face, undecodable file). `maskinv eval` asks it before doing any model
// work, so a rerun, or a second protocol over the same images, computes
// nothing twice.
//
// # Keys
//
// An entry's key is EmbeddingKey(model, pipeline, content, mask): the
// SHA-256 of the recogniser's SHA-256, the pipeline that produced the crop
// (aligned input, or detector and landmarker hashes and the fallback
// setting), the SHA-256 of the image file's bytes, and the mask's
// maskgen.Params as JSON ("none" for the unmasked image). Anything that can
// change the embedding is in the key; file names and dates are not, so
// renaming or copying a dataset keeps its entries.
//
// # File format
//
// One append-only file per recogniser, <dir>/<model sha256>.emb, made of
// frames:
//
//	magic "MEC1" | payload length (uint32 LE) | payload | CRC-32C of payload (uint32 LE)
//	payload: key [32]byte | kind byte | flags byte | body
//	kind 0: body = 512 float32 LE (any length, a multiple of 4);
//	kind 1: body = the failure message, UTF-8
//
// Frames are only ever appended, each batch with one write(2) on a file
// opened O_APPEND, so concurrent runs interleave whole frames. A crash can
// leave a torn frame at the end; a reader skips any frame whose length or
// CRC is wrong and resynchronises on the next magic, so later frames are
// still found. Nothing is ever rewritten in place and no entry is trusted
// without its checksum. When a key occurs twice, the later frame wins.

// cacheMagic starts every frame; the digit is the format version.
var cacheMagic = []byte("MEC1")

// maxCachePayload bounds a frame's payload: a larger length is corrupt.
const maxCachePayload = 1 << 20

// cacheCRC is the Castagnoli table (hardware-accelerated on amd64/arm64).
var cacheCRC = crc32.MakeTable(crc32.Castagnoli)

// cacheEntry kinds.
const (
	entryVector  = 0
	entryFailure = 1
)

// Entry flags.
const (
	// FlagFallback: the detector found no face above its threshold and the
	// best box below it was used (engine.Options.DetectFallback).
	FlagFallback = 1 << iota
)

// CacheKey identifies one cached embedding.
type CacheKey [32]byte

// EmbeddingKey builds the key of one image variant. Fields are
// length-prefixed before hashing, so no two different tuples collide by
// concatenation.
func EmbeddingKey(model, pipeline, content, mask string) CacheKey {
	h := sha256.New()
	for _, s := range []string{model, pipeline, content, mask} {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		io.WriteString(h, s)
	}
	var k CacheKey
	h.Sum(k[:0])
	return k
}

// CacheEntry is what the cache holds for a key: an embedding, or a failure
// message (Failure != ""), with flags such as FlagFallback.
type CacheEntry struct {
	Vec     []float32
	Failure string
	Flags   uint8
}

// EmbeddingCache is an embedding cache file opened for one recogniser. A nil
// *EmbeddingCache is valid and caches nothing (--no-cache). Methods are safe
// for concurrent use.
type EmbeddingCache struct {
	path string

	mu      sync.Mutex
	f       *os.File
	entries map[CacheKey]CacheEntry
	skipped int // bytes of torn or corrupt frames skipped on load
}

// modelHashRE is what a model hash must look like to name a cache file.
var modelHashRE = regexp.MustCompile(`^[0-9a-f]{16,128}$`)

// OpenEmbeddingCache opens (creating it if needed) the cache file of the
// recogniser whose SHA-256 is model, in dir, and loads its entries.
func OpenEmbeddingCache(dir, model string) (*EmbeddingCache, error) {
	if !modelHashRE.MatchString(model) {
		return nil, fmt.Errorf("embedding cache: model hash %q is not lower-case hex", model)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("embedding cache: %w", err)
	}
	path := filepath.Join(dir, model+".emb")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("embedding cache: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("embedding cache %s: %w", path, err)
	}
	c := &EmbeddingCache{path: path, f: f, entries: map[CacheKey]CacheEntry{}}
	c.skipped = parseCacheFrames(data, func(k CacheKey, e CacheEntry) { c.entries[k] = e })
	return c, nil
}

// Path is the cache file.
func (c *EmbeddingCache) Path() string {
	if c == nil {
		return ""
	}
	return c.path
}

// Len is the number of distinct keys held.
func (c *EmbeddingCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Skipped is the number of bytes of torn or corrupt frames that loading
// skipped (0 for a healthy file).
func (c *EmbeddingCache) Skipped() int {
	if c == nil {
		return 0
	}
	return c.skipped
}

// Get returns the entry for k.
func (c *EmbeddingCache) Get(k CacheKey) (CacheEntry, bool) {
	if c == nil {
		return CacheEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	return e, ok
}

// CachePut is one entry to store.
type CachePut struct {
	Key   CacheKey
	Entry CacheEntry
}

// Put appends entries with a single write and makes them visible to Get.
// On a write error the entries stay visible in memory for this run only.
func (c *EmbeddingCache) Put(puts ...CachePut) error {
	if c == nil || len(puts) == 0 {
		return nil
	}
	var buf bytes.Buffer
	for _, p := range puts {
		appendCacheFrame(&buf, p.Key, p.Entry)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range puts {
		c.entries[p.Key] = p.Entry
	}
	if c.f == nil {
		return fmt.Errorf("embedding cache %s: closed", c.path)
	}
	if _, err := c.f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("embedding cache %s: %w", c.path, err)
	}
	return nil
}

// Close syncs and closes the file. Get keeps working on the loaded entries.
func (c *EmbeddingCache) Close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f == nil {
		return nil
	}
	err := c.f.Sync()
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	c.f = nil
	return err
}

// appendCacheFrame encodes one frame onto buf.
func appendCacheFrame(buf *bytes.Buffer, k CacheKey, e CacheEntry) {
	payload := make([]byte, 0, 34+4*len(e.Vec)+len(e.Failure))
	payload = append(payload, k[:]...)
	if e.Failure != "" {
		payload = append(payload, entryFailure, e.Flags)
		payload = append(payload, e.Failure...)
	} else {
		payload = append(payload, entryVector, e.Flags)
		for _, v := range e.Vec {
			payload = binary.LittleEndian.AppendUint32(payload, math.Float32bits(v))
		}
	}
	if len(payload) > maxCachePayload {
		panic(fmt.Sprintf("app: cache entry of %d bytes", len(payload))) // 512 floats are 2 KiB
	}
	buf.Write(cacheMagic)
	buf.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(payload))))
	buf.Write(payload)
	buf.Write(binary.LittleEndian.AppendUint32(nil, crc32.Checksum(payload, cacheCRC)))
}

// parseCacheFrames hands every intact frame of data to fn, in file order,
// and returns how many bytes it had to skip: torn or corrupt frames are
// passed over by searching for the next magic.
func parseCacheFrames(data []byte, fn func(CacheKey, CacheEntry)) (skipped int) {
	const head = 8 // magic + length
	for pos := 0; pos < len(data); {
		e, n, err := decodeCacheFrame(data[pos:])
		if err != nil {
			next := bytes.Index(data[pos+1:], cacheMagic)
			if next < 0 {
				return skipped + len(data) - pos
			}
			skipped += next + 1
			pos += next + 1
			continue
		}
		var k CacheKey
		copy(k[:], data[pos+head:])
		fn(k, e)
		pos += n
	}
	return skipped
}

var errBadFrame = errors.New("bad cache frame")

// decodeCacheFrame decodes the frame at the start of b and returns its
// entry and length in bytes.
func decodeCacheFrame(b []byte) (CacheEntry, int, error) {
	const head, tail = 8, 4
	if len(b) < head+34+tail || !bytes.Equal(b[:4], cacheMagic) {
		return CacheEntry{}, 0, errBadFrame
	}
	n := int(binary.LittleEndian.Uint32(b[4:8]))
	if n < 34 || n > maxCachePayload || n > len(b)-head-tail {
		return CacheEntry{}, 0, errBadFrame
	}
	payload := b[head : head+n]
	if crc32.Checksum(payload, cacheCRC) != binary.LittleEndian.Uint32(b[head+n:]) {
		return CacheEntry{}, 0, errBadFrame
	}
	e := CacheEntry{Flags: payload[33]}
	body := payload[34:]
	switch payload[32] {
	case entryVector:
		if len(body)%4 != 0 {
			return CacheEntry{}, 0, errBadFrame
		}
		e.Vec = make([]float32, len(body)/4)
		for i := range e.Vec {
			e.Vec[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
		}
	case entryFailure:
		if len(body) == 0 {
			return CacheEntry{}, 0, errBadFrame
		}
		e.Failure = string(body)
	default:
		return CacheEntry{}, 0, errBadFrame
	}
	return e, head + n + tail, nil
}

// DefaultCacheDir is where `maskinv eval` keeps embeddings unless told
// otherwise: <user cache dir>/maskinv/embeddings.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "maskinv", "embeddings"), nil
}
