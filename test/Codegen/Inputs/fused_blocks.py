"""Normalizations and squeeze-and-excitation blocks, which cnn-fuse-ops
turns into single kernels (cnn.normalize, cnn.squeeze_excite), against
PyTorch at batch 1 and 3, at each x86 target level of the host: LayerNorm
on channels-last tensors as PyTorch exports it before opset 17 (channels
that fill vectors with a tail, fewer channels than a vector, no affine
parameters, two normalized axes), InstanceNorm2d, and SE blocks with a
sigmoid or a HardSigmoid gate (squeezed widths below and above a vector,
images whose rows fill vectors with a tail). Also checks that each block
did fuse, so a silent fallback to the decomposed ops fails the test.

  fused_blocks.py WORK_DIR TARGETS

Prints one line per block, batch and target, and ALL OK, or MISMATCH lines.
"""
import os
import re
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn
from torchvision.ops import SqueezeExcitation

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Scripts"))
import cnnc  # noqa: E402
from torch_models import relative_error, target_label  # noqa: E402

TOL = 1e-5


class ChannelsLast(nn.Module):
    """A LayerNorm over the channels of NCHW, as ConvNeXt applies it."""

    def __init__(self, norm):
        super().__init__()
        self.norm = norm

    def forward(self, x):
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


# name: (module, input shape after the batch, the fused op)
BLOCKS = {
    "ln_c10": (lambda: ChannelsLast(nn.LayerNorm(10)), (10, 5, 5),
               "normalize"),
    "ln_c96": (lambda: ChannelsLast(nn.LayerNorm(96, eps=1e-6)), (96, 3, 4),
               "normalize"),
    "ln_c5_plain": (lambda: ChannelsLast(nn.LayerNorm(
        5, elementwise_affine=False)), (5, 4, 3), "normalize"),
    "ln_two_axes": (lambda: nn.LayerNorm([6, 11]), (4, 6, 11), "normalize"),
    "instance_norm": (lambda: nn.InstanceNorm2d(6, affine=True), (6, 9, 11),
                      "normalize"),
    "se_silu": (lambda: SqueezeExcitation(24, 6, activation=nn.SiLU),
                (24, 9, 9), "squeeze_excite"),
    "se_hard": (lambda: SqueezeExcitation(20, 8,
                                          scale_activation=nn.Hardsigmoid),
                (20, 5, 5), "squeeze_excite"),
    "se_wide": (lambda: SqueezeExcitation(72, 20, activation=nn.SiLU),
                (72, 14, 14), "squeeze_excite"),
}


def randomize(name, model):
    # Normalizations: affine parameters away from 1 and 0, inputs with a
    # large mean (a one-pass variance would lose it). SE blocks keep
    # PyTorch's initialization and take inputs around 0, so that their gates
    # do not saturate at exactly 0 or 1.
    if name.startswith("se_"):
        return model, 0.0
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p))
    return model, 30.0


def main():
    work, targets = sys.argv[1], sys.argv[2].split(",")
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    ok = True
    for name, (make, shape, fused) in BLOCKS.items():
        model, mean = randomize(name, make())
        model.eval()
        path = os.path.join(work, name + ".onnx")
        torch.onnx.export(model, torch.randn(1, *shape), path,
                          input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}},
                          opset_version=13)
        ir = subprocess.run(["cnnc", path, "--emit=mlir"], check=True,
                            capture_output=True, text=True).stdout
        count = len(re.findall(r"= cnn\." + fused + " ", ir))
        if count != 1:
            print("%s: %d cnn.%s ops, not 1 MISMATCH" % (name, count, fused))
            ok = False
        for target in targets:
            so = os.path.join(work, "%s-%s.so" % (name, target_label(target)))
            subprocess.run(["cnnc", path, "-o", so, "--target=" + target],
                           check=True)
            lib = cnnc.load(so)
            for batch in (1, 3):
                rs = np.random.RandomState(batch)
                x = (rs.randn(batch, *shape) * 2 + mean).astype(np.float32)
                (got,) = lib.run(x)
                with torch.no_grad():
                    ref = model(torch.from_numpy(x).double().float()).double()
                err = relative_error(got, ref.numpy())
                good = err <= TOL
                ok &= good
                print("%s %s batch %d: %.2e %s" % (
                    name, target_label(target), batch, err,
                    "ok" if good else "MISMATCH"), flush=True)
    print("ALL OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
