#!/usr/bin/python3
"""Goldens for every loss and metric in graphs/, from independent references.

Run:  /usr/bin/python3 scripts/goldens_losses.py
      (Debian python3-numpy and python3-torch; deterministic: CI regenerates
      and fails when graphs/testdata/goldens.json changes, see
      scripts/check-goldens.sh)

Reads   graphs/testdata/cases.json        the committed case list
        graphs/testdata/keras_doc_cases.json  Keras' published numbers
Writes  graphs/testdata/goldens.json      resolved float32 inputs of every
                                           case and the expected value of every
                                           (loss, parameters, case) triple

Keras releases. The keras parameter of the Keras losses selects the numbers
of one release (graphs.KerasChanges); the references below follow each
release's source, read in keras-team/keras:
  - Tversky's alpha/beta: keras/src/losses/losses.py tversky at v3.15.1
    (commit 250b4218: inputs = y_true, targets = y_pred) and at fa9afd5a
    (keras-team/keras#23333, master, version 3.16.0: inputs = y_pred).
    Keras' own test values for both sides (TverskyTest in
    keras/src/losses/losses_test.py at those two commits) are in
    keras_doc_cases.json and checked by check_keras_docs below.
  - tf.keras 2.x's binary cross entropy of probabilities: keras/backend.py
    binary_crossentropy at tag v2.15.0 (log(p' + eps)); its test values
    (BinaryCrossentropyTest in keras/losses_test.py at v2.15.0: 3.833,
    8.817, 4.6) are in keras_doc_cases.json.
  - ignore_class weighting: tf.keras keras/utils/losses_utils.py
    apply_valid_mask at v2.15.0 (total / valid), Keras 3.0 to 3.12
    keras/src/losses/loss.py apply_mask (total / (valid + eps)), 3.13 on
    (commit 8074733a: divide_no_nan). Keras published no test value for
    these: the references are float64 NumPy.

The references are written from the formulas in shared/spec/losses.md and
from Keras 3's source, in float64 NumPy, with PyTorch (float64) for the
sigmoid cross entropy with logits, its pos_weight form and the weighted
negative log likelihood. They never run the Go code or TensorFlow. Inputs
are float32 (the graphs' dtype) and the constants are float32 too
(eps = float32(1e-7), 1 - eps = float32(1 - eps)), so the references
compute what a float32 graph computes up to rounding of the arithmetic.
"""
import json
import math
import os
import sys

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TESTDATA = os.path.join(ROOT, "graphs", "testdata")

EPS = float(np.float32(1e-7))
ONE_MINUS_EPS = float(np.float32(1.0) - np.float32(1e-7))
IGNORE = 255.0


# ---------------------------------------------------------------- helpers

def f32(a):
    """Rounds to float32 and returns float64, as a float32 graph input is."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def clip(p):
    return np.clip(p, EPS, ONE_MINUS_EPS)


def logit_of(p):
    """The seed's convert_to_logits: log(p' / (1 - p')), p' clipped."""
    pc = clip(p)
    return np.log(pc / (1.0 - pc))


def torch_bce_logits(z, x, pos_weight=None):
    """PyTorch's BCEWithLogits (float64, no reduction): with pos_weight q it is
    -(q z log s(x) + (1 - z) log(1 - s(x))), TF's weighted_cross_entropy_with_logits."""
    tz = torch.from_numpy(np.ascontiguousarray(z, dtype=np.float64))
    tx = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
    pw = None
    if pos_weight is not None:
        pw = torch.from_numpy(np.array(np.broadcast_to(pos_weight, np.shape(x)), dtype=np.float64))
    out = torch.nn.functional.binary_cross_entropy_with_logits(tx, tz, pos_weight=pw, reduction="none")
    return out.numpy()


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def bce_keras3(z, p):
    pc = clip(p)
    return -(z * np.log(pc) + (1 - z) * np.log(1 - pc))


def bce_keras2(z, p):
    pc = clip(p)
    return -(z * np.log(pc + EPS) + (1 - z) * np.log(1 - pc + EPS))


NEWEST_KERAS = (3, 16)


def keras_release(prm):
    """The keras parameter as (major, minor); "2" is tf.keras 2.x."""
    v = prm.get("keras", "3.16")
    if v == "logits":
        return (2, 2)
    parts = [int(x) for x in v.split(".")]
    if len(parts) == 1:
        return NEWEST_KERAS if parts[0] == 3 else (2, 99)
    return (parts[0], parts[1])


def bce_of_release(prm):
    return bce_keras2 if keras_release(prm) < (3, 0) else bce_keras3


def parse_bool(s):
    return {"true": True, "false": False}[s]


def parse_axes(s):
    if s in (None, "", "none"):
        return None
    return tuple(int(v) for v in s.split(","))


# ------------------------------------------------------ Keras 3 reductions

def squeeze_or_expand(x1, x2):
    """keras.src.losses.loss.squeeze_or_expand_to_same_rank."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def keras_reduce(values, sample_weight, reduction, mask=None, release=NEWEST_KERAS):
    """keras.src.losses.loss.reduce_weighted_values, with apply_mask as the
    release computes it (tf.keras 2.x: apply_valid_mask)."""
    values = np.asarray(values, dtype=np.float64)
    if mask is not None:
        mask = mask.astype(np.float64)
        if reduction in ("mean", "sum_over_batch_size"):
            total = mask.size
            valid = mask.sum()
            if release < (3, 0):
                w = total / valid if valid != 0 else math.inf  # NaN weights below
            elif release < (3, 13):
                w = total / (valid + EPS)
            else:
                w = total / valid if valid != 0 else 0.0
            with np.errstate(invalid="ignore"):
                mask = mask * w
        if sample_weight is not None:
            mask, sample_weight = squeeze_or_expand(mask, sample_weight)
            sample_weight = sample_weight * mask
        else:
            sample_weight = mask
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand(values, np.asarray(sample_weight, dtype=np.float64))
        values = values * sample_weight
    if reduction == "none" or values.shape == () or values.shape == (0,):
        return values
    loss = values.sum()
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            d = sample_weight.sum()
            loss = loss / d if d != 0 else 0.0
        else:
            n = values.size
            loss = loss / n if n > 0 else 0.0
    return np.asarray(loss)


def seed_reduce(values, reduction, keep=None):
    """Reduction of the seed's tensor-valued losses. keep marks the entries
    the mean counts (the 'skip' empty-mask policy leaves images out)."""
    if reduction == "none":
        return values
    if reduction == "sum":
        return np.asarray(values.sum())
    if keep is None:
        return np.asarray(values.mean()) if values.size else np.asarray(0.0)
    n = keep.sum()
    return np.asarray(values.sum() / n if n else 0.0)


def empty_value(policy, one_value):
    return {"one": one_value, "zero": 0.0, "nan": math.nan, "skip": 0.0}[policy]


# ------------------------------------------------------------ seed losses

def ref_ce(inp, prm):
    z, p = inp["y_true"], inp["y_pred"]
    if parse_bool(prm.get("from_logits", "false")):
        v = torch_bce_logits(z, p)
    else:
        if prm.get("keras") == "logits":
            v = torch_bce_logits(z, logit_of(p))
        else:
            v = bce_of_release(prm)(z, p)
    return seed_reduce(v.mean(axis=-1), prm.get("reduction", "sum_over_batch_size"))


def ref_wce(inp, prm):
    z, p = inp["y_true"], inp["y_pred"]
    return np.asarray(torch_bce_logits(z, logit_of(p), float(prm["beta"])).mean())


def ref_balanced_ce(inp, prm):
    z, p = inp["y_true"], inp["y_pred"]
    if prm["beta"] == "auto":
        # HED: beta = sum(1 - z) / count. The graph computes it in float32 and
        # 1 - beta amplifies that rounding when few pixels are foreground, so
        # beta is rounded to float32 here (exact sum for 0/1 labels).
        beta = float(np.float32(np.sum(1.0 - z)) / np.float32(z.size))
        pw = beta / (1.0 - beta + EPS)
    else:
        beta = float(prm["beta"])
        pw = beta / (1.0 - beta)
    return np.asarray(((1.0 - beta) * torch_bce_logits(z, logit_of(p), pw)).mean())


def ref_focal(inp, prm):
    z, p = inp["y_true"], inp["y_pred"]
    a, g = float(prm.get("alpha", "0.25")), float(prm.get("gamma", "2"))
    pc = clip(p)
    v = -(a * (1 - pc) ** g * z * np.log(pc) + (1 - a) * pc ** g * (1 - z) * np.log(1 - pc))
    return np.asarray(v.mean())


def ref_distance_ce(inp, prm):
    z, p, w = inp["y_true"], inp["y_pred"], inp["weights"]
    beta = float(prm["beta"])
    pw = beta / (1.0 - beta) + np.exp(-w ** 2)
    return np.asarray(((1.0 - beta) * torch_bce_logits(z, logit_of(p), pw)).mean())


def ref_dice(inp, prm):
    z, p = inp["y_true"], inp["y_pred"]
    v = 1 - (2 * z * p + 1) / (z + p + 1)
    return seed_reduce(v, prm.get("reduction", "none"))


def per_image_policy(num, den, loss_of, policy, one_value=1.0):
    vals, keep = [], []
    for n, d in zip(num, den):
        if d == 0:
            vals.append(empty_value(policy, one_value))
            keep.append(policy != "skip")
        else:
            vals.append(loss_of(n, d))
            keep.append(True)
    return np.array(vals), np.array(keep)


def ref_dice_image(inp, prm):
    z, p = inp["y_true"], inp["y_pred"]
    num = (z * p).sum(axis=(1, 2, 3))
    den = (z + p).sum(axis=(1, 2, 3))
    v, keep = per_image_policy(num, den, lambda n, d: 1 - 2 * n / d, prm.get("empty", "one"))
    return seed_reduce(v, prm.get("reduction", "none"), keep)


def tversky_den(z, p, b):
    return z * p + b * (1 - z) * p + (1 - b) * z * (1 - p)


def ref_tversky(inp, prm):
    z, p = inp["y_true"], inp["y_pred"]
    b = float(prm.get("beta", "0.5"))
    v = 1 - (1 + z * p) / (1 + tversky_den(z, p, b))
    return seed_reduce(v, prm.get("reduction", "none"))


def ref_tversky_image(inp, prm):
    z, p = inp["y_true"], inp["y_pred"]
    b = float(prm.get("beta", "0.5"))
    num = (z * p).sum(axis=(1, 2, 3))
    den = tversky_den(z, p, b).sum(axis=(1, 2, 3))
    empty = (z + p).sum(axis=(1, 2, 3)) == 0
    policy = prm.get("empty", "zero")
    vals, keep = [], []
    for n, d, e in zip(num, den, empty):
        if e:
            vals.append(empty_value(policy, 1.0))
            keep.append(policy != "skip")
        else:
            vals.append(1 - (1 + n) / (1 + d))
            keep.append(True)
    return seed_reduce(np.array(vals), prm.get("reduction", "none"), np.array(keep))


def ref_ce_dice(inp, prm):
    z, p = inp["y_true"], inp["y_pred"]
    if prm.get("keras") == "logits":
        ce = torch_bce_logits(z, logit_of(p)).mean(axis=-1)
    else:
        ce = bce_of_release(prm)(z, p).mean(axis=-1)
    d = ref_dice_image(inp, {"empty": prm.get("empty", "one"), "reduction": "none"})
    return seed_reduce(ce + d.reshape(-1, 1, 1), prm.get("reduction", "none"))


# --------------------------------------------------------------- Lovasz

def lovasz_grad(gt_sorted):
    """Berman et al.'s lovasz_grad (the reference implementation), NumPy."""
    gts = gt_sorted.sum()
    intersection = gts - np.cumsum(gt_sorted)
    union = gts + np.cumsum(1.0 - gt_sorted)
    jaccard = 1.0 - intersection / union
    if len(gt_sorted) > 1:
        jaccard[1:] = jaccard[1:] - jaccard[:-1]
    return jaccard


def lovasz_hinge_flat(x, z, variant):
    if len(z) == 0:
        return 0.0
    signs = 2.0 * z - 1.0
    errors = 1.0 - x * signs
    order = np.argsort(-errors, kind="stable")
    es, gt = errors[order], z[order]
    act = np.maximum(es, 0.0) if variant == "relu" else np.where(es > 0, es, np.expm1(np.minimum(es, 0.0))) + 1.0
    # math.fsum, not np.dot: BLAS picks its summation order by CPU, which
    # changed the last bit of these goldens from machine to machine.
    return math.fsum((act * lovasz_grad(gt)).tolist())


def ref_lovasz_hinge(inp, prm):
    x, z = inp["y_pred"], inp["y_true"]
    per_image = parse_bool(prm.get("per_image", "true"))
    ign = prm.get("ignore", "none")
    variant = prm.get("variant", "relu")

    def flat(xi, zi):
        xi, zi = xi.ravel(), zi.ravel()
        if ign != "none":
            keep = zi != float(ign)
            xi, zi = xi[keep], zi[keep]
        return lovasz_hinge_flat(xi, zi, variant)

    if per_image:
        return np.asarray(np.mean([flat(x[b], z[b]) for b in range(x.shape[0])]))
    return np.asarray(flat(x, z))


def lovasz_softmax_flat(probs, labels, classes, weights):
    """probs (P, C), labels (P,) valid pixels only. Returns the (weighted)
    mean over the classes counted; 0 when none is (the reference gives NaN
    or 0 depending on the implementation)."""
    C = probs.shape[1]
    num, den = 0.0, 0.0
    for c in range(C):
        fg = (labels == c).astype(np.float64)
        if classes == "present" and fg.sum() == 0:
            continue
        errors = np.abs(fg - probs[:, c])
        order = np.argsort(-errors, kind="stable")
        loss_c = math.fsum((errors[order] * lovasz_grad(fg[order])).tolist()) if len(fg) else 0.0
        w = 1.0 if weights is None else weights[c]
        num += w * loss_c
        den += w
    return num / den if den else 0.0


def class_weights(prm):
    s = prm.get("class_weights", "")
    return None if s in ("", "none") else [float(v) for v in s.split(",")]


def ref_lovasz_softmax(inp, prm):
    p, lab = inp["y_pred"], inp["y_true"]
    if parse_bool(prm.get("from_logits", "false")):
        p = softmax(p)
    per_image = parse_bool(prm.get("per_image", "false"))
    classes = prm.get("classes", "present")
    ign = prm.get("ignore", "none")
    w = class_weights(prm)
    C = p.shape[-1]

    def flat(pi, li):
        pi, li = pi.reshape(-1, C), li.ravel()
        if ign != "none":
            keep = li != float(ign)
            pi, li = pi[keep], li[keep]
        return lovasz_softmax_flat(pi, li, classes, w)

    if per_image:
        return np.asarray(np.mean([flat(p[b], lab[b]) for b in range(p.shape[0])]))
    return np.asarray(flat(p, lab))


# ------------------------------------------------------- Keras built-ins

def ref_keras_bce(inp, prm):
    z, p = inp["y_true"], inp["y_pred"]
    ls = float(prm.get("label_smoothing", "0"))
    if ls:
        z = z * (1.0 - ls) + 0.5 * ls
    if parse_bool(prm.get("from_logits", "false")):
        v = torch_bce_logits(z, p)
    else:
        v = bce_of_release(prm)(z, p)
    v = v.mean(axis=int(prm.get("axis", "-1")))
    return keras_reduce(v, inp.get("sample_weight"), prm.get("reduction", "sum_over_batch_size"))


def ref_keras_focal(inp, prm):
    z, p = inp["y_true"], inp["y_pred"]
    ls = float(prm.get("label_smoothing", "0"))
    if ls:
        z = z * (1.0 - ls) + 0.5 * ls
    if parse_bool(prm.get("from_logits", "false")):
        # Keras 3's TensorFlow backend: sigmoid() tags its output with the
        # logits and binary_crossentropy uses them (no clipping).
        bce = torch_bce_logits(z, p)
        p = sigmoid(p)
    else:
        bce = bce_of_release(prm)(z, p)
    g = float(prm.get("gamma", "2"))
    p_t = z * p + (1 - z) * (1 - p)
    v = (1.0 - p_t) ** g * bce
    if parse_bool(prm.get("apply_class_balancing", "false")):
        a = float(prm.get("alpha", "0.25"))
        v = (z * a + (1 - z) * (1 - a)) * v
    v = v.mean(axis=int(prm.get("axis", "-1")))
    return keras_reduce(v, inp.get("sample_weight"), prm.get("reduction", "sum_over_batch_size"))


def ref_keras_dice(inp, prm):
    z, p = inp["y_true"], inp["y_pred"]
    ax = parse_axes(prm.get("axis"))
    v = 1 - 2 * (z * p).sum(axis=ax) / (z.sum(axis=ax) + p.sum(axis=ax) + EPS)
    return keras_reduce(np.asarray(v), inp.get("sample_weight"), prm.get("reduction", "sum_over_batch_size"))


def ref_keras_tversky(inp, prm):
    z, p = inp["y_true"], inp["y_pred"]
    ax = parse_axes(prm.get("axis"))
    a, b = float(prm.get("alpha", "0.5")), float(prm.get("beta", "0.5"))
    inter = (z * p).sum(axis=ax)
    fp = ((1 - z) * p).sum(axis=ax)  # false positives
    fn = (z * (1 - p)).sum(axis=ax)  # false negatives
    if keras_release(prm) < (3, 16):
        # Keras 3.3 to 3.15 (inputs = y_true): alpha weighs the false negatives.
        fp, fn = fn, fp
    v = 1 - inter / (inter + fp * a + fn * b + EPS)
    return keras_reduce(np.asarray(v), inp.get("sample_weight"), prm.get("reduction", "sum_over_batch_size"))


def ref_keras_cce(inp, prm):
    z, p = inp["y_true"], inp["y_pred"]
    ls = float(prm.get("label_smoothing", "0"))
    if ls:
        z = z * (1.0 - ls) + ls / z.shape[-1]
    if parse_bool(prm.get("from_logits", "false")):
        v = -(z * log_softmax(p)).sum(axis=-1)
    else:
        q = clip(p / p.sum(axis=-1, keepdims=True))
        v = -(z * np.log(q)).sum(axis=-1)
    return keras_reduce(v, inp.get("sample_weight"), prm.get("reduction", "sum_over_batch_size"))


def ref_keras_scce(inp, prm):
    lab, p = inp["y_true"], inp["y_pred"]
    if lab.ndim == p.ndim and lab.shape[-1] == 1:
        lab = lab[..., 0]
    ign = prm.get("ignore_class", "none")
    mask = None
    if ign != "none":
        mask = lab != float(ign)
        lab = np.where(mask, lab, 0.0)
        p = p * mask[..., None]
    logits = p if parse_bool(prm.get("from_logits", "false")) else np.log(clip(p))
    # torch's nll_loss of log_softmax is sparse_softmax_cross_entropy_with_logits
    tl = torch.from_numpy(log_softmax(logits).reshape(-1, p.shape[-1]))
    v = torch.nn.functional.nll_loss(tl, torch.from_numpy(lab.ravel().astype(np.int64)), reduction="none").numpy()
    v = v.reshape(lab.shape)
    if mask is not None:
        v = np.where(mask, v, 0.0)
    return keras_reduce(v, inp.get("sample_weight"), prm.get("reduction", "sum_over_batch_size"), mask, keras_release(prm))


# ------------------------------------------------ multi-class (section 4)

def mc_inputs(inp, prm):
    """Probabilities, one-hot labels and the valid-pixel mask (B, H, W)."""
    p = inp["y_pred"]
    if parse_bool(prm.get("from_logits", "false")):
        p = softmax(p)
    C = p.shape[-1]
    ign = prm.get("ignore", "none")
    if prm.get("labels", "onehot") == "sparse":
        lab = inp["y_true"]
        valid = np.ones(lab.shape, dtype=bool) if ign == "none" else lab != float(ign)
        z = np.zeros(p.shape)
        for c in range(C):
            z[..., c] = (lab == c) & valid
    else:
        z = inp["y_true"]
        valid = np.ones(z.shape[:-1], dtype=bool)
    return p, z, valid.astype(np.float64)


def weighted_pairs(L, empty, policy, w, one_value):
    """Normalised weighted mean over (image, class) pairs of L, the empty
    ones replaced or left out as policy says."""
    num = den = 0.0
    for idx in np.ndindex(L.shape):
        c = idx[-1]
        wc = 1.0 if w is None else w[c]
        if empty[idx]:
            if policy == "skip":
                continue
            val = empty_value(policy, one_value)
        else:
            val = L[idx]
        num += wc * val
        den += wc
    return num / den if den else 0.0


def ref_multiclass_overlap(inp, prm, kind):
    p, z, v = mc_inputs(inp, prm)
    ax = (1, 2) if parse_bool(prm.get("per_image", "false")) else (0, 1, 2)
    v4 = v[..., None]
    inter = (v4 * z * p).sum(axis=ax)
    if kind == "dice":
        den = (v4 * z).sum(axis=ax) + (v4 * p).sum(axis=ax)
        with np.errstate(invalid="ignore", divide="ignore"):
            L = 1 - 2 * inter / den
    else:
        b = float(prm.get("beta", "0.5"))
        fp = (v4 * (1 - z) * p).sum(axis=ax)
        fn = (v4 * z * (1 - p)).sum(axis=ax)
        den = inter + b * fp + (1 - b) * fn
        with np.errstate(invalid="ignore", divide="ignore"):
            L = 1 - inter / den
    return np.asarray(weighted_pairs(L, den == 0, prm.get("empty", "one"), class_weights(prm), 1.0))


def ref_multiclass_focal(inp, prm):
    p, z, v = mc_inputs(inp, prm)
    C = p.shape[-1]
    g = float(prm.get("gamma", "2"))
    w = np.ones(C) if class_weights(prm) is None else np.array(class_weights(prm))
    q = clip(p / p.sum(axis=-1, keepdims=True))
    fl = (w * z * (1 - q) ** g * -np.log(q)).sum(axis=-1) * v
    norm = (w * z).sum(axis=-1) * v
    if g == 0 and prm.get("labels") == "sparse":
        # cross-check with PyTorch's weighted NLL (reduction mean = sum w_y l / sum w_y)
        lab = inp["y_true"].ravel()
        ign = prm.get("ignore", "none")
        t = np.where(lab == float(ign), -100, lab).astype(np.int64) if ign != "none" else lab.astype(np.int64)
        if (t != -100).any():
            ref = torch.nn.functional.nll_loss(torch.from_numpy(np.log(q).reshape(-1, C)), torch.from_numpy(t),
                                               weight=torch.from_numpy(w), ignore_index=-100).item()
            if not parse_bool(prm.get("per_image", "false")):
                assert abs(ref - fl.sum() / norm.sum()) <= 1e-12 * max(1, abs(ref)), (ref, fl.sum() / norm.sum())
    if parse_bool(prm.get("per_image", "false")):
        num = den = 0.0
        for b in range(p.shape[0]):
            if norm[b].sum() > 0:
                num += fl[b].sum() / norm[b].sum()
                den += 1
        return np.asarray(num / den if den else 0.0)
    return np.asarray(fl.sum() / norm.sum() if norm.sum() else 0.0)


# ---------------------------------------------------------------- metrics

# Keras' BinaryIoU counts y_pred == threshold as foreground (>=, in Keras 3
# keras/src/metrics/iou_metrics.py and tf.keras 2.x keras/metrics/
# iou_metrics.py); Precision, Recall and BinaryAccuracy do not (>).
AT_THRESHOLD_IS_FOREGROUND = {"iou", "dice_coef"}


def confusion(inp, prm, name):
    """Per-class TP, FP, FN and the number of valid pixels."""
    p = inp["y_pred"]
    ign = prm.get("ignore", "none")
    if prm.get("task", "binary") == "binary":
        zt = inp["y_true"][..., 0]
        valid = np.ones(zt.shape, dtype=bool) if ign == "none" else zt != float(ign)
        truth = (zt > 0.5).astype(int)
        th = float(np.float32(prm.get("threshold", "0.5")))
        pred = ((p[..., 0] >= th) if name in AT_THRESHOLD_IS_FOREGROUND else (p[..., 0] > th)).astype(int)
        classes = [1]
    else:
        C = p.shape[-1]
        pred = np.argmax(p, axis=-1)
        if prm.get("labels", "onehot") == "sparse":
            lab = inp["y_true"]
            valid = np.ones(lab.shape, dtype=bool) if ign == "none" else lab != float(ign)
            truth = np.where(valid, lab, -1).astype(int)
        else:
            truth = np.argmax(inp["y_true"], axis=-1)
            valid = np.ones(truth.shape, dtype=bool)
        classes = list(range(C))
    tp, fp, fn = [], [], []
    for c in classes:
        tp.append(float(((pred == c) & (truth == c) & valid).sum()))
        fp.append(float(((pred == c) & (truth != c) & valid).sum()))
        fn.append(float(((pred != c) & (truth == c) & valid).sum()))
    correct = float(((pred == truth) & valid).sum()) if prm.get("task", "binary") != "binary" else \
        float((((pred == truth)) & valid).sum())
    return np.array(tp), np.array(fp), np.array(fn), correct, float(valid.sum())


def ref_metric(inp, prm, name):
    tp, fp, fn, correct, nvalid = confusion(inp, prm, name)
    policy = prm.get("empty", "skip")
    if name == "pixel_accuracy":
        if nvalid == 0:
            return np.asarray({"one": 1.0, "zero": 0.0, "nan": math.nan, "skip": 0.0}[policy])
        return np.asarray(correct / nvalid)
    num, den = {
        "iou": (tp, tp + fp + fn),
        "dice_coef": (2 * tp, 2 * tp + fp + fn),
        "precision": (tp, tp + fp),
        "recall": (tp, tp + fn),
    }[name]
    vals = []
    for n, d in zip(num, den):
        if d == 0:
            vals.append({"one": 1.0, "zero": 0.0, "nan": math.nan, "skip": math.nan}[policy])
        else:
            vals.append(n / d)
    vals = np.array(vals)
    if prm.get("average", "mean") == "none":
        return vals
    if policy == "skip":
        kept = vals[~np.isnan(vals)]
        return np.asarray(kept.mean() if kept.size else 0.0)
    return np.asarray(vals.mean())


# ------------------------------------------------------------ the configs

REFS = {
    "ce": ref_ce, "wce": ref_wce, "balanced_ce": ref_balanced_ce, "focal": ref_focal,
    "distance_ce": ref_distance_ce, "dice": ref_dice, "dice_image": ref_dice_image,
    "tversky": ref_tversky, "tversky_image": ref_tversky_image, "ce_dice": ref_ce_dice,
    "lovasz_hinge": ref_lovasz_hinge, "lovasz_softmax": ref_lovasz_softmax,
    "keras_bce": ref_keras_bce, "keras_focal": ref_keras_focal, "keras_dice": ref_keras_dice,
    "keras_tversky": ref_keras_tversky, "keras_cce": ref_keras_cce, "keras_scce": ref_keras_scce,
    "multiclass_dice": lambda i, p: ref_multiclass_overlap(i, p, "dice"),
    "multiclass_tversky": lambda i, p: ref_multiclass_overlap(i, p, "tversky"),
    "multiclass_focal": ref_multiclass_focal,
    "iou": lambda i, p: ref_metric(i, p, "iou"),
    "dice_coef": lambda i, p: ref_metric(i, p, "dice_coef"),
    "precision": lambda i, p: ref_metric(i, p, "precision"),
    "recall": lambda i, p: ref_metric(i, p, "recall"),
    "pixel_accuracy": lambda i, p: ref_metric(i, p, "pixel_accuracy"),
}

# Each config: loss, parameters (as the registry's Config strings), which
# case kind it runs on and which case arrays feed which graph inputs. A
# config runs on the cases holding the ignore label only when it sets an
# ignore parameter.
B = {"y_true": "y_true", "y_pred": "probs"}
BL = {"y_true": "y_true", "y_pred": "logits"}
BW = {"y_true": "y_true", "y_pred": "probs", "sample_weight": "sample_weight"}
BLW = {"y_true": "y_true", "y_pred": "logits", "sample_weight": "sample_weight"}
MO = {"y_true": "onehot", "y_pred": "probs"}
MOL = {"y_true": "onehot", "y_pred": "logits"}
MS = {"y_true": "sparse", "y_pred": "probs"}
MSL = {"y_true": "sparse", "y_pred": "logits"}
MOW = {"y_true": "onehot", "y_pred": "probs", "sample_weight": "sample_weight"}
MSW = {"y_true": "sparse", "y_pred": "probs", "sample_weight": "sample_weight"}


def cfg(loss, params, kind, inputs):
    return {"loss": loss, "params": params, "kind": kind, "inputs": inputs}


CONFIGS = [
    cfg("ce", {}, "binary", B),
    cfg("ce", {"keras": "2"}, "binary", B),
    cfg("ce", {"keras": "logits"}, "binary", B),
    cfg("ce", {"from_logits": "true"}, "binary", BL),
    cfg("ce", {"reduction": "none"}, "binary", B),
    cfg("ce", {"keras": "2", "reduction": "none"}, "binary", B),
    cfg("ce", {"keras": "2", "reduction": "sum"}, "binary", B),
    cfg("wce", {"beta": "2"}, "binary", B),
    cfg("wce", {"beta": "0.3"}, "binary", B),
    cfg("balanced_ce", {"beta": "0.7"}, "binary", B),
    cfg("balanced_ce", {"beta": "auto"}, "binary", B),
    cfg("focal", {}, "binary", B),
    cfg("focal", {"alpha": "0.5", "gamma": "0"}, "binary", B),
    cfg("focal", {"alpha": "0.1", "gamma": "3.5"}, "binary", B),
    cfg("distance_ce", {"beta": "0.6"}, "binary", {"y_true": "y_true", "y_pred": "probs", "weights": "weights"}),
    cfg("dice", {}, "binary", B),
    cfg("dice", {"reduction": "sum_over_batch_size"}, "binary", B),
    cfg("dice_image", {}, "binary", B),
    cfg("dice_image", {"empty": "zero", "reduction": "sum_over_batch_size"}, "binary", B),
    cfg("dice_image", {"empty": "nan"}, "binary", B),
    cfg("dice_image", {"empty": "skip", "reduction": "sum_over_batch_size"}, "binary", B),
    cfg("tversky", {}, "binary", B),
    cfg("tversky", {"beta": "0.7", "reduction": "sum"}, "binary", B),
    cfg("tversky_image", {}, "binary", B),
    cfg("tversky_image", {"beta": "0.3", "empty": "one", "reduction": "sum_over_batch_size"}, "binary", B),
    cfg("tversky_image", {"empty": "skip", "reduction": "sum_over_batch_size"}, "binary", B),
    cfg("ce_dice", {}, "binary", B),
    cfg("ce_dice", {"empty": "zero", "reduction": "sum_over_batch_size"}, "binary", B),
    cfg("lovasz_hinge", {}, "binary", BL),
    cfg("lovasz_hinge", {"per_image": "false"}, "binary", BL),
    cfg("lovasz_hinge", {"variant": "elu"}, "binary", BL),
    cfg("lovasz_hinge", {"ignore": "255"}, "binary", BL),
    cfg("lovasz_hinge", {"ignore": "255", "per_image": "false", "variant": "elu"}, "binary", BL),
    cfg("lovasz_softmax", {}, "multiclass", MS),
    cfg("lovasz_softmax", {"classes": "all", "per_image": "true"}, "multiclass", MS),
    cfg("lovasz_softmax", {"ignore": "255"}, "multiclass", MS),
    cfg("lovasz_softmax", {"ignore": "255", "per_image": "true", "from_logits": "true"}, "multiclass", MSL),
    cfg("keras_bce", {}, "binary", B),
    cfg("keras_bce", {"keras": "2"}, "binary", B),
    cfg("keras_bce", {"keras": "2.15", "label_smoothing": "0.1"}, "binary", BW),
    cfg("keras_bce", {"from_logits": "true"}, "binary", BL),
    cfg("keras_bce", {"label_smoothing": "0.1", "reduction": "sum"}, "binary", B),
    cfg("keras_bce", {"axis": "2", "reduction": "none"}, "binary", B),
    cfg("keras_bce", {}, "binary", BW),
    cfg("keras_bce", {"reduction": "mean_with_sample_weight"}, "binary", BLW | {"y_pred": "probs"}),
    cfg("keras_focal", {}, "binary", B),
    cfg("keras_focal", {"keras": "2", "apply_class_balancing": "true"}, "binary", B),
    cfg("keras_focal", {"apply_class_balancing": "true", "gamma": "3", "label_smoothing": "0.2"}, "binary", B),
    cfg("keras_focal", {"from_logits": "true", "apply_class_balancing": "true"}, "binary", BL),
    cfg("keras_focal", {"reduction": "none"}, "binary", B),
    cfg("keras_focal", {"reduction": "sum"}, "binary", BW),
    cfg("keras_dice", {}, "binary", B),
    cfg("keras_dice", {"axis": "1,2,3", "reduction": "none"}, "binary", B),
    cfg("keras_dice", {"axis": "1,2,3"}, "binary", BW),
    cfg("keras_tversky", {}, "binary", B),
    cfg("keras_tversky", {"alpha": "0.2", "beta": "0.8"}, "binary", B),
    cfg("keras_tversky", {"alpha": "0.2", "beta": "0.8", "keras": "3.15"}, "binary", B),
    cfg("keras_tversky", {"alpha": "0.7", "beta": "0.3", "axis": "1,2,3", "reduction": "none", "keras": "3.8"}, "binary", B),
    cfg("keras_tversky", {"alpha": "0.3", "beta": "0.7", "axis": "1,2,3", "reduction": "sum"}, "binary", B),
    cfg("keras_cce", {}, "multiclass", MO),
    cfg("keras_cce", {"from_logits": "true", "label_smoothing": "0.1"}, "multiclass", MOL),
    cfg("keras_cce", {"reduction": "none"}, "multiclass", MOW),
    cfg("keras_scce", {}, "multiclass", MS),
    cfg("keras_scce", {"from_logits": "true"}, "multiclass", MSL),
    cfg("keras_scce", {"ignore_class": "255"}, "multiclass", MS),
    cfg("keras_scce", {"ignore_class": "255", "keras": "3.12"}, "multiclass", MS),
    cfg("keras_scce", {"ignore_class": "255", "keras": "2"}, "multiclass", MS),
    cfg("keras_scce", {"ignore_class": "255", "reduction": "sum"}, "multiclass", MSW),
    cfg("keras_scce", {"ignore_class": "255", "reduction": "mean_with_sample_weight"}, "multiclass", MSW),
    cfg("multiclass_dice", {}, "multiclass", MO),
    cfg("multiclass_dice", {"labels": "sparse", "per_image": "true", "empty": "skip"}, "multiclass", MS),
    cfg("multiclass_dice", {"labels": "sparse", "ignore": "255", "class_weights": "1,2,0.5", "empty": "zero"}, "multiclass", MS),
    cfg("multiclass_dice", {"from_logits": "true", "per_image": "true"}, "multiclass", MOL),
    cfg("multiclass_tversky", {}, "multiclass", MO),
    cfg("multiclass_tversky", {"beta": "0.7", "labels": "sparse", "ignore": "255", "per_image": "true", "empty": "skip"}, "multiclass", MS),
    cfg("multiclass_focal", {}, "multiclass", MO),
    cfg("multiclass_focal", {"gamma": "0", "labels": "sparse", "ignore": "255", "class_weights": "1,2,0.5"}, "multiclass", MS),
    cfg("multiclass_focal", {"labels": "sparse", "per_image": "true", "from_logits": "true", "ignore": "255"}, "multiclass", MSL),
    cfg("iou", {}, "binary", B),
    cfg("iou", {"threshold": "0.3", "empty": "one", "ignore": "255"}, "binary", B),
    cfg("iou", {"task": "multiclass"}, "multiclass", MO),
    cfg("iou", {"task": "multiclass", "labels": "sparse", "ignore": "255", "average": "none"}, "multiclass", MS),
    cfg("dice_coef", {}, "binary", B),
    cfg("dice_coef", {"task": "multiclass", "labels": "sparse", "empty": "zero"}, "multiclass", MS),
    cfg("precision", {}, "binary", B),
    cfg("precision", {"task": "multiclass", "average": "none", "empty": "nan"}, "multiclass", MO),
    cfg("recall", {}, "binary", B),
    cfg("recall", {"task": "multiclass", "labels": "sparse", "ignore": "255"}, "multiclass", MS),
    cfg("pixel_accuracy", {}, "binary", B),
    cfg("pixel_accuracy", {"task": "multiclass", "labels": "sparse", "ignore": "255"}, "multiclass", MS),
]


# -------------------------------------------------------------- the cases

def gen_binary(shape, g):
    rng = np.random.default_rng(g["seed"])
    Bn, H, W, C = shape
    t = g["true"]
    if t == "zeros":
        z = np.zeros(shape)
    elif t == "ones":
        z = np.ones(shape)
    elif t == "soft":
        z = rng.uniform(0, 1, shape)
    elif t == "binary":
        z = (rng.uniform(0, 1, shape) < 0.4).astype(np.float64)
    elif t == "fraction":
        z = np.zeros(shape)
        for b, f in enumerate(g["fractions"]):
            k = int(round(f * H * W * C))
            idx = rng.permutation(H * W * C)[:k]
            z[b].reshape(-1)[idx] = 1.0
    pk = g["pred"]
    if pk == "zeros":
        p = np.zeros(shape)
    elif pk == "ones":
        p = np.ones(shape)
    elif pk == "uniform":
        p = rng.uniform(0, 1, shape)
    elif pk == "mixed":
        p = rng.uniform(0, 1, shape)
        u = rng.uniform(0, 1, shape)
        p[u < 0.08] = 0.0
        p[u > 0.92] = 1.0
    elif pk == "ties":
        p = rng.choice([0.2, 0.5, 0.8], shape)
    if pk == "ties":
        x = rng.choice([-1.0, 0.0, 1.0], shape)
    else:
        x = rng.normal(0, 3, shape)
        u = rng.uniform(0, 1, shape)
        x[u < 0.05] = -100.0
        x[u > 0.95] = 100.0
    w = rng.uniform(0, 4, shape)
    w[rng.uniform(0, 1, shape) < 0.2] = 0.0
    sw = rng.uniform(0.1, 2.0, (Bn, 1, 1))
    if "ignore_fraction" in g:
        z[rng.uniform(0, 1, shape) < g["ignore_fraction"]] = IGNORE
        z[g["ignore_image"]] = IGNORE
    return {"y_true": z, "probs": p, "logits": x, "weights": w, "sample_weight": sw}


def gen_multiclass(shape, g):
    rng = np.random.default_rng(g["seed"])
    Bn, H, W, C = shape
    lab = rng.integers(0, C, (Bn, H, W)).astype(np.float64)
    if "only" in g:
        for b, allowed in enumerate(g["only"]):
            lab[b] = rng.choice(allowed, (H, W))
    x = rng.normal(0, 2, shape)
    if g.get("pred") == "peaked":
        x = x * 5
    if g.get("pred") == "pm100":
        guess = rng.integers(0, C, (Bn, H, W))
        x = np.where(np.arange(C) == guess[..., None], 100.0, -100.0)
    p = softmax(f32(x))
    if g.get("pred") == "exact":
        p = np.zeros(shape)
        for c in range(C):
            p[..., c] = lab == c
        x = p * 20.0 - 10.0
    if "ignore_fraction" in g:
        lab[rng.uniform(0, 1, (Bn, H, W)) < g["ignore_fraction"]] = IGNORE
        lab[g["ignore_image"]] = IGNORE
    onehot = np.zeros(shape)
    for c in range(C):
        onehot[..., c] = lab == c
    if g["true"] == "soft":
        # soft one-hot labels (rows sum to 1, peaked on the sparse label)
        onehot = softmax(3.0 * onehot + rng.normal(0, 1, shape))
    sw = rng.uniform(0.1, 2.0, (Bn, 1, 1))
    return {"sparse": lab, "onehot": onehot, "probs": p, "logits": x, "sample_weight": sw}


def resolve(case):
    shape = tuple(case["shape"])
    if "gen" in case:
        arrs = gen_binary(shape, case["gen"]) if case["kind"] == "binary" else gen_multiclass(shape, case["gen"])
    else:
        arrs = {k: np.array(case[k], dtype=np.float64).reshape(shape) for k in ("y_true", "probs", "logits")}
        arrs["weights"] = np.full(shape, 0.5)
        arrs["sample_weight"] = np.full((shape[0], 1, 1), 1.5)
    return {k: f32(v) for k, v in arrs.items()}


# ------------------------------------------------------------------ output

def enc(x):
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    return x


def tensor_json(a):
    a = np.asarray(a, dtype=np.float64)
    return {"shape": list(a.shape), "data": [enc(v) for v in a.ravel()]}


def check_keras_docs():
    """Our references must reproduce Keras' published numbers."""
    with open(os.path.join(TESTDATA, "keras_doc_cases.json")) as f:
        doc = json.load(f)
    out = []
    for c in doc["cases"]:
        inp = {k: f32(np.array(v["data"], dtype=np.float64).reshape(v["shape"])) for k, v in c["inputs"].items()}
        got = np.asarray(REFS[c["loss"]](inp, c["params"]), dtype=np.float64)
        want = np.array(c["expected"]["data"], dtype=np.float64).reshape(c["expected"]["shape"])
        tol = 10.0 ** (-c["decimals"]) + 1e-6
        if got.shape != want.shape or np.max(np.abs(got - want), initial=0) > tol:
            sys.exit(f"reference disagrees with Keras' published {c['name']} ({c['source']}): got {got}, want {want}")
        out.append({"name": c["name"], "value": tensor_json(got)})
    return out


def main():
    with open(os.path.join(TESTDATA, "cases.json")) as f:
        cases = json.load(f)["cases"]
    resolved = {c["name"]: resolve(c) for c in cases}
    results = []
    for k in CONFIGS:
        ignores = any(k["params"].get(p, "none") != "none" for p in ("ignore", "ignore_class"))
        for c in cases:
            if c["kind"] != k["kind"] or (c.get("ignore", False) and not ignores):
                continue
            if "only" in c and k["loss"] not in c["only"]:
                continue
            if "class_weights" in k["params"] and len(k["params"]["class_weights"].split(",")) != c["shape"][-1]:
                continue
            arrs = resolved[c["name"]]
            inp = {name: arrs[src] for name, src in k["inputs"].items()}
            with np.errstate(invalid="ignore", divide="ignore"):
                val = REFS[k["loss"]](inp, k["params"])
            results.append({"loss": k["loss"], "params": k["params"], "case": c["name"],
                            "inputs": k["inputs"], "expected": tensor_json(val)})
    doc = {
        "comment": "Generated by scripts/goldens_losses.py from cases.json; do not edit. "
                   "Values are float64 references computed on the float32 inputs.",
        "eps": EPS,
        "cases": {name: {k: tensor_json(v) for k, v in sorted(arrs.items())} for name, arrs in resolved.items()},
        "results": results,
        "keras_docs": check_keras_docs(),
    }
    with open(os.path.join(TESTDATA, "goldens.json"), "w") as f:
        json.dump(doc, f, indent=None, sort_keys=True, separators=(",", ":"))
        f.write("\n")
    print(f"goldens.json: {len(resolved)} cases, {len(results)} results, {len(doc['keras_docs'])} Keras doc checks")


if __name__ == "__main__":
    main()
