package dataset

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/maskinv/workbench/internal/testfile"
)

// binManifest is testdata/bin/manifest.json, written by gen_bin.py.
type binManifest struct {
	ImagesSHA256 []string `json:"images_sha256"`
	ImageSizes   []int    `json:"image_sizes"`
	IsSame       []bool   `json:"issame"`
	Files        []string `json:"files"`
}

func readManifest(t *testing.T) binManifest {
	t.Helper()
	var m binManifest
	testfile.ReadJSON(t, filepath.Join("testdata", "bin", "manifest.json"), &m)
	return m
}

func checkBinSet(t *testing.T, name string, set BinSet, m binManifest) {
	t.Helper()
	if !reflect.DeepEqual(set.Same, m.IsSame) {
		t.Errorf("%s: issame %v, want %v", name, set.Same, m.IsSame)
	}
	if len(set.Images) != len(m.ImagesSHA256) {
		t.Fatalf("%s: %d images, want %d", name, len(set.Images), len(m.ImagesSHA256))
	}
	for i, img := range set.Images {
		sum := sha256.Sum256(img)
		if hex.EncodeToString(sum[:]) != m.ImagesSHA256[i] {
			t.Errorf("%s: image %d (%d bytes) differs from what Python pickled", name, i, len(img))
		}
	}
}

// TestReadBinPython reads every file gen_bin.py made with Python: protocols
// 2 (Python 2 and 3 spellings), 4 and 5, issame as list, numpy array and
// numpy scalars.
func TestReadBinPython(t *testing.T) {
	m := readManifest(t)
	if len(m.Files) < 4 {
		t.Fatalf("manifest lists %d files", len(m.Files))
	}
	for _, name := range m.Files {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "bin", name)
			set, err := ReadBin(path)
			if err != nil {
				t.Fatal(err)
			}
			checkBinSet(t, name, set, m)
			// The images are real PNGs.
			if _, err := png.Decode(bytes.NewReader(set.Images[2])); err != nil {
				t.Errorf("image 2: %v", err)
			}
			// Unknown size (a pipe) reads the same.
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			set2, err := DecodeBin(struct{ io.Reader }{f}, name)
			if err != nil {
				t.Fatal(err)
			}
			checkBinSet(t, name+" (stream)", set2, m)
		})
	}
}

func TestScanBin(t *testing.T) {
	m := readManifest(t)
	f, err := os.Open(filepath.Join("testdata", "bin", "p4.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var sizes []int
	same, err := ScanBin(f, "p4.bin", func(i int, img []byte) error {
		if i != len(sizes) {
			t.Errorf("image %d out of order", i)
		}
		sizes = append(sizes, len(img))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sizes, m.ImageSizes) || !reflect.DeepEqual(same, m.IsSame) {
		t.Errorf("sizes %v same %v, want %v %v", sizes, same, m.ImageSizes, m.IsSame)
	}
	// An error from the callback stops the scan and comes back as is.
	stop := errors.New("stop")
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	_, err = ScanBin(f, "p4.bin", func(i int, _ []byte) error {
		if i == 1 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("err = %v, want the callback's", err)
	}
}

// testSet makes n pairs of small fake images, plus one image of 70 000
// bytes (past the 64 KiB frame target) when big is set.
func testSet(n int, big bool) BinSet {
	var set BinSet
	for i := range 2 * n {
		img := bytes.Repeat([]byte{byte(i)}, 10+i*37%300)
		if big && i == 1 {
			img = bytes.Repeat([]byte("x"), 70000)
		}
		set.Images = append(set.Images, img)
	}
	for i := range n {
		set.Same = append(set.Same, i%3 == 0)
	}
	return set
}

func TestBinRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  BinSet
	}{
		{"empty", BinSet{}},
		{"one pair", testSet(1, false)},
		// 1100 pairs: more than one APPENDS batch of 1000 for both lists,
		// and many frames.
		{"batches", testSet(1100, true)},
		// 1000 images + 1 makes a final batch of one: APPEND, not APPENDS.
		{"single tail", BinSet{Images: testSet(1001, false).Images[:2002], Same: make([]bool, 1001)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteBin(&buf, tt.set); err != nil {
				t.Fatal(err)
			}
			got, err := DecodeBin(bytes.NewReader(buf.Bytes()), "roundtrip")
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Images) != len(tt.set.Images) || len(got.Same) != len(tt.set.Same) {
				t.Fatalf("got %d images %d labels, want %d %d", len(got.Images), len(got.Same), len(tt.set.Images), len(tt.set.Same))
			}
			for i := range got.Images {
				if !bytes.Equal(got.Images[i], tt.set.Images[i]) {
					t.Fatalf("image %d differs", i)
				}
			}
			for i := range got.Same {
				if got.Same[i] != tt.set.Same[i] {
					t.Fatalf("label %d differs", i)
				}
			}
		})
	}
	if err := WriteBin(io.Discard, BinSet{Images: make([][]byte, 3), Same: []bool{true}}); err == nil {
		t.Error("odd image count written")
	}
}

// TestWriteBinMatchesPython: our writer gives the very bytes Python's
// pickle.dumps(..., protocol=4) gave for the test set.
func TestWriteBinMatchesPython(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "bin", "p4.bin"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := ReadBin(filepath.Join("testdata", "bin", "p4.bin"))
	if err != nil {
		t.Fatal(err)
	}
	wantWrites(t, "WriteBin, against Python's protocol 4", func(w io.Writer) error { return WriteBin(w, set) }, want)
}

// TestWriteBinPythonLoads has Python load a larger file we wrote (frames,
// batches, an unframed large image), when python3 is installed.
func TestWriteBinPythonLoads(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: skipping the cross-check of WriteBin with Python's pickle")
	}
	set := testSet(1100, true)
	path := filepath.Join(t.TempDir(), "out.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteBin(f, set); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	script := `
import hashlib, pickle, sys
with open(sys.argv[1], "rb") as f:
    bins, same = pickle.load(f)
assert all(type(b) is bytes for b in bins) and all(type(s) is bool for s in same)
h = hashlib.sha256(b"".join(bins)).hexdigest()
print(len(bins), "".join("1" if s else "0" for s in same), h)
`
	out, err := exec.Command(py, "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	sum := sha256.Sum256(bytes.Join(set.Images, nil))
	var bits strings.Builder
	for _, s := range set.Same {
		bits.WriteByte("01"[boolInt(s)])
	}
	want := strings.Join([]string{"2200", bits.String(), hex.EncodeToString(sum[:])}, " ")
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("python read %.80s..., want %.80s...", got, want)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestBinTruncated: every proper prefix of a valid file is an error (not a
// panic), and at the end of the input it is ErrTruncated.
func TestBinTruncated(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "bin", "numpy_p4.bin"))
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(data) {
		_, err := DecodeBin(bytes.NewReader(data[:n]), "cut")
		if err == nil {
			t.Fatalf("prefix of %d bytes read without error", n)
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("prefix %d: %v is not a ParseError", n, err)
		}
	}
	_, err = DecodeBin(bytes.NewReader(data[:len(data)-1]), "cut")
	wantParseError(t, err, ErrTruncated, 0)
}

func TestBinErrors(t *testing.T) {
	hdr := []byte{opProto, 4}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		in   []byte
		err  error
	}{
		// BINBYTES claiming 4 GB in a 10-byte file: the size check fails
		// before any allocation.
		{"huge length", cat(hdr, []byte{opBinBytes, 0xff, 0xff, 0xff, 0xff, 1, 2}), ErrTruncated},
		{"huge length8", cat(hdr, []byte{opBinBytes8, 0, 0, 0, 0, 0, 0, 0, 0x7f}), ErrTruncated},
		{"negative BINSTRING", cat(hdr, []byte{opBinString, 0xff, 0xff, 0xff, 0xff}), ErrSyntax},
		{"protocol 6", []byte{opProto, 6}, ErrUnsupported},
		{"unknown opcode", cat(hdr, []byte{'}'}), ErrUnsupported},
		{"append to int", cat(hdr, []byte{opBinInt1, 1, opNone, opAppend}), ErrUnsupported},
		{"pop empty", cat(hdr, []byte{opTuple2}), ErrSyntax},
		{"APPENDS without MARK", cat(hdr, []byte{opEmptyList, opAppends}), ErrSyntax},
		{"memo miss", cat(hdr, []byte{opBinGet, 7}), ErrSyntax},
		{"STOP on empty", cat(hdr, []byte{opStop}), ErrSyntax},
		{"STOP with mark", cat(hdr, []byte{opNone, opMark, opStop}), ErrSyntax},
		{"not a tuple", cat(hdr, []byte{opNone, opStop}), ErrUnsupported},
		{"issame of ints", cat(hdr, []byte{opEmptyList, opEmptyList, opBinInt1, 1, opAppend, opTuple2, opStop}), ErrUnsupported},
		{"image not bytes", cat(hdr, []byte{opEmptyList, opBinInt1, 1, opAppend}), ErrUnsupported},
		{"count mismatch", cat(hdr, []byte{opEmptyList, opEmptyList, opNewTrue, opAppend, opTuple2, opStop}), ErrSyntax},
		{"long GLOBAL", cat(hdr, []byte{opGlobal}, bytes.Repeat([]byte("a"), 300)), ErrLimit},
		{"bad utf8", cat(hdr, []byte{opShortBinUni, 1, 0xff}), ErrUnsupported},
		{"frame past end", cat(hdr, []byte{opFrame, 0xff, 0, 0, 0, 0, 0, 0, 0}), ErrTruncated},
		{"empty", nil, ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.bin")
			if err := os.WriteFile(path, tt.in, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadBin(path)
			wantParseError(t, err, tt.err, 0)
			if !strings.HasPrefix(err.Error(), path+": offset ") {
				t.Errorf("error %q does not name file and offset", err)
			}
		})
	}
	// Without a known size a huge length runs into the end of the input
	// instead, still without allocating it.
	_, err := DecodeBin(bytes.NewReader([]byte{opProto, 4, opBinBytes8, 0, 0, 0, 0, 1, 0, 0, 0, 1, 2}), "pipe")
	wantParseError(t, err, ErrTruncated, 0)
}

func TestScanBinSharedImage(t *testing.T) {
	// bins = [b, b] through the memo: fine for ReadBin, which keeps the
	// bytes, refused by ScanBin, which released them.
	in := []byte{
		opProto, 4,
		opEmptyList, opMark, opShortBinBytes, 1, 'x', opMemoize, opBinGet, 0, opAppends,
		opEmptyList, opNewTrue, opAppend, opTuple2, opStop,
	}
	set, err := DecodeBin(bytes.NewReader(in), "shared")
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Images) != 2 || string(set.Images[1]) != "x" {
		t.Errorf("images %q", set.Images)
	}
	_, err = ScanBin(bytes.NewReader(in), "shared", func(int, []byte) error { return nil })
	wantParseError(t, err, ErrUnsupported, 0)
}

func TestLong1(t *testing.T) {
	// LONG1 little-endian two's complement: 0xff → −1, 0xff 0x00 → 255,
	// empty → 0. Pushed as list items of issame they must fail as
	// non-bools, so read them through the machine directly.
	for _, tt := range []struct {
		in   []byte
		want int64
	}{
		{[]byte{1, 0xff}, -1},
		{[]byte{2, 0xff, 0}, 255},
		{[]byte{0}, 0},
		{[]byte{8, 0, 0, 0, 0, 0, 0, 0, 0x80}, -1 << 63},
	} {
		u := newUnpickler(bytes.NewReader(append(append([]byte{opLong1}, tt.in...), opStop)), "long", -1)
		v, err := u.load()
		if err != nil || v != tt.want {
			t.Errorf("LONG1 % x = %v (%v), want %d", tt.in, v, err, tt.want)
		}
	}
}
