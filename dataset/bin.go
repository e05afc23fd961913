package dataset

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// BinSet is an InsightFace verification set (lfw.bin, cfp_fp.bin,
// agedb_30.bin, ...): encoded 112×112 aligned faces and, for pair k =
// (Images[2k], Images[2k+1]), whether both show one person.
type BinSet struct {
	Images [][]byte // JPEG or PNG files, as stored
	Same   []bool
}

// ReadBin reads a .bin file in one pass. See ScanBin for what it accepts.
func ReadBin(path string) (BinSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return BinSet{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return BinSet{}, err
	}
	return decodeBin(f, path, st.Size())
}

// DecodeBin reads a .bin pickle from r, whose size need not be known;
// name is used in errors.
func DecodeBin(r io.Reader, name string) (BinSet, error) {
	return decodeBin(r, name, -1)
}

func decodeBin(r io.Reader, name string, size int64) (BinSet, error) {
	var set BinSet
	same, err := scanBin(r, name, size, true, func(_ int, img []byte) error {
		set.Images = append(set.Images, img)
		return nil
	})
	if err != nil {
		return BinSet{}, err
	}
	set.Same = same
	return set, nil
}

// ScanBin reads a .bin pickle from r in one pass, handing each encoded
// image to fn in order as soon as it is read and then releasing it, so a
// 500 MB set can be embedded without holding it in memory. fn may keep the
// slice. It returns the same/different labels, which the format stores
// after all the images.
//
// The pickle must be (bins, issame) as InsightFace writes it: Python 3
// pickle.dump at any protocol from 2 to 5, or Python 2 protocol 2 with the
// images as str. issame may be a list of bools (or numpy bools), or a 1-D
// numpy bool array; other numpy types give ErrUnsupported. The images must
// be distinct objects (they always are when read from files); an image
// object listed twice is ErrUnsupported here and fine for ReadBin.
func ScanBin(r io.Reader, name string, fn func(i int, image []byte) error) (same []bool, err error) {
	return scanBin(r, name, -1, false, fn)
}

func scanBin(r io.Reader, name string, size int64, keep bool, fn func(int, []byte) error) ([]bool, error) {
	u := newUnpickler(r, name, size)
	// The images are the first list the pickle builds: the tuple's first
	// element is pickled first in every protocol.
	u.appendHook = func(l *pyList, items []any) error {
		if l != u.firstList {
			return nil
		}
		for k, it := range items {
			i := len(l.items) + k
			b, ok := it.(*pyBytes)
			if !ok {
				return u.errorf(ErrUnsupported, "image %d is %s, want bytes", i, typeName(it))
			}
			if b.dropped {
				return u.errorf(ErrUnsupported, "image %d repeats an earlier image object", i)
			}
			if err := fn(i, b.data); err != nil {
				return err
			}
			if !keep {
				b.data, b.dropped = nil, true
			}
		}
		return nil
	}
	top, err := u.load()
	if err != nil {
		return nil, err
	}
	t, ok := top.(pyTuple)
	if !ok || len(t) != 2 {
		return nil, u.errorf(ErrUnsupported, "pickle holds %s, want (bins, issame)", describe(top))
	}
	bins, ok := t[0].(*pyList)
	if !ok || bins != u.firstList {
		return nil, u.errorf(ErrUnsupported, "bins is %s, want the first list", typeName(t[0]))
	}
	nImages := len(bins.items)
	same, err := boolArray(t[1])
	if err != nil {
		return nil, u.errorf(ErrUnsupported, "issame: %v", err)
	}
	if 2*len(same) != nImages {
		return nil, u.errorf(ErrSyntax, "%d images for %d pairs", nImages, len(same))
	}
	return same, nil
}

func describe(v any) string {
	if t, ok := v.(pyTuple); ok {
		return fmt.Sprintf("a %d-tuple", len(t))
	}
	return typeName(v)
}

// boolArray reads issame: a list of bool or numpy.bool_, or a 1-D numpy
// bool array.
func boolArray(v any) ([]bool, error) {
	switch v := v.(type) {
	case *pyList:
		out := make([]bool, len(v.items))
		for i, it := range v.items {
			b, err := boolValue(it)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out[i] = b
		}
		return out, nil
	case *pyObject:
		return numpyBoolArray(v)
	}
	return nil, fmt.Errorf("%s, want a list or numpy array", typeName(v))
}

func boolValue(v any) (bool, error) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case *pyObject: // numpy.bool_: numpy.core.multiarray.scalar(dtype, b'\x01')
		if isGlobal(v.callable, "multiarray", "scalar") && len(v.args) == 2 {
			if err := checkBoolDtype(v.args[0]); err != nil {
				return false, err
			}
			if b, ok := v.args[1].(*pyBytes); ok && len(b.data) == 1 {
				return b.data[0] != 0, nil
			}
		}
	}
	return false, fmt.Errorf("%s, want bool", typeName(v))
}

// numpyBoolArray decodes the two ways numpy pickles an array:
//
//	protocol <= 4: _reconstruct(ndarray, (0,), b'b') then BUILD with
//	               (version, shape, dtype, is_fortran, raw bytes)
//	protocol 5:    _frombuffer(buffer, dtype, shape, order)
//
// under numpy.core (numpy 1) or numpy._core (numpy 2).
func numpyBoolArray(o *pyObject) ([]bool, error) {
	var shape, dtype, raw any
	switch {
	case isGlobal(o.callable, "multiarray", "_reconstruct"):
		st, ok := o.state.(pyTuple)
		if !o.built || !ok || len(st) != 5 {
			return nil, fmt.Errorf("numpy array state %s", describe(o.state))
		}
		shape, dtype, raw = st[1], st[2], st[4]
	case isGlobal(o.callable, "numeric", "_frombuffer"):
		if len(o.args) != 4 {
			return nil, fmt.Errorf("numpy _frombuffer with %d arguments", len(o.args))
		}
		raw, dtype, shape = o.args[0], o.args[1], o.args[2]
	default:
		return nil, fmt.Errorf("%s, want a numpy array", typeName(o))
	}
	if err := checkBoolDtype(dtype); err != nil {
		return nil, err
	}
	dims, ok := shape.(pyTuple)
	if !ok || len(dims) != 1 {
		return nil, fmt.Errorf("numpy shape %s, want 1-D", describe(shape))
	}
	n, ok := dims[0].(int64)
	data, ok2 := raw.(*pyBytes)
	if !ok || !ok2 || n != int64(len(data.data)) {
		return nil, fmt.Errorf("numpy data of %s for shape (%v,)", typeName(raw), dims[0])
	}
	out := make([]bool, n)
	for i, b := range data.data {
		out[i] = b != 0
	}
	return out, nil
}

// checkBoolDtype accepts numpy.dtype('b1') (also spelled '?').
func checkBoolDtype(v any) error {
	o, ok := v.(*pyObject)
	if !ok || !isGlobal(o.callable, "numpy", "dtype") || len(o.args) == 0 {
		return fmt.Errorf("dtype %s", typeName(v))
	}
	var code string
	switch c := o.args[0].(type) {
	case string:
		code = c
	case *pyBytes: // Python 2
		code = string(c.data)
	}
	if code != "b1" && code != "?" {
		return fmt.Errorf("numpy dtype %q, want bool", code)
	}
	return nil
}

// isGlobal matches numpy globals across module renames: the module must be
// numpy itself (for "numpy") or end in the given last component
// (numpy.core.multiarray, numpy._core.multiarray).
func isGlobal(v any, module, name string) bool {
	g, ok := v.(*pyGlobal)
	if !ok || g.name != name {
		return false
	}
	if module == "numpy" {
		return g.module == "numpy"
	}
	return g.module == "numpy.core."+module || g.module == "numpy._core."+module
}

// WriteBin writes set as Python 3's pickle.dump((bins, issame), f,
// protocol=4) does: framed, bytes as (SHORT_)BINBYTES(8), lists filled by
// APPENDS in batches of 1000, images of 64 KiB or more written outside
// frames. Python reads it back as (list of bytes, list of bool).
func WriteBin(w io.Writer, set BinSet) error {
	if 2*len(set.Same) != len(set.Images) {
		return fmt.Errorf("write bin: %d images for %d pairs", len(set.Images), len(set.Same))
	}
	bw := bufio.NewWriter(w)
	f := &framer{w: bw}
	f.unframed([]byte{opProto, 4})
	memoize := func() { f.op(opMemoize) }

	f.list(len(set.Images), func(i int) {
		f.bytes(set.Images[i])
		memoize()
	})
	f.list(len(set.Same), func(i int) {
		if set.Same[i] {
			f.op(opNewTrue)
		} else {
			f.op(opNewFalse)
		}
	})
	f.op(opTuple2)
	memoize()
	f.op(opStop)
	f.commit()
	return bw.Flush()
}

// pickleBatch is CPython's _BATCHSIZE for APPENDS.
const pickleBatch = 1000

// frameTarget is CPython's _FRAME_SIZE_TARGET: frames are closed once
// they reach it, and payloads of that size go outside frames.
const frameTarget = 64 * 1024

// framer groups opcodes into protocol-4 frames. Opcodes are only ever
// split between frames at opcode boundaries, as Python's reader demands.
type framer struct {
	w   *bufio.Writer
	buf []byte
}

func (f *framer) op(b ...byte) {
	f.buf = append(f.buf, b...)
	if len(f.buf) >= frameTarget {
		f.commit()
	}
}

func (f *framer) commit() {
	if len(f.buf) == 0 {
		return
	}
	var hdr [9]byte
	hdr[0] = opFrame
	binary.LittleEndian.PutUint64(hdr[1:], uint64(len(f.buf)))
	f.w.Write(hdr[:])
	f.w.Write(f.buf)
	f.buf = f.buf[:0]
}

// list writes a list of n items as CPython does: EMPTY_LIST, memoized,
// then the items by APPENDS in batches of pickleBatch (a lone item by
// APPEND); item(i) writes item i.
func (f *framer) list(n int, item func(i int)) {
	f.op(opEmptyList)
	f.op(opMemoize) // a separate op, as CPython may close a frame between them
	for start := 0; start < n; start += pickleBatch {
		end := min(start+pickleBatch, n)
		if end-start > 1 {
			f.op(opMark)
		}
		for i := start; i < end; i++ {
			item(i)
		}
		if end-start > 1 {
			f.op(opAppends)
		} else {
			f.op(opAppend)
		}
	}
}

func (f *framer) unframed(b []byte) {
	f.commit()
	f.w.Write(b)
}

// bytes writes one bytes object in its shortest opcode.
func (f *framer) bytes(b []byte) {
	var hdr []byte
	switch n := len(b); {
	case n < 256:
		hdr = []byte{opShortBinBytes, byte(n)}
	case uint64(n) <= 0xffffffff:
		hdr = binary.LittleEndian.AppendUint32([]byte{opBinBytes}, uint32(n))
	default:
		hdr = binary.LittleEndian.AppendUint64([]byte{opBinBytes8}, uint64(n))
	}
	if len(b) >= frameTarget {
		f.unframed(hdr)
		f.w.Write(b)
		return
	}
	f.op(append(hdr, b...)...)
}
