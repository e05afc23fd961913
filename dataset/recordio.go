package dataset

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// MXNet RecordIO (dmlc-core recordio.h), as MS1MV2's train.rec:
//
//	record = magic uint32 | lrecord uint32 | data | zero padding to 4 bytes
//
// little-endian, lrecord = cflag<<29 | length. A payload containing the
// magic number at a 4-byte-aligned position is split there into parts
// (cflag 1 = first, 2 = middle, 3 = last; 0 = whole record) with the
// magic itself dropped; the reader puts it back between parts.

// RecordMagic starts every RecordIO record.
const RecordMagic uint32 = 0xced7230a

// maxRecordLen is the largest record (and part) RecordIO can describe in
// its 29 length bits.
const maxRecordLen = 1<<29 - 1

const (
	cflagWhole = iota
	cflagFirst
	cflagMiddle
	cflagLast
)

// RecordReader reads records one after another.
type RecordReader struct {
	r    *bufio.Reader
	path string
	off  int64 // offset of the next unread byte
	size int64 // input size, or -1 when unknown
}

// NewRecordReader reads records from r; name is used in errors.
func NewRecordReader(r io.Reader, name string) *RecordReader {
	return &RecordReader{r: bufio.NewReaderSize(r, 1<<16), path: name, size: -1}
}

// Offset is the byte offset of the next record, as .idx files store it.
func (rr *RecordReader) Offset() int64 { return rr.off }

// Next returns the next record's payload, multi-part records joined. It
// returns io.EOF at a clean end of input.
func (rr *RecordReader) Next() ([]byte, error) {
	start := rr.off
	var rec []byte
	for part := 0; ; part++ {
		var hdr [8]byte
		n, err := io.ReadFull(rr.r, hdr[:])
		rr.off += int64(n)
		if err == io.EOF && part == 0 {
			return nil, io.EOF
		}
		if err != nil {
			return nil, rr.readError(start, err)
		}
		if m := binary.LittleEndian.Uint32(hdr[:4]); m != RecordMagic {
			return nil, offsetError(rr.path, rr.off-8, ErrSyntax, "magic %#08x, want %#08x", m, RecordMagic)
		}
		lrec := binary.LittleEndian.Uint32(hdr[4:])
		cflag, length := lrec>>29, uint64(lrec&maxRecordLen)
		switch {
		case cflag > cflagLast:
			return nil, offsetError(rr.path, rr.off-8, ErrSyntax, "continuation flag %d", cflag)
		case part == 0 && cflag >= cflagMiddle:
			return nil, offsetError(rr.path, rr.off-8, ErrSyntax, "record starts with continuation flag %d", cflag)
		case part > 0 && cflag <= cflagFirst:
			return nil, offsetError(rr.path, rr.off-8, ErrSyntax, "part %d of a record has flag %d", part, cflag)
		}
		padded := (length + 3) &^ 3
		if rr.size >= 0 && padded > uint64(rr.size-rr.off) {
			return nil, offsetError(rr.path, rr.off-8, ErrTruncated, "record part of %d bytes, %d left", length, rr.size-rr.off)
		}
		if uint64(len(rec))+length > maxRecordLen {
			return nil, offsetError(rr.path, start, ErrLimit, "record longer than %d bytes", maxRecordLen)
		}
		data, err := readChunked(rr.r, padded)
		rr.off += int64(len(data))
		if err != nil {
			return nil, rr.readError(start, err)
		}
		if rec == nil {
			rec = data[:length] // common case: one part, no copy
		} else {
			rec = append(rec, data[:length]...)
		}
		if cflag == cflagWhole || cflag == cflagLast {
			return rec, nil
		}
		rec = binary.LittleEndian.AppendUint32(rec, RecordMagic)
	}
}

func (rr *RecordReader) readError(start int64, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return offsetError(rr.path, start, ErrTruncated, "record cut short at offset %d", rr.off)
	}
	return fmt.Errorf("%s: offset %d: %w", rr.path, rr.off, err)
}

// RecordWriter writes records as dmlc-core does, splitting payloads at
// aligned magic numbers.
type RecordWriter struct {
	w   io.Writer
	off int64
}

// NewRecordWriter writes records to w; wrap w in a bufio.Writer for many
// small records.
func NewRecordWriter(w io.Writer) *RecordWriter { return &RecordWriter{w: w} }

// Offset is the byte offset the next record will start at.
func (rw *RecordWriter) Offset() int64 { return rw.off }

// Write writes one record and returns the offset it starts at.
func (rw *RecordWriter) Write(rec []byte) (offset int64, err error) {
	if len(rec) > maxRecordLen {
		return 0, fmt.Errorf("recordio: record of %d bytes, limit %d", len(rec), maxRecordLen)
	}
	offset = rw.off
	var magic [4]byte
	binary.LittleEndian.PutUint32(magic[:], RecordMagic)
	dptr := 0
	for i := 0; i+4 <= len(rec); i += 4 {
		if !bytes.Equal(rec[i:i+4], magic[:]) {
			continue
		}
		flag := uint32(cflagMiddle)
		if dptr == 0 {
			flag = cflagFirst
		}
		if err := rw.part(flag, rec[dptr:i]); err != nil {
			return offset, err
		}
		dptr = i + 4
	}
	flag := uint32(cflagWhole)
	if dptr != 0 {
		flag = cflagLast
	}
	return offset, rw.part(flag, rec[dptr:])
}

// part writes one header, data and padding. Only the last part can need
// padding: the others end at an aligned magic.
func (rw *RecordWriter) part(cflag uint32, data []byte) error {
	var hdr [8]byte
	binary.LittleEndian.PutUint32(hdr[:4], RecordMagic)
	binary.LittleEndian.PutUint32(hdr[4:], cflag<<29|uint32(len(data)))
	pad := make([]byte, (4-len(data)%4)%4)
	for _, b := range [][]byte{hdr[:], data, pad} {
		n, err := rw.w.Write(b)
		rw.off += int64(n)
		if err != nil {
			return fmt.Errorf("recordio: %w", err)
		}
	}
	return nil
}

// IndexEntry is one line of a .idx file: a record's key and offset.
type IndexEntry struct {
	Key    int
	Offset int64
}

// ParseRecordIndex parses a .idx file: lines "key<TAB>offset" with integer
// keys, as MXIndexedRecordIO writes them. Blank lines are skipped;
// repeated keys are an error.
func ParseRecordIndex(r io.Reader, name string) ([]IndexEntry, error) {
	idx, err := parseRecordIndex(r, name)
	return idx.entries, err
}

// recordIndex is a parsed .idx with the line of each entry, for errors
// found later.
type recordIndex struct {
	entries []IndexEntry
	lines   []int
}

func parseRecordIndex(r io.Reader, name string) (recordIndex, error) {
	lr := newLineReader(r, name)
	seen := map[int]int{}
	var out recordIndex
	for {
		s, err := lr.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return recordIndex{}, err
		}
		f := strings.Fields(s)
		if len(f) != 2 {
			return recordIndex{}, lr.errorf(ErrSyntax, "%d fields, want \"key<TAB>offset\"", len(f))
		}
		key, err1 := strconv.Atoi(f[0])
		off, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil || off < 0 {
			return recordIndex{}, lr.errorf(ErrSyntax, "entry %q, want integer key and offset", s)
		}
		if first, dup := seen[key]; dup {
			return recordIndex{}, lr.errorf(ErrSyntax, "key %d again (first on line %d)", key, first)
		}
		seen[key] = lr.line
		out.entries = append(out.entries, IndexEntry{Key: key, Offset: off})
		out.lines = append(out.lines, lr.line)
	}
}

// WriteRecordIndex writes entries as "key\toffset" lines.
func WriteRecordIndex(w io.Writer, entries []IndexEntry) error {
	bw := bufio.NewWriter(w)
	for _, e := range entries {
		fmt.Fprintf(bw, "%d\t%d\n", e.Key, e.Offset)
	}
	return bw.Flush()
}

// IndexedRecordWriter writes a .rec and its .idx together.
type IndexedRecordWriter struct {
	rec *RecordWriter
	idx *bufio.Writer
}

// NewIndexedRecordWriter writes records to rec and their index to idx.
// Call Flush when done.
func NewIndexedRecordWriter(rec, idx io.Writer) *IndexedRecordWriter {
	return &IndexedRecordWriter{rec: NewRecordWriter(rec), idx: bufio.NewWriter(idx)}
}

// Write appends a record under key.
func (w *IndexedRecordWriter) Write(key int, payload []byte) error {
	off, err := w.rec.Write(payload)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w.idx, "%d\t%d\n", key, off)
	return err
}

// Flush flushes the index; the record writer writes through.
func (w *IndexedRecordWriter) Flush() error { return w.idx.Flush() }

// IndexedRecords reads records by key from a .rec file and its .idx.
type IndexedRecords struct {
	f       *os.File
	path    string
	size    int64
	entries []IndexEntry
	offsets map[int]int64
}

// OpenIndexedRecords opens recPath and reads idxPath. Offsets beyond the
// end of the .rec are an error at their .idx line.
func OpenIndexedRecords(recPath, idxPath string) (*IndexedRecords, error) {
	idx, err := readFile(idxPath, parseRecordIndex)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(recPath)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	x := &IndexedRecords{f: f, path: recPath, size: st.Size(), entries: idx.entries, offsets: make(map[int]int64, len(idx.entries))}
	for i, e := range idx.entries {
		if e.Offset > x.size-8 {
			f.Close()
			return nil, lineError(idxPath, idx.lines[i], ErrSyntax, "key %d at offset %d, past the end of the %d-byte %s", e.Key, e.Offset, x.size, recPath)
		}
		x.offsets[e.Key] = e.Offset
	}
	return x, nil
}

// Entries returns the index in file order. The slice is shared: do not
// modify it.
func (x *IndexedRecords) Entries() []IndexEntry { return x.entries }

// Read returns the record stored under key. It reads through ReadAt, so
// several goroutines may call it at once.
func (x *IndexedRecords) Read(key int) ([]byte, error) {
	off, ok := x.offsets[key]
	if !ok {
		return nil, fmt.Errorf("%s: key %d: %w", x.path, key, ErrNotFound)
	}
	rr := &RecordReader{
		r:    bufio.NewReader(io.NewSectionReader(x.f, off, x.size-off)),
		path: x.path, off: off, size: x.size,
	}
	rec, err := rr.Next()
	if err == io.EOF {
		return nil, offsetError(x.path, off, ErrTruncated, "no record for key %d", key)
	}
	return rec, err
}

// ReadImage reads the image record under key and splits its header off.
func (x *IndexedRecords) ReadImage(key int) (IRHeader, []byte, error) {
	rec, err := x.Read(key)
	if err != nil {
		return IRHeader{}, nil, err
	}
	h, img, err := UnpackImageRecord(rec)
	if err != nil {
		return IRHeader{}, nil, fmt.Errorf("%s: key %d: %w", x.path, key, err)
	}
	return h, img, nil
}

// Close closes the .rec file.
func (x *IndexedRecords) Close() error { return x.f.Close() }

// IRHeader is the header MXNet's recordio.pack puts before an image.
type IRHeader struct {
	Flag   uint32  // number of float labels that follow; 0 for one label in Label
	Label  float32 // the label when Flag is 0
	ID     uint64
	ID2    uint64
	Labels []float32 // Flag labels, when Flag > 0
}

// irHeaderSize is struct.calcsize('IfQQ').
const irHeaderSize = 24

// ClassLabel is the class of an image record: Label, or Labels[0] when the
// record carries several, as InsightFace's loaders read it.
func (h IRHeader) ClassLabel() float32 {
	if len(h.Labels) > 0 {
		return h.Labels[0]
	}
	return h.Label
}

// UnpackImageRecord splits a record payload into its IRHeader and the
// encoded image that follows it. Errors wrap ErrTruncated.
func UnpackImageRecord(rec []byte) (IRHeader, []byte, error) {
	if len(rec) < irHeaderSize {
		return IRHeader{}, nil, fmt.Errorf("image record of %d bytes, header needs %d: %w", len(rec), irHeaderSize, ErrTruncated)
	}
	h := IRHeader{
		Flag:  binary.LittleEndian.Uint32(rec),
		Label: math.Float32frombits(binary.LittleEndian.Uint32(rec[4:])),
		ID:    binary.LittleEndian.Uint64(rec[8:]),
		ID2:   binary.LittleEndian.Uint64(rec[16:]),
	}
	rest := rec[irHeaderSize:]
	if uint64(h.Flag)*4 > uint64(len(rest)) {
		return IRHeader{}, nil, fmt.Errorf("image record: %d labels in %d bytes: %w", h.Flag, len(rest), ErrTruncated)
	}
	if h.Flag > 0 {
		h.Labels = make([]float32, h.Flag)
		for i := range h.Labels {
			h.Labels[i] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*i:]))
		}
	}
	return h, rest[4*h.Flag:], nil
}

// PackImageRecord is the inverse of UnpackImageRecord. Flag is taken from
// len(h.Labels), as MXNet's pack does.
func PackImageRecord(h IRHeader, image []byte) []byte {
	b := make([]byte, 0, irHeaderSize+4*len(h.Labels)+len(image))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(h.Labels)))
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(h.Label))
	b = binary.LittleEndian.AppendUint64(b, h.ID)
	b = binary.LittleEndian.AppendUint64(b, h.ID2)
	for _, l := range h.Labels {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(l))
	}
	return append(b, image...)
}

// IdentityRange is one identity of an InsightFace train.rec: its record
// key and the keys [Start, End) of its images.
type IdentityRange struct {
	Key        int
	Start, End int
}

// RecLayout is the structure of an InsightFace train.rec (MS1MV2 and
// kin): record 0's header labels hold (first identity key, end key);
// images are keys 1 .. first−1 and identity records keys first .. end−1,
// each with labels (start, end) of its image keys. This follows
// insightface's image_iter.py / arcface_torch dataset.py.
type RecLayout struct {
	ImageStart, ImageEnd int // image keys [ImageStart, ImageEnd)
	Identities           []IdentityRange
}

// errNoHeader: record 0 carries no layout labels.
var errNoHeader = errors.New("record 0 has no InsightFace header (flag 0); treat every key as an image")

// ReadRecLayout reads record 0 and the identity records. Labels are
// float32, so keys above 2^24 cannot be represented exactly; such, or
// non-integral, labels are ErrSyntax. A record 0 without labels is
// ErrNotFound.
func ReadRecLayout(x *IndexedRecords) (RecLayout, error) {
	h, _, err := x.ReadImage(0)
	if err != nil {
		return RecLayout{}, err
	}
	if len(h.Labels) < 2 {
		return RecLayout{}, fmt.Errorf("%s: %w: %w", x.path, errNoHeader, ErrNotFound)
	}
	first, end, err := keyRange(h.Labels)
	if err != nil || first < 1 {
		return RecLayout{}, fmt.Errorf("%s: record 0 labels %v: %w", x.path, h.Labels[:2], ErrSyntax)
	}
	l := RecLayout{ImageStart: 1, ImageEnd: first}
	for key := first; key < end; key++ {
		h, _, err := x.ReadImage(key)
		if err != nil {
			return RecLayout{}, err
		}
		start, stop, err := keyRange(h.Labels)
		if err != nil || start < l.ImageStart || stop > l.ImageEnd {
			return RecLayout{}, fmt.Errorf("%s: identity record %d labels %v outside images [%d, %d): %w",
				x.path, key, h.Labels, l.ImageStart, l.ImageEnd, ErrSyntax)
		}
		l.Identities = append(l.Identities, IdentityRange{Key: key, Start: start, End: stop})
	}
	return l, nil
}

// keyRange reads labels[0:2] as an integral range [a, b) with a <= b.
func keyRange(labels []float32) (a, b int, err error) {
	if len(labels) < 2 {
		return 0, 0, errors.New("fewer than 2 labels")
	}
	for _, v := range labels[:2] {
		if v != float32(math.Trunc(float64(v))) || v < 0 || v > 1<<24 {
			return 0, 0, fmt.Errorf("label %v is not an exact key", v)
		}
	}
	a, b = int(labels[0]), int(labels[1])
	if a > b {
		return 0, 0, fmt.Errorf("range [%d, %d)", a, b)
	}
	return a, b, nil
}
