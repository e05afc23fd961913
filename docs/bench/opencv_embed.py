"""Embeddings/s of OpenCV's DNN module on the default recogniser, for the
side-by-side comparison in docs/benchmarks.md. Same synthetic input as
model/bench_test.go. Run with Debian's python3-opencv:

    /usr/bin/python3 docs/bench/opencv_embed.py ../shared/models/faceplugin/fr_feature.onnx [THREADS [BATCH...]]

Besides the rate it prints the process's CPU time per embedding, which a
shared machine's load disturbs less than the wall clock.
"""
import sys
import time

import cv2
import numpy as np

path = sys.argv[1]
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
cv2.setNumThreads(threads)
net = cv2.dnn.readNetFromONNX(path)
batches = [int(b) for b in sys.argv[3:]] or [1, 32]
for batch in batches:
    x = ((np.arange(batch * 3 * 112 * 112) % 255 - 127) / 128).astype(np.float32).reshape(batch, 3, 112, 112)
    net.setInput(x)
    net.forward()  # warm-up
    runs, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < 3 or runs < 2:
        net.setInput(x)
        net.forward()
        runs += 1
    s = time.perf_counter() - start
    cpu = time.process_time() - cpu
    print("opencv threads=%d batch=%d: %.1f emb/s, %.2f cpu-ms/emb" % (threads, batch, runs * batch / s, cpu * 1e3 / (runs * batch)))
