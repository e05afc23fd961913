package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// NumPy's .npy format (version 1.0 written; 1.0 to 3.0 read): the magic
// "\x93NUMPY", a major and minor version byte, the header's length (uint16
// LE in 1.0, uint32 LE in 2.0 and 3.0), and the header: a Python dict
// literal with 'descr', 'fortran_order' and 'shape', padded with spaces and
// ended by a newline so that the data starts at a multiple of 64 bytes
// (which also keeps every float32 row aligned in a memory map).

var npyMagic = []byte("\x93NUMPY")

// npyAlign is where numpy (since 1.14) starts the data.
const npyAlign = 64

// maxNPYHeader bounds a header: numpy's own are under 200 bytes.
const maxNPYHeader = 1 << 16

// errNPY marks a .npy header we cannot use; the caller names the file.
var errNPY = errors.New("bad .npy header")

// npyHeader is the header of a rows×cols little-endian float32 C-order
// array: the bytes before the data, a multiple of npyAlign long.
func npyHeader(rows, cols int) []byte {
	dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", rows, cols)
	pre := len(npyMagic) + 2 + 2
	total := (pre + len(dict) + 1 + npyAlign - 1) / npyAlign * npyAlign
	h := make([]byte, 0, total)
	h = append(h, npyMagic...)
	h = append(h, 1, 0)
	h = binary.LittleEndian.AppendUint16(h, uint16(total-pre))
	h = append(h, dict...)
	for len(h) < total-1 {
		h = append(h, ' ')
	}
	return append(h, '\n')
}

// npyInfo is what a header says.
type npyInfo struct {
	rows, cols int
	offset     int // where the data starts
}

// parseNPYPrefix reads the fixed part of a header from the first bytes
// of a file (at least 12) and returns the total header length.
func parseNPYPrefix(b []byte) (int, error) {
	if len(b) < 10 || !bytes.Equal(b[:6], npyMagic) {
		return 0, fmt.Errorf("%w: not a .npy file (no \\x93NUMPY magic)", errNPY)
	}
	switch b[6] {
	case 1:
		return 10 + int(binary.LittleEndian.Uint16(b[8:10])), nil
	case 2, 3:
		if len(b) < 12 {
			return 0, fmt.Errorf("%w: truncated", errNPY)
		}
		n := binary.LittleEndian.Uint32(b[8:12])
		if n > maxNPYHeader {
			return 0, fmt.Errorf("%w: header of %d bytes", errNPY, n)
		}
		return 12 + int(n), nil
	}
	return 0, fmt.Errorf("%w: format version %d.%d, want 1.0 to 3.0", errNPY, b[6], b[7])
}

// parseNPYHeader reads a whole header (its bytes up to the data) of a
// 2-D little-endian float32 C-order array.
func parseNPYHeader(b []byte) (npyInfo, error) {
	end, err := parseNPYPrefix(b)
	if err != nil {
		return npyInfo{}, err
	}
	if len(b) < end {
		return npyInfo{}, fmt.Errorf("%w: truncated (%d of %d header bytes)", errNPY, len(b), end)
	}
	start := 10
	if b[6] != 1 {
		start = 12
	}
	if end%4 != 0 {
		return npyInfo{}, fmt.Errorf("%w: data at byte %d is not 4-byte aligned", errNPY, end)
	}
	dict, err := parsePyDict(string(b[start:end]))
	if err != nil {
		return npyInfo{}, fmt.Errorf("%w: %v", errNPY, err)
	}
	if d := dict["descr"]; d != "'<f4'" {
		return npyInfo{}, fmt.Errorf("%w: dtype %s, want '<f4' (little-endian float32)", errNPY, d)
	}
	if f := dict["fortran_order"]; f != "False" {
		return npyInfo{}, fmt.Errorf("%w: fortran_order %s, want False", errNPY, f)
	}
	shape, err := parseShape(dict["shape"])
	if err != nil {
		return npyInfo{}, fmt.Errorf("%w: %v", errNPY, err)
	}
	if len(shape) != 2 {
		return npyInfo{}, fmt.Errorf("%w: shape %s, want 2-D (rows, dim)", errNPY, dict["shape"])
	}
	if shape[1] < 1 || shape[1] > maxCols {
		return npyInfo{}, fmt.Errorf("%w: %d columns, want 1 to %d", errNPY, shape[1], maxCols)
	}
	return npyInfo{rows: shape[0], cols: shape[1], offset: end}, nil
}

// parsePyDict reads the flat dict literal of a .npy header: keys are
// quoted strings, values are strings, True/False or a tuple of integers,
// kept as their source text. The three keys numpy writes are required.
func parsePyDict(s string) (map[string]string, error) {
	s = strings.TrimRight(s, " \n\x00")
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, errors.New("header is not a {...} dict")
	}
	s = s[1 : len(s)-1]
	m := map[string]string{}
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			break
		}
		key, rest, err := pyString(s)
		if err != nil {
			return nil, err
		}
		rest = strings.TrimLeft(rest, " ")
		if !strings.HasPrefix(rest, ":") {
			return nil, fmt.Errorf("no ':' after key %q", key)
		}
		val, rest, err := pyValue(strings.TrimLeft(rest[1:], " "))
		if err != nil {
			return nil, fmt.Errorf("key %q: %v", key, err)
		}
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("key %q twice", key)
		}
		m[key] = val
		rest = strings.TrimLeft(rest, " ")
		if rest != "" && !strings.HasPrefix(rest, ",") {
			return nil, fmt.Errorf("no ',' after key %q", key)
		}
		s = strings.TrimPrefix(rest, ",")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if _, ok := m[k]; !ok {
			return nil, fmt.Errorf("no %q key", k)
		}
	}
	return m, nil
}

// pyString reads a quoted string without escapes at the start of s.
func pyString(s string) (val, rest string, err error) {
	if s == "" || (s[0] != '\'' && s[0] != '"') {
		return "", "", fmt.Errorf("expected a quoted string at %.20q", s)
	}
	end := strings.IndexByte(s[1:], s[0])
	if end < 0 {
		return "", "", errors.New("unterminated string")
	}
	return s[1 : end+1], s[end+2:], nil
}

// pyValue reads a string, True, False or a parenthesised tuple at the start
// of s, returning its text (strings normalised to single quotes).
func pyValue(s string) (val, rest string, err error) {
	switch {
	case strings.HasPrefix(s, "'"), strings.HasPrefix(s, `"`):
		v, rest, err := pyString(s)
		return "'" + v + "'", rest, err
	case strings.HasPrefix(s, "True"):
		return "True", s[4:], nil
	case strings.HasPrefix(s, "False"):
		return "False", s[5:], nil
	case strings.HasPrefix(s, "("):
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return "", "", errors.New("unterminated tuple")
		}
		return s[:end+1], s[end+1:], nil
	}
	return "", "", fmt.Errorf("unsupported value at %.20q", s)
}

// maxDim bounds each dimension and maxCols the row length, so that
// rows×cols×4 cannot overflow.
const (
	maxDim  = 1 << 40
	maxCols = 1 << 20
)

// parseShape reads "(a, b)" or "(a,)" or "()".
func parseShape(s string) ([]int, error) {
	inner := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "("), ")"))
	inner = strings.TrimSuffix(inner, ",")
	if strings.TrimSpace(inner) == "" {
		return nil, nil
	}
	var dims []int
	for _, part := range strings.Split(inner, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || v < 0 || v > maxDim {
			return nil, fmt.Errorf("shape %s: bad dimension %q", s, part)
		}
		dims = append(dims, v)
	}
	return dims, nil
}
