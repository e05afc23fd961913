package opencl

import (
	"errors"
	"fmt"
	"math"
	"unsafe"
)

const (
	clContextPlatform    = 0x1084
	clMemReadWrite       = 1 << 0
	clProgramBuildLog    = 0x1183
	clKernelWorkGroup    = 0x11B0
	clKernelPreferredMul = 0x11B3
)

// Context is an OpenCL context on one device with one in-order command
// queue: everything enqueued runs in the order it was enqueued.
type Context struct {
	lib    *Lib
	Device *Device
	ctx    uintptr
	queue  uintptr
}

// NewContext creates a context and an in-order queue on d.
func (d *Device) NewContext() (*Context, error) {
	l := d.lib
	props := []uintptr{clContextPlatform, d.Platform.id, 0}
	var code int32
	ctx := call(l.fn.createContext, uintptr(unsafe.Pointer(&props[0])), 1, uintptr(unsafe.Pointer(&d.id)), 0, 0, uintptr(unsafe.Pointer(&code)))
	if code != 0 || ctx == 0 {
		return nil, fmt.Errorf("device %s: %w", d.Name, &Error{Func: "clCreateContext", Code: nonZero(code)})
	}
	q := call(l.fn.createCommandQueue, ctx, d.id, 0, uintptr(unsafe.Pointer(&code)))
	if code != 0 || q == 0 {
		call(l.fn.releaseContext, ctx)
		return nil, fmt.Errorf("device %s: %w", d.Name, &Error{Func: "clCreateCommandQueue", Code: nonZero(code)})
	}
	return &Context{lib: l, Device: d, ctx: ctx, queue: q}, nil
}

// nonZero turns a success code that came with a null handle into a failure.
func nonZero(code int32) int32 {
	if code == 0 {
		return -30 // CL_INVALID_VALUE
	}
	return code
}

// Release frees the queue and the context after the queue's work is done.
// Buffers, programs and kernels made from the context must be released
// first.
func (c *Context) Release() error {
	if c == nil || c.ctx == 0 {
		return nil
	}
	err := c.Finish()
	err = errors.Join(err, check("clReleaseCommandQueue", call(c.lib.fn.releaseCommandQueue, c.queue)))
	err = errors.Join(err, check("clReleaseContext", call(c.lib.fn.releaseContext, c.ctx)))
	c.ctx, c.queue = 0, 0
	return err
}

// Finish blocks until everything enqueued has completed; errors of earlier
// launches that only show when they run are reported here.
func (c *Context) Finish() error {
	return check("clFinish", call(c.lib.fn.finish, c.queue))
}

// Flush submits the enqueued work to the device without waiting.
func (c *Context) Flush() error {
	return check("clFlush", call(c.lib.fn.flush, c.queue))
}

// Buffer is device memory.
type Buffer struct {
	ctx  *Context
	mem  uintptr
	Size int64 // bytes
}

// NewBuffer allocates size bytes of read-write device memory. Many drivers
// allocate lazily: running out of memory may only show at the first use.
func (c *Context) NewBuffer(size int64) (*Buffer, error) {
	if size <= 0 {
		return nil, fmt.Errorf("clCreateBuffer: size %d", size)
	}
	if size > c.Device.MaxAlloc && c.Device.MaxAlloc > 0 {
		return nil, fmt.Errorf("buffer of %d bytes exceeds the device's largest allocation (%d bytes): %w",
			size, c.Device.MaxAlloc, &Error{Func: "clCreateBuffer", Code: -61})
	}
	var code int32
	mem := call(c.lib.fn.createBuffer, c.ctx, clMemReadWrite, uintptr(size), 0, uintptr(unsafe.Pointer(&code)))
	if code != 0 || mem == 0 {
		return nil, fmt.Errorf("buffer of %d bytes: %w", size, &Error{Func: "clCreateBuffer", Code: nonZero(code)})
	}
	return &Buffer{ctx: c, mem: mem, Size: size}, nil
}

// Handle is the buffer's cl_mem, for libraries that take OpenCL objects
// (CLBlast).
func (b *Buffer) Handle() uintptr { return b.mem }

// QueueHandle is the context's cl_command_queue, for libraries that
// enqueue on it (CLBlast).
func (c *Context) QueueHandle() uintptr { return c.queue }

// Release frees the buffer; releasing a nil or released buffer does nothing.
func (b *Buffer) Release() error {
	if b == nil || b.mem == 0 {
		return nil
	}
	err := check("clReleaseMemObject", call(b.ctx.lib.fn.releaseMemObject, b.mem))
	b.mem = 0
	return err
}

func (b *Buffer) span(offset, n int64, what string) error {
	if b == nil || b.mem == 0 {
		return fmt.Errorf("%s: released or nil buffer", what)
	}
	if offset < 0 || n < 0 || offset+n > b.Size {
		return fmt.Errorf("%s: bytes [%d,%d) outside a buffer of %d", what, offset, offset+n, b.Size)
	}
	return nil
}

// Write copies data into the buffer at a byte offset and returns when the
// copy is done (the host slice may be reused at once).
func (b *Buffer) Write(offset int64, data []float32) error {
	return b.transfer("clEnqueueWriteBuffer", func(f *funcs) uintptr { return f.enqueueWriteBuffer }, offset, data)
}

// Read copies len(dst) floats from the buffer at a byte offset, after all
// work enqueued before it, and returns when they have arrived.
func (b *Buffer) Read(offset int64, dst []float32) error {
	return b.transfer("clEnqueueReadBuffer", func(f *funcs) uintptr { return f.enqueueReadBuffer }, offset, dst)
}

// transfer makes a blocking clEnqueueReadBuffer or clEnqueueWriteBuffer
// call (fn picks which; they take the same arguments) for data at a byte
// offset. The entry point is looked up only after span has checked b.
func (b *Buffer) transfer(fnName string, fn func(*funcs) uintptr, offset int64, data []float32) error {
	n := int64(len(data)) * 4
	if err := b.span(offset, n, fnName); err != nil || n == 0 {
		return err
	}
	c := b.ctx
	return check(fnName, call(fn(&c.lib.fn), c.queue, b.mem, 1, uintptr(offset), uintptr(n),
		uintptr(unsafe.Pointer(&data[0])), 0, 0, 0))
}

// Fill sets n floats from a byte offset to v (enqueued, not waited for).
func (b *Buffer) Fill(offset int64, n int, v float32) error {
	size := int64(n) * 4
	if err := b.span(offset, size, "clEnqueueFillBuffer"); err != nil || n == 0 {
		return err
	}
	c := b.ctx
	bits := math.Float32bits(v)
	return check("clEnqueueFillBuffer", call(c.lib.fn.enqueueFillBuffer, c.queue, b.mem, uintptr(unsafe.Pointer(&bits)), 4,
		uintptr(offset), uintptr(size), 0, 0, 0))
}

// CopyTo enqueues a copy of n bytes from this buffer to dst.
func (b *Buffer) CopyTo(dst *Buffer, srcOffset, dstOffset, n int64) error {
	if err := b.span(srcOffset, n, "clEnqueueCopyBuffer"); err != nil || n == 0 {
		return err
	}
	if err := dst.span(dstOffset, n, "clEnqueueCopyBuffer"); err != nil {
		return err
	}
	c := b.ctx
	return check("clEnqueueCopyBuffer", call(c.lib.fn.enqueueCopyBuffer, c.queue, b.mem, dst.mem,
		uintptr(srcOffset), uintptr(dstOffset), uintptr(n), 0, 0, 0))
}

// Program is OpenCL C source built for the context's device.
type Program struct {
	ctx  *Context
	prog uintptr
}

// Build compiles source with the given options ("-cl-fast-relaxed-math",
// "-D NAME=V" …). A compile error returns the build log in the error.
func (c *Context) Build(source, options string) (*Program, error) {
	src := append([]byte(source), 0)
	srcPtr := &src[0]
	length := uintptr(len(source))
	var code int32
	prog := call(c.lib.fn.createProgramWithSource, c.ctx, 1, uintptr(unsafe.Pointer(&srcPtr)), uintptr(unsafe.Pointer(&length)),
		uintptr(unsafe.Pointer(&code)))
	if code != 0 || prog == 0 {
		return nil, &Error{Func: "clCreateProgramWithSource", Code: nonZero(code)}
	}
	opts := append([]byte(options), 0)
	r := call(c.lib.fn.buildProgram, prog, 1, uintptr(unsafe.Pointer(&c.Device.id)), uintptr(unsafe.Pointer(&opts[0])), 0, 0)
	if err := check("clBuildProgram", r); err != nil {
		e := err.(*Error)
		e.Log, _ = c.buildLog(prog)
		call(c.lib.fn.releaseProgram, prog)
		return nil, e
	}
	return &Program{ctx: c, prog: prog}, nil
}

func (c *Context) buildLog(prog uintptr) (string, error) {
	l := c.lib
	var size uintptr
	if err := check("clGetProgramBuildInfo", call(l.fn.getProgramBuildInfo, prog, c.Device.id, clProgramBuildLog, 0, 0,
		uintptr(unsafe.Pointer(&size)))); err != nil || size == 0 {
		return "", err
	}
	buf := make([]byte, size)
	err := check("clGetProgramBuildInfo", call(l.fn.getProgramBuildInfo, prog, c.Device.id, clProgramBuildLog, size,
		uintptr(unsafe.Pointer(&buf[0])), 0))
	return string(trimNul(buf)), err
}

func trimNul(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// Release frees the program; its kernels must be released first.
func (p *Program) Release() error {
	if p == nil || p.prog == 0 {
		return nil
	}
	err := check("clReleaseProgram", call(p.ctx.lib.fn.releaseProgram, p.prog))
	p.prog = 0
	return err
}
