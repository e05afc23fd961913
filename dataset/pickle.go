package dataset

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// This file is a minimal pickle reader: a stack machine for the opcodes
// that pickled (bins, issame) tuples use, from Python 2 protocol 2 to
// Python 3 protocol 5. It never runs anything: GLOBAL, REDUCE and BUILD
// only record what Python would have called, and bin.go then recognises a
// few numpy shapes among those records. A handful of pure conversions that
// Python 3 uses to spell bytes in old protocols (_codecs.encode(s,
// 'latin1'), bytes(), bytearray(b)) are evaluated directly.

// Pickle opcodes handled, named as in CPython's pickle.py.
const (
	opMark           = '('
	opStop           = '.'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opBinInt2        = 'M'
	opInt            = 'I'
	opNone           = 'N'
	opBinFloat       = 'G'
	opBinString      = 'T'
	opShortBinString = 'U'
	opBinUnicode     = 'X'
	opAppend         = 'a'
	opAppends        = 'e'
	opBuild          = 'b'
	opGlobal         = 'c'
	opEmptyList      = ']'
	opList           = 'l'
	opEmptyTuple     = ')'
	opTuple          = 't'
	opBinGet         = 'h'
	opLongBinGet     = 'j'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opReduce         = 'R'
	opBinBytes       = 'B'
	opShortBinBytes  = 'C'
	opProto          = 0x80
	opNewObj         = 0x81
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opNewTrue        = 0x88
	opNewFalse       = 0x89
	opLong1          = 0x8a
	opShortBinUni    = 0x8c
	opBinUnicode8    = 0x8d
	opBinBytes8      = 0x8e
	opStackGlobal    = 0x93
	opMemoize        = 0x94
	opFrame          = 0x95
	opByteArray8     = 0x96
)

// maxPickleObjects bounds the values one pickle may create (and memoize),
// so that a corrupt file of tiny opcodes cannot make the reader allocate
// far more than its own size. A verification set has a few tens of
// thousands.
const maxPickleObjects = 1 << 22

// maxPickleLine bounds the text arguments of GLOBAL and INT.
const maxPickleLine = 256

// Python values as the machine represents them: nil (None), bool, int64,
// float64, string (str), *pyBytes (bytes, bytearray, Python 2 str),
// *pyList, pyTuple, *pyGlobal and *pyObject.
type (
	pyBytes struct {
		data    []byte
		dropped bool // handed to a streaming consumer and released
	}
	pyList  struct{ items []any }
	pyTuple []any
	// pyGlobal is a reference to module.name, never imported.
	pyGlobal struct{ module, name string }
	// pyObject records callable(*args) (REDUCE, NEWOBJ) and the state BUILD
	// would have set.
	pyObject struct {
		callable any
		args     pyTuple
		state    any
		built    bool
	}
)

// unpickler runs one pickle. appendHook, when set, sees every batch of
// items appended to a list before they are stored, which is how ScanBin
// streams images out.
type unpickler struct {
	r          *bufio.Reader
	path       string
	off        int64 // bytes consumed
	size       int64 // input size, or -1 when unknown
	stack      []any
	marks      []int // stack lengths at each open MARK
	memo       map[uint32]any
	objects    int
	opStart    int64 // offset of the opcode being run, for errors
	appendHook func(l *pyList, items []any) error
	firstList  *pyList // the first list created, for appendHook
}

func newUnpickler(r io.Reader, path string, size int64) *unpickler {
	return &unpickler{r: bufio.NewReader(r), path: path, size: size, memo: map[uint32]any{}}
}

func (u *unpickler) errorf(err error, format string, args ...any) error {
	return offsetError(u.path, u.opStart, err, format, args...)
}

// load runs the machine to STOP and returns the top of the stack.
func (u *unpickler) load() (any, error) {
	for {
		u.opStart = u.off
		op, err := u.byte()
		if err != nil {
			return nil, err
		}
		if op == opStop {
			if len(u.stack) != 1 || len(u.marks) != 0 {
				return nil, u.errorf(ErrSyntax, "STOP with %d values and %d marks on the stack, want 1 and 0", len(u.stack), len(u.marks))
			}
			return u.stack[0], nil
		}
		if err := u.step(op); err != nil {
			return nil, err
		}
	}
}

func (u *unpickler) step(op byte) error {
	switch op {
	case opProto:
		v, err := u.byte()
		if err != nil {
			return err
		}
		if v > 5 {
			return u.errorf(ErrUnsupported, "pickle protocol %d", v)
		}
		return nil
	case opFrame:
		// Frames only group opcodes for buffered reading; the content is
		// read as if unframed. The length is still checked.
		n, err := u.uint(8)
		if err != nil {
			return err
		}
		return u.checkAvailable(n)
	case opMark:
		u.marks = append(u.marks, len(u.stack))
		return u.count(1)
	case opNone:
		return u.push(nil)
	case opNewTrue:
		return u.push(true)
	case opNewFalse:
		return u.push(false)
	case opBinInt:
		v, err := u.uint(4)
		return u.pushValue(int64(int32(v)), err)
	case opBinInt1:
		v, err := u.uint(1)
		return u.pushValue(int64(v), err)
	case opBinInt2:
		v, err := u.uint(2)
		return u.pushValue(int64(v), err)
	case opLong1:
		return u.long1()
	case opInt:
		return u.textInt()
	case opBinFloat:
		b, err := u.bytes(8)
		if err != nil {
			return err
		}
		return u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
	case opShortBinBytes, opShortBinString:
		return u.pushBytes(1, false)
	case opBinBytes:
		return u.pushBytes(4, false)
	case opBinString:
		return u.pushBytes(4, true) // Python 2 wrote the length signed
	case opBinBytes8, opByteArray8:
		return u.pushBytes(8, false)
	case opShortBinUni:
		return u.pushString(1)
	case opBinUnicode:
		return u.pushString(4)
	case opBinUnicode8:
		return u.pushString(8)
	case opEmptyList:
		return u.push(u.newList())
	case opList:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		l := u.newList()
		if err := u.appendTo(l, items); err != nil {
			return err
		}
		return u.push(l)
	case opAppend:
		v, err := u.pop()
		if err != nil {
			return err
		}
		return u.appendToTop([]any{v})
	case opAppends:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		return u.appendToTop(items)
	case opEmptyTuple:
		return u.push(pyTuple{})
	case opTuple:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		return u.push(pyTuple(items))
	case opTuple1, opTuple2, opTuple3:
		items, err := u.popN(int(op-opTuple1) + 1)
		if err != nil {
			return err
		}
		return u.push(pyTuple(items))
	case opMemoize:
		top, err := u.top()
		if err != nil {
			return err
		}
		return u.put(uint32(len(u.memo)), top)
	case opBinPut, opLongBinPut:
		idx, err := u.uint(argSize(op, opBinPut))
		if err != nil {
			return err
		}
		top, err := u.top()
		if err != nil {
			return err
		}
		return u.put(uint32(idx), top)
	case opBinGet, opLongBinGet:
		idx, err := u.uint(argSize(op, opBinGet))
		if err != nil {
			return err
		}
		v, ok := u.memo[uint32(idx)]
		if !ok {
			return u.errorf(ErrSyntax, "memo %d not set", idx)
		}
		u.stack = append(u.stack, v) // a reference, not a new object
		return u.count(1)
	case opGlobal:
		module, err := u.line()
		if err != nil {
			return err
		}
		name, err := u.line()
		if err != nil {
			return err
		}
		return u.push(&pyGlobal{module: module, name: name})
	case opStackGlobal:
		items, err := u.popN(2)
		if err != nil {
			return err
		}
		module, ok1 := items[0].(string)
		name, ok2 := items[1].(string)
		if !ok1 || !ok2 {
			return u.errorf(ErrSyntax, "STACK_GLOBAL of %s and %s, want two str", typeName(items[0]), typeName(items[1]))
		}
		return u.push(&pyGlobal{module: module, name: name})
	case opReduce, opNewObj:
		items, err := u.popN(2)
		if err != nil {
			return err
		}
		args, ok := items[1].(pyTuple)
		if !ok {
			return u.errorf(ErrSyntax, "call with %s arguments, want a tuple", typeName(items[1]))
		}
		return u.push(reduce(items[0], args))
	case opBuild:
		state, err := u.pop()
		if err != nil {
			return err
		}
		top, err := u.top()
		if err != nil {
			return err
		}
		obj, ok := top.(*pyObject)
		if !ok || obj.built {
			return u.errorf(ErrUnsupported, "BUILD on %s", typeName(top))
		}
		obj.state, obj.built = state, true
		return nil
	}
	return u.errorf(ErrUnsupported, "pickle opcode 0x%02x", op)
}

// argSize is 1 for the short form of a memo opcode, 4 for the long one.
func argSize(op, short byte) int {
	if op == short {
		return 1
	}
	return 4
}

// reduce records callable(*args), evaluating the few pure conversions
// Python 3 uses to write bytes in protocols 2 and 3.
func reduce(callable any, args pyTuple) any {
	if g, ok := callable.(*pyGlobal); ok {
		switch g.module + "." + g.name {
		case "_codecs.encode":
			// bytes in protocol < 3: _codecs.encode(u'\xff...', 'latin1').
			if len(args) == 2 {
				s, ok1 := args[0].(string)
				enc, ok2 := args[1].(string)
				if b, ok3 := latin1(s); ok1 && ok2 && ok3 && (enc == "latin1" || enc == "latin-1") {
					return &pyBytes{data: b}
				}
			}
		case "builtins.bytes", "__builtin__.bytes", "builtins.bytearray", "__builtin__.bytearray":
			switch {
			case len(args) == 0:
				return &pyBytes{data: []byte{}}
			case len(args) == 1:
				if b, ok := args[0].(*pyBytes); ok {
					return b
				}
			case len(args) == 2: // bytearray(u'...', 'latin-1') in protocol 2
				s, ok1 := args[0].(string)
				enc, ok2 := args[1].(string)
				if b, ok3 := latin1(s); ok1 && ok2 && ok3 && (enc == "latin1" || enc == "latin-1") {
					return &pyBytes{data: b}
				}
			}
		}
	}
	return &pyObject{callable: callable, args: args}
}

// latin1 maps code points below 256 to bytes.
func latin1(s string) ([]byte, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, false
		}
		b = append(b, byte(r))
	}
	return b, true
}

func typeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case *pyBytes:
		return "bytes"
	case *pyList:
		return "list"
	case pyTuple:
		return "tuple"
	case *pyGlobal:
		return "global " + v.module + "." + v.name
	case *pyObject:
		if g, ok := v.callable.(*pyGlobal); ok {
			return "object " + g.module + "." + g.name
		}
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// count charges n objects against maxPickleObjects.
func (u *unpickler) count(n int) error {
	u.objects += n
	if u.objects > maxPickleObjects {
		return u.errorf(ErrLimit, "more than %d pickle objects", maxPickleObjects)
	}
	return nil
}

func (u *unpickler) push(v any) error {
	if err := u.count(1); err != nil {
		return err
	}
	u.stack = append(u.stack, v)
	return nil
}

func (u *unpickler) pushValue(v int64, err error) error {
	if err != nil {
		return err
	}
	return u.push(v)
}

func (u *unpickler) put(idx uint32, v any) error {
	if err := u.count(1); err != nil {
		return err
	}
	u.memo[idx] = v
	return nil
}

func (u *unpickler) top() (any, error) {
	if len(u.stack) == 0 || len(u.marks) > 0 && u.marks[len(u.marks)-1] == len(u.stack) {
		return nil, u.errorf(ErrSyntax, "stack empty")
	}
	return u.stack[len(u.stack)-1], nil
}

func (u *unpickler) pop() (any, error) {
	items, err := u.popN(1)
	if err != nil {
		return nil, err
	}
	return items[0], nil
}

// popN pops n values, which must all lie above the last MARK.
func (u *unpickler) popN(n int) ([]any, error) {
	floor := 0
	if len(u.marks) > 0 {
		floor = u.marks[len(u.marks)-1]
	}
	if len(u.stack)-floor < n {
		return nil, u.errorf(ErrSyntax, "stack holds %d values, need %d", len(u.stack)-floor, n)
	}
	return u.cut(len(u.stack) - n), nil
}

// popMark pops everything above the last MARK, and the MARK.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, u.errorf(ErrSyntax, "no MARK")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	return u.cut(m), nil
}

// cut removes stack[from:] and returns a copy of it. The vacated slots
// are cleared so that popped values (streamed images) can be collected.
func (u *unpickler) cut(from int) []any {
	items := append([]any(nil), u.stack[from:]...)
	clear(u.stack[from:])
	u.stack = u.stack[:from]
	return items
}

func (u *unpickler) newList() *pyList {
	l := &pyList{}
	if u.firstList == nil {
		u.firstList = l
	}
	return l
}

func (u *unpickler) appendToTop(items []any) error {
	top, err := u.top()
	if err != nil {
		return err
	}
	l, ok := top.(*pyList)
	if !ok {
		return u.errorf(ErrUnsupported, "append to %s", typeName(top))
	}
	return u.appendTo(l, items)
}

func (u *unpickler) appendTo(l *pyList, items []any) error {
	if u.appendHook != nil {
		if err := u.appendHook(l, items); err != nil {
			return err
		}
	}
	l.items = append(l.items, items...)
	return nil
}

// Reading primitives. Each checks what it reads against the input.

func (u *unpickler) byte() (byte, error) {
	b, err := u.r.ReadByte()
	if err != nil {
		return 0, u.readError(err)
	}
	u.off++
	return b, nil
}

func (u *unpickler) readError(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return offsetError(u.path, u.off, ErrTruncated, "pickle ends before STOP")
	}
	return fmt.Errorf("%s: offset %d: %w", u.path, u.off, err)
}

// uint reads an n-byte little-endian unsigned integer.
func (u *unpickler) uint(n int) (uint64, error) {
	var buf [8]byte
	if _, err := io.ReadFull(u.r, buf[:n]); err != nil {
		return 0, u.readError(err)
	}
	u.off += int64(n)
	return binary.LittleEndian.Uint64(buf[:]), nil
}

// checkAvailable rejects lengths the input cannot hold, when its size is
// known.
func (u *unpickler) checkAvailable(n uint64) error {
	if u.size >= 0 && n > uint64(u.size-u.off) {
		return u.errorf(ErrTruncated, "length %d, only %d bytes left", n, u.size-u.off)
	}
	if n > math.MaxInt32*4 { // past any real record and past 32-bit ints
		return u.errorf(ErrLimit, "length %d", n)
	}
	return nil
}

// bytes reads n bytes. Without a known size, memory grows with what is
// actually read (in chunks), so a huge length on a short input fails at
// the end of the input rather than allocating it up front.
func (u *unpickler) bytes(n uint64) ([]byte, error) {
	if err := u.checkAvailable(n); err != nil {
		return nil, err
	}
	b, err := readChunked(u.r, n)
	u.off += int64(len(b))
	if err != nil {
		return nil, u.readError(err)
	}
	return b, nil
}

// readChunked reads exactly n bytes. The buffer starts at no more than
// 64 KiB and grows with what has arrived (append doubles it), so memory
// stays within about twice the data actually read even when n is a lie.
func readChunked(r io.Reader, n uint64) ([]byte, error) {
	const chunk = 64 << 10
	b := make([]byte, 0, min(n, chunk))
	for uint64(len(b)) < n {
		if len(b) == cap(b) {
			b = slices.Grow(b, int(min(n-uint64(len(b)), uint64(cap(b)))))
		}
		m, err := io.ReadFull(r, b[len(b):cap(b)][:min(n-uint64(len(b)), uint64(cap(b)-len(b)))])
		b = b[:len(b)+m]
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// pushBytes reads a length of lenSize bytes, then that many bytes.
func (u *unpickler) pushBytes(lenSize int, signed bool) error {
	n, err := u.uint(lenSize)
	if err != nil {
		return err
	}
	if signed && int32(n) < 0 {
		return u.errorf(ErrSyntax, "negative length %d", int32(n))
	}
	b, err := u.bytes(n)
	if err != nil {
		return err
	}
	return u.push(&pyBytes{data: b})
}

func (u *unpickler) pushString(lenSize int) error {
	n, err := u.uint(lenSize)
	if err != nil {
		return err
	}
	b, err := u.bytes(n)
	if err != nil {
		return err
	}
	if !utf8.Valid(b) {
		// Python writes lone surrogates with surrogatepass; we have no
		// use for such strings.
		return u.errorf(ErrUnsupported, "str is not valid UTF-8")
	}
	return u.push(string(b))
}

// long1 reads a little-endian two's-complement integer of up to 8 bytes.
func (u *unpickler) long1() error {
	n, err := u.uint(1)
	if err != nil {
		return err
	}
	if n > 8 {
		return u.errorf(ErrUnsupported, "%d-byte integer", n)
	}
	b, err := u.bytes(n)
	if err != nil {
		return err
	}
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	if n > 0 && n < 8 && b[n-1]&0x80 != 0 {
		v |= ^uint64(0) << (8 * n) // sign-extend
	}
	return u.push(int64(v))
}

// textInt reads protocol 0/1 "I<digits>\n"; "I01" and "I00" are
// Python 2's True and False.
func (u *unpickler) textInt() error {
	s, err := u.line()
	if err != nil {
		return err
	}
	switch s {
	case "01":
		return u.push(true)
	case "00":
		return u.push(false)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return u.errorf(ErrSyntax, "INT %q", s)
	}
	return u.push(v)
}

// line reads a newline-terminated argument of at most maxPickleLine bytes.
func (u *unpickler) line() (string, error) {
	var b []byte
	for {
		c, err := u.byte()
		if err != nil {
			return "", err
		}
		if c == '\n' {
			return string(b), nil
		}
		if len(b) == maxPickleLine {
			return "", u.errorf(ErrLimit, "text argument longer than %d bytes", maxPickleLine)
		}
		b = append(b, c)
	}
}
