// Package model is the inference and training engine: ONNX models decoded by
// onnx-go into a small IR (onnx.go), then built, once per batch size, into a
// gorgonia graph of our own kernels (ops.go, build.go). A kernel is the
// arithmetic of one operator with, per input, the kernel of its gradient
// (op.go); float32 kernels run models, float64 ones check gradients by finite
// differences. On the CPU the hot kernels are C (conv_kernels.go) and
// OpenBLAS (blas.go), split across goroutines.
//
// # Devices
//
// A model runs on a device. The CPU engine is *Net itself; an OpenCL device
// (a GPU, or PoCL on a CPU) runs a *DeviceNet made from the same Net. Both
// implement Model, whose Run has Net.Run's semantics, so the face pipeline
// and every command take either:
//
//	spec, err := model.ParseDeviceSpec(flagOrEnv) // cpu | opencl | opencl:P.D | auto
//	dev, err := model.OpenDevice(spec, model.DeviceOptions{})
//	defer dev.Close()
//	m, err := dev.Bind(net) // net itself on the CPU engine
//
// Devices lists the OpenCL devices, or says why there are none (no loader,
// no driver, no device); "auto" takes the first GPU and otherwise falls back
// to the CPU engine, with Device.Fallback saying why. The OpenCL library is
// loaded at run time (internal/opencl), so the binary runs without it.
//
// # The device interface
//
// Everything above the hardware is shared by all devices; a new kind of
// device (CUDA through the driver API, Vulkan, Metal) is one more
// implementation of one small interface, backend (device_run.go):
//
//	alloc(n) (buffer, error)                       device memory for n float32s
//	run(k kernel, out devTensor, in []devTensor)    enqueue out = k(in...)
//	wait() error; close() error
//	buffer: write(src), read(dst), len(), release()
//
// What a backend runs is a plan (device_plan.go): the graph builder records
// every computation as a step, kernel(inputs) → output, in order, including
// the data movement (reshape, transpose, slice, concat) that the CPU graph
// leaves to gorgonia, recorded as mover kernels (moves.go). A plan numbers
// the values (input, weights, activations), turns reshapes into views, and
// gives each activation a slot: one buffer reused by values whose lives do
// not overlap (the recogniser's 62 steps need 3). So a backend sees only the
// engine's kernel types, and maps each to its own code: convKernel (fused
// bias and ReLU/PReLU; grouped, depthwise, strided, dilated, padded),
// binaryKernel (broadcasting Add/Sub/Mul/Div/PRelu), unaryKernel,
// batchNormKernel, bnTrainKernel, softmaxKernel, matmulKernel, every
// gradient kernel they return from vjp, and any mover, whose copies() are
// strided copies (one primitive covers all movement). gemmCall gives the
// matrix products of matmulKernel and its gradients in backend-neutral
// form. A kernel a backend lacks is an error matching ErrUnsupported.
//
// Device and DeviceNet do the rest, the same for every backend: a DeviceNet
// uploads its Net's weights once (shared by content across batch sizes),
// builds a plan per batch size, uploads a batch once, runs every step on the
// device and downloads the outputs once; activation buffers come from the
// Device's pool and return to it after each run. Batches larger than what
// fits beside the weights (DeviceOptions.MemoryLimit, by default 80% of the
// device's memory; at most DeviceOptions.MaxBatch) are split; a batch that
// cannot fit is a DeviceMemoryError naming the batch that does. Runs on one
// Device take turns (one in-order queue).
//
// The tests hold a third backend, host buffers running the CPU kernels,
// which must reproduce the CPU engine bit for bit; the OpenCL backend is
// checked kernel by kernel (forward and gradient) against the CPU kernels,
// and end to end on the three embedded models.
//
// # Training on a device
//
// A Learner is a network in training, with one interface on every device:
// Device.Trainable gives Net.Trainable's *Trainable on the CPU engine and a
// *DeviceTrainable (train_device.go) on a device, and a trainer drives
// both the same way: Step (forward, the caller's LossFunc on the host,
// backward), GradSquares (for a global gradient norm), SGD (SGDStep, the
// same rule everywhere), Pull/Push between the host copies in Params and
// the device, Export.
//
// A DeviceTrainable runs a trainPlan (train_device_plan.go): the steps the
// training graph's builder recorded (unfused, training batch norm, each
// followed by the update of its running statistics, bnRunningKernel); a
// hostLoss step, where the output comes down, the loss runs on the host
// and its gradient goes up; then, in reverse order, the vjp kernels of
// every step on a path from a learnable weight to the output, summing
// contributions to the same value with an Add. Weights are fixed values
// (own buffers, updated in place); the slots of activations are shared
// only by values whose lives do not overlap, so an activation lives until
// the last backward step that reads it and the weights' gradients until
// the optimiser has read them. The optimiser is kernels too (sgdKernel,
// sumSquaresKernel), so the weights, gradients and velocities never leave
// the device between checkpoints. A backend needs nothing more than for
// inference: every kernel of a training plan is an engine kernel with a
// CPU reference, and the OpenCL backend runs each, tested against it;
// weight gradients of convolutions run as split tiled products.
package model
