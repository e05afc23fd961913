"""Embeddings/s of OpenCV's DNN module on the default recogniser, for the
side-by-side comparison in docs/benchmarks.md. Same synthetic input as
model/bench_test.go. Run with Debian's python3-opencv:

    /usr/bin/python3 docs/bench/opencv_embed.py ../shared/models/faceplugin/fr_feature.onnx
"""
import sys
import time

import cv2
import numpy as np

path = sys.argv[1]
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
cv2.setNumThreads(threads)
net = cv2.dnn.readNetFromONNX(path)
for batch in (1, 32):
    x = ((np.arange(batch * 3 * 112 * 112) % 255 - 127) / 128).astype(np.float32).reshape(batch, 3, 112, 112)
    net.setInput(x)
    net.forward()  # warm-up
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < 3:
        net.setInput(x)
        net.forward()
        runs += 1
    s = time.perf_counter() - start
    print("opencv threads=%d batch=%d: %.1f emb/s" % (threads, batch, runs * batch / s))
