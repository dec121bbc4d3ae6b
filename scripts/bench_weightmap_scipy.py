#!/usr/bin/python3
"""Time SciPy on the mask BenchmarkWeightmap times Go on.

    /usr/bin/python3 scripts/bench_weightmap_scipy.py [--repeat N]
    go test -run '^$' -bench 'Weightmap|EDT' ./weightmap

The mask (1024x1024, 50 separate discs of radius 8..40, LCG seed 1) comes
from lcg_discs in goldens_weightmap.py, which weightmap/discs_test.go mirrors;
the script checks the mask's pixel count and object count so that a drift
between the two generators shows. Timed: the U-Net weight map the usual SciPy
way (the same function that makes the goldens), one
distance_transform_edt and one label of the mask.
"""

import argparse
import os
import sys
import time

import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_weightmap import lcg_discs, unet  # noqa: E402


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    mask = lcg_discs(1024, 1024, 50, 8, 40, 1)
    n = ndi.label(mask)[1]
    print("mask: 1024x1024, %d foreground pixels, %d objects" % (int(mask.sum()), n))
    t = best(lambda: unet(mask, 10.0, 5.0, "balanced", None, 4, None), a.repeat)
    print("BenchmarkWeightmap/size=1024x1024/objects=50 scipy: %.1f ms" % (t * 1e3))
    t = best(lambda: ndi.distance_transform_edt(mask), max(a.repeat, 5))
    print("BenchmarkEDT/size=1024x1024 scipy: %.1f ms" % (t * 1e3))
    t = best(lambda: ndi.label(mask), max(a.repeat, 5))
    print("BenchmarkLabel/size=1024x1024 scipy: %.1f ms" % (t * 1e3))


if __name__ == "__main__":
    main()
