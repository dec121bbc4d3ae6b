#!/usr/bin/env python3
"""Regenerate engine/goengine/testdata/nn_goldens.json.

Independent references for the Go engine's neural-network kernels, computed
with PyTorch (torch.nn.functional) and NumPy in float64 from deterministic
inputs. TensorFlow's conventions (NHWC, SAME padding putting the odd pixel
after, Conv2DBackpropInput's filter layout) are mapped onto PyTorch's here.

Run with the Debian interpreter that has torch and numpy:

    /usr/bin/python3 scripts/gen_nn_goldens.py           # rewrite the file
    /usr/bin/python3 scripts/gen_nn_goldens.py --check   # exit 1 if it is stale
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "engine", "goengine", "testdata", "nn_goldens.json")
rng = np.random.RandomState(20240611)


def rnd(*shape):
    # Values on a 1/64 grid keep float32 inputs exact.
    return np.round(rng.uniform(-2, 2, size=shape) * 64) / 64


def same_pads(n, k, s, d):
    eff = (k - 1) * d + 1
    out = -(-n // s)
    pad = max((out - 1) * s + eff - n, 0)
    return pad // 2, pad - pad // 2


def nchw(x):
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def nhwc(t):
    return t.numpy().transpose(0, 2, 3, 1)


def case(op, inputs, attrs, want):
    return {
        "op": op,
        "inputs": [{"dtype": d, "shape": list(np.shape(v)), "values": np.asarray(v).ravel().tolist()} for d, v in inputs],
        "attrs": attrs,
        "want": {"shape": list(want.shape), "values": want.ravel().tolist()},
    }


cases = []

# Conv2D: x NHWC, f [kh, kw, in, out]; torch weight [out, in, kh, kw].
for (n, h, w, c, kh, kw, o, s, d, padding, explicit) in [
    (2, 7, 6, 3, 3, 3, 4, (1, 1), (1, 1), "VALID", None),
    (1, 8, 9, 2, 3, 2, 5, (2, 2), (1, 1), "SAME", None),
    (1, 9, 9, 3, 3, 3, 2, (1, 1), (2, 2), "SAME", None),
    (2, 6, 7, 3, 2, 3, 3, (2, 1), (1, 2), "VALID", None),
    (1, 5, 6, 2, 3, 3, 3, (1, 2), (1, 1), "EXPLICIT", (1, 2, 0, 1)),
    (1, 5, 5, 4, 1, 1, 6, (1, 1), (1, 1), "VALID", None),
]:
    x, f = rnd(n, h, w, c), rnd(kh, kw, c, o)
    if padding == "SAME":
        pt, pb = same_pads(h, kh, s[0], d[0])
        pl, pr = same_pads(w, kw, s[1], d[1])
    elif padding == "EXPLICIT":
        pt, pb, pl, pr = explicit
    else:
        pt = pb = pl = pr = 0
    xt = F.pad(nchw(x), (pl, pr, pt, pb))
    wt = torch.from_numpy(np.ascontiguousarray(f.transpose(3, 2, 0, 1)))
    y = nhwc(F.conv2d(xt, wt, stride=s, dilation=d))
    attrs = {"strides": [1, s[0], s[1], 1], "dilations": [1, d[0], d[1], 1], "padding": padding}
    if explicit:
        attrs["explicit_paddings"] = [0, 0, pt, pb, pl, pr, 0, 0]
    cases.append(case("Conv2D", [("float32", x), ("float32", f)], attrs, y))

# Conv2DBackpropInput: the transposed convolution. f [kh, kw, in, out] where
# "in" is the channel count of the result; torch conv_transpose2d weight is
# [channels of dy (= out), channels of result (= in), kh, kw]. The full
# transposed convolution is cropped by the forward padding.
for (n, h, w, c, kh, kw, o, s, d, padding) in [
    (2, 8, 8, 3, 2, 2, 4, (2, 2), (1, 1), "VALID"),
    (1, 7, 7, 2, 3, 3, 3, (2, 2), (1, 1), "SAME"),
    (1, 8, 6, 2, 3, 3, 2, (2, 2), (1, 1), "SAME"),
    (1, 9, 8, 3, 3, 2, 2, (2, 3), (1, 1), "VALID"),
    (1, 7, 7, 2, 3, 3, 2, (1, 1), (2, 2), "SAME"),
]:
    if padding == "SAME":
        pt, _ = same_pads(h, kh, s[0], d[0])
        pl, _ = same_pads(w, kw, s[1], d[1])
        oh, ow = -(-h // s[0]), -(-w // s[1])
    else:
        pt = pl = 0
        oh = (h - (kh - 1) * d[0] - 1) // s[0] + 1
        ow = (w - (kw - 1) * d[1] - 1) // s[1] + 1
    f, dy = rnd(kh, kw, c, o), rnd(n, oh, ow, o)
    wt = torch.from_numpy(np.ascontiguousarray(f.transpose(3, 2, 0, 1)))
    full = nhwc(F.conv_transpose2d(nchw(dy), wt, stride=s, dilation=d))
    big = np.zeros((n, max(full.shape[1], pt + h), max(full.shape[2], pl + w), c))
    big[:, : full.shape[1], : full.shape[2], :] = full
    y = big[:, pt : pt + h, pl : pl + w, :]
    attrs = {"strides": [1, s[0], s[1], 1], "dilations": [1, d[0], d[1], 1], "padding": padding}
    cases.append(case("Conv2DBackpropInput", [("int32", np.array([n, h, w, c])), ("float32", f), ("float32", dy)], attrs, y))

# DepthwiseConv2dNative: torch groups=c, weight [c*m, 1, kh, kw].
for (n, h, w, c, kh, kw, m, s, padding) in [
    (1, 6, 7, 3, 3, 3, 2, (1, 1), "SAME"),
    (2, 7, 7, 2, 2, 3, 1, (2, 2), "VALID"),
    (1, 6, 8, 2, 2, 2, 3, (1, 1), "SAME"),
]:
    x, f = rnd(n, h, w, c), rnd(kh, kw, c, m)
    if padding == "SAME":
        pt, pb = same_pads(h, kh, s[0], 1)
        pl, pr = same_pads(w, kw, s[1], 1)
    else:
        pt = pb = pl = pr = 0
    wt = torch.from_numpy(np.ascontiguousarray(f.reshape(kh, kw, c * m).transpose(2, 0, 1)[:, None]))
    y = nhwc(F.conv2d(F.pad(nchw(x), (pl, pr, pt, pb)), wt, stride=s, groups=c))
    cases.append(case("DepthwiseConv2dNative", [("float32", x), ("float32", f)],
                      {"strides": [1, s[0], s[1], 1], "padding": padding}, y))

# MaxPool / AvgPool. SAME: padded positions never win a max and are not
# counted in an average.
for (n, h, w, c, kh, kw, s, padding) in [
    (2, 6, 6, 3, 2, 2, (2, 2), "VALID"),
    (1, 7, 5, 2, 3, 3, (2, 2), "SAME"),
    (1, 5, 8, 2, 3, 2, (1, 3), "SAME"),
    (1, 7, 7, 1, 3, 3, (2, 2), "VALID"),
    (1, 6, 6, 2, 3, 3, (2, 2), "SAME"),
    (2, 5, 7, 1, 2, 4, (1, 2), "SAME"),
]:
    x = rnd(n, h, w, c)
    if padding == "SAME":
        pt, pb = same_pads(h, kh, s[0], 1)
        pl, pr = same_pads(w, kw, s[1], 1)
    else:
        pt = pb = pl = pr = 0
    xt = nchw(x)
    ymax = nhwc(F.max_pool2d(F.pad(xt, (pl, pr, pt, pb), value=-np.inf), (kh, kw), stride=s))
    ones = torch.ones_like(xt)
    ssum = F.avg_pool2d(F.pad(xt, (pl, pr, pt, pb)), (kh, kw), stride=s) * (kh * kw)
    cnt = F.avg_pool2d(F.pad(ones, (pl, pr, pt, pb)), (kh, kw), stride=s) * (kh * kw)
    yavg = nhwc(ssum / cnt)
    attrs = {"ksize": [1, kh, kw, 1], "strides": [1, s[0], s[1], 1], "padding": padding}
    cases.append(case("MaxPool", [("float32", x)], attrs, ymax))
    cases.append(case("AvgPool", [("float32", x)], attrs, yavg))

# ResizeBilinear: TF half_pixel_centers == torch align_corners=False;
# TF align_corners == torch align_corners=True.
for (n, h, w, c, oh, ow, align, half) in [
    (1, 4, 5, 2, 8, 10, False, True),
    (2, 5, 4, 1, 3, 7, False, True),
    (1, 4, 5, 2, 7, 9, True, False),
    (1, 6, 6, 3, 4, 3, True, False),
]:
    x = rnd(n, h, w, c)
    y = nhwc(F.interpolate(nchw(x), size=(oh, ow), mode="bilinear", align_corners=align))
    cases.append(case("ResizeBilinear", [("float32", x), ("int32", np.array([oh, ow]))],
                      {"align_corners": align, "half_pixel_centers": half}, y))

# ResizeNearestNeighbor: TF half_pixel_centers == torch "nearest-exact";
# TF legacy == torch "nearest" (floor(dst * in / out)).
for (n, h, w, c, oh, ow, half) in [
    (1, 4, 5, 2, 9, 7, True),
    (1, 6, 6, 1, 4, 9, True),
    (1, 4, 5, 2, 8, 15, False),
]:
    x = rnd(n, h, w, c)
    mode = "nearest-exact" if half else "nearest"
    y = nhwc(F.interpolate(nchw(x), size=(oh, ow), mode=mode))
    cases.append(case("ResizeNearestNeighbor", [("float32", x), ("int32", np.array([oh, ow]))],
                      {"align_corners": False, "half_pixel_centers": half}, y))

# BatchMatMulV2 with broadcast batch dims and adjoints (NumPy matmul).
for (xs, ys, adj_x, adj_y) in [
    ((2, 3, 4), (2, 4, 5), False, False),
    ((3, 1, 2, 4), (2, 5, 4), False, True),
    ((2, 4, 3), (1, 4, 2), True, False),
    ((5, 3), (2, 5, 2), True, False),
]:
    x, yv = rnd(*xs), rnd(*ys)
    a = np.swapaxes(x, -1, -2) if adj_x else x
    b = np.swapaxes(yv, -1, -2) if adj_y else yv
    cases.append(case("BatchMatMulV2", [("float32", x), ("float32", yv)], {"adj_x": adj_x, "adj_y": adj_y}, np.matmul(a, b)))

# MatMul with transposes, float32 and float64.
for (ash, bsh, ta, tb, dt) in [
    ((7, 5), (5, 9), False, False, "float32"),
    ((5, 7), (9, 5), True, True, "float32"),
    ((3, 4), (3, 2), True, False, "float64"),
    ((90, 50), (50, 17), False, False, "float32"),
]:
    a, b = rnd(*ash), rnd(*bsh)
    aa = a.T if ta else a
    bb = b.T if tb else b
    cases.append(case("MatMul", [(dt, a), (dt, b)], {"transpose_a": ta, "transpose_b": tb}, aa @ bb))

# FusedBatchNormV3 (inference): torch batch_norm with running statistics.
x = rnd(2, 3, 4, 5)
scale, offset, mean = rnd(5), rnd(5), rnd(5)
var = np.abs(rnd(5)) + 0.25
y = nhwc(F.batch_norm(nchw(x), torch.from_numpy(mean), torch.from_numpy(var), torch.from_numpy(scale),
                      torch.from_numpy(offset), training=False, eps=1e-3))
cases.append(case("FusedBatchNormV3", [("float32", x), ("float32", scale), ("float32", offset), ("float32", mean), ("float32", var)],
                  {"epsilon": 1e-3, "is_training": False, "data_format": "NHWC"}, y))

# Pad, PadV2, MirrorPad (NumPy pad).
x = rnd(2, 3, 4)
pads = np.array([[1, 0], [2, 1], [0, 3]])
cases.append(case("Pad", [("float32", x), ("int32", pads)], {}, np.pad(x, pads)))
cases.append(case("PadV2", [("float32", x), ("int32", pads), ("float32", np.array(1.5))], {}, np.pad(x, pads, constant_values=1.5)))
mp = np.array([[1, 1], [2, 0], [0, 3]])
cases.append(case("MirrorPad", [("float32", x), ("int32", mp)], {"mode": "REFLECT"}, np.pad(x, mp, mode="reflect")))
mp = np.array([[2, 1], [3, 3], [4, 0]])
cases.append(case("MirrorPad", [("float32", x), ("int64", mp)], {"mode": "SYMMETRIC"}, np.pad(x, mp, mode="symmetric")))

# BiasAdd NHWC and NCHW; LeakyRelu.
x, b = rnd(2, 3, 4), rnd(4)
cases.append(case("BiasAdd", [("float32", x), ("float32", b)], {"data_format": "NHWC"}, x + b))
x, b = rnd(2, 3, 4, 2), rnd(3)
cases.append(case("BiasAdd", [("float32", x), ("float32", b)], {"data_format": "NCHW"}, x + b[None, :, None, None]))
x = rnd(3, 5)
cases.append(case("LeakyRelu", [("float32", x)], {"alpha": 0.25}, F.leaky_relu(torch.from_numpy(x), 0.25).numpy()))

text = json.dumps({"generator": "scripts/gen_nn_goldens.py", "torch": torch.__version__, "numpy": np.__version__, "cases": cases},
                  separators=(",", ":")) + "\n"
if "--check" in sys.argv[1:]:
    with open(OUT) as fh:
        if fh.read() != text:
            sys.exit("%s is stale: run /usr/bin/python3 scripts/gen_nn_goldens.py" % os.path.normpath(OUT))
    print("ok:", os.path.normpath(OUT), "matches", len(cases), "cases")
else:
    with open(OUT, "w") as fh:
        fh.write(text)
    print("wrote", len(cases), "cases to", os.path.normpath(OUT))
