#!/usr/bin/env python3
"""The Keras side of tfseg's losses: the seed's losses written in Keras/TF2
as the seed writes them (convert_to_logits, weighted_cross_entropy,
balanced_cross_entropy, focal_loss_with_logits, the distance-weighted
loss, dice_loss, tversky_loss, the Lovász losses, CE + Dice), Keras 3's
built-ins (keras.losses.BinaryCrossentropy, BinaryFocalCrossentropy, Dice,
Tversky, CategoricalCrossentropy, SparseCategoricalCrossentropy), and the
multi-class forms and metrics as tfseg defines them.

It needs TensorFlow 2.x (and Keras 3, which TF >= 2.16 installs), which the
project's own environment does not have: run it where TensorFlow is
installed.

    pip install "tensorflow>=2.16" numpy
    python3 python/export_losses.py --out /tmp/keras_losses

It reads graphs/testdata/goldens.json (the resolved float32 inputs of the
committed case list and every (loss, parameters, case) the Go tests run),
evaluates each with TensorFlow, and writes into --out:

    keras_goldens.json   the values, in goldens.json's "results" layout
    npy/<index>.npy      the same values, one file per result
    models/<loss>/       one SavedModel per loss with default parameters
                         (tag serve, signature serving_default, float32
                         inputs y_true, y_pred [, weights], output "loss")

and prints the largest relative difference to goldens.json's NumPy/PyTorch
references per loss. The Go tests compare the Go engines with these values
when TFSEG_KERAS_GOLDENS points at keras_goldens.json:

    TFSEG_KERAS_GOLDENS=/tmp/keras_losses/keras_goldens.json go test -run TestKerasGoldens .

Check that this file at least compiles without TensorFlow:
    /usr/bin/python3 -m py_compile python/export_losses.py
"""
import argparse
import json
import math
import os
import sys

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

try:
    import tensorflow as tf
except ImportError:  # pragma: no cover - documented requirement
    tf = None
try:
    import keras
except ImportError:  # pragma: no cover
    keras = None


def eps():
    return keras.backend.epsilon() if keras is not None else 1e-7


# ----------------------------------------------------------- the seed's losses

def convert_to_logits(y_pred):
    y_pred = tf.clip_by_value(y_pred, eps(), 1 - eps())
    return tf.math.log(y_pred / (1 - y_pred))


def bce_generation(keras_release):
    """tfseg's keras parameter ("3.16", "3", "2.15", "2", "logits") as the
    cross entropy's generation: "3", "2" (tf.keras 2.x) or "logits"."""
    if keras_release == "logits":
        return "logits"
    return "2" if keras_release.split(".")[0] == "2" else "3"


# The releases that changed what a Keras loss computes or accepts
# (graphs.KerasChanges): a config asking for a release on the other side of
# one of these from the installed Keras cannot be computed here.
KERAS_CHANGES = {
    "keras_tversky": [(3, 3), (3, 8), (3, 16), (3, 7)],
    "keras_dice": [(3, 2), (3, 4), (3, 7)],
    "keras_bce": [(3, 0), (3, 7)],
    "keras_focal": [(3, 0), (3, 7)],
    "keras_cce": [(3, 7)],
    "keras_scce": [(3, 0), (3, 13), (3, 7)],
}


def release(v):
    parts = [int(x) for x in v.split(".")[:2]]
    if len(parts) == 1:
        return (3, 16) if parts[0] == 3 else (2, 99)
    return tuple(parts)


def same_numbers(name, prm):
    """Whether the installed Keras gives the numbers of the release the
    config asks for."""
    want, have = release(prm.get("keras", "3.16")), release(keras.__version__)
    return all((want < s) == (have < s) for s in KERAS_CHANGES.get(name, []))


def binary_crossentropy(keras_version="3", from_logits=False):
    """keras.losses.binary_crossentropy in its three generations."""
    def loss(y_true, y_pred):
        if from_logits:
            bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=y_true, logits=y_pred)
        elif keras_version == "logits":  # Keras 2.2.4
            bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=y_true, logits=convert_to_logits(y_pred))
        else:
            p = tf.clip_by_value(y_pred, eps(), 1 - eps())
            if keras_version == "2":  # tf.keras 2.x
                bce = -(y_true * tf.math.log(p + eps()) + (1 - y_true) * tf.math.log(1 - p + eps()))
            else:  # Keras 3
                bce = -(y_true * tf.math.log(p) + (1 - y_true) * tf.math.log(1 - p))
        return tf.reduce_mean(bce, axis=-1)
    return loss


def weighted_cross_entropy(beta):
    def loss(y_true, y_pred):
        y_pred = convert_to_logits(y_pred)
        loss = tf.nn.weighted_cross_entropy_with_logits(labels=y_true, logits=y_pred, pos_weight=beta)
        return tf.reduce_mean(loss)
    return loss


def balanced_cross_entropy(beta):
    def loss(y_true, y_pred):
        y_pred = convert_to_logits(y_pred)
        if beta == "auto":  # HED: beta from the batch, eps in 1 - beta
            b = tf.reduce_mean(1.0 - y_true)
            pos_weight = b / (1.0 - b + eps())
        else:
            b = beta
            pos_weight = beta / (1 - beta)
        loss = tf.nn.weighted_cross_entropy_with_logits(labels=y_true, logits=y_pred, pos_weight=pos_weight)
        return tf.reduce_mean(loss * (1 - b))
    return loss


def focal_loss(alpha=0.25, gamma=2.0):
    def focal_loss_with_logits(logits, targets, alpha, gamma, y_pred):
        weight_a = alpha * (1 - y_pred) ** gamma * targets
        weight_b = (1 - alpha) * y_pred ** gamma * (1 - targets)
        return (tf.math.log1p(tf.exp(-tf.abs(logits))) + tf.nn.relu(-logits)) * (weight_a + weight_b) + logits * weight_b

    def loss(y_true, y_pred):
        y_pred = tf.clip_by_value(y_pred, eps(), 1 - eps())
        logits = tf.math.log(y_pred / (1 - y_pred))
        loss = focal_loss_with_logits(logits=logits, targets=y_true, alpha=alpha, gamma=gamma, y_pred=y_pred)
        return tf.reduce_mean(loss)
    return loss


def distance_loss(beta):
    """Balanced cross entropy with pos_weight = beta/(1-beta) + exp(-w^2)."""
    def loss(y_true, y_pred, weights):
        y_pred = convert_to_logits(y_pred)
        pos_weight = beta / (1 - beta) + tf.exp(-(weights ** 2))
        loss = tf.nn.weighted_cross_entropy_with_logits(labels=y_true, logits=y_pred, pos_weight=pos_weight)
        return tf.reduce_mean(loss * (1 - beta))
    return loss


def dice_loss(y_true, y_pred):
    numerator = 2 * y_true * y_pred
    denominator = y_true + y_pred
    return 1 - (numerator + 1) / (denominator + 1)


def empty_policy(value, empty, policy):
    """tfseg's empty-mask policy; returns (value, keep)."""
    repl = {"one": 1.0, "zero": 0.0, "nan": float("nan"), "skip": 0.0}[policy]
    keep = tf.cast(tf.logical_not(empty), value.dtype) if policy == "skip" else tf.ones_like(value)
    return tf.where(empty, tf.constant(repl, value.dtype), value), keep


def dice_loss_image(empty="one"):
    def loss(y_true, y_pred):
        numerator = 2 * tf.reduce_sum(y_true * y_pred, axis=(1, 2, 3))
        denominator = tf.reduce_sum(y_true + y_pred, axis=(1, 2, 3))
        return empty_policy(1 - numerator / denominator, tf.equal(denominator, 0), empty)
    return loss


def tversky_den(y_true, y_pred, beta):
    return y_true * y_pred + beta * (1 - y_true) * y_pred + (1 - beta) * y_true * (1 - y_pred)


def tversky_loss(beta=0.5):
    def loss(y_true, y_pred):
        return 1 - (1 + y_true * y_pred) / (1 + tversky_den(y_true, y_pred, beta))
    return loss


def tversky_loss_image(beta=0.5, empty="zero"):
    def loss(y_true, y_pred):
        numerator = tf.reduce_sum(y_true * y_pred, axis=(1, 2, 3))
        denominator = tf.reduce_sum(tversky_den(y_true, y_pred, beta), axis=(1, 2, 3))
        is_empty = tf.equal(tf.reduce_sum(y_true + y_pred, axis=(1, 2, 3)), 0)
        return empty_policy(1 - (1 + numerator) / (1 + denominator), is_empty, empty)
    return loss


def ce_dice_loss(keras_version="3", empty="one"):
    ce = binary_crossentropy(keras_version)
    dice = dice_loss_image(empty)

    def loss(y_true, y_pred):
        d, _ = dice(y_true, y_pred)
        return ce(y_true, y_pred) + tf.reshape(d, (-1, 1, 1))
    return loss


def seed_reduce(values, reduction, keep=None):
    if reduction == "none":
        return values
    if reduction == "sum":
        return tf.reduce_sum(values)
    n = tf.reduce_sum(keep) if keep is not None else tf.cast(tf.size(values), values.dtype)
    return tf.math.divide_no_nan(tf.reduce_sum(values), n)


# --------------------------------------------------------------------- Lovász

def lovasz_grad(gt_sorted):
    """Berman et al.'s TensorFlow lovasz_grad."""
    gts = tf.reduce_sum(gt_sorted)
    intersection = gts - tf.cumsum(gt_sorted)
    union = gts + tf.cumsum(1. - gt_sorted)
    jaccard = 1. - intersection / union
    return tf.concat((jaccard[0:1], jaccard[1:] - jaccard[:-1]), 0)


def lovasz_hinge_flat(logits, labels, variant="relu"):
    def compute_loss():
        signs = 2. * labels - 1.
        errors = 1. - logits * tf.stop_gradient(signs)
        errors_sorted, perm = tf.nn.top_k(errors, k=tf.shape(errors)[0], name="descending_sort")
        gt_sorted = tf.gather(labels, perm)
        grad = lovasz_grad(gt_sorted)
        act = tf.nn.relu(errors_sorted) if variant == "relu" else tf.nn.elu(errors_sorted) + 1.
        return tf.tensordot(act, tf.stop_gradient(grad), 1)
    return tf.cond(tf.equal(tf.shape(logits)[0], 0), lambda: tf.reduce_sum(logits) * 0., compute_loss)


def flatten_valid(scores, labels, ignore):
    scores, labels = tf.reshape(scores, (-1,)), tf.reshape(labels, (-1,))
    if ignore is None:
        return scores, labels
    valid = tf.not_equal(labels, float(ignore))
    return tf.boolean_mask(scores, valid), tf.boolean_mask(labels, valid)


def lovasz_hinge(per_image=True, ignore=None, variant="relu"):
    def loss(y_true, y_pred):
        if per_image:
            def one(pair):
                x, z = flatten_valid(pair[0], pair[1], ignore)
                return lovasz_hinge_flat(x, z, variant)
            return tf.reduce_mean(tf.map_fn(one, (y_pred, y_true), fn_output_signature=tf.float32))
        x, z = flatten_valid(y_pred, y_true, ignore)
        return lovasz_hinge_flat(x, z, variant)
    return loss


def lovasz_softmax_flat(probas, labels, classes="present", weights=None):
    C = probas.shape[1]
    losses, ws = [], []
    for c in range(C):
        fg = tf.cast(tf.equal(labels, c), probas.dtype)
        present = tf.reduce_sum(fg) > 0
        errors = tf.abs(fg - probas[:, c])
        errors_sorted, perm = tf.nn.top_k(errors, k=tf.shape(errors)[0])
        fg_sorted = tf.gather(fg, perm)
        loss_c = tf.cond(tf.shape(errors)[0] > 0,
                         lambda: tf.tensordot(errors_sorted, tf.stop_gradient(lovasz_grad(fg_sorted)), 1),
                         lambda: tf.constant(0.0, probas.dtype))
        w = 1.0 if weights is None else weights[c]
        count = tf.cast(present, probas.dtype) * w if classes == "present" else tf.constant(w, probas.dtype)
        losses.append(loss_c * count)
        ws.append(count)
    # tfseg: 0 when no class is present (the TensorFlow reference gives NaN).
    return tf.math.divide_no_nan(tf.add_n(losses), tf.add_n(ws))


def lovasz_softmax(classes="present", per_image=False, ignore=None, class_weights=None, from_logits=False):
    def loss(y_true, y_pred):
        p = tf.nn.softmax(y_pred) if from_logits else y_pred
        C = p.shape[-1]

        def flat(pi, li):
            pi, li = tf.reshape(pi, (-1, C)), tf.reshape(li, (-1,))
            if ignore is not None:
                valid = tf.not_equal(li, float(ignore))
                pi, li = tf.boolean_mask(pi, valid), tf.boolean_mask(li, valid)
            return lovasz_softmax_flat(pi, tf.cast(li, tf.int32), classes, class_weights)
        if per_image:
            return tf.reduce_mean(tf.map_fn(lambda a: flat(a[0], a[1]), (p, y_true), fn_output_signature=tf.float32))
        return flat(p, y_true)
    return loss


# ------------------------------------------------------------ multi-class forms

def mc_inputs(y_true, y_pred, labels, from_logits, ignore):
    p = tf.nn.softmax(y_pred) if from_logits else y_pred
    C = p.shape[-1]
    if labels == "sparse":
        valid = tf.ones_like(y_true, tf.bool) if ignore is None else tf.not_equal(y_true, float(ignore))
        z = tf.one_hot(tf.cast(y_true, tf.int32), C) * tf.cast(valid, p.dtype)[..., None]
        return p, z, tf.cast(valid, p.dtype)[..., None]
    return p, y_true, tf.ones_like(p[..., :1])


def multiclass_overlap(kind, labels="onehot", from_logits=False, class_weights=None, ignore=None,
                       per_image=False, empty="one", beta=0.5):
    def loss(y_true, y_pred):
        p, z, v = mc_inputs(y_true, y_pred, labels, from_logits, ignore)
        axes = (1, 2) if per_image else (0, 1, 2)
        inter = tf.reduce_sum(z * p * v, axes)
        if kind == "dice":
            num = 2 * inter
            den = tf.reduce_sum(z, axes) + tf.reduce_sum(p * v, axes)
        else:
            num = inter
            den = inter + beta * tf.reduce_sum((1 - z) * p * v, axes) + (1 - beta) * tf.reduce_sum(z * (1 - p) * v, axes)
        val, keep = empty_policy(1 - num / den, tf.equal(den, 0), empty)
        if class_weights is not None:
            keep = keep * tf.constant(class_weights, p.dtype)
        return tf.math.divide_no_nan(tf.reduce_sum(val * keep), tf.reduce_sum(keep))
    return loss


def multiclass_focal(labels="onehot", from_logits=False, class_weights=None, ignore=None, per_image=False, gamma=2.0):
    def loss(y_true, y_pred):
        p, z, v = mc_inputs(y_true, y_pred, labels, from_logits, ignore)
        q = tf.clip_by_value(p / tf.reduce_sum(p, -1, keepdims=True), eps(), 1 - eps())
        wz = z * v if class_weights is None else z * tf.constant(class_weights, p.dtype) * v
        fl = wz * (1 - q) ** gamma * -tf.math.log(q)
        if not per_image:
            return tf.math.divide_no_nan(tf.reduce_sum(fl), tf.reduce_sum(wz))
        norm = tf.reduce_sum(wz, (1, 2, 3))
        keep = tf.cast(norm > 0, p.dtype)
        ratio = tf.math.divide_no_nan(tf.reduce_sum(fl, (1, 2, 3)), norm)
        return tf.math.divide_no_nan(tf.reduce_sum(ratio * keep), tf.reduce_sum(keep))
    return loss


def metric(name, task="binary", threshold=0.5, labels="onehot", ignore=None, average="mean", empty="skip"):
    def fn(y_true, y_pred):
        if task == "binary":
            t = tf.cast(y_true > 0.5, tf.float32)
            # Keras' BinaryIoU: y_pred >= threshold (iou, dice_coef); its
            # Precision, Recall and BinaryAccuracy: y_pred > threshold.
            q = tf.cast(y_pred >= threshold if name in ("iou", "dice_coef") else y_pred > threshold, tf.float32)
            v = tf.ones_like(t) if ignore is None else tf.cast(tf.not_equal(y_true, float(ignore)), tf.float32)
        else:
            C = y_pred.shape[-1]
            q = tf.one_hot(tf.argmax(y_pred, -1), C)
            if labels == "sparse":
                v = tf.ones_like(y_true) if ignore is None else tf.cast(tf.not_equal(y_true, float(ignore)), tf.float32)
                t = tf.one_hot(tf.cast(y_true, tf.int32), C) * v[..., None]
                v = v[..., None]
            else:
                t = tf.one_hot(tf.argmax(y_true, -1), C)
                v = tf.ones_like(t[..., :1])
        if name == "pixel_accuracy":
            correct = t * q + (1 - t) * (1 - q) if task == "binary" else tf.reduce_sum(t * q, -1, keepdims=True)
            n = tf.reduce_sum(v * tf.ones_like(correct))
            val, _ = empty_policy(tf.reduce_sum(correct * v) / n, tf.equal(n, 0), "zero" if empty == "skip" else empty)
            return val
        axes = tuple(range(len(t.shape) - 1))
        tp = tf.reduce_sum(t * q * v, axes)
        fp = tf.reduce_sum((1 - t) * q * v, axes)
        fn_ = tf.reduce_sum(t * (1 - q) * v, axes)
        num, den = {"iou": (tp, tp + fp + fn_), "dice_coef": (2 * tp, 2 * tp + fp + fn_),
                    "precision": (tp, tp + fp), "recall": (tp, tp + fn_)}[name]
        is_empty = tf.equal(den, 0)
        repl = {"one": 1.0, "zero": 0.0, "nan": float("nan"), "skip": 0.0}[empty]
        val = tf.where(is_empty, repl, num / den)
        if average == "none":
            return tf.where(is_empty, float("nan"), val) if empty == "skip" else val
        keep = tf.cast(tf.logical_not(is_empty), val.dtype) if empty == "skip" else tf.ones_like(val)
        return tf.math.divide_no_nan(tf.reduce_sum(val * keep), tf.reduce_sum(keep))
    return fn


# ----------------------------------------------------------- registry mapping

def pbool(s):
    return s == "true"


def popt_int(s):
    return None if s in (None, "none") else int(s)


def pweights(s):
    return None if s in (None, "none") else [float(x) for x in s.split(",")]


def paxes(s):
    return None if s in (None, "none") else tuple(int(x) for x in s.split(","))


def keras_loss(name, prm):
    """Keras 3's built-in loss object for a tfseg keras_* config."""
    red = prm.get("reduction", "sum_over_batch_size")
    red = None if red == "none" else red
    if name == "keras_bce":
        return keras.losses.BinaryCrossentropy(from_logits=pbool(prm.get("from_logits")),
                                               label_smoothing=float(prm.get("label_smoothing", 0)),
                                               axis=int(prm.get("axis", -1)), reduction=red)
    if name == "keras_focal":
        return keras.losses.BinaryFocalCrossentropy(
            apply_class_balancing=pbool(prm.get("apply_class_balancing")), alpha=float(prm.get("alpha", 0.25)),
            gamma=float(prm.get("gamma", 2)), from_logits=pbool(prm.get("from_logits")),
            label_smoothing=float(prm.get("label_smoothing", 0)), axis=int(prm.get("axis", -1)), reduction=red)
    if name == "keras_dice":
        return keras.losses.Dice(axis=paxes(prm.get("axis")), reduction=red)
    if name == "keras_tversky":
        return keras.losses.Tversky(alpha=float(prm.get("alpha", 0.5)), beta=float(prm.get("beta", 0.5)),
                                    axis=paxes(prm.get("axis")), reduction=red)
    if name == "keras_cce":
        return keras.losses.CategoricalCrossentropy(from_logits=pbool(prm.get("from_logits")),
                                                    label_smoothing=float(prm.get("label_smoothing", 0)),
                                                    reduction=red)
    if name == "keras_scce":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=pbool(prm.get("from_logits")),
                                                          ignore_class=popt_int(prm.get("ignore_class")),
                                                          reduction=red)
    raise KeyError(name)


def tfseg_loss(name, prm):
    """A function (inputs dict) -> tensor for a tfseg registry config."""
    red = prm.get("reduction", "none")
    if name.startswith("keras_"):
        obj = keras_loss(name, prm)
        return lambda i: obj(i["y_true"], i["y_pred"], sample_weight=i.get("sample_weight"))
    if name == "ce":
        f = binary_crossentropy(bce_generation(prm.get("keras", "3")), pbool(prm.get("from_logits")))
        return lambda i: seed_reduce(f(i["y_true"], i["y_pred"]), prm.get("reduction", "sum_over_batch_size"))
    if name == "wce":
        f = weighted_cross_entropy(float(prm["beta"]))
    elif name == "balanced_ce":
        f = balanced_cross_entropy(prm["beta"] if prm["beta"] == "auto" else float(prm["beta"]))
    elif name == "focal":
        f = focal_loss(float(prm.get("alpha", 0.25)), float(prm.get("gamma", 2)))
    elif name == "distance_ce":
        g = distance_loss(float(prm["beta"]))
        return lambda i: g(i["y_true"], i["y_pred"], i["weights"])
    elif name == "dice":
        return lambda i: seed_reduce(dice_loss(i["y_true"], i["y_pred"]), red)
    elif name in ("dice_image", "tversky_image"):
        g = dice_loss_image(prm.get("empty", "one")) if name == "dice_image" else \
            tversky_loss_image(float(prm.get("beta", 0.5)), prm.get("empty", "zero"))

        def h(i):
            v, keep = g(i["y_true"], i["y_pred"])
            return seed_reduce(v, red, keep)
        return h
    elif name == "tversky":
        g = tversky_loss(float(prm.get("beta", 0.5)))
        return lambda i: seed_reduce(g(i["y_true"], i["y_pred"]), red)
    elif name == "ce_dice":
        g = ce_dice_loss(bce_generation(prm.get("keras", "3")), prm.get("empty", "one"))
        return lambda i: seed_reduce(g(i["y_true"], i["y_pred"]), red)
    elif name == "lovasz_hinge":
        f = lovasz_hinge(pbool(prm.get("per_image", "true")), popt_int(prm.get("ignore")), prm.get("variant", "relu"))
    elif name == "lovasz_softmax":
        f = lovasz_softmax(prm.get("classes", "present"), pbool(prm.get("per_image")), popt_int(prm.get("ignore")),
                           pweights(prm.get("class_weights")), pbool(prm.get("from_logits")))
    elif name in ("multiclass_dice", "multiclass_tversky"):
        f = multiclass_overlap(name.split("_")[1], prm.get("labels", "onehot"), pbool(prm.get("from_logits")),
                               pweights(prm.get("class_weights")), popt_int(prm.get("ignore")),
                               pbool(prm.get("per_image")), prm.get("empty", "one"), float(prm.get("beta", 0.5)))
    elif name == "multiclass_focal":
        f = multiclass_focal(prm.get("labels", "onehot"), pbool(prm.get("from_logits")),
                             pweights(prm.get("class_weights")), popt_int(prm.get("ignore")),
                             pbool(prm.get("per_image")), float(prm.get("gamma", 2)))
    else:
        f = metric(name, prm.get("task", "binary"), float(prm.get("threshold", 0.5)), prm.get("labels", "onehot"),
                   popt_int(prm.get("ignore")), prm.get("average", "mean"), prm.get("empty", "skip"))
    return lambda i: f(i["y_true"], i["y_pred"])


DEFAULTS = {"wce": {"beta": "2"}, "balanced_ce": {"beta": "auto"}, "distance_ce": {"beta": "0.5"}}


def export_model(out_dir, name, prm, inputs):
    """One SavedModel: serving_default(y_true, y_pred[, weights]) -> {loss}."""
    fn = tfseg_loss(name, prm)
    sparse = name in ("keras_scce", "lovasz_softmax") or prm.get("labels") == "sparse"
    specs = {}
    for k in inputs:
        rank = 3 if (k == "y_true" and sparse) else 4
        specs[k] = tf.TensorSpec([None] * rank, tf.float32, name=k)
    key = "metric" if name in ("iou", "dice_coef", "precision", "recall", "pixel_accuracy") else "loss"

    class LossModule(tf.Module):
        @tf.function(input_signature=[specs])
        def serve(self, feeds):
            return {key: fn(feeds)}

    m = LossModule()
    tf.saved_model.save(m, os.path.join(out_dir, name), signatures={"serving_default": m.serve})


def enc(x):
    x = float(x)
    if math.isnan(x):
        return "NaN"
    return x if not math.isinf(x) else ("Inf" if x > 0 else "-Inf")


def dec(v):
    return float("nan") if v == "NaN" else float(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--goldens", default=os.path.join(ROOT, "graphs", "testdata", "goldens.json"))
    ap.add_argument("--no-models", action="store_true", help="skip the SavedModels")
    args = ap.parse_args()
    if tf is None or keras is None:
        sys.exit("export_losses.py needs TensorFlow 2.x and Keras 3: pip install 'tensorflow>=2.16'")
    with open(args.goldens) as f:
        gold = json.load(f)
    cases = {name: {k: np.array([dec(x) for x in v["data"]], np.float32).reshape(v["shape"])
                    for k, v in arrs.items()} for name, arrs in gold["cases"].items()}
    os.makedirs(os.path.join(args.out, "npy"), exist_ok=True)
    results, worst = [], {}
    for n, r in enumerate(gold["results"]):
        if r["loss"].startswith("keras_") and not same_numbers(r["loss"], r["params"]):
            continue  # another Keras release's numbers: the goldens' reference checks those
        feeds = {k: tf.constant(cases[r["case"]][src]) for k, src in r["inputs"].items()}
        val = np.asarray(tfseg_loss(r["loss"], r["params"])(feeds), dtype=np.float64)
        np.save(os.path.join(args.out, "npy", "%04d.npy" % n), val)
        want = np.array([dec(x) for x in r["expected"]["data"]]).reshape(r["expected"]["shape"])
        if val.shape == want.shape and val.size:
            with np.errstate(invalid="ignore", divide="ignore"):
                rel = np.where(np.abs(want) >= 1e-4, np.abs(val - want) / np.abs(want), 0.0)
            worst[r["loss"]] = max(worst.get(r["loss"], 0.0), float(np.nanmax(rel)))
        else:
            worst[r["loss"]] = float("inf")
        results.append(dict(r, expected={"shape": list(val.shape), "data": [enc(x) for x in val.ravel()]},
                            npy="npy/%04d.npy" % n))
    with open(os.path.join(args.out, "keras_goldens.json"), "w") as f:
        json.dump({"comment": "written by python/export_losses.py with TensorFlow " + tf.__version__
                   + " and Keras " + keras.__version__, "results": results}, f, sort_keys=True)
    if not args.no_models:
        seen = set()
        for r in gold["results"]:
            if r["loss"] in seen:
                continue
            seen.add(r["loss"])
            export_model(os.path.join(args.out, "models"), r["loss"], DEFAULTS.get(r["loss"], {}),
                         [k for k in r["inputs"] if k != "sample_weight"])
    for name in sorted(worst):
        print("%-20s max relative difference to the NumPy/PyTorch goldens: %.3g" % (name, worst[name]))


if __name__ == "__main__":
    main()
