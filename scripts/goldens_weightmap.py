#!/usr/bin/python3
"""Regenerate the weightmap goldens (weightmap/testdata) from SciPy.

The independent reference for package weightmap: scipy.ndimage.label,
scipy.ndimage.distance_transform_edt, and the U-Net weight map written the
straightforward way (one full distance transform per object, sorted per
pixel). Run with the Debian interpreter, which has python3-numpy and
python3-scipy:

    /usr/bin/python3 scripts/goldens_weightmap.py            # write the files
    /usr/bin/python3 scripts/goldens_weightmap.py --check    # compare, exit 1 on a difference

Masks are generated deterministically (a fixed LCG, no NumPy RNG), and the
output is byte-for-byte reproducible, so CI can run --check (or regenerate and
`git diff --exit-code weightmap/testdata`).
"""

import argparse
import json
import os
import sys
import tempfile

import numpy as np
from scipy import ndimage as ndi

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "weightmap", "testdata")
MASK64 = (1 << 64) - 1

# ---------------------------------------------------------------------------
# Deterministic masks (mirrored by weightmap/discs_test.go).


class LCG:
    """64-bit LCG with Knuth's MMIX constants; next() returns the top 31 bits."""

    def __init__(self, seed):
        self.s = seed & MASK64

    def next(self):
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) & MASK64
        return self.s >> 33


def lcg_discs(h, w, count, rmin, rmax, seed):
    """Up to `count` discs, none within 2 pixels of another, cut by the border."""
    g = LCG(seed)
    discs = []
    attempt = 0
    while attempt < 100 * count and len(discs) < count:
        attempt += 1
        y, x, r = g.next() % h, g.next() % w, rmin + g.next() % (rmax - rmin + 1)
        if all((y - ey) ** 2 + (x - ex) ** 2 > (r + er + 2) ** 2 for ey, ex, er in discs):
            discs.append((y, x, r))
    yy, xx = np.mgrid[0:h, 0:w]
    m = np.zeros((h, w), np.uint8)
    for y, x, r in discs:
        m[(yy - y) ** 2 + (xx - x) ** 2 <= r * r] = 1
    return m


def lcg_noise(h, w, percent, seed):
    """Each pixel is foreground with probability percent/100."""
    g = LCG(seed)
    return np.array([[1 if g.next() % 100 < percent else 0 for _ in range(w)] for _ in range(h)], np.uint8)


def masks():
    """The golden cases: name -> (mask, sampling or None)."""
    c = {}
    c["empty"] = (np.zeros((12, 17), np.uint8), None)
    c["full"] = (np.ones((9, 14), np.uint8), None)
    c["full_aniso"] = (np.ones((6, 5), np.uint8), [2.0, 0.5])
    c["pixel_1x1"] = (np.ones((1, 1), np.uint8), None)
    one = np.zeros((20, 24), np.uint8)
    one[(np.mgrid[0:20, 0:24][0] - 8) ** 2 + (np.mgrid[0:20, 0:24][1] - 13) ** 2 <= 16] = 1
    c["one_disc"] = (one, None)
    c["two_discs"] = (lcg_discs(24, 32, 2, 3, 6, 7), None)
    # Squares touching only at a corner: 2 objects with 4-connectivity, 1 with 8.
    t = np.zeros((16, 18), np.uint8)
    t[2:7, 3:8] = 1
    t[7:12, 8:13] = 1
    t[12:14, 15:17] = 1
    c["touching_corner"] = (t, None)
    # Objects cut by every border, values 0/255.
    b = np.zeros((21, 27), np.uint8)
    b[0:4, 5:12] = 255
    b[10:21, 0:3] = 255
    b[17:21, 20:27] = 255
    b[6:9, 24:27] = 255
    c["border_255"] = (b, None)
    # One-pixel structures: lines, a diagonal (many objects under 4-connectivity), dots.
    s = np.zeros((25, 30), np.uint8)
    s[3, 2:27] = 1
    s[6:22, 20] = 1
    for i in range(12):
        s[8 + i, 2 + i] = 1
    s[23, 5] = s[23, 9] = s[15, 27] = s[0, 29] = 1
    c["thin"] = (s, None)
    c["wide_7x53"] = (lcg_discs(7, 53, 4, 1, 3, 11), None)
    c["tall_53x7"] = (lcg_discs(53, 7, 4, 1, 3, 12), None)
    c["noise_8conn"] = (lcg_noise(40, 40, 30, 5), None)
    c["many_discs"] = (lcg_discs(96, 128, 25, 2, 8, 3), None)
    c["many_aniso"] = (lcg_discs(48, 64, 12, 1, 6, 9), [0.5, 2.0])
    c["noise_aniso"] = (lcg_noise(30, 33, 12, 21), [1.5, 0.75])
    return c


# ---------------------------------------------------------------------------
# The reference computations.

STRUCT = {4: None, 8: np.ones((3, 3), int)}


def label(mask, conn):
    labels, n = ndi.label(mask, structure=STRUCT[conn])
    return labels.astype(np.int32), int(n)


def edt(mask, sampling):
    return ndi.distance_transform_edt(mask, sampling=sampling).astype(np.float64)


def class_weight_map(fg, mode, weights):
    """w_c: balanced = inverse class frequency normalised to max 1 (unetwmap.m)."""
    if mode == "none":
        return np.zeros(fg.shape)
    if mode == "explicit":
        return np.where(fg, weights[1], weights[0]).astype(np.float64)
    counts = np.array([np.sum(~fg), np.sum(fg)], np.float64)
    present = counts > 0
    inv = np.zeros(2)
    inv[present] = 1.0 / counts[present]
    wmp = inv / inv.max()
    return np.where(fg, wmp[1], wmp[0])


def unet(mask, w0, sigma, mode, weights, conn, sampling):
    fg = mask != 0
    labels, n = label(fg, conn)
    if n == 0:
        border = np.zeros(fg.shape)
    elif n == 1:
        d1 = edt(labels != 1, sampling)
        border = w0 * np.exp(-(d1 ** 2) / (2 * sigma ** 2))
    else:
        d = np.stack([edt(labels != k, sampling) for k in range(1, n + 1)])
        d.sort(axis=0)
        border = w0 * np.exp(-((d[0] + d[1]) ** 2) / (2 * sigma ** 2))
    border = border * (labels == 0)
    return class_weight_map(fg, mode, weights) + border


UNET_VARIANTS = [
    # name, w0, sigma, class mode, class weights, connectivity
    ("unet", 10.0, 5.0, "balanced", None, 4),
    ("unet_none8", 10.0, 5.0, "none", None, 8),
    ("unet_explicit", 4.0, 2.5, "explicit", [0.5, 3.0], 4),
]


def generate(out):
    os.makedirs(out, exist_ok=True)
    manifest = []
    for name, (mask, sampling) in masks().items():
        entry = {"name": name, "shape": list(mask.shape), "sampling": sampling}

        def save(suffix, arr):
            fn = "%s_%s.npy" % (name, suffix)
            np.save(os.path.join(out, fn), np.ascontiguousarray(arr))
            return fn

        entry["mask"] = save("mask", mask.astype(np.uint8))
        entry["labels"] = {}
        for conn in (4, 8):
            labels, n = label(mask != 0, conn)
            entry["labels"][str(conn)] = {"file": save("labels%d" % conn, labels), "n": n}
        entry["edt"] = save("edt", edt(mask != 0, sampling))
        entry["nearest"] = save("nearest", edt(mask == 0, sampling))
        entry["unet"] = []
        for vname, w0, sigma, mode, weights, conn in UNET_VARIANTS:
            w = unet(mask, w0, sigma, mode, weights, conn, sampling)
            entry["unet"].append({"file": save(vname, w), "w0": w0, "sigma": sigma, "class": mode,
                                  "class_weights": weights, "connectivity": conn})
        manifest.append(entry)
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump({"generator": "scripts/goldens_weightmap.py", "scipy": "scipy.ndimage", "cases": manifest},
                  f, indent=1, sort_keys=True)
        f.write("\n")


def check():
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp)
        want = sorted(os.listdir(tmp))
        have = sorted(f for f in os.listdir(OUT) if f.endswith((".npy", ".json")))
        bad = sorted(set(want) ^ set(have))
        for fn in want:
            if fn in have:
                with open(os.path.join(tmp, fn), "rb") as a, open(os.path.join(OUT, fn), "rb") as b:
                    if a.read() != b.read():
                        bad.append(fn)
        if bad:
            print("goldens differ from the committed ones: " + ", ".join(bad), file=sys.stderr)
            return 1
        print("%d golden files match" % len(want))
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--check", action="store_true", help="regenerate into a temporary folder and compare")
    a = ap.parse_args()
    if a.check:
        sys.exit(check())
    generate(OUT)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print("wrote %s (%d bytes)" % (OUT, total))


if __name__ == "__main__":
    main()
