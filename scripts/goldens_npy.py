#!/usr/bin/python3
"""Writes the .npy files npy's tests read, with NumPy itself (Debian python3-numpy).

Run: /usr/bin/python3 scripts/goldens_npy.py   (deterministic; CI checks the output is unchanged)
"""
import os
import numpy as np

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "npy", "testdata")
os.makedirs(out, exist_ok=True)
a = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7.0
arrays = {
    "f4_2x3x4": a.astype("<f4"),
    "f8_2x3x4": a.astype("<f8"),
    "f4_big_endian": a.astype(">f4"),
    "f4_fortran": np.asfortranarray(a.astype("<f4")),
    "i4_vec": np.array([-3, 0, 7, 2**31 - 1], dtype="<i4"),
    "i8_vec": np.array([-(2**62), 5], dtype="<i8"),
    "u1_mask": (np.arange(12).reshape(3, 4) % 3 == 0).astype("u1") * 255,
    "b1_mask": np.arange(6).reshape(2, 3) % 2 == 0,
    "f4_scalar": np.array(1.5, dtype="<f4"),
    "f4_empty": np.zeros((0, 3), dtype="<f4"),
    "f4_special": np.array([np.nan, np.inf, -np.inf, -0.0, 1e-45, 3.4e38], dtype="<f4"),
}
for name, arr in arrays.items():
    np.save(os.path.join(out, name + ".npy"), arr)
# What the Go side must read, as C-order float64 text (exact for these values).
with open(os.path.join(out, "expected.txt"), "w") as f:
    for name, arr in arrays.items():
        vals = " ".join(repr(float(v)) for v in np.ascontiguousarray(arr).ravel().astype(np.float64))
        f.write(f"{name}\t{arr.dtype.str}\t{','.join(map(str, arr.shape))}\t{vals}\n")
