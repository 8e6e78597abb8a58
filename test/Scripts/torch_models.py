#!/usr/bin/env python3
"""PyTorch models exported to ONNX, compiled by the real CLI, run through the
C ABI, and compared with PyTorch's own outputs.

Usage: torch_models.py WORK_DIR [--targets T1,T2,...] [--opt=-O2,-O0]
                        [--run-with "COMMAND"] MODEL [MODEL...]
Models: lenet5, resnet_small_bn (BatchNorm kept in the ONNX),
resnet_small_folded (BatchNorm folded by the exporter), resnet18_64,
resnet18_224, mobilenet_block (depthwise conv + ReLU6), conv_relu_bn
(BatchNorm after the activation); torchvision's alexnet, vgg11_bn,
googlenet, inception_v3 (eval mode, at their own input sizes).
Each is compiled for every target (default: host) at every optimization
level (default: -O2 and -O0) and run with batch 1 and 3 from the same
library (through the C ABI, or with --run-with through a cnnc-run command,
e.g. an aarch64 cnnc-run under qemu-aarch64 for --target=arm-64-linux); outputs must match PyTorch within 1e-4 relative to the output's
own scale (its largest magnitude): float32 kernels against float32 PyTorch
differ by summation order only, about 1e-6 of the scale measured here.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
import cnnc  # noqa: E402

TOL = 1e-4


def randomize_bn(model):
    # Non-trivial statistics, so folding BatchNorm is really exercised.
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.rand(m.num_features, generator=g) - 0.5)
    return model


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (self.down(x) if self.down else x))


def resnet_small():
    return nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8),
                         nn.ReLU(), nn.MaxPool2d(3, 2, 1), Block(8, 8, 1),
                         Block(8, 16, 2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(16, 5))


class Flat(nn.Module):
    def forward(self, x):
        return x.view(x.size(0), -1)  # Shape/Gather/Unsqueeze/Concat/Reshape


def mobilenet_block():
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(),
        nn.Conv2d(16, 16, 3, 1, 1, groups=16, bias=False), nn.BatchNorm2d(16),
        nn.ReLU6(), nn.Conv2d(16, 24, 1, bias=False), nn.BatchNorm2d(24),
        nn.AvgPool2d(2), Flat(), nn.Linear(24 * 4 * 4, 7))


def conv_relu_bn():
    # BatchNorm after the activation: fused as a late channel affine.
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(8),
                         nn.Conv2d(8, 8, 3, padding=1), nn.ReLU6(), nn.BatchNorm2d(8),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 4))


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), Flat(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


def resnet18():
    import torchvision
    return torchvision.models.resnet18(weights=None)


def torchvision_model(name, **kw):
    def make():
        import torchvision
        return getattr(torchvision.models, name)(weights=None, **kw)
    return make


class NewOps(nn.Module):
    """The ops of issue 12's list in one small network, as PyTorch exports
    them: Pad in reflect and edge modes, InstanceNormalization, DepthToSpace
    (pixel shuffle), the pixel
    unshuffle's 6-D Reshape/Transpose, Split (chunk), LayerNormalization
    (opset 17), ReduceLogSumExp, ReduceMax, ReduceL2 and ReduceSum."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.inorm = nn.InstanceNorm2d(16, affine=True)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.ln = nn.LayerNorm(8)
        self.fc = nn.Linear(64, 5)

    def forward(self, x):
        x = nn.functional.pad(x, (1, 2, 2, 1), mode="reflect")
        y = self.inorm(torch.relu(self.conv1(x)))[:, :, 1:-2, 2:-1]
        y = nn.functional.pad(y, (1, 0, 0, 1), mode="replicate")[:, :, :-1, 1:]
        y = torch.relu(self.conv2(nn.functional.pixel_shuffle(y, 2)))
        a, b = nn.functional.pixel_unshuffle(y, 2).chunk(2, dim=1)
        z = self.ln(a * torch.sigmoid(b))
        f = torch.cat([z.logsumexp(dim=(2, 3)), z.amax(dim=(2, 3)),
                       z.norm(dim=(2, 3)), z.sum(dim=(2, 3))], 1)
        return self.fc(f)


def upsample_net():
    """Nearest upsampling by whole factors (Resize, or Upsample at opset 9),
    as in a feature pyramid, between convolutions."""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(3, 4, 3, padding=1)
            self.b = nn.Conv2d(4, 4, 3, padding=1)
            self.fc = nn.Linear(4 * 24 * 24, 5)

        def forward(self, x):
            y = nn.functional.interpolate(torch.relu(self.a(x)),
                                          scale_factor=2, mode="nearest")
            y = nn.functional.interpolate(torch.relu(self.b(y)),
                                          scale_factor=(1, 3), mode="nearest")
            return self.fc(y[:, :, 4:28, :24].flatten(1))
    return Net()


def interpolate_net():
    """F.interpolate in the modes PyTorch exports as Resize: bilinear to a
    size (whose N and C PyTorch takes from the input's shape, known only at
    run time), bicubic by 1.5 with aligned corners, nearest to a size that
    is no whole factor; between convolutions."""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(3, 4, 3, padding=1)
            self.fc = nn.Linear(4 * (7 * 5 + 12 * 12 + 3 * 9), 5)

        def forward(self, x):
            y = torch.relu(self.a(x))
            p = nn.functional.interpolate(y, size=(7, 5), mode="bilinear",
                                          align_corners=False)
            q = nn.functional.interpolate(y, scale_factor=1.5, mode="bicubic",
                                          align_corners=True)
            r = nn.functional.interpolate(y, size=(3, 9), mode="nearest")
            return self.fc(torch.cat([p.flatten(1), q.flatten(1),
                                      r.flatten(1)], 1))
    return Net()


# name: (constructor, input shape, keep BatchNorm in the ONNX[, opset])
MODELS = {
    "lenet5": (lenet5, (1, 28, 28), False),
    "resnet_small_bn": (resnet_small, (3, 16, 16), True),
    "resnet_small_folded": (resnet_small, (3, 16, 16), False),
    "resnet18_64": (resnet18, (3, 64, 64), True),
    "resnet18_224": (resnet18, (3, 224, 224), False),
    "mobilenet_block": (mobilenet_block, (3, 16, 16), True),
    "conv_relu_bn": (conv_relu_bn, (3, 8, 8), True),
    "new_ops": (NewOps, (3, 8, 8), True, 17),
    "upsample_nearest": (upsample_net, (3, 16, 8), False),
    "upsample_nearest_opset9": (upsample_net, (3, 16, 8), False, 9),
    "interpolate_modes": (interpolate_net, (3, 8, 8), False),
    # HardSigmoid (squeeze-and-excitation gates) and HardSwish at opset 13,
    # where PyTorch writes HardSwish as x * HardSigmoid(x), and opset 14.
    "mobilenet_v3_small_64": (torchvision_model("mobilenet_v3_small"),
                              (3, 64, 64), True),
    "mobilenet_v3_small_64_opset14": (torchvision_model("mobilenet_v3_small"),
                                      (3, 64, 64), True, 14),
    # SiLU (fused into its convolution) and squeeze-and-excitation gates.
    "efficientnet_b0_64": (torchvision_model("efficientnet_b0"), (3, 64, 64),
                           True),
    # The channel shuffle (5-D reshape, Transpose) and chunk (Slice) of
    # run-time tensors.
    "shufflenet_v2_x0_5_64": (torchvision_model("shufflenet_v2_x0_5"),
                              (3, 64, 64), True),
    # LayerNorm and GELU as PyTorch exports them (ReduceMean, Sub, Pow,
    # Sqrt, Div, Erf), Transpose to channels-last and MatMul with batch
    # dimensions.
    "convnext_tiny_64": (torchvision_model("convnext_tiny"), (3, 64, 64),
                         True),
    # The fused conv + ReLU + max-pool kernels that read past their input
    # on AVX2 and SSE4.1 (issue 11), at their real sizes.
    "alexnet": (torchvision_model("alexnet"), (3, 224, 224), False),
    "vgg11_bn": (torchvision_model("vgg11_bn"), (3, 224, 224), True),
    "googlenet": (torchvision_model("googlenet", aux_logits=False,
                                    init_weights=True), (3, 224, 224), True),
    "inception_v3": (torchvision_model("inception_v3", aux_logits=False,
                                       init_weights=True), (3, 299, 299), True),
}


def relative_error(got, ref):
    """Largest deviation relative to the reference's own scale (floored at
    float32's smallest normal, so an all-zero reference still compares)."""
    scale = max(float(np.max(np.abs(ref))), float(np.finfo(np.float32).tiny))
    return float(np.max(np.abs(got.astype(np.float64) - ref))) / scale


class CommandModel:
    """A library run by a cnnc-run command line on .npy files."""

    def __init__(self, command, so, work):
        self.command, self.so, self.work = command, so, work

    def run(self, x):
        base = os.path.join(self.work, os.path.basename(self.so))
        np.save(base + ".in.npy", x)
        subprocess.run(self.command.split() + [self.so, "-i", base + ".in.npy",
                                               "-o", base + ".out.npy"],
                       check=True)
        return (np.load(base + ".out.npy"),)


def check(name, work, targets, opts, run_with=None):
    make, shape, keep_bn = MODELS[name][:3]
    opset = MODELS[name][3] if len(MODELS[name]) > 3 else 13
    torch.manual_seed(0)
    model = randomize_bn(make()).eval()
    onnx_path = os.path.join(work, name + ".onnx")
    kw = {}
    if keep_bn:
        kw = dict(training=torch.onnx.TrainingMode.PRESERVE,
                  do_constant_folding=False)
    torch.onnx.export(model, torch.randn(1, *shape), onnx_path,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
                      opset_version=opset, **kw)
    ok = True
    refs = {}
    for target in targets:
        level = target_label(target)
        for opt in opts:
            so = os.path.join(work, "%s-%s%s.so" % (name, level, opt))
            subprocess.run(["cnnc", onnx_path, "-o", so, opt, "--name", "m",
                            "--target=" + target], check=True)
            lib = CommandModel(run_with, so, work) if run_with else cnnc.load(so)
            for batch in (1, 3):
                x = np.random.RandomState(batch).randn(batch, *shape).astype(np.float32)
                (got,) = lib.run(x)
                if batch not in refs:
                    with torch.no_grad():
                        refs[batch] = model(torch.from_numpy(x)).double().numpy()
                err = relative_error(got, refs[batch])
                status = "ok" if err <= TOL else "MISMATCH"
                ok = ok and status == "ok"
                print("%s %s %s batch %d: max error %.2e %s" % (
                    name, level, opt, batch, err, status), flush=True)
    return ok


def target_label(target):
    """A short name for a target string: its last x86 level, or itself."""
    for level, feature in (("avx512", "avx512"), ("avx2", "avx2"),
                           ("sse41", "sse41")):
        if feature in target.split("-"):
            return level
    if target.startswith("arm-64"):
        return "aarch64"
    return target.split("-")[0] if target != "host" else "host"


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("models", nargs="+", choices=sorted(MODELS))
    ap.add_argument("--targets", default="host",
                    help="comma-separated cnnc --target values")
    ap.add_argument("--opt", default="-O2,-O0",
                    help="comma-separated optimization levels")
    ap.add_argument("--run-with", default=None,
                    help="a cnnc-run command line to run the libraries with")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    results = [check(n, args.work, args.targets.split(","), args.opt.split(","),
                     args.run_with)
               for n in args.models]
    print("ALL OK" if all(results) else "MISMATCH")
    sys.exit(0 if all(results) else 1)
