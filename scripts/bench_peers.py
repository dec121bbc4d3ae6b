#!/usr/bin/python3
"""PyTorch on the work of package bench's benchmarks, and the ONNX models of
the same work for ONNX Runtime (scripts/bench_ort.js).

Run by scripts/bench.sh:
    /usr/bin/python3 scripts/bench_peers.py --data DIR [--count N] [--time S] [--threads T]
        [--export-only] [--peak SIZE --runs R]

DIR is what `TFSEG_BENCH_PEERS_DIR=DIR go test ./bench -run TestWritePeerData`
wrote: manifest.json, the inputs of every benchmark as .npy (the same
generators and seeds as BenchmarkLoss and BenchmarkUNet), the Go engine's
output on them, and the Keras U-Net fixture's variables (read with the
project's savedmodel package).

For each case of the manifest this script
  1. builds the work in torch ops: the losses as graphs/ computes them with
     their default parameters (the formulas of scripts/goldens_losses.py, in
     float32 torch ops), the U-Net fixture rebuilt as torch modules with the
     fixture's own weights (its architecture: bench/unet_test.go's
     unetLayers, every convolution followed by ReLU, the last by ReLU and
     softmax; Keras' Conv2D/Conv2DTranspose kernels [kh, kw, in, out] /
     [kh, kw, out, in] become torch's [out, in, kh, kw] / [in, out, kh, kw]),
     taking and returning NHWC tensors as the Go engine does;
  2. checks its output against the Go engine's: the largest absolute
     difference at most 1e-4 of the largest |Go output| (exit status 1
     otherwise: nothing is timed that computes something else);
  3. exports it to DIR/<case>.onnx (torch.onnx.export, opset 17, no `onnx`
     Python package needed), for ONNX Runtime;
  4. times it: --count rounds, each running the work for --time seconds
     (at least once) after one warm-up run, under torch.inference_mode, and
     prints one `go test -bench` line per round with engine=pytorch
     (ns/op, MB/s as package bench counts bytes, GFLOP/s for the U-Net),
     which scripts/benchtable reads.

Threads: torch.set_num_threads(T) (default 2) and OPENBLAS_NUM_THREADS=1
(set before torch is imported). --peak SIZE instead loads the U-Net,
runs it --runs times on SIZE's input and prints the process's peak RSS
(ru_maxrss) as a BenchmarkUNetPeak line.
"""
import argparse
import json
import os
import resource
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

EPS = float(np.float32(1e-7))
ONE_MINUS_EPS = float(np.float32(1.0) - np.float32(1e-7))


# ----------------------------------------------------------------- losses
# graphs.Build's defaults, as bench/loss_test.go builds them (ce with
# reduction=none); float32 like the graphs.

def mean(v):
    """The mean of v as a sum per image, then over the images: one float32
    sum of 16 * 512 * 512 terms in ONNX Runtime is 2e-4 off (ReduceMean)."""
    return v.reshape(v.shape[0], -1).sum(dim=1).sum() / v.numel()


def bce(z, p):
    """Keras 3's binary cross entropy of probabilities (the default keras
    release): -(z log p' + (1 - z) log(1 - p')), p' clipped to [eps, 1-eps]."""
    pc = torch.clamp(p, EPS, ONE_MINUS_EPS)
    return -(z * torch.log(pc) + (1 - z) * torch.log(1 - pc))


class CE(torch.nn.Module):
    def forward(self, z, p):  # (B, H, W): mean over the channel axis
        return bce(z, p).mean(dim=-1)


class Focal(torch.nn.Module):
    def forward(self, z, p):  # alpha 0.25, gamma 2, mean
        pc = torch.clamp(p, EPS, ONE_MINUS_EPS)
        v = 0.25 * (1 - pc) ** 2 * z * torch.log(pc) + 0.75 * pc ** 2 * (1 - z) * torch.log(1 - pc)
        return -mean(v)


def dice_image(z, p):
    """Per image 1 - 2 sum(z p) / sum(z + p) (the graph's empty policy "one"
    never applies: no image of the inputs is empty)."""
    num = (z * p).sum(dim=(1, 2, 3))
    den = (z + p).sum(dim=(1, 2, 3))
    return 1 - 2 * num / den


class DiceImage(torch.nn.Module):
    def forward(self, z, p):
        return dice_image(z, p)


class TverskyImage(torch.nn.Module):
    def forward(self, z, p):  # beta 0.5: 1 - (1 + sum z p) / (1 + sum(z p + b(1-z)p + (1-b)z(1-p)))
        num = (z * p).sum(dim=(1, 2, 3))
        den = 0.5 * p.sum(dim=(1, 2, 3)) + 0.5 * z.sum(dim=(1, 2, 3))
        return 1 - (1 + num) / (1 + den)


class KerasBCE(torch.nn.Module):
    def forward(self, z, p):  # sum_over_batch_size of the mean over the last axis
        return mean(bce(z, p))


class CEDice(torch.nn.Module):
    def forward(self, z, p):  # ce (B, H, W) + the image's dice loss, reduction none
        return bce(z, p).mean(dim=-1) + dice_image(z, p).reshape(-1, 1, 1)


class LovaszHinge(torch.nn.Module):
    """Berman et al.'s lovasz_hinge, per image, mean over the images; the
    images sorted together (one sort of a (B, H*W) tensor)."""

    def forward(self, z, x):
        b = x.shape[0]
        x, z = x.reshape(b, -1), z.reshape(b, -1)
        errors = 1 - x * (2 * z - 1)
        es, order = torch.sort(errors, dim=1, descending=True)
        gt = torch.gather(z, 1, order)
        gts = gt.sum(dim=1, keepdim=True)
        inter = gts - torch.cumsum(gt, dim=1)
        union = gts + torch.cumsum(1 - gt, dim=1)
        jac = 1 - inter / union
        jac = torch.cat([jac[:, :1], jac[:, 1:] - jac[:, :-1]], dim=1)
        return (F.relu(es) * jac).sum(dim=1).mean()


LOSSES = {"ce": CE, "focal": Focal, "dice_image": DiceImage, "tversky_image": TverskyImage,
          "keras_bce": KerasBCE, "ce_dice": CEDice, "lovasz_hinge": LovaszHinge}


# ------------------------------------------------------------------ U-Net

# bench/unet_test.go's unetLayers: (kernel key, bias key, transposed, pool
# after, concat before); 3x3 valid convolutions with ReLU, 2x2 max-pools,
# 2x2 stride-2 transposed convolutions with ReLU, the center-cropped skip
# tensor concatenated before the upsampled one (jakeret's CropConcatBlock),
# a 1x1 convolution with ReLU (jakeret's activation_12) and softmax.
# (transposed, pool after, concat before) per layer; layer i < 12 has the
# kernel variables/2i and the bias variables/2i+1.
UNET_PLAN = "C CP C CP C C T cC C T cC C"  # C conv, T transposed, P pool after, c concat before
UNET = [(f"variables/{2 * i}", f"variables/{2 * i + 1}", "T" in code, "P" in code, "c" in code)
        for i, code in enumerate(UNET_PLAN.split())]
UNET.append(("layer_with_weights-7/kernel", "layer_with_weights-7/bias", False, False, False))


class UNet(torch.nn.Module):
    def __init__(self, data, weights):
        super().__init__()
        self.layers = torch.nn.ModuleList()
        self.plan = []
        for kkey, bkey, transposed, pool, concat in UNET:
            k = torch.from_numpy(np.load(os.path.join(data, weights[kkey])))
            bias = torch.from_numpy(np.load(os.path.join(data, weights[bkey])))
            kh, kw = k.shape[0], k.shape[1]
            if transposed:  # [kh, kw, out, in] -> [in, out, kh, kw]
                m = torch.nn.ConvTranspose2d(k.shape[3], k.shape[2], (kh, kw), stride=2)
            else:  # [kh, kw, in, out] -> [out, in, kh, kw]
                m = torch.nn.Conv2d(k.shape[2], k.shape[3], (kh, kw))
            with torch.no_grad():
                m.weight.copy_(k.permute(3, 2, 0, 1))
                m.bias.copy_(bias)
            self.layers.append(m)
            self.plan.append((transposed, pool, concat))

    def forward(self, x):  # NHWC in and out
        x = x.permute(0, 3, 1, 2)
        skips = []
        last = len(self.layers) - 1
        for i, (m, (transposed, pool, concat)) in enumerate(zip(self.layers, self.plan)):
            if concat:
                s = skips.pop()
                dh = (s.shape[2] - x.shape[2]) // 2
                dw = (s.shape[3] - x.shape[3]) // 2
                s = s[:, :, dh:dh + x.shape[2], dw:dw + x.shape[3]]
                x = torch.cat([s, x], dim=1)
            x = F.relu(m(x))
            if i == last:
                x = torch.softmax(x, dim=1)
            if pool:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        return x.permute(0, 2, 3, 1)


# ------------------------------------------------------------------ harness

def load_case(data, case, weights):
    ins = [torch.from_numpy(np.load(os.path.join(data, f))) for f in case["inputs"]]
    want = np.load(os.path.join(data, case["output"]))
    if case["kind"] == "unet":
        model = UNet(data, weights)
    else:
        model = LOSSES[case["name"]]()
    model.eval()
    return model, ins, want


def check(name, got, want):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        sys.exit(f"bench_peers.py: {name}: PyTorch's output has shape {got.shape}, the Go engine's {want.shape}")
    scale = max(float(np.max(np.abs(want))), 1e-30)
    diff = float(np.max(np.abs(got - want)))
    if not diff <= 1e-4 * scale:
        sys.exit(f"bench_peers.py: {name}: PyTorch and the Go engine disagree: max |diff| {diff:.3g} "
                 f"> 1e-4 of the output's scale {scale:.3g}")
    return diff / scale


def case_id(case):
    return case["bench"].replace("/engine=ENGINE", "").replace("/", "_").replace("=", "-")


def export(data, case, model, ins):
    names = ["y_true", "y_pred"] if case["kind"] == "loss" else ["inputs"]
    dyn = {"inputs": {0: "n", 1: "h", 2: "w"}} if case["kind"] == "unet" else None
    path = os.path.join(data, case_id(case) + ".onnx")
    with torch.no_grad():
        torch.onnx.export(model, tuple(ins), path, input_names=names, output_names=["output"],
                          opset_version=17, dynamic_axes=dyn, do_constant_folding=True)
    return path


def nbytes(case, ins, want):
    """Package bench's bytes per op: a loss reads its inputs and writes its
    output; the U-Net counts its input."""
    if case["kind"] == "unet":
        return ins[0].numel() * 4
    return sum(t.numel() for t in ins) * 4 + want.size * 4


def time_case(model, ins, seconds):
    with torch.inference_mode():
        n = 0
        t0 = time.perf_counter()
        while True:
            model(*ins)
            n += 1
            el = time.perf_counter() - t0
            if el >= seconds:
                return n, el


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--count", type=int, default=5)
    ap.add_argument("--time", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--export-only", action="store_true")
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--filter", default="")
    ap.add_argument("--peak", default="", help="a U-Net size: print the peak RSS of loading and running it")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    man = json.load(open(os.path.join(a.data, "manifest.json")))
    weights = man["weights"]

    if a.peak:
        case = next(c for c in man["cases"] if c["kind"] == "unet" and c["bench"].endswith("size=" + a.peak))
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        model, ins, want = load_case(a.data, case, weights)
        with torch.inference_mode():
            for _ in range(a.runs):
                out = model(*ins)
        check(case["bench"], out.numpy(), want)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"BenchmarkUNetPeak/build=pytorch/engine=pytorch/size={a.peak}-{a.threads} \t1\t"
              f"{(time.perf_counter() - t0) * 1e9:.0f} ns/op\t{peak / 1024:.1f} peak-MiB\t{base / 1024:.1f} base-MiB")
        return

    for case in man["cases"]:
        if a.filter and a.filter not in case["bench"]:
            continue
        model, ins, want = load_case(a.data, case, weights)
        with torch.inference_mode():
            got = model(*ins).numpy()
        rel = check(case["bench"], got, want)
        if not a.no_export:
            export(a.data, case, model, ins)
        if a.export_only:
            print(f"== {case['bench'].replace('ENGINE', 'pytorch')}: matches Go (max |diff| {rel:.2g} of scale); exported", flush=True)
            continue
        bench = case["bench"].replace("ENGINE", "pytorch")
        time_case(model, ins, 0)  # warm-up
        nb = nbytes(case, ins, want)
        for _ in range(a.count):
            n, el = time_case(model, ins, a.time)
            ns = el * 1e9 / n
            extra = f"\t{case['flops'] / ns:.2f} GFLOP/s" if case["flops"] else ""
            print(f"Benchmark{bench}-{a.threads} \t{n}\t{ns:.0f} ns/op\t{nb / ns * 1e3:.2f} MB/s{extra}", flush=True)


if __name__ == "__main__":
    main()
