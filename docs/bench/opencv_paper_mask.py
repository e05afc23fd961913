#!/usr/bin/python3
"""Throughput of an OpenCV implementation of the MaskInv "paper" mask style.

The comparison point for maskgen's paper style (docs/benchmarks.md): per mask,
as the reference implementation does it, a random integer shift of the
template's five key points (vertical in [-40, 40), horizontal in [-10, 10)),
cv2.findHomography onto the face's five points, cv2.warpPerspective of a
float32 RGBA template (INTER_LINEAR, BORDER_CONSTANT) to the 112x112 crop, a
random colour, and an alpha blend in float32. Single-threaded
(cv2.setNumThreads(1)). The template is a plain mask shape drawn here at the
same scale as maskgen's (12 template pixels per crop pixel); it is not the
reference's art.

Uses Debian's python3-opencv and python3-numpy:
    /usr/bin/python3 docs/bench/opencv_paper_mask.py [--n 3000] [--uint8]
--uint8 keeps the template and the blend in 8-bit fixed point instead
(faster OpenCV, not what the reference does).
"""
import argparse
import time

import cv2
import numpy as np

ARCFACE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                        [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float32)
SCALE = 12  # template pixels per crop pixel


def make_template(uint8):
    """A filled mask outline (top over the nose, bottom under the chin) with
    soft shading, as RGBA; key points are ARCFACE_112 * SCALE."""
    w, h = 112 * SCALE, 128 * SCALE
    xs = np.linspace(15, 97, 64)
    u = (xs - 56) / 41
    top = 58.6 + 5.9 * u ** 2
    bot = 121.5 - 22.5 * u ** 2
    poly = np.concatenate([np.stack([xs, top], 1), np.stack([xs[::-1], bot[::-1]], 1)])
    alpha = np.zeros((h, w), np.uint8)
    cv2.fillPoly(alpha, [np.round(poly * SCALE).astype(np.int32)], 255, lineType=cv2.LINE_AA)
    yy = np.arange(h, dtype=np.float32)[:, None] / SCALE
    shade = 0.92 + 0.08 * np.cos(yy * 0.9)  # pleats
    shade = np.broadcast_to(shade, (h, w))
    tpl = np.dstack([shade, shade, shade, alpha.astype(np.float32) / 255]).astype(np.float32)
    if uint8:
        return np.round(tpl * 255).astype(np.uint8)
    return np.ascontiguousarray(tpl)


def warp_template(img, tpl, dst_pts, rng):
    """The template warped onto img's face, key points shifted at random."""
    rx, rs = rng.integers(-10, 10), rng.integers(-40, 40)
    src_pts = ARCFACE_112 * SCALE + np.array([rx, rs], np.float32)
    m, _ = cv2.findHomography(src_pts, dst_pts)
    return cv2.warpPerspective(tpl, m, (img.shape[1], img.shape[0]), None,
                               cv2.INTER_LINEAR, cv2.BORDER_CONSTANT)


def mask_float(img, tpl, dst_pts, rng):
    warped = warp_template(img, tpl, dst_pts, rng)
    colour = rng.integers(0, 256, 3).astype(np.float32)
    a = warped[:, :, 3:4]
    out = a * (warped[:, :, :3] * colour) + (1 - a) * img.astype(np.float32)
    return out.astype(np.uint8)


def mask_uint8(img, tpl, dst_pts, rng):
    warped = warp_template(img, tpl, dst_pts, rng)
    colour = rng.integers(0, 256, 3).astype(np.uint16)
    a = warped[:, :, 3:4].astype(np.uint16)
    fg = (warped[:, :, :3].astype(np.uint16) * colour) // 255
    return ((fg * a + img.astype(np.uint16) * (255 - a) + 127) // 255).astype(np.uint8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--uint8", action="store_true")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    rng = np.random.default_rng(1)
    tpl = make_template(args.uint8)
    fn = mask_uint8 if args.uint8 else mask_float
    yy, xx = np.mgrid[0:112, 0:112]
    crop = np.dstack([60 + xx // 2, 90 + yy // 3, np.full_like(xx, 140)]).astype(np.uint8)
    dst = ARCFACE_112.copy()
    for _ in range(50):  # warm up
        fn(crop, tpl, dst, rng)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(args.n):
        fn(crop, tpl, dst, rng)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(f"opencv {cv2.__version__} {'uint8' if args.uint8 else 'float32'} paper masks: "
          f"{args.n / wall:.0f} masks/s wall, {args.n / cpu:.0f} masks/cpu-s")


if __name__ == "__main__":
    main()
