#!/usr/bin/python3
"""Writes the goldens of the baseline model's tests with SciPy (Debian python3-scipy).

The baseline model is a Gaussian smoothing (scipy.ndimage.gaussian_filter,
mode "reflect", truncate 4) followed by p = sigmoid(gain * s + bias). This
script computes both from an image NumPy draws, independently of the Go code.

Run: /usr/bin/python3 scripts/goldens_baseline.py   (deterministic; CI checks the output is unchanged)
"""
import json
import os

import numpy as np
from scipy import ndimage
from scipy.ndimage._filters import _gaussian_kernel1d

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "baseline", "testdata")
os.makedirs(out, exist_ok=True)

rng = np.random.default_rng(20240601)
cases = []
for sigma, gain, bias, (h, w) in [(1.5, 41.55, -17.62, (9, 13)), (0.5, 10.0, -3.0, (5, 4)), (2.0, 1.0, 0.0, (17, 6))]:
    image = rng.random((h, w)).astype(np.float32)
    smoothed = ndimage.gaussian_filter(image.astype(np.float64), sigma, mode="reflect", truncate=4.0)
    prob = 1.0 / (1.0 + np.exp(-(gain * smoothed + bias)))
    radius = int(4.0 * sigma + 0.5)
    cases.append({
        "sigma": sigma, "gain": gain, "bias": bias, "height": h, "width": w,
        # _gaussian_kernel1d returns the correlation taps reversed; the Gaussian is symmetric.
        "kernel": [float(v) for v in _gaussian_kernel1d(sigma, 0, radius)],
        "image": [float(v) for v in image.ravel()],
        "smoothed": [float(v) for v in smoothed.ravel()],
        "probability": [float(v) for v in prob.ravel()],
    })
with open(os.path.join(out, "goldens.json"), "w") as f:
    json.dump({"generator": "scripts/goldens_baseline.py", "cases": cases}, f, indent=1)
    f.write("\n")
