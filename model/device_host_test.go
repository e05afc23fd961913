package model

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/maskinv/workbench/internal/sharedtest"
)

// hostBackend is the smallest backend: buffers are host slices and every
// kernel runs its CPU code. It checks what is device-independent (plans,
// slots, views, weights, batch splitting) without a device, and shows what
// implementing the backend interface takes.
type hostBackend struct{ allocs *int }

type hostBuffer struct{ d []float32 }

func (b *hostBuffer) write(src []float32) error { copy(b.d, src); return nil }
func (b *hostBuffer) read(dst []float32) error  { copy(dst, b.d); return nil }
func (b *hostBuffer) len() int                  { return len(b.d) }
func (b *hostBuffer) release() error            { b.d = nil; return nil }

func (h hostBackend) alloc(n int) (buffer, error) {
	if h.allocs != nil {
		*h.allocs++
	}
	d := make([]float32, max(n, 1))
	for i := range d {
		d[i] = nan32() // a kernel that leaves a value unwritten shows
	}
	return &hostBuffer{d}, nil
}

func (h hostBackend) run(k kernel, out devTensor, in []devTensor) error {
	args := make([][]float32, len(in))
	for i, t := range in {
		args[i] = t.buf.(*hostBuffer).d[:t.n]
	}
	k.do32(out.buf.(*hostBuffer).d[:out.n], args)
	return nil
}

func (h hostBackend) wait() error  { return nil }
func (h hostBackend) close() error { return nil }

func newHostDevice(limit int64, maxBatch int, allocs *int) *Device {
	return &Device{spec: DeviceSpec{Kind: DeviceOpenCL}, info: DeviceInfo{Spec: "host", Name: "host backend"},
		be: hostBackend{allocs}, limit: limit, maxBatch: maxBatch}
}

// netInput is a random batch of the model's input shape.
func netInput(net *Net, batch int, seed uint64) Tensor {
	return randomInput(seed, append([]int{batch}, net.InputShape()[1:]...))
}

func nan32() float32 { return float32(math.NaN()) }

func loadShared(t testing.TB, name string) *Net {
	t.Helper()
	net, err := Load(sharedtest.Path(t, "models", "faceplugin", name))
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// TestHostPlanMatchesNet runs the three models through device plans on the
// host backend: the same kernels in the same order, with slots, views and
// movement kernels in place of gorgonia's graph, must give the very same
// bits, also when the batch is split.
func TestHostPlanMatchesNet(t *testing.T) {
	for _, name := range []string{"fr_feature.onnx", "fr_detect.onnx", "fr_landmark.onnx"} {
		t.Run(name, func(t *testing.T) {
			net := loadShared(t, name)
			in := netInput(net, 5, 1)
			for _, maxBatch := range []int{8, 2} {
				// The CPU engine splits its work by batch size, so the
				// reference runs the same chunks.
				want := runInChunks(t, net, in, maxBatch)
				allocs := 0
				dev := newHostDevice(1<<32, maxBatch, &allocs)
				dn, err := dev.NewDeviceNet(net)
				if err != nil {
					t.Fatal(err)
				}
				for run := 0; run < 2; run++ {
					got, err := dn.Run(context.Background(), in)
					if err != nil {
						t.Fatal(err)
					}
					sameTensors(t, got, want)
				}
				pl, err := dn.plan(min(maxBatch, 5))
				if err != nil {
					t.Fatal(err)
				}
				computed := 0
				for _, v := range pl.values {
					if v.konst == nil {
						computed++
					}
				}
				t.Logf("max batch %d: %d steps, %d computed values in %d slots (%.1f MiB), %d device allocations",
					maxBatch, len(pl.steps), computed, len(pl.slots), float64(pl.bytes())/(1<<20), allocs)
				if len(pl.slots) >= computed/2 {
					t.Errorf("%d slots for %d computed values: buffers are not reused", len(pl.slots), computed)
				}
			}
		})
	}
}

func runInChunks(t *testing.T, net *Net, in Tensor, chunk int) []Tensor {
	t.Helper()
	per := in.Len() / in.Shape[0]
	var outs []Tensor
	for lo := 0; lo < in.Shape[0]; lo += chunk {
		hi := min(in.Shape[0], lo+chunk)
		o, err := net.Run(context.Background(), Tensor{Shape: append([]int{hi - lo}, in.Shape[1:]...), Data: in.Data[lo*per : hi*per]})
		if err != nil {
			t.Fatal(err)
		}
		var aerr error
		if outs, aerr = appendBatch(outs, o, hi-lo, in.Shape[0], chunk); aerr != nil {
			t.Fatal(aerr)
		}
	}
	return outs
}

func sameTensors(t *testing.T, got, want []Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d outputs, want %d", len(got), len(want))
	}
	for i := range want {
		if !slices.Equal(got[i].Shape, want[i].Shape) {
			t.Fatalf("output %d: shape %v, want %v", i, got[i].Shape, want[i].Shape)
		}
		for j := range want[i].Data {
			if got[i].Data[j] != want[i].Data[j] {
				t.Fatalf("output %d value %d: %v, want %v", i, j, got[i].Data[j], want[i].Data[j])
			}
		}
	}
}

// TestDeviceNetConcurrent: runs from several goroutines take turns on the
// device and each gets its own batch's result.
func TestDeviceNetConcurrent(t *testing.T) {
	net := loadShared(t, "fr_landmark.onnx")
	dn, err := newHostDevice(1<<30, 4, nil).NewDeviceNet(net)
	if err != nil {
		t.Fatal(err)
	}
	const workers = 4
	ins := make([]Tensor, workers)
	wants := make([][]Tensor, workers)
	for i := range ins {
		ins[i] = netInput(net, 3+i, uint64(10+i))
		wants[i] = runInChunks(t, net, ins[i], 4)
	}
	errs := make(chan error, workers)
	gots := make([][]Tensor, workers)
	for i := range ins {
		go func() {
			var err error
			gots[i], err = dn.Run(context.Background(), ins[i])
			errs <- err
		}()
	}
	for range ins {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i := range ins {
		sameTensors(t, gots[i], wants[i])
	}
}
