#!/usr/bin/env python3
"""PyTorch CPU training throughput of an ONNX recogniser, for comparison with
`go test ./model -bench Train` (BenchmarkTrainBatch*): the same network
(read from the ONNX file by a minimal protobuf parser, executed with
torch.nn.functional), the same step (forward, a linear loss on the output,
backward for every weight), the same batch, the same cores.

usage: python3 docs/bench/torch_train.py MODEL.onnx [BATCH] [THREADS] [STEPS]
Supports the operators of fr_feature.onnx: Conv, PRelu, Add, Reshape,
Flatten, Relu, BatchNormalization, Gemm.
"""
import struct
import sys
import time

import torch
import torch.nn.functional as F


def fields(buf):
    """Yield (field number, wire type, value) of a protobuf message."""
    i = 0
    while i < len(buf):
        tag, i = varint(buf, i)
        num, wire = tag >> 3, tag & 7
        if wire == 0:
            v, i = varint(buf, i)
        elif wire == 1:
            v, i = buf[i:i + 8], i + 8
        elif wire == 5:
            v, i = buf[i:i + 4], i + 4
        elif wire == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
        else:
            raise ValueError("wire type %d" % wire)
        yield num, wire, v


def varint(buf, i):
    shift = v = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return v, i


def signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def repeated(wire, v, conv=int):
    """The values of a repeated varint field: packed (wire type 2) or one."""
    if wire != 2:
        return [conv(v)]
    out, j = [], 0
    while j < len(v):
        d, j = varint(v, j)
        out.append(conv(d))
    return out


def tensor(buf):
    dims, dtype, name, raw, floats, ints = [], 1, "", None, [], []
    for num, wire, v in fields(buf):
        if num == 1:
            dims += repeated(wire, v)
        elif num == 2:
            dtype = v
        elif num == 4:
            floats += list(struct.unpack("<%df" % (len(v) // 4), v)) if wire == 2 else [struct.unpack("<f", v)[0]]
        elif num == 7:
            ints += repeated(wire, v, signed)
        elif num == 8:
            name = v.decode()
        elif num == 9:
            raw = v
    if dtype == 1:
        data = list(struct.unpack("<%df" % (len(raw) // 4), raw)) if raw is not None else floats
        return name, torch.tensor(data, dtype=torch.float32).reshape(dims)
    if dtype == 7:
        data = list(struct.unpack("<%dq" % (len(raw) // 8), raw)) if raw is not None else ints
        return name, torch.tensor(data, dtype=torch.int64).reshape(dims)
    raise ValueError("tensor %s: data type %d" % (name, dtype))


def attribute(buf):
    name, val, ints = "", None, []
    for num, wire, v in fields(buf):
        if num == 1:
            name = v.decode()
        elif num == 2:
            val = struct.unpack("<f", v)[0]
        elif num == 3:
            val = signed(v)
        elif num == 8:
            ints += repeated(wire, v, signed)
    return name, (ints if ints else val)


def load(path):
    model = open(path, "rb").read()
    graph = next(v for n, w, v in fields(model) if n == 7)
    nodes, inits, inputs, outputs = [], {}, [], []
    for num, wire, v in fields(graph):
        if num == 1:
            node = {"in": [], "out": [], "attr": {}}
            for n, w, x in fields(v):
                if n == 1:
                    node["in"].append(x.decode())
                elif n == 2:
                    node["out"].append(x.decode())
                elif n == 4:
                    node["op"] = x.decode()
                elif n == 5:
                    k, a = attribute(x)
                    node["attr"][k] = a
            nodes.append(node)
        elif num == 5:
            k, t = tensor(v)
            inits[k] = t
        elif num == 11:
            inputs.append(next(x for n, w, x in fields(v) if n == 1).decode())
        elif num == 12:
            outputs.append(next(x for n, w, x in fields(v) if n == 1).decode())
    inputs = [i for i in inputs if i not in inits]
    return nodes, inits, inputs[0], outputs[0]


class Net(torch.nn.Module):
    def __init__(self, path):
        super().__init__()
        self.nodes, inits, self.inp, self.out = load(path)
        self.consts = {}
        self.params = torch.nn.ParameterDict()
        for k, t in inits.items():
            if t.dtype == torch.float32:
                self.params[k.replace(".", "_")] = torch.nn.Parameter(t)
            else:
                self.consts[k] = t

    def value(self, env, k):
        if k in env:
            return env[k]
        if k.replace(".", "_") in self.params:
            return self.params[k.replace(".", "_")]
        return self.consts[k]

    def forward(self, x):
        env = {self.inp: x}
        for nd in self.nodes:
            a = [self.value(env, k) for k in nd["in"]]
            op, at = nd["op"], nd["attr"]
            if op == "Conv":
                p = at.get("pads", [0, 0, 0, 0])
                assert p[0] == p[2] and p[1] == p[3]
                y = F.conv2d(a[0], a[1], a[2] if len(a) > 2 else None, stride=at.get("strides", [1, 1]),
                             padding=(p[0], p[1]), dilation=at.get("dilations", [1, 1]), groups=at.get("group", 1))
            elif op == "PRelu":
                y = F.prelu(a[0], a[1].reshape(-1))
            elif op == "Relu":
                y = F.relu(a[0])
            elif op == "Add":
                y = a[0] + a[1]
            elif op == "Reshape":
                shape = [int(s) for s in a[1]]
                shape = [a[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
                shape[0] = a[0].shape[0] if shape[0] != -1 else -1
                y = a[0].reshape(shape)
            elif op == "Flatten":
                y = a[0].reshape(a[0].shape[0], -1)
            elif op == "BatchNormalization":
                y = F.batch_norm(a[0], a[3], a[4], a[1], a[2], training=False, eps=at.get("epsilon", 1e-5))
            elif op == "Gemm":
                y = F.linear(a[0], a[1] if at.get("transB", 0) else a[1].t(), a[2] if len(a) > 2 else None)
            else:
                raise ValueError("operator " + op)
            env[nd["out"][0]] = y
        return env[self.out]


def main():
    path = sys.argv[1]
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    steps = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    torch.set_num_threads(threads)
    net = Net(path)
    opt = torch.optim.SGD(net.parameters(), lr=1e-6, momentum=0.9, weight_decay=5e-4)
    x = (torch.arange(batch * 3 * 112 * 112, dtype=torch.float32).reshape(batch, 3, 112, 112) % 255 - 127) / 128
    r = torch.randn(batch, 512)

    def step():
        opt.zero_grad()
        loss = (net(x) * r).sum()
        loss.backward()
        opt.step()

    step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    dt = (time.perf_counter() - t) / steps
    print("torch %s, %d threads, batch %d: %.3f s/step, %.2f img/s" % (torch.__version__, threads, batch, dt, batch / dt))


if __name__ == "__main__":
    main()
