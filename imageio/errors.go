package imageio

import (
	"errors"
	"fmt"
)

// Sentinel kinds of decode failure. Every error returned by this package is an
// *Error whose Kind is one of these, so callers can branch with errors.Is
// without parsing messages.
var (
	// ErrFormat: the bytes are not an image in a format this package reads
	// (includes empty files and text files).
	ErrFormat = errors.New("not a supported image format")
	// ErrUnsupported: a known format using a feature its decoder lacks
	// (e.g. arithmetic-coded JPEG, 4-component JPEG without Adobe marker).
	ErrUnsupported = errors.New("unsupported image variant")
	// ErrCorrupt: the file claims a known format but is truncated or malformed.
	ErrCorrupt = errors.New("corrupt or truncated image")
	// ErrTooLarge: the header declares more pixels (or the file more bytes)
	// than the configured budget; nothing was allocated for the pixels.
	ErrTooLarge = errors.New("image exceeds the size budget")
)

// Error describes a failure to read one image.
type Error struct {
	Path   string // file name, or the name given to DecodeReader
	Format string // "jpeg", "png", … when the format was recognised
	Kind   error  // ErrFormat, ErrUnsupported, ErrCorrupt or ErrTooLarge
	Err    error  // underlying cause; may be nil
}

func (e *Error) Error() string {
	where := e.Path
	if where == "" {
		where = "<input>"
	}
	if e.Format != "" {
		where += " (" + e.Format + ")"
	}
	if e.Err == nil {
		return fmt.Sprintf("decode %s: %v", where, e.Kind)
	}
	return fmt.Sprintf("decode %s: %v: %v", where, e.Kind, e.Err)
}

// Unwrap exposes both the kind and the cause, so errors.Is works with the
// sentinels above as well as with causes such as io.ErrUnexpectedEOF.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}
