"""Reference outputs of the detector and landmark models from OpenCV's DNN
module, on a deterministic synthetic input that model/reference_test.go
recreates bit for bit: x[i] = sin(0.37·i) · cos(0.011·i), as float32.

Run from this folder with Debian's python3-opencv: /usr/bin/python3 gen_reference.py ../../../shared/models/faceplugin
"""
import json
import sys

import cv2
import numpy as np

models = sys.argv[1]
out = {"runtime": "OpenCV %s cv2.dnn (CPU), float32" % cv2.__version__, "models": {}}
for name, shape in [("fr_detect.onnx", (1, 3, 240, 320)), ("fr_landmark.onnx", (1, 1, 64, 64))]:
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.float64)
    x = (np.sin(0.37 * i) * np.cos(0.011 * i)).astype(np.float32).reshape(shape)
    net = cv2.dnn.readNetFromONNX(models + "/" + name)
    net.setInput(x)
    names = net.getUnconnectedOutLayersNames()
    res = net.forward(names)
    outs = []
    for o in res:
        flat = o.astype(np.float64).ravel()
        # keep the file small: every 7th value plus summary statistics
        outs.append({"shape": list(o.shape), "every7": [round(v, 6) for v in flat[::7].tolist()],
                     "sum": float(flat.sum()), "abs_sum": float(np.abs(flat).sum())})
    out["models"][name] = {"outputs": dict(zip(names, outs))}
json.dump(out, open("reference_outputs.json", "w"), indent=0)
