package store

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"time"

	"github.com/maskinv/workbench/internal/appendlog"
	"github.com/maskinv/workbench/shard"
)

// The journal is a sequence of frames, each written with one write(2):
//
//	"MSJ1" | payload length (uint32 LE) | payload | CRC-32C of payload (uint32 LE)
//
// The first payload is 'P' followed by the run's Params as JSON; each
// later one is 'R', the record's JSON length (uint32 LE), the record's
// JSON and, for a record with status ok, its vector (dim float32 LE). A
// frame cut short by a kill, or whose checksum fails, at the end of the
// file is dropped (and cut off before appending); anywhere else it is a
// damaged journal.

var journalMagic = []byte("MSJ1")

// maxFrame bounds a frame's payload.
const maxFrame = 1 + 4 + maxLine + 4*maxStoreDim

var journalCRC = crc32.MakeTable(crc32.Castagnoli)

// errJournal marks a damaged journal.
var errJournal = errors.New("damaged journal")

// Journal syncs: after this many records or this long after the last
// sync, whichever comes first. A kill -9 loses nothing appended (the data
// is in the kernel); a machine crash loses at most these, redone on rerun.
const (
	journalSyncEvery    = 256
	journalSyncInterval = time.Second
)

// journalHeader is the 'P' payload.
type journalHeader struct {
	Model    string            `json:"model_sha256"`
	Pipeline string            `json:"pipeline"`
	Settings map[string]string `json:"settings,omitempty"`
	Dim      int               `json:"dim"`
	Shard    string            `json:"shard"`
}

func headerOf(p Params) journalHeader {
	return journalHeader{Model: p.Model, Pipeline: p.Pipeline, Settings: p.Settings, Dim: p.Dim, Shard: p.Shard.String()}
}

func (h journalHeader) params() (Params, error) {
	sp, err := shard.Parse(h.Shard)
	if err != nil {
		return Params{}, err
	}
	p := Params{Model: h.Model, Pipeline: h.Pipeline, Settings: h.Settings, Dim: h.Dim, Shard: sp}
	return p, p.check()
}

// frame wraps a payload.
func frame(payload []byte) []byte {
	b := make([]byte, 0, len(payload)+12)
	b = append(b, journalMagic...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(payload, journalCRC))
}

// recordPayload is the 'R' payload of rec and its vector (nil on error).
func recordPayload(line []byte, vec []float32) []byte {
	b := make([]byte, 0, 5+len(line)+4*len(vec))
	b = append(b, 'R')
	b = binary.LittleEndian.AppendUint32(b, uint32(len(line)))
	b = append(b, line...)
	for _, v := range vec {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// entry locates one record and its vector: in the journal, or, for old,
// in the finished store's index and embeddings.
type entry struct {
	path   string
	old    bool
	recLen int32
	recOff int64 // the record's JSON
	vecOff int64 // dim float32s, or -1: a zero row (status error)
}

// journalContents is what readJournal found.
type journalContents struct {
	params  Params
	entries []entry
	valid   int64 // bytes of whole frames: where appending resumes
	torn    bool  // a partial last frame was dropped
}

// readJournal reads the journal in r.
func readJournal(r io.Reader) (journalContents, error) {
	var jc journalContents
	br := bufio.NewReaderSize(r, 1<<20)
	var head [8]byte
	for n := 0; ; n++ {
		if _, err := io.ReadFull(br, head[:]); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			jc.torn = true
			break
		}
		if !bytes.Equal(head[:4], journalMagic) {
			if zeroTail(head[:], br) {
				// What a machine crash can leave past the last write
				// that reached the disk.
				jc.torn = true
				break
			}
			return jc, fmt.Errorf("%w: frame %d at byte %d has no magic", errJournal, n, jc.valid)
		}
		size := binary.LittleEndian.Uint32(head[4:])
		if size == 0 || size > maxFrame {
			return jc, fmt.Errorf("%w: frame %d at byte %d has length %d", errJournal, n, jc.valid, size)
		}
		body := make([]byte, size+4)
		if _, err := io.ReadFull(br, body); err != nil {
			jc.torn = true
			break
		}
		payload := body[:size]
		if crc32.Checksum(payload, journalCRC) != binary.LittleEndian.Uint32(body[size:]) {
			if _, err := br.Peek(1); errors.Is(err, io.EOF) {
				jc.torn = true
				break
			}
			return jc, fmt.Errorf("%w: frame %d at byte %d fails its checksum", errJournal, n, jc.valid)
		}
		if err := jc.add(n, payload); err != nil {
			return jc, fmt.Errorf("%w: frame %d at byte %d: %v", errJournal, n, jc.valid, err)
		}
		jc.valid += int64(len(head) + len(body))
	}
	if jc.valid == 0 && !jc.torn {
		return jc, fmt.Errorf("%w: empty", errJournal)
	}
	return jc, nil
}

// zeroTail reports whether head and the rest of r are all zero bytes.
func zeroTail(head []byte, r io.Reader) bool {
	allZero := func(b []byte) bool { return len(bytes.Trim(b, "\x00")) == 0 }
	if !allZero(head) {
		return false
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		if !allZero(buf[:n]) {
			return false
		}
		if err != nil {
			return errors.Is(err, io.EOF)
		}
	}
}

// add interprets frame n's payload, which starts at jc.valid.
func (jc *journalContents) add(n int, payload []byte) error {
	kind, body := payload[0], payload[1:]
	switch {
	case n == 0 && kind == 'P':
		var h journalHeader
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&h); err != nil {
			return fmt.Errorf("header: %v", err)
		}
		p, err := h.params()
		jc.params = p
		return err
	case n == 0:
		return errors.New("no header frame")
	case kind != 'R':
		return fmt.Errorf("frame kind %q", kind)
	case len(body) < 4:
		return errors.New("short record frame")
	}
	recLen := int(binary.LittleEndian.Uint32(body))
	if recLen > len(body)-4 {
		return fmt.Errorf("record length %d beyond the frame", recLen)
	}
	rec, err := parseRecord(body[4 : 4+recLen])
	if err != nil {
		return err
	}
	vecBytes := len(body) - 4 - recLen
	e := entry{path: rec.Path, recOff: jc.valid + 8 + 1 + 4, recLen: int32(recLen), vecOff: -1}
	switch {
	case rec.Status == StatusOK && vecBytes == 4*jc.params.Dim:
		e.vecOff = e.recOff + int64(recLen)
	case rec.Status == StatusOK:
		return fmt.Errorf("%s: vector of %d bytes, want %d", rec.Path, vecBytes, 4*jc.params.Dim)
	case vecBytes != 0:
		return fmt.Errorf("%s: an error record with a vector", rec.Path)
	}
	jc.entries = append(jc.entries, e)
	return nil
}

// journal appends frames; safe for concurrent use.
type journal struct{ log *appendlog.Log }

// appendFrame writes one frame with a single write and returns the
// offset its payload starts at.
func (j *journal) appendFrame(payload []byte) (int64, error) {
	at, err := j.log.Append(frame(payload))
	return at + 8, err
}

func (j *journal) sync() error { return j.log.Sync() }

// end is the end of the whole frames written.
func (j *journal) end() int64 { return j.log.Size() }
