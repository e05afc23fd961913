#!/usr/bin/env python3
"""Regenerate the libjpeg reference fixtures (synthetic images, no data set).

Run with a python3 that has OpenCV 4.6 (Debian's python3-opencv, the reference
runtime of shared/golden): /usr/bin/python3 gen.py

photo.jpg       37x29 synthetic picture, written by OpenCV (libjpeg, 4:2:0)
photo_cv2.png   cv2.imread(photo.jpg) as RGB: what libjpeg-turbo decodes
exif6.jpg       photo.jpg with an EXIF APP1 segment, Orientation = 6
exif6_cv2.png   cv2.imread(exif6.jpg) as RGB (OpenCV applies the orientation)
"""
import struct
import cv2
import numpy as np

h, w = 29, 37
y, x = np.mgrid[0:h, 0:w]
rng = np.random.default_rng(7)
img = np.stack([
    (x * 255 / (w - 1)),                                  # blue ramp
    (128 + 100 * np.sin(x / 3.0) * np.cos(y / 4.0)),      # green waves
    np.where((x // 6 + y // 5) % 2 == 0, 230, 30),        # red checks: sharp chroma edges
], axis=-1) + rng.normal(0, 6, (h, w, 3))
img = np.clip(img, 0, 255).astype(np.uint8)

ok, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, 85])
assert ok
jpg = buf.tobytes()
open('photo.jpg', 'wb').write(jpg)
cv2.imwrite('photo_cv2.png', cv2.imread('photo.jpg'))  # imwrite takes BGR, stores RGB

# EXIF: TIFF header (little endian), IFD0 with one entry: 0x0112 SHORT 1 = 6.
tiff = b'II*\x00' + struct.pack('<I', 8) + struct.pack('<H', 1) + \
    struct.pack('<HHIHH', 0x0112, 3, 1, 6, 0) + struct.pack('<I', 0)
app1 = b'Exif\x00\x00' + tiff
seg = b'\xff\xe1' + struct.pack('>H', len(app1) + 2) + app1
open('exif6.jpg', 'wb').write(jpg[:2] + seg + jpg[2:])
dec = cv2.imread('exif6.jpg')
assert dec.shape[:2] == (w, h), dec.shape
cv2.imwrite('exif6_cv2.png', dec)
