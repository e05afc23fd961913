package opencl

import (
	"fmt"
	"unsafe"
)

// Kernel is one __kernel function of a built program. Setting arguments and
// launching must not interleave with another goroutine's use of the same
// kernel.
type Kernel struct {
	prog *Program
	k    uintptr
	Name string
	// MaxWorkGroup is the largest work-group this kernel can run with on
	// the device (often below the device's maximum, by register use), and
	// PreferredMultiple the work-group size granularity the device likes.
	MaxWorkGroup, PreferredMultiple int
}

// Kernel looks up a kernel by name.
func (p *Program) Kernel(name string) (*Kernel, error) {
	c := p.ctx
	var code int32
	nm := append([]byte(name), 0)
	k := call(c.lib.fn.createKernel, p.prog, uintptr(unsafe.Pointer(&nm[0])), uintptr(unsafe.Pointer(&code)))
	if code != 0 || k == 0 {
		return nil, fmt.Errorf("kernel %s: %w", name, &Error{Func: "clCreateKernel", Code: nonZero(code)})
	}
	kr := &Kernel{prog: p, k: k, Name: name}
	for _, f := range []struct {
		param uint32
		dst   *int
	}{{clKernelWorkGroup, &kr.MaxWorkGroup}, {clKernelPreferredMul, &kr.PreferredMultiple}} {
		var v uintptr
		r := call(c.lib.fn.getKernelWorkGroupInfo, k, c.Device.id, uintptr(f.param), unsafe.Sizeof(v), uintptr(unsafe.Pointer(&v)), 0)
		if err := check("clGetKernelWorkGroupInfo", r); err != nil {
			call(c.lib.fn.releaseKernel, k)
			return nil, fmt.Errorf("kernel %s: %w", name, err)
		}
		*f.dst = int(v)
	}
	return kr, nil
}

// Release frees the kernel.
func (k *Kernel) Release() error {
	if k == nil || k.k == 0 {
		return nil
	}
	err := check("clReleaseKernel", call(k.prog.ctx.lib.fn.releaseKernel, k.k))
	k.k = 0
	return err
}

// Local reserves n bytes of local (work-group shared) memory as a kernel
// argument.
type Local int

// Int8 is OpenCL's int8 vector (eight 32-bit ints), how shapes and strides
// of up to eight dimensions travel in one argument.
type Int8 [8]int32

// SetArgs sets the kernel's arguments in order. Each is a *Buffer, an
// int32, uint32, int64, float32, Int8 or Local.
func (k *Kernel) SetArgs(args ...any) error {
	for i, a := range args {
		if err := k.setArg(i, a); err != nil {
			return fmt.Errorf("kernel %s argument %d: %w", k.Name, i, err)
		}
	}
	return nil
}

func (k *Kernel) setArg(i int, a any) error {
	fn := k.prog.ctx.lib.fn.setKernelArg
	switch v := a.(type) {
	case *Buffer:
		if v == nil || v.mem == 0 {
			return fmt.Errorf("nil or released buffer")
		}
		return check("clSetKernelArg", call(fn, k.k, uintptr(i), unsafe.Sizeof(v.mem), uintptr(unsafe.Pointer(&v.mem))))
	case int32:
		return check("clSetKernelArg", call(fn, k.k, uintptr(i), 4, uintptr(unsafe.Pointer(&v))))
	case uint32:
		return check("clSetKernelArg", call(fn, k.k, uintptr(i), 4, uintptr(unsafe.Pointer(&v))))
	case int64:
		return check("clSetKernelArg", call(fn, k.k, uintptr(i), 8, uintptr(unsafe.Pointer(&v))))
	case float32:
		return check("clSetKernelArg", call(fn, k.k, uintptr(i), 4, uintptr(unsafe.Pointer(&v))))
	case Int8:
		return check("clSetKernelArg", call(fn, k.k, uintptr(i), 32, uintptr(unsafe.Pointer(&v[0]))))
	case Local:
		return check("clSetKernelArg", call(fn, k.k, uintptr(i), uintptr(v), 0))
	}
	return fmt.Errorf("unsupported argument type %T", a)
}

// Launch enqueues the kernel over an ND-range of global work-items in
// work-groups of local (nil: the driver chooses). Each global size must be
// a multiple of its local size (OpenCL 1.2).
func (k *Kernel) Launch(global, local []int) error {
	if len(global) < 1 || len(global) > 3 || (local != nil && len(local) != len(global)) {
		return fmt.Errorf("kernel %s: bad ND-range %v / %v", k.Name, global, local)
	}
	var g, l [3]uintptr
	for i, v := range global {
		if v < 1 {
			return fmt.Errorf("kernel %s: empty ND-range %v", k.Name, global)
		}
		g[i] = uintptr(v)
		if local != nil {
			if local[i] < 1 || v%local[i] != 0 {
				return fmt.Errorf("kernel %s: global size %v is not a multiple of local size %v", k.Name, global, local)
			}
			l[i] = uintptr(local[i])
		}
	}
	c := k.prog.ctx
	var r uintptr
	if local != nil {
		r = call(c.lib.fn.enqueueNDRangeKernel, c.queue, k.k, uintptr(len(global)), 0, uintptr(unsafe.Pointer(&g[0])),
			uintptr(unsafe.Pointer(&l[0])), 0, 0, 0)
	} else {
		r = call(c.lib.fn.enqueueNDRangeKernel, c.queue, k.k, uintptr(len(global)), 0, uintptr(unsafe.Pointer(&g[0])), 0, 0, 0, 0)
	}
	if err := check("clEnqueueNDRangeKernel", r); err != nil {
		return fmt.Errorf("kernel %s %v/%v: %w", k.Name, global, local, err)
	}
	return nil
}
