// Package clblast calls CLBlast's single-precision matrix products on
// buffers of package opencl. The library (libclblast.so.1) is loaded at run
// time, like OpenCL itself, so binaries run without it; its entry points
// take more arguments than purego passes, so a small cgo trampoline calls
// the function pointer dlsym found.
package clblast

/*
#include <stddef.h>
#include <stdint.h>

typedef int (*sgemm_batched_fn)(int, int, int, size_t, size_t, size_t, float,
	uintptr_t, size_t, size_t, size_t, uintptr_t, size_t, size_t, size_t, float,
	uintptr_t, size_t, size_t, size_t, size_t, uintptr_t *, uintptr_t *);

// cl_mem and cl_command_queue are pointers, passed here as uintptr_t
// (the same registers on every 64-bit ABI); the queue goes by address.
static int call_sgemm_batched(uintptr_t fn, int ta, int tb, size_t m, size_t n, size_t k, float alpha,
		uintptr_t a, size_t aoff, size_t lda, size_t astride, uintptr_t b, size_t boff, size_t ldb, size_t bstride,
		float beta, uintptr_t c, size_t coff, size_t ldc, size_t cstride, size_t count, uintptr_t queue) {
	uintptr_t q = queue;
	return ((sgemm_batched_fn)fn)(101, ta ? 112 : 111, tb ? 112 : 111, m, n, k, alpha,
		a, aoff, lda, astride, b, boff, ldb, bstride, beta, c, coff, ldc, cstride, count, &q, NULL);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"

	"github.com/maskinv/workbench/internal/dynlib"
	"github.com/maskinv/workbench/internal/opencl"
)

// ErrNotFound: libclblast.so.1 could not be loaded.
var ErrNotFound = errors.New("CLBlast not found")

// Lib is a loaded CLBlast.
type Lib struct {
	path    string
	batched uintptr // CLBlastSgemmStridedBatched
}

// Load opens CLBlast (libclblast.so.1, then libclblast.so).
func Load(names ...string) (*Lib, error) {
	if len(names) == 0 {
		names = []string{"libclblast.so.1", "libclblast.so"}
	}
	h, name, err := dynlib.Open(names)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot load %s (install libclblast1): %v", ErrNotFound, strings.Join(names, ", "), err)
	}
	l := &Lib{path: name}
	// One routine serves every product (a single one is a batch of one):
	// each CLBlast routine is a program compiled at first use, which takes
	// long on some devices.
	var ok bool
	if l.batched, ok = dynlib.Symbol(h, "CLBlastSgemmStridedBatched"); !ok {
		return nil, fmt.Errorf("%w: %s lacks CLBlastSgemmStridedBatched (CLBlast 1.5 or later is needed)", ErrNotFound, name)
	}
	return l, nil
}

// Path is the library name Load opened.
func (l *Lib) Path() string { return l.path }

// Error is a failed CLBlast call.
type Error struct {
	Func string
	Code int32
}

func (e *Error) Error() string {
	name := opencl.CodeName(e.Code)
	if name == "" {
		name = codeName(e.Code)
	}
	return fmt.Sprintf("%s: %s (%d)", e.Func, name, e.Code)
}

// Is makes errors.Is(err, opencl.ErrOutOfMemory) hold for allocation
// failures, as for OpenCL's own errors.
func (e *Error) Is(target error) bool {
	return target == opencl.ErrOutOfMemory && (e.Code == -4 || e.Code == -5 || e.Code == -6)
}

func codeName(code int32) string {
	switch code {
	case -1024:
		return "CLBlastNotImplemented"
	case -1017:
		return "CLBlastInvalidDimension"
	case -1016, -1015, -1014:
		return "CLBlastInvalidLeadDim"
	case -1011, -1010, -1009:
		return "CLBlastInsufficientMemory"
	case -2049:
		return "CLBlastInvalidBatchCount"
	case -2046:
		return "CLBlastInvalidLocalMemUsage"
	case -2041:
		return "CLBlastDatabaseError"
	case -2040:
		return "CLBlastUnknownError"
	case -2039:
		return "CLBlastUnexpectedError"
	}
	return "unknown CLBlast error"
}

// Matrix is a row-major matrix in a buffer: its first element's offset and
// its row stride, in float32 elements.
type Matrix struct {
	Buf         *opencl.Buffer
	Offset, Ld  int
	Trans       bool // use the transpose
	BatchStride int  // elements between consecutive matrices of a batch
}

// SgemmBatched enqueues count products C = alpha·op(A)·op(B) + beta·C (C
// is m×n, the inner dimension k) on ctx's queue; matrix i of each operand
// starts BatchStride elements after matrix i−1 (0 repeats one matrix).
func (l *Lib) SgemmBatched(ctx *opencl.Context, m, n, k int, alpha float32, a, b Matrix, beta float32, c Matrix, count int) error {
	r := C.call_sgemm_batched(C.uintptr_t(l.batched), b2i(a.Trans), b2i(b.Trans), C.size_t(m), C.size_t(n), C.size_t(k), C.float(alpha),
		C.uintptr_t(a.Buf.Handle()), C.size_t(a.Offset), C.size_t(a.Ld), C.size_t(a.BatchStride),
		C.uintptr_t(b.Buf.Handle()), C.size_t(b.Offset), C.size_t(b.Ld), C.size_t(b.BatchStride),
		C.float(beta), C.uintptr_t(c.Buf.Handle()), C.size_t(c.Offset), C.size_t(c.Ld), C.size_t(c.BatchStride),
		C.size_t(count), C.uintptr_t(ctx.QueueHandle()))
	if r != 0 {
		return &Error{Func: "CLBlastSgemmStridedBatched", Code: int32(r)}
	}
	return nil
}

func b2i(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
