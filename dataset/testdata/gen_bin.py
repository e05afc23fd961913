#!/usr/bin/env python3
"""Generate the tiny InsightFace-style .bin files under dataset/testdata/bin/.

Each file is a pickle of (bins, issame) as InsightFace writes it: bins a
list of encoded images, issame one bool per pair (images 2k and 2k+1). The
images are six tiny synthetic PNGs made here (no dataset images), one of
them larger than 255 bytes so that both the short and the long bytes
opcodes occur.

Files:
  p4.bin            pickle.dump(..., protocol=4)
  p5.bin            pickle.dump(..., protocol=5) (HIGHEST_PROTOCOL on 3.8+)
  p2_py3.bin        protocol 2 written by Python 3: bytes become
                    _codecs.encode(str, 'latin1') calls
  p2_py2.bin        protocol 2 as Python 2's cPickle writes it, bins as str
                    (SHORT_BINSTRING / BINSTRING, BINPUT memo). Python 2 is
                    not available, so the opcodes are assembled by hand and
                    checked by loading them with Python 3's pickle
                    (encoding='bytes', as InsightFace loads them).
  numpy_p2.bin,     issame as a numpy bool array (only when numpy imports):
  numpy_p4.bin,     protocols 2 and 4 use numpy's _reconstruct + BUILD,
  numpy_p5.bin      protocol 5 uses _frombuffer with a PickleBuffer.
  numpy_scalars_p4.bin  issame as a list of numpy.bool_.
  manifest.json     sha256 of each image, issame, and the files written.

Run from the repository root:  python3 dataset/testdata/gen_bin.py
The output is deterministic; the Go tests read it.
"""

import hashlib
import json
import os
import pickle
import struct
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin")


def png(width, height, pixel):
    """Encode an RGB PNG whose pixel(x, y) returns an (r, g, b) tuple."""
    raw = b"".join(
        b"\x00" + bytes(c for x in range(width) for c in pixel(x, y))
        for y in range(height)
    )

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def noise(seed):
    """A small LCG, so the 'noisy' image is the same on every run."""
    state = seed

    def pixel(x, y):
        nonlocal state
        out = []
        for _ in range(3):
            state = (state * 1103515245 + 12345) & 0x7FFFFFFF
            out.append(state >> 23)
        return tuple(out)

    return pixel


IMAGES = [
    png(2, 2, lambda x, y: (255 * x, 255 * y, 0)),
    png(3, 3, lambda x, y: (80 * x, 80 * y, 200)),
    png(16, 16, noise(1)),  # incompressible: > 255 bytes
    png(4, 4, lambda x, y: (60 * x, 0, 60 * y)),
    png(2, 3, lambda x, y: (10, 20, 30)),
    png(5, 2, lambda x, y: (50 * x, 100 * y, 25)),
]
ISSAME = [True, False, True]


def py2_protocol2(bins, issame):
    """Assemble what Python 2's cPickle.dump((bins, issame), f, 2) writes."""
    out = bytearray(b"\x80\x02")  # PROTO 2
    memo = 0

    def put():
        nonlocal memo
        out.extend(b"q" + bytes([memo]) if memo < 256 else b"r" + struct.pack("<I", memo))
        memo += 1

    def save_list(items, save_item):
        out.extend(b"]")  # EMPTY_LIST
        put()
        if len(items) == 1:
            save_item(items[0])
            out.extend(b"a")  # APPEND
        elif items:
            out.extend(b"(")  # MARK
            for it in items:
                save_item(it)
            out.extend(b"e")  # APPENDS

    def save_str(s):
        if len(s) < 256:
            out.extend(b"U" + bytes([len(s)]) + s)  # SHORT_BINSTRING
        else:
            out.extend(b"T" + struct.pack("<i", len(s)) + s)  # BINSTRING
        put()

    def save_bool(b):
        out.extend(b"\x88" if b else b"\x89")  # NEWTRUE / NEWFALSE

    save_list(bins, save_str)
    save_list(issame, save_bool)
    out.extend(b"\x86")  # TUPLE2
    put()
    out.extend(b".")  # STOP
    return bytes(out)


def main():
    os.makedirs(OUT, exist_ok=True)
    obj = (IMAGES, ISSAME)
    files = {}
    for proto in (4, 5):
        files["p%d.bin" % proto] = pickle.dumps(obj, protocol=proto)
    files["p2_py3.bin"] = pickle.dumps(obj, protocol=2)
    py2 = py2_protocol2(IMAGES, ISSAME)
    assert pickle.loads(py2, encoding="bytes") == obj, "hand-made Python 2 pickle does not load"
    files["p2_py2.bin"] = py2

    try:
        import numpy as np
    except ImportError:
        print("numpy not importable: numpy_*.bin not regenerated")
    else:
        arr = np.array(ISSAME, dtype=bool)
        for proto in (2, 4, 5):
            files["numpy_p%d.bin" % proto] = pickle.dumps((IMAGES, arr), protocol=proto)
        files["numpy_scalars_p4.bin"] = pickle.dumps((IMAGES, [np.bool_(s) for s in ISSAME]), protocol=4)

    for name, data in sorted(files.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        got_bins, got_same = pickle.loads(data, encoding="bytes")
        assert list(got_bins) == IMAGES and [bool(s) for s in got_same] == ISSAME, name

    existing = sorted(n for n in os.listdir(OUT) if n.endswith(".bin"))
    manifest = {
        "images_sha256": [hashlib.sha256(b).hexdigest() for b in IMAGES],
        "image_sizes": [len(b) for b in IMAGES],
        "issame": ISSAME,
        "files": existing,
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print("wrote", ", ".join(sorted(files)))


if __name__ == "__main__":
    main()
