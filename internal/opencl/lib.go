// Package opencl is a thin binding to the OpenCL 1.2 host API, loaded at run
// time (github.com/ebitengine/purego), so that a binary built with it starts
// and runs on machines that have no OpenCL at all: Load then fails with an
// error saying why, and nothing else is touched.
//
// It covers what a compute engine needs and nothing more: platforms and
// devices with their properties, one context and in-order queue per device,
// buffers, programs built from source (the build log is part of the error),
// kernels with their arguments, ND-range launches, blocking reads and writes,
// fills, copies, finish and release. Every call returns an error naming the
// OpenCL function and the error code by name; none panics.
//
// Objects are plain handles. They are safe for concurrent use as OpenCL
// objects are (a kernel's arguments are not: set them and launch under one
// lock).
package opencl

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/ebitengine/purego"
	"github.com/maskinv/workbench/internal/dynlib"
)

// Sentinel errors for errors.Is, one per reason no device can be used.
var (
	// ErrNoLoader: libOpenCL.so.1 (the ICD loader, e.g. Debian's
	// ocl-icd-libopencl1) could not be loaded.
	ErrNoLoader = errors.New("no OpenCL loader")
	// ErrNoPlatform: the loader found no installed driver (ICD), e.g. no
	// file in /etc/OpenCL/vendors, or none that loads.
	ErrNoPlatform = errors.New("no OpenCL platform (driver)")
	// ErrNoDevice: platforms exist but offer no device.
	ErrNoDevice = errors.New("no OpenCL device")
	// ErrOutOfMemory matches the codes by which OpenCL reports exhausted
	// device or host memory (see Error.Is).
	ErrOutOfMemory = errors.New("out of OpenCL memory")
)

// defaultLibraries are the names Load tries, in order.
func defaultLibraries() []string {
	return []string{"libOpenCL.so.1", "libOpenCL.so", "/System/Library/Frameworks/OpenCL.framework/OpenCL"}
}

// Error is a failed OpenCL call.
type Error struct {
	Func string // the OpenCL function, e.g. "clBuildProgram"
	Code int32
	// Log is the compiler's build log for clBuildProgram failures.
	Log string
}

func (e *Error) Error() string {
	name := codeName(e.Code)
	if name == "" {
		name = "unknown error"
	}
	s := fmt.Sprintf("%s: %s (%d)", e.Func, name, e.Code)
	if e.Log != "" {
		s += "\nbuild log:\n" + e.Log
	}
	return s
}

// Is makes errors.Is(err, ErrOutOfMemory) true for allocation failures,
// and errors.Is(err, ErrNoPlatform) for CL_PLATFORM_NOT_FOUND_KHR.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrOutOfMemory:
		return e.Code == -4 || e.Code == -5 || e.Code == -6 // CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_OUT_OF_RESOURCES, CL_OUT_OF_HOST_MEMORY
	case ErrNoPlatform:
		return e.Code == -1001
	case ErrNoDevice:
		return e.Code == -1
	}
	return false
}

// CodeName names an OpenCL error code ("CL_OUT_OF_RESOURCES"), or "" when
// the code is unknown.
func CodeName(code int32) string { return codeName(code) }

func check(fn string, code uintptr) error {
	if c := int32(code); c != 0 {
		return &Error{Func: fn, Code: c}
	}
	return nil
}

// Lib is a loaded OpenCL library: the entry points this package uses.
type Lib struct {
	path string
	fn   funcs
}

type funcs struct {
	getPlatformIDs, getPlatformInfo, getDeviceIDs, getDeviceInfo    uintptr
	createContext, createCommandQueue, createBuffer                 uintptr
	createProgramWithSource, buildProgram, getProgramBuildInfo      uintptr
	createKernel, setKernelArg, getKernelWorkGroupInfo              uintptr
	enqueueNDRangeKernel, enqueueReadBuffer, enqueueWriteBuffer     uintptr
	enqueueCopyBuffer, enqueueFillBuffer, finish, flush             uintptr
	releaseMemObject, releaseKernel, releaseProgram                 uintptr
	releaseCommandQueue, releaseContext, retainContext, retainQueue uintptr
}

// Load opens the OpenCL ICD loader. With no names it tries libOpenCL.so.1,
// then libOpenCL.so (and the macOS framework). The library is never
// closed: ICDs do not survive being unloaded.
func Load(names ...string) (*Lib, error) {
	if len(names) == 0 {
		names = defaultLibraries()
	}
	h, name, err := dynlib.Open(names)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot load %s (install ocl-icd-libopencl1 and a driver such as pocl-opencl-icd or the GPU vendor's): %v",
			ErrNoLoader, strings.Join(names, ", "), err)
	}
	l := &Lib{path: name}
	if err := l.bind(h); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNoLoader, name, err)
	}
	return l, nil
}

// Path is the library name Load opened.
func (l *Lib) Path() string { return l.path }

func (l *Lib) bind(h uintptr) error {
	syms := []struct {
		p    *uintptr
		name string
	}{
		{&l.fn.getPlatformIDs, "clGetPlatformIDs"}, {&l.fn.getPlatformInfo, "clGetPlatformInfo"},
		{&l.fn.getDeviceIDs, "clGetDeviceIDs"}, {&l.fn.getDeviceInfo, "clGetDeviceInfo"},
		{&l.fn.createContext, "clCreateContext"}, {&l.fn.createCommandQueue, "clCreateCommandQueue"},
		{&l.fn.createBuffer, "clCreateBuffer"}, {&l.fn.createProgramWithSource, "clCreateProgramWithSource"},
		{&l.fn.buildProgram, "clBuildProgram"}, {&l.fn.getProgramBuildInfo, "clGetProgramBuildInfo"},
		{&l.fn.createKernel, "clCreateKernel"}, {&l.fn.setKernelArg, "clSetKernelArg"},
		{&l.fn.getKernelWorkGroupInfo, "clGetKernelWorkGroupInfo"},
		{&l.fn.enqueueNDRangeKernel, "clEnqueueNDRangeKernel"}, {&l.fn.enqueueReadBuffer, "clEnqueueReadBuffer"},
		{&l.fn.enqueueWriteBuffer, "clEnqueueWriteBuffer"}, {&l.fn.enqueueCopyBuffer, "clEnqueueCopyBuffer"},
		{&l.fn.enqueueFillBuffer, "clEnqueueFillBuffer"}, {&l.fn.finish, "clFinish"}, {&l.fn.flush, "clFlush"},
		{&l.fn.releaseMemObject, "clReleaseMemObject"}, {&l.fn.releaseKernel, "clReleaseKernel"},
		{&l.fn.releaseProgram, "clReleaseProgram"}, {&l.fn.releaseCommandQueue, "clReleaseCommandQueue"},
		{&l.fn.releaseContext, "clReleaseContext"}, {&l.fn.retainContext, "clRetainContext"},
		{&l.fn.retainQueue, "clRetainCommandQueue"},
	}
	for _, s := range syms {
		p, ok := dynlib.Symbol(h, s.name)
		if !ok {
			return fmt.Errorf("missing %s (an OpenCL 1.2 loader is required)", s.name)
		}
		*s.p = p
	}
	return nil
}

// call invokes an OpenCL entry point. Pointer arguments are converted to
// uintptr in the argument list of the call, which go:uintptrescapes makes
// safe: what they point to is kept on the heap and alive for the call.
//
//go:uintptrescapes
func call(fn uintptr, args ...uintptr) uintptr {
	r, _, _ := purego.SyscallN(fn, args...)
	return r
}

// infoString reads a string property through a clGet*Info function.
func (l *Lib) infoString(fn uintptr, fnName string, obj uintptr, param uint32) (string, error) {
	var size uintptr
	if err := check(fnName, call(fn, obj, uintptr(param), 0, 0, uintptr(unsafe.Pointer(&size)))); err != nil {
		return "", err
	}
	if size == 0 {
		return "", nil
	}
	buf := make([]byte, size)
	if err := check(fnName, call(fn, obj, uintptr(param), size, uintptr(unsafe.Pointer(&buf[0])), 0)); err != nil {
		return "", err
	}
	return strings.TrimSpace(strings.TrimRight(string(buf), "\x00")), nil
}

// infoUint reads an integer property (cl_uint, cl_ulong, size_t, cl_bool
// or a bitfield) of the given byte size.
func (l *Lib) infoUint(fn uintptr, fnName string, obj uintptr, param uint32, size uintptr) (uint64, error) {
	var v uint64
	if err := check(fnName, call(fn, obj, uintptr(param), size, uintptr(unsafe.Pointer(&v)), 0)); err != nil {
		return 0, err
	}
	switch size {
	case 4:
		return uint64(uint32(v)), nil
	default:
		return v, nil
	}
}
