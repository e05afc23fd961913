#!/usr/bin/env python3
"""Regenerate the OpenCV reference fixtures (synthetic images, no data set).

Run with a python3 that has OpenCV 4.6, the golden reference runtime
(Debian's python3-opencv): /usr/bin/python3 gen.py

src.png            80x60 synthetic RGB picture (smooth ramps, sharp edges, noise)
resize_*.png       cv2.resize(src[roi], size) with the default INTER_LINEAR
gray_roi_64.png    the JS's grey conversion of resize_roi_64.png: COLOR_BGR2GRAY
                   applied to RGB data (0.114 R + 0.587 G + 0.299 B)
warp.png           cv2.warpAffine(src, M, (112, 112)), INTER_LINEAR, BORDER_CONSTANT 0
cases.json         the ROIs, sizes and warp matrix
"""
import json
import cv2
import numpy as np

h, w = 60, 80
y, x = np.mgrid[0:h, 0:w]
rng = np.random.default_rng(11)
img = np.stack([
    40 + 3 * x,
    200 - 2.5 * y + 30 * np.sin(x / 4.0),
    np.where((x - 40) ** 2 + (y - 30) ** 2 < 300, 220, 35),
], axis=-1) + rng.normal(0, 4, (h, w, 3))
rgb = np.clip(img, 0, 255).astype(np.uint8)
cv2.imwrite('src.png', rgb[:, :, ::-1])

cases = {'resize': [], 'warp': None}
for name, (rx, ry, rw, rh), (dw, dh) in [
    ('up_96x72', (0, 0, 80, 60), (96, 72)),         # upscale both ways
    ('mixed_64', (0, 0, 80, 60), (64, 64)),         # down in x, up in y
    ('roi_64', (9, 3, 50, 51), (64, 64)),           # a landmark-style crop
    ('half_32x24', (8, 6, 64, 48), (32, 24)),       # exact 2x: INTER_AREA path
    ('down_32x32', (3, 2, 71, 55), (32, 32)),       # plain downscale
]:
    out = cv2.resize(rgb[ry:ry + rh, rx:rx + rw], (dw, dh))
    cv2.imwrite('resize_%s.png' % name, out[:, :, ::-1])
    cases['resize'].append({'name': name, 'roi': [rx, ry, rw, rh], 'size': [dw, dh]})
    if name == 'roi_64':
        cv2.imwrite('gray_roi_64.png', cv2.cvtColor(out, cv2.COLOR_BGR2GRAY))

a, s = 0.35, 1.7
M = np.array([[s * np.cos(a), -s * np.sin(a), 20.5], [s * np.sin(a), s * np.cos(a), -30.25]])
cv2.imwrite('warp.png', cv2.warpAffine(rgb, M, (112, 112))[:, :, ::-1])
cases['warp'] = M.tolist()
json.dump(cases, open('cases.json', 'w'), indent=1)
