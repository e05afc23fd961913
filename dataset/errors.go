package dataset

import (
	"errors"
	"fmt"
)

// Sentinel errors, to be tested with errors.Is. Readers wrap them in a
// *ParseError naming the file and where in it the problem is.
var (
	// ErrSyntax: the input is not valid in its format.
	ErrSyntax = errors.New("syntax error")
	// ErrUnsupported: valid in its format, but a variant we do not read
	// (e.g. an unknown pickle opcode or object).
	ErrUnsupported = errors.New("unsupported")
	// ErrTruncated: the input ends inside a structure.
	ErrTruncated = errors.New("unexpected end of input")
	// ErrLimit: the input asks for more than the reader allows (objects,
	// nesting), a guard against corrupt or hostile files.
	ErrLimit = errors.New("limit exceeded")
	// ErrNotFound: a key, image or label the input refers to is missing.
	ErrNotFound = errors.New("not found")
	// ErrTooFew: a dataset cannot give the pairs asked for.
	ErrTooFew = errors.New("not enough images")
)

// ParseError locates an error in an input file: by line for text formats,
// by byte offset for binary ones.
type ParseError struct {
	Path   string // file name as given to the reader
	Line   int    // 1-based line for text formats, 0 for binary ones
	Offset int64  // byte offset for binary formats
	Msg    string // what was wrong, in words
	Err    error  // sentinel: ErrSyntax, ErrUnsupported, ...
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %v", e.Path, e.Line, e.Msg, e.Err)
	}
	return fmt.Sprintf("%s: offset %d: %s: %v", e.Path, e.Offset, e.Msg, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// lineError is a ParseError for a text format.
func lineError(path string, line int, err error, format string, args ...any) error {
	return &ParseError{Path: path, Line: line, Msg: fmt.Sprintf(format, args...), Err: err}
}

// offsetError is a ParseError for a binary format.
func offsetError(path string, off int64, err error, format string, args ...any) error {
	return &ParseError{Path: path, Offset: off, Msg: fmt.Sprintf(format, args...), Err: err}
}
