// Package onnxsplit cuts a convolutional ONNX model into a chain of
// single-input segments and writes any run of them as an ONNX model of its
// own, for an input of any spatial size.
//
// It exists for incremental inference: when two inputs differ only in a
// small region (an occluding patch), the early layers' outputs differ only
// near that region, so a segment can be run on a tile around it, with
// the unchanged rest taken from the first input's activations. For that
// each segment records its receptive-field geometry (Axis): output
// position o depends on input positions S·o − Lo … S·o + Hi.
//
// A cut is a tensor through which all of the computation flows: when it is
// produced, it is the only value computed so far that later nodes still
// need. The segments between consecutive cuts are "local" when every node
// is a convolution (dilation 1) or an element-wise operation whose other
// operands are per-channel constants (ReLU, PReLU, BatchNormalization,
// Add/Sub/Mul/Div, Identity, Dropout); the first non-local node (a
// Reshape, Flatten, Gemm …) ends the local prefix, and everything from
// there on is the tail, run at full size.
//
// The ONNX protobuf is read and written with protowire: nodes and
// initializers are copied byte for byte, so a segment computes exactly
// what those nodes compute in the whole model.
package onnxsplit
