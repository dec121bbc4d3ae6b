#!/usr/bin/python3
"""Writes pow_libm.txt: x, y and x**y from the C library's pow (through
Python's math.pow), as hex floats, for TestPow64Libm. Run from this
directory with /usr/bin/python3: python3 pow_libm.py > pow_libm.txt"""
import math
import random

random.seed(20261126)
n = 0
while n < 600:
    i = n
    x = math.exp(random.uniform(-700, 700)) if i % 3 else random.uniform(0, 10)
    if i % 2:
        y = random.uniform(-3, 3)
    else:
        y = random.uniform(-700, 700) / max(abs(math.log(x)), 1e-3)
    try:
        r = math.pow(x, y)
    except OverflowError:
        continue
    if r == 0 or math.isinf(r) or r < 2.2250738585072014e-308:
        continue
    print(x.hex(), y.hex(), r.hex())
    n += 1
