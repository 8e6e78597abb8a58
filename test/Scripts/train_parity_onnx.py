#!/usr/bin/env python3
"""Training parity through the command line tools.

A LeNet-5 exported by PyTorch (ONNX) is compiled with `cnnc --train`, trained
for 5 steps on fixed batches by `cnnc-train --no-shuffle --export`, and the
exported initializers are compared with PyTorch's weights after the same 5
steps (same initial weights, same batches, same optimizer).

Usage: train_parity_onnx.py WORK_DIR sgd|momentum|adam[:hard|:convnext|:newops] [BATCH [TARGET [RUNNER]]]
(:hard: a LeNet-5 with HardSwish and a HardSigmoid gate instead;
:convnext: with ConvNeXt blocks, LayerNorm, GELU and channels-last Linear;
:newops: ConvTranspose, InstanceNorm, pixel (un)shuffle, Split,
LayerNormalization and reductions.)
(TARGET: a cnnc --target value, default host. RUNNER: a cnnc-train command
line for that target, e.g. an aarch64 cnnc-train under qemu-aarch64: it
trains and saves a checkpoint, which the host's cnnc-train, resuming at the
run's end, exports, so the ONNX export itself need not run on the target.)
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

OPTIMIZERS = {
    "sgd": (["--optimizer", "sgd", "--lr", "0.05"],
            lambda p: torch.optim.SGD(p, lr=0.05)),
    "momentum": (["--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9",
                  "--weight-decay", "0.001"],
                 lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9,
                                           weight_decay=0.001)),
    "adam": (["--optimizer", "adam", "--lr", "0.001"],
             lambda p: torch.optim.Adam(p, lr=0.001)),
}


def export(net, work, opset):
    """WORK/lenet.onnx: `net` exported for training (dynamic batch, no
    constant folding, parameters under their PyTorch names)."""
    src = os.path.join(work, "lenet.onnx")
    torch.onnx.export(net, torch.randn(1, 1, 28, 28), src,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      opset_version=opset,
                      training=torch.onnx.TrainingMode.TRAINING,
                      do_constant_folding=False)
    return src


def export_lenet(work):
    """LeNet-5 as nn.Sequential (parameters 0. 3. 7. 9. 11.), seed 0, and
    its ONNX export WORK/lenet.onnx (dynamic batch, no constant folding)."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))
    return net, export(net, work, 13)


class HardGate(nn.Module):
    """Squeeze-and-excitation as MobileNet v3 has it: x * HardSigmoid(...)."""

    def __init__(self, channels):
        super().__init__()
        self.reduce = nn.Conv2d(channels, channels // 2, 1)
        self.expand = nn.Conv2d(channels // 2, channels, 1)

    def forward(self, x):
        s = nn.functional.adaptive_avg_pool2d(x, 1)
        return x * nn.functional.hardsigmoid(
            self.expand(nn.functional.relu(self.reduce(s))))


def export_hard(work):
    """LeNet-5 with MobileNet v3's activations: HardSwish after each layer,
    a HardSigmoid squeeze-and-excitation gate; opset 14 (HardSwish as an
    op of its own)."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 8, 5, padding=2), nn.Hardswish(), nn.MaxPool2d(2),
        HardGate(8), nn.Conv2d(8, 16, 5), nn.Hardswish(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 84), nn.Hardswish(), nn.Linear(84, 10))
    return net, export(net, work, 14)


class ConvNeXtBlock(nn.Module):
    """torchvision's ConvNeXt block (CNBlock) without stochastic depth:
    depthwise 7x7, channels last, LayerNorm, Linear, GELU, Linear, layer
    scale, channels first, residual."""

    def __init__(self, c):
        super().__init__()
        self.dw = nn.Conv2d(c, c, 7, padding=3, groups=c)
        self.norm = nn.LayerNorm(c, eps=1e-6)
        self.fc1 = nn.Linear(c, 4 * c)
        self.fc2 = nn.Linear(4 * c, c)
        self.layer_scale = nn.Parameter(torch.full((c,), 0.5))

    def forward(self, x):
        h = self.dw(x).permute(0, 2, 3, 1)
        h = self.fc2(nn.functional.gelu(self.fc1(self.norm(h))))
        return x + (self.layer_scale * h).permute(0, 3, 1, 2)


def export_convnext(work):
    """LeNet-5 with a ConvNeXt block after each convolution; opset 13, so
    LayerNorm is decomposed, GELU goes through Erf and the Linear layers on
    channels-last tensors are MatMuls of transposed parameters. Smooth, as
    ConvNeXt is (GELU, average pooling): no ReLU or max-pooling kink that a
    rounding difference can put either side of within 5 steps."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.GELU(), nn.AvgPool2d(2),
        ConvNeXtBlock(6), nn.Conv2d(6, 16, 5), nn.GELU(), nn.AvgPool2d(2),
        ConvNeXtBlock(16), nn.Flatten(), nn.Linear(400, 84), nn.GELU(),
        nn.Linear(84, 10))
    return net, export(net, work, 13)


class GatedPool(nn.Module):
    """Channels halved by chunk (Split) into a sigmoid gate, then the
    spatial statistics: log-sum-exp, maximum, L2 norm and sum."""

    def forward(self, x):
        a, b = x.chunk(2, dim=1)
        z = a * torch.sigmoid(b)
        return torch.cat([z.logsumexp(dim=(2, 3)), z.amax(dim=(2, 3)),
                          z.norm(dim=(2, 3)), 0.01 * z.sum(dim=(2, 3))], 1)


def export_newops(work):
    """ConvTranspose (strided, grouped, with an output padding),
    InstanceNormalization, DepthToSpace (pixel shuffle), the pixel
    unshuffle's 6-D Reshape and Transpose, Split, LayerNormalization
    (opset 17) and the reductions ReduceLogSumExp, ReduceMax, ReduceL2 and
    ReduceSum, all trained."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 8, 5, stride=2, padding=2), nn.Tanh(),
        nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1,
                           groups=2), nn.Tanh(), nn.AvgPool2d(2),
        nn.InstanceNorm2d(8, affine=True), nn.PixelShuffle(2),
        nn.Conv2d(2, 8, 3, padding=1), nn.Tanh(), nn.PixelUnshuffle(2),
        nn.LayerNorm(14), GatedPool(), nn.Linear(64, 10))
    with torch.no_grad():  # not PyTorch's default 1 and 0
        for m in net.modules():
            if isinstance(m, (nn.InstanceNorm2d, nn.LayerNorm)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    return net, export(net, work, 17)


def main():
    # OPT, OPT:hard (the network with MobileNet v3's activations) or
    # OPT:convnext (with ConvNeXt blocks).
    work, (opt, _, kind) = sys.argv[1], sys.argv[2].partition(":")
    os.makedirs(work, exist_ok=True)
    exporters = {"hard": export_hard, "convnext": export_convnext,
                 "newops": export_newops}
    net, src = exporters.get(kind, export_lenet)(work)
    rs = np.random.RandomState(0)
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    target = sys.argv[4] if len(sys.argv) > 4 else "host"
    x = rs.randn(5 * batch, 1, 28, 28).astype(np.float32)
    y = rs.randint(0, 10, 5 * batch).astype(np.int64)
    np.save(os.path.join(work, "x.npy"), x)
    np.save(os.path.join(work, "y.npy"), y)
    runner = sys.argv[5].split() if len(sys.argv) > 5 else None
    so = os.path.join(work, "lenet.so")
    subprocess.run(["cnnc", src, "--train", "-o", so, "--target=" + target],
                   check=True)
    flags, make_opt = OPTIMIZERS[opt]
    out = os.path.join(work, "trained.onnx")
    data = ["--train-images", os.path.join(work, "x.npy"), "--train-labels",
            os.path.join(work, "y.npy"), "--steps", "5", "--batch", str(batch),
            "--no-shuffle", "--quiet"] + flags
    if runner:
        ckpt = os.path.join(work, "trained.ckpt")
        subprocess.run(runner + [so] + data + ["--checkpoint", ckpt], check=True)
        host_so = os.path.join(work, "lenet-host.so")
        subprocess.run(["cnnc", src, "--train", "-o", host_so], check=True)
        subprocess.run(["cnnc-train", host_so] + data + ["--resume", ckpt,
                                                         "--export", out],
                       check=True, stdout=subprocess.DEVNULL)
    else:
        subprocess.run(["cnnc-train", so] + data + ["--export", out], check=True)
    o = make_opt(net.parameters())
    for s in range(5):
        o.zero_grad()
        loss = nn.functional.cross_entropy(
            net(torch.from_numpy(x[batch * s:batch * (s + 1)])),
            torch.from_numpy(y[batch * s:batch * (s + 1)]))
        loss.backward()
        o.step()
    trained = {t.name: numpy_helper.to_array(t)
               for t in onnx.load(out).graph.initializer}
    expected = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    worst = 0.0
    for name, ref in expected.items():
        got = trained[name]
        err = float(np.max(np.abs(got - ref)) / max(np.max(np.abs(ref)), 1e-12))
        worst = max(worst, err)
        print("%s %s: max relative error %.2e" % (opt, name, err))
    print("%s: worst %.2e %s" % (opt, worst, "OK" if worst <= 1e-4 else "MISMATCH"))
    return 0 if worst <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
