#!/usr/bin/env python3
"""Concatenations without a kernel: the producers of a concatenation's
inputs write into channel slices of one buffer (a slab) that the
concatenation reads, and a DenseNet-style chain (concat(x0), concat(x0, x1),
concat(x0, x1, x2)) shares one slab. Checks against PyTorch in float64:
 - a dense block of three layers (DenseNet's: BatchNorm + ReLU + 1x1
   convolution, which the 1x1 convolution's kernel computes as it reads
   the slab, then BatchNorm + ReLU + 3x3 convolution, growth 4) on 9x9
   images, 6 channels in;
 - concatenations that stay kernels: inputs out of order, an input twice,
   a graph input, one read through a reshape (flattened for the Linear
   layer);
 - 1x1 convolutions that read the slab and a slice of it as [N, C, 1, H*W];
 - Inception-style branches, one a 1x1 convolution that writes its slice as
   [N, C, 1, H*W];
 - a slab input that another layer also reads;
 - a batch of 3 and of 1, the same model with -O0 (every concatenation a
   kernel), after set_parameter, and a training library after train steps.

Usage: concat_check.py WORK_DIR
"""
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
import cnnc  # noqa: E402


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 6, 3, padding=1)
        # DenseNet's layers: BatchNorm, ReLU, 1x1 convolution to 8
        # channels, BatchNorm, ReLU, 3x3 convolution to 4.
        self.bn = nn.ModuleList([nn.BatchNorm2d(6 + 4 * i) for i in range(3)])
        self.squeeze = nn.ModuleList(
            [nn.Conv2d(6 + 4 * i, 8, 1, bias=False) for i in range(3)])
        self.bn2 = nn.ModuleList([nn.BatchNorm2d(8) for i in range(3)])
        self.conv = nn.ModuleList(
            [nn.Conv2d(8, 4, 3, padding=1, bias=False) for i in range(3)])
        self.side = nn.Conv2d(18, 5, 1)
        self.mid = nn.Conv2d(10, 5, 1)
        self.branch1 = nn.Conv2d(6, 3, 1)
        self.branch3 = nn.Conv2d(6, 2, 3, padding=1)
        self.fc = nn.Linear((18 + 10 + 12 + 3 + 5) * 9 * 9, 7)

    def forward(self, x):
        x0 = torch.relu(self.stem(x))
        features = [x0]
        for bn, squeeze, bn2, conv in zip(self.bn, self.squeeze, self.bn2,
                                          self.conv):
            y = torch.cat(features, 1)
            y = torch.relu(bn2(squeeze(torch.relu(bn(y)))))
            features.append(conv(y))
        block = torch.cat(features, 1)              # 18 channels: the slab
        # 1x1 convolutions read [N, C, 1, 81] views: of the slab, and of
        # a slice of it; a slab input is read by another layer too.
        side = (self.side(block) + self.mid(torch.cat(features[:2], 1)) +
                features[1][:, :1])
        swapped = torch.cat([features[2], features[1], side[:, :2]], 1)
        twice = torch.cat([features[3], features[3], x0[:, :4]], 1)
        with_input = torch.cat([x, side[:, 2:5]], 1)[:, :3]
        # Inception-style: a 1x1 convolution (computed as [N, 3, 1, 81])
        # and a 3x3 one write their slices of one slab.
        inception = torch.relu(torch.cat(
            [self.branch1(x0), self.branch3(x0)], 1))
        flat = torch.cat([block, swapped, twice, with_input, inception], 1)
        return self.fc(torch.flatten(flat, 1))


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    net = Net()
    with torch.no_grad():  # BatchNorm statistics that are not the identity
        for bn in list(net.bn) + list(net.bn2):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 1.5)
    net.eval()
    src = os.path.join(work, "cat.onnx")
    torch.onnx.export(net, torch.zeros(1, 3, 9, 9), src, input_names=["x"],
                      output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}},
                      opset_version=13, do_constant_folding=False,
                      # BatchNorm stays a node (eval mode would fold the
                      # second one into the 1x1 convolution's weights,
                      # which the training library then trains under
                      # names the PyTorch model does not have).
                      training=torch.onnx.TrainingMode.PRESERVE)
    net = net.double()
    rs = np.random.RandomState(0)
    x = rs.randn(3, 3, 9, 9).astype(np.float32)
    labels = rs.randint(0, 7, 3).astype(np.int64)
    ok = True

    def compare(tag, m, batch):
        nonlocal ok
        with torch.no_grad():
            params = dict(net.named_parameters())
            params.update(net.named_buffers())  # BatchNorm's statistics
            for name, value in m.parameters().items():
                if name in params:
                    params[name].copy_(torch.from_numpy(
                        value.astype(np.float64)))
            ref = net(torch.from_numpy(batch).double()).numpy()
        got = m.run(batch)[0]
        err = float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))
        print("%s: max relative error %.1e %s" % (tag, err,
                                                  "OK" if err < 1e-5 else "BAD"))
        ok = ok and err < 1e-5

    for flags, tag in (([], "inference"), (["-O0"], "direct"),
                       (["--train"], "training")):
        so = os.path.join(work, "cat_%s.so" % tag)
        subprocess.run(["cnnc", src, "-o", so, "--name", "cat"] + flags,
                       check=True)
        m = cnnc.load(so)
        compare("%s library, batch 3" % tag, m, x)
        compare("%s library, batch 1" % tag, m, x[:1])
        for name in ("conv.1.weight", "stem.bias"):
            shape = m.parameter(name).shape
            m.set_parameter(name, rs.randn(*shape).astype(np.float32) * 0.1)
        compare("%s library, after set_param" % tag, m, x)
        if tag == "training":
            m.configure("sgd", 0.05, momentum=0.9)
            for _ in range(3):
                m.train_step(x, labels)
            compare("%s library, after 3 train steps" % tag, m, x)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
