package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unsafe"
)

// ErrUnfinished marks a store folder whose task has not finished: a
// journal and no meta.json.
var ErrUnfinished = errors.New("store not finished")

// Store is a finished store, open for reading: the embeddings are memory
// mapped (read-only: writing into a row faults), the index is read a line
// at a time on demand. Safe for concurrent use; Close unmaps.
type Store struct {
	Dir  string
	Meta Meta
	// Unfinished says a journal is there too: a later run of the task
	// started and has not finished, and may still change the store.
	Unfinished bool

	npy   []byte    // embeddings.npy, mapped
	rows  []float32 // its data, a view of npy
	index []byte    // index.jsonl, mapped
	lines []int     // start of each line, and the end of the file
}

// Open opens the store in dir and checks that its files agree with
// meta.json (sizes, shape, line count); Verify also checks their hashes
// and every record. An error names the file and the problem.
func Open(dir string) (*Store, error) {
	s := &Store{Dir: dir}
	metaPath := filepath.Join(dir, MetaName)
	f, err := os.Open(metaPath)
	if errors.Is(err, fs.ErrNotExist) {
		if _, jerr := os.Stat(filepath.Join(dir, JournalName)); jerr == nil {
			return nil, fmt.Errorf("%s: %w: no %s, only a journal: its task was interrupted; rerun it", dir, ErrUnfinished, MetaName)
		}
		return nil, fmt.Errorf("%s: not a store (no %s): %w", dir, MetaName, err)
	}
	if err != nil {
		return nil, err
	}
	s.Meta, err = parseMeta(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", metaPath, ErrCorrupt, err)
	}
	if _, err := os.Stat(filepath.Join(dir, JournalName)); err == nil {
		s.Unfinished = true
	}
	if err := s.mapEmbeddings(); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.mapIndex(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// hostLittleEndian: the mapped float32s are little-endian on disk.
func hostLittleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}

func (s *Store) mapEmbeddings() error {
	name := filepath.Join(s.Dir, EmbeddingsName)
	if !hostLittleEndian() {
		return fmt.Errorf("%s: mapping little-endian float32 needs a little-endian host", name)
	}
	b, err := mapNamed(name)
	s.npy = b
	if err != nil {
		return err
	}
	info, err := parseNPYHeader(b[:min(len(b), 12+maxNPYHeader)])
	if err != nil {
		return fmt.Errorf("%s: %w: %v", name, ErrCorrupt, err)
	}
	if info.rows != s.Meta.Count || info.cols != s.Meta.Dim {
		return fmt.Errorf("%s: %w: shape (%d, %d), but %s says (%d, %d)", name, ErrCorrupt, info.rows, info.cols, MetaName, s.Meta.Count, s.Meta.Dim)
	}
	if want := int64(info.offset) + int64(info.rows)*int64(info.cols)*4; int64(len(b)) != want {
		return fmt.Errorf("%s: %w: %d bytes, want %d for shape (%d, %d)", name, ErrCorrupt, len(b), want, info.rows, info.cols)
	}
	if n := info.rows * info.cols; n > 0 {
		s.rows = unsafe.Slice((*float32)(unsafe.Pointer(&b[info.offset])), n)
	}
	return nil
}

func (s *Store) mapIndex() error {
	name := filepath.Join(s.Dir, IndexName)
	b, err := mapNamed(name)
	s.index = b
	if err != nil {
		return err
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		return fmt.Errorf("%s: %w: the last line has no newline (truncated?)", name, ErrCorrupt)
	}
	n := bytes.Count(b, []byte{'\n'})
	if n != s.Meta.Count {
		return fmt.Errorf("%s: %w: %d lines, but %s says %d records", name, ErrCorrupt, n, MetaName, s.Meta.Count)
	}
	s.lines = make([]int, 0, n+1)
	for off := 0; off < len(b); {
		s.lines = append(s.lines, off)
		off += bytes.IndexByte(b[off:], '\n') + 1
	}
	s.lines = append(s.lines, len(b))
	return nil
}

func mapNamed(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	b, err := mapFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", name, err)
	}
	return b, nil
}

// Len is the number of records (and rows).
func (s *Store) Len() int { return s.Meta.Count }

// Dim is the embedding length.
func (s *Store) Dim() int { return s.Meta.Dim }

// Row returns row i, a read-only view of the mapped file: all zeros for
// a record with status error.
func (s *Store) Row(i int) []float32 {
	d := s.Meta.Dim
	return s.rows[i*d : (i+1)*d : (i+1)*d]
}

// Matrix returns every row, row-major (Len×Dim), read-only.
func (s *Store) Matrix() []float32 { return s.rows }

// Record reads record i from the index.
func (s *Store) Record(i int) (Record, error) {
	if i < 0 || i >= s.Meta.Count {
		return Record{}, fmt.Errorf("record %d of %d", i, s.Meta.Count)
	}
	r, err := parseRecord(s.line(i))
	if err != nil {
		return r, fmt.Errorf("%s:%d: %w: %v", filepath.Join(s.Dir, IndexName), i+1, ErrCorrupt, err)
	}
	return r, nil
}

// Find returns the row of the record whose path is path (records are
// sorted by path: a binary search, reading about log2(Len) records), and
// whether there is one.
func (s *Store) Find(path string) (int, bool, error) {
	var ferr error
	i, found := sort.Find(s.Meta.Count, func(i int) int {
		r, err := s.Record(i)
		if err != nil {
			ferr = err
			return 0
		}
		return strings.Compare(path, r.Path)
	})
	if ferr != nil {
		return 0, false, ferr
	}
	return i, found, nil
}

// line is line i of the index without its newline.
func (s *Store) line(i int) []byte { return s.index[s.lines[i] : s.lines[i+1]-1] }

// rawRow is row i's bytes in the file.
func (s *Store) rawRow(i int) []byte {
	n := 4 * s.Meta.Dim
	off := len(s.npy) - 4*len(s.rows) + i*n
	return s.npy[off : off+n]
}

// Verify checks the files' hashes against meta.json and every record:
// paths sorted and unique, the failed count, and zero rows for errors.
func (s *Store) Verify() error {
	for _, f := range []struct {
		name string
		data []byte
		want string
	}{{EmbeddingsName, s.npy, s.Meta.EmbeddingsSHA256}, {IndexName, s.index, s.Meta.IndexSHA256}} {
		if h := sha256.Sum256(f.data); hex.EncodeToString(h[:]) != f.want {
			return fmt.Errorf("%s: %w: SHA-256 differs from %s's", filepath.Join(s.Dir, f.name), ErrCorrupt, MetaName)
		}
	}
	failed, prev := 0, ""
	for i := range s.Meta.Count {
		r, err := s.Record(i)
		if err != nil {
			return err
		}
		if i > 0 && r.Path <= prev {
			return fmt.Errorf("%s:%d: %w: %q after %q: not sorted, or twice", filepath.Join(s.Dir, IndexName), i+1, ErrCorrupt, r.Path, prev)
		}
		prev = r.Path
		if r.Status == StatusError {
			failed++
			if len(bytes.Trim(s.rawRow(i), "\x00")) != 0 {
				return fmt.Errorf("%s: %w: row %d (%s, an error) is not zero", filepath.Join(s.Dir, EmbeddingsName), ErrCorrupt, i, r.Path)
			}
		}
	}
	if failed != s.Meta.Failed {
		return fmt.Errorf("%s: %w: %d error records, but it says %d", filepath.Join(s.Dir, MetaName), ErrCorrupt, failed, s.Meta.Failed)
	}
	return nil
}

// Close unmaps the files; rows returned earlier must not be used after.
func (s *Store) Close() error {
	err := errors.Join(unmapFile(s.npy), unmapFile(s.index))
	s.npy, s.rows, s.index = nil, nil, nil
	return err
}
