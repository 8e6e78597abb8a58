#!/usr/bin/env python3
"""Gradient checks of cnnc's backward kernels.

For several small networks covering every differentiable op family
(strided/padded/dilated/grouped/depthwise convolution, max and average
pooling with padding and ceil_mode, global pooling, Gemm, every activation),
the script writes the network in the cnn dialect, compiles it with
`cnnc --train`, and takes one SGD step with lr = 1, so the change of each
parameter is minus its gradient. The gradients are compared with
  - PyTorch autograd in float64, and
  - central finite differences of the float64 loss (a sample of elements),
within a relative tolerance suited to float32 kernels.

Usage: gradcheck.py CNNC_BINARY WORK_DIR [NET,...]   (default: every network)
"""
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
import cnnc  # noqa: E402

# Largest error allowed, relative to the largest gradient of the tensor
# (for running statistics: to the largest value). The basis: float32
# kernels against float64 references. A gradient element is a float32 sum
# of at most a few hundred terms (the largest here: a weight gradient over
# N*H*W = 200 positions), whose rounding error grows like
# sqrt(n) * 2^-24, about 1e-6 of the terms' magnitude; reading it back as
# w - (w - g) after a step with lr 1 rounds once more, by 2^-24 |w| with
# |w| up to about 2. Measured: at most 1.9e-6 against autograd, 1.3e-6
# against finite differences, 1.9e-7 for the running statistics; 1e-5
# leaves 5x. A gradient 0.01% off fails (the earlier 2e-3 passed one 0.15%
# off).
TOL = 1e-5


def t(shape):
    return "tensor<" + "x".join("?" if d is None else str(d) for d in shape) + "xf32>"


class Builder:
    """Writes `func @main` in the cnn dialect while a float64 PyTorch
    function computes the same thing."""

    def __init__(self, in_shape):
        self.lines, self.params, self.n = [], [], 0
        self.in_shape = in_shape

    def val(self):
        self.n += 1
        return "%%v%d" % self.n

    def param(self, name, shape, buffer=False):
        v = self.val()
        self.lines.append('%s = cnn.param "%s" {%sinit = "zeros"} : %s' % (
            v, name, "buffer, " if buffer else "", t(shape)))
        self.params.append((name, shape))
        return v

    def op(self, text, result_shape):
        v = self.val()
        self.lines.append(text.replace("$R", v).replace("$T", t(result_shape)))
        return v

    def module(self, out, out_shape):
        body = "\n    ".join(self.lines)
        return ("module @g {\n  func @main(%%x: %s) -> %s {\n    %s\n    return %s : %s\n  }\n}\n"
                % (t((None,) + self.in_shape[1:]), t((None,) + out_shape[1:]),
                   body, out, t((None,) + out_shape[1:])))


def dyn(shape):
    return (None,) + tuple(shape[1:])


def conv(b, x, xs, name, w, bias, stride, pad, dil, groups, act=None):
    """Adds conv (+ activation) to the builder; returns (value, shape, torch fn)."""
    wv = b.param(name + ".weight", tuple(w.shape))
    bv = b.param(name + ".bias", (w.shape[0],)) if bias is not None else None
    ys = tuple(F.conv2d(torch.zeros(xs), w, bias, stride, (pad, pad), dil, groups).shape)
    attrs = "{strides = [%d, %d], pads = [%d, %d, %d, %d], dilations = [%d, %d], group = %d}" % (
        stride, stride, pad, pad, pad, pad, dil, dil, groups)
    operands = "%s, %s%s" % (x, wv, (", " + bv) if bv else "")
    types = "%s, %s%s" % (t(dyn(xs)), t(tuple(w.shape)), (", " + t((w.shape[0],))) if bv else "")
    y = b.op("$R = cnn.conv2d %s %s : (%s) -> %s" % (operands, attrs, types, t(dyn(ys))), dyn(ys))
    return y, ys


NETS = {}


def net(fn):
    NETS[fn.__name__] = fn
    return fn


@net
def strided_padded_maxpool(rs):
    xs = (3, 2, 9, 9)
    P = {"c.weight": rs.randn(4, 2, 3, 3), "c.bias": rs.randn(4),
         "fc.weight": rs.randn(5, 4 * 3 * 3), "fc.bias": rs.randn(5)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "c", torch.zeros(4, 2, 3, 3), torch.zeros(4), 2, 1, 1, 1)
    r = b.op("$R = cnn.relu %s : $T" % y, dyn(ys))
    ps = tuple(F.max_pool2d(torch.zeros(ys), 3, 2, 1).shape)
    p = b.op("$R = cnn.max_pool2d %s {kernel_shape = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1]} : (%s) -> $T"
             % (r, t(dyn(ys))), dyn(ps))
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (p, t(dyn(ps))), (None, 36))
    wv, bv = b.param("fc.weight", (5, 36)), b.param("fc.bias", (5,))
    o = b.op("$R = cnn.gemm %s, %s, %s {transB = true} : (%s, %s, %s) -> $T"
             % (f, wv, bv, t((None, 36)), t((5, 36)), t((5,))), (None, 5))

    def ref(x, P):
        h = F.relu(F.conv2d(x, P["c.weight"], P["c.bias"], 2, 1))
        h = F.max_pool2d(h, 3, 2, 1).flatten(1)
        return F.linear(h, P["fc.weight"], P["fc.bias"])
    return xs, P, b.module(o, (3, 5)), ref


@net
def maxpool_windows(rs):
    # A 2x3 window with strides 2, 3 (row-major window order: a transposed
    # index would pick the wrong element), then a 5x5 window (stride 2, pad
    # 2: past the unrolled comparisons, Halide's argmax).
    xs = (3, 2, 11, 13)
    P = {"c.weight": rs.randn(4, 2, 3, 3), "c.bias": rs.randn(4),
         "d.weight": rs.randn(3, 4, 1, 1),
         "fc.weight": rs.randn(5, 3 * 3 * 2), "fc.bias": rs.randn(5)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "c", torch.zeros(4, 2, 3, 3), torch.zeros(4), 1, 1, 1, 1)
    r = b.op("$R = cnn.relu %s : $T" % y, dyn(ys))
    ps = tuple(F.max_pool2d(torch.zeros(ys), (2, 3), (2, 3)).shape)
    p = b.op("$R = cnn.max_pool2d %s {kernel_shape = [2, 3], strides = [2, 3]} : (%s) -> $T"
             % (r, t(dyn(ys))), dyn(ps))
    d, ds = conv(b, p, ps, "d", torch.zeros(3, 4, 1, 1), None, 1, 0, 1, 1)
    qs = tuple(F.max_pool2d(torch.zeros(ds), 5, 2, 2).shape)
    q = b.op("$R = cnn.max_pool2d %s {kernel_shape = [5, 5], strides = [2, 2], pads = [2, 2, 2, 2]} : (%s) -> $T"
             % (d, t(dyn(ds))), dyn(qs))
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (q, t(dyn(qs))), (None, 18))
    wv, bv = b.param("fc.weight", (5, 18)), b.param("fc.bias", (5,))
    o = b.op("$R = cnn.gemm %s, %s, %s {transB = true} : (%s, %s, %s) -> $T"
             % (f, wv, bv, t((None, 18)), t((5, 18)), t((5,))), (None, 5))

    def ref(x, P):
        h = F.relu(F.conv2d(x, P["c.weight"], P["c.bias"], 1, 1))
        h = F.conv2d(F.max_pool2d(h, (2, 3), (2, 3)), P["d.weight"])
        h = F.max_pool2d(h, 5, 2, 2).flatten(1)
        return F.linear(h, P["fc.weight"], P["fc.bias"])
    return xs, P, b.module(o, (3, 5)), ref


@net
def dilated_grouped_avgpool(rs):
    xs = (2, 4, 10, 10)
    P = {"c.weight": rs.randn(6, 2, 3, 3), "fc.weight": rs.randn(3, 6)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "c", torch.zeros(6, 2, 3, 3), None, 1, 2, 2, 2)
    r = b.op("$R = cnn.leaky_relu %s {alpha = 0.1 : f32} : $T" % y, dyn(ys))
    ps = tuple(F.avg_pool2d(torch.zeros(ys), 2, 2, 1, count_include_pad=True).shape)
    p = b.op("$R = cnn.avg_pool2d %s {kernel_shape = [2, 2], strides = [2, 2], pads = [1, 1, 1, 1], count_include_pad = true} : (%s) -> $T"
             % (r, t(dyn(ys))), dyn(ps))
    g = b.op("$R = cnn.global_avg_pool %s : (%s) -> $T" % (p, t(dyn(ps))), (None, 6, 1, 1))
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (g, t((None, 6, 1, 1))), (None, 6))
    wv = b.param("fc.weight", (3, 6))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (f, wv, t((None, 6)), t((3, 6))), (None, 3))

    def ref(x, P):
        h = F.leaky_relu(F.conv2d(x, P["c.weight"], None, 1, 2, 2, 2), 0.1)
        h = F.avg_pool2d(h, 2, 2, 1, count_include_pad=True)
        h = F.adaptive_avg_pool2d(h, 1).flatten(1)
        return F.linear(h, P["fc.weight"])
    return xs, P, b.module(o, (2, 3)), ref


@net
def depthwise_relu6_ceil_sigmoid_tanh(rs):
    xs = (2, 3, 7, 7)
    P = {"dw.weight": rs.randn(3, 1, 3, 3), "dw.bias": rs.randn(3),
         "pw.weight": rs.randn(4, 3, 1, 1),
         "f1.weight": rs.randn(6, 64), "f1.bias": rs.randn(6),
         "f2.weight": rs.randn(2, 6)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "dw", torch.zeros(3, 1, 3, 3), torch.zeros(3), 1, 1, 1, 3)
    r = b.op("$R = cnn.clip %s {min = 0.0 : f32, max = 6.0 : f32} : $T" % y, dyn(ys))
    z, zs = conv(b, r, ys, "pw", torch.zeros(4, 3, 1, 1), None, 1, 0, 1, 1)
    s = b.op("$R = cnn.sigmoid %s : $T" % z, dyn(zs))
    ps = tuple(F.avg_pool2d(torch.zeros(zs), 2, 2, ceil_mode=True).shape)
    p = b.op("$R = cnn.avg_pool2d %s {kernel_shape = [2, 2], strides = [2, 2], ceil_mode = true} : (%s) -> $T"
             % (s, t(dyn(zs))), dyn(ps))
    n = ps[1] * ps[2] * ps[3]
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (p, t(dyn(ps))), (None, n))
    w1, b1 = b.param("f1.weight", (6, n)), b.param("f1.bias", (6,))
    h = b.op("$R = cnn.gemm %s, %s, %s {transB = true} : (%s, %s, %s) -> $T"
             % (f, w1, b1, t((None, n)), t((6, n)), t((6,))), (None, 6))
    th = b.op("$R = cnn.tanh %s : $T" % h, (None, 6))
    w2 = b.param("f2.weight", (2, 6))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (th, w2, t((None, 6)), t((2, 6))), (None, 2))

    def ref(x, P):
        h = torch.clamp(F.conv2d(x, P["dw.weight"], P["dw.bias"], 1, 1, 1, 3), 0, 6)
        h = torch.sigmoid(F.conv2d(h, P["pw.weight"]))
        h = F.avg_pool2d(h, 2, 2, ceil_mode=True).flatten(1)
        h = torch.tanh(F.linear(h, P["f1.weight"], P["f1.bias"]))
        return F.linear(h, P["f2.weight"])
    return xs, P, b.module(o, (2, 2)), ref


@net
def weight_grad_tiles(rs):
    # Weight gradients as register tiles (cnn.conv2d_backward_weight,
    # group 1): output channels that round up to whole vectors (20, 12 and
    # 40 on 4, 8 or 16 lanes), more than one block of channels, input
    # channels and window rows and columns that round up to whole tiles
    # (5, 20, 12 channels; 3x3, 1x1, 7x7 windows), stride, padding and
    # dilation. gradcheck.test also runs it with other vector machines.
    xs = (3, 5, 12, 12)
    P = {"a.weight": rs.randn(20, 5, 3, 3), "a.bias": rs.randn(20),
         "b.weight": rs.randn(12, 20, 1, 1),
         "c.weight": rs.randn(40, 12, 7, 7), "c.bias": rs.randn(40),
         "d.weight": rs.randn(9, 40, 2, 2),
         "fc.weight": rs.randn(4, 9)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "a", torch.zeros(20, 5, 3, 3), torch.zeros(20), 1, 1, 1, 1)
    r = b.op("$R = cnn.relu %s : $T" % y, dyn(ys))
    y, ys = conv(b, r, ys, "b", torch.zeros(12, 20, 1, 1), None, 1, 0, 1, 1)
    r = b.op("$R = cnn.tanh %s : $T" % y, dyn(ys))
    y, ys = conv(b, r, ys, "c", torch.zeros(40, 12, 7, 7), torch.zeros(40), 2, 3, 1, 1)
    r = b.op("$R = cnn.relu %s : $T" % y, dyn(ys))
    y, ys = conv(b, r, ys, "d", torch.zeros(9, 40, 2, 2), None, 1, 1, 2, 1)
    g = b.op("$R = cnn.global_avg_pool %s : (%s) -> $T" % (y, t(dyn(ys))), (None, 9, 1, 1))
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (g, t((None, 9, 1, 1))), (None, 9))
    wv = b.param("fc.weight", (4, 9))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (f, wv, t((None, 9)), t((4, 9))), (None, 4))

    def ref(x, P):
        h = F.relu(F.conv2d(x, P["a.weight"], P["a.bias"], 1, 1))
        h = torch.tanh(F.conv2d(h, P["b.weight"]))
        h = F.relu(F.conv2d(h, P["c.weight"], P["c.bias"], 2, 3))
        h = F.conv2d(h, P["d.weight"], None, 1, 1, 2)
        h = F.adaptive_avg_pool2d(h, 1).flatten(1)
        return F.linear(h, P["fc.weight"])
    return xs, P, b.module(o, (3, 4)), ref


@net
def weight_grad_tiles_padded(rs):
    # Tiles that round the window's rows (a 7x1 window: tiles of 4 rows on
    # 4 and 8 lanes) and the input channels (7 of them: tiles of 4) up.
    xs = (2, 1, 11, 9)
    P = {"e.weight": rs.randn(16, 1, 7, 1), "f.weight": rs.randn(7, 16, 1, 1),
         "g.weight": rs.randn(16, 7, 1, 1), "fc.weight": rs.randn(3, 16)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "e", torch.zeros(16, 1, 7, 1), None, 1, 3, 1, 1)
    r = b.op("$R = cnn.relu %s : $T" % y, dyn(ys))
    y, ys = conv(b, r, ys, "f", torch.zeros(7, 16, 1, 1), None, 1, 0, 1, 1)
    r = b.op("$R = cnn.tanh %s : $T" % y, dyn(ys))
    y, ys = conv(b, r, ys, "g", torch.zeros(16, 7, 1, 1), None, 1, 0, 1, 1)
    g = b.op("$R = cnn.global_avg_pool %s : (%s) -> $T" % (y, t(dyn(ys))), (None, 16, 1, 1))
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (g, t((None, 16, 1, 1))), (None, 16))
    wv = b.param("fc.weight", (3, 16))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (f, wv, t((None, 16)), t((3, 16))), (None, 3))

    def ref(x, P):
        h = F.relu(F.conv2d(x, P["e.weight"], None, 1, 3))
        h = torch.tanh(F.conv2d(h, P["f.weight"]))
        h = F.conv2d(h, P["g.weight"])
        h = F.adaptive_avg_pool2d(h, 1).flatten(1)
        return F.linear(h, P["fc.weight"])
    return xs, P, b.module(o, (2, 3)), ref


@net
def input_grad_phases(rs):
    # Input gradients of strided convolutions, split by phase: 7x7 stride
    # 2 with a pad of 3 (more than the stride), 1x1 stride 2 (odd pixels
    # receive no tap), 3x3 stride 2, 5x5 stride 3; odd sizes throughout.
    xs = (2, 3, 17, 15)
    P = {"c0.weight": rs.randn(5, 3, 3, 3), "ca.weight": rs.randn(8, 5, 7, 7),
         "cb.weight": rs.randn(6, 8, 1, 1), "cc.weight": rs.randn(7, 6, 3, 3),
         "cc.bias": rs.randn(7), "cd.weight": rs.randn(4, 7, 5, 5),
         "fc.weight": rs.randn(3, 4)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "c0", torch.zeros(5, 3, 3, 3), None, 1, 1, 1, 1)
    r = b.op("$R = cnn.tanh %s : $T" % y, dyn(ys))
    y, ys = conv(b, r, ys, "ca", torch.zeros(8, 5, 7, 7), None, 2, 3, 1, 1)
    r = b.op("$R = cnn.relu %s : $T" % y, dyn(ys))
    y, ys = conv(b, r, ys, "cb", torch.zeros(6, 8, 1, 1), None, 2, 0, 1, 1)
    r = b.op("$R = cnn.tanh %s : $T" % y, dyn(ys))
    y, ys = conv(b, r, ys, "cc", torch.zeros(7, 6, 3, 3), torch.zeros(7), 2, 1, 1, 1)
    r = b.op("$R = cnn.tanh %s : $T" % y, dyn(ys))
    y, ys = conv(b, r, ys, "cd", torch.zeros(4, 7, 5, 5), None, 3, 2, 1, 1)
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (y, t(dyn(ys))), (None, 4))
    wv = b.param("fc.weight", (3, 4))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (f, wv, t((None, 4)), t((3, 4))), (None, 3))

    def ref(x, P):
        h = torch.tanh(F.conv2d(x, P["c0.weight"], None, 1, 1))
        h = F.relu(F.conv2d(h, P["ca.weight"], None, 2, 3))
        h = torch.tanh(F.conv2d(h, P["cb.weight"], None, 2))
        h = torch.tanh(F.conv2d(h, P["cc.weight"], P["cc.bias"], 2, 1))
        h = F.conv2d(h, P["cd.weight"], None, 3, 2).flatten(1)
        return F.linear(h, P["fc.weight"])
    return xs, P, b.module(o, (2, 3)), ref


@net
def input_grad_packed(rs):
    # Input gradients whose channels fill whole vectors (16 and 32 on 4, 8
    # and 16 lanes): the convolution schedule's packed path, with weights
    # repacked per call. 3x3 pad 1, a 1x1 reduction over 32 channels, 5x5
    # with a pad smaller than the window, 3x3 dilated 2, and the phases of
    # 3x3 and 1x1 stride 2; odd sizes throughout. The weights are scaled
    # by 2 / sqrt(fan-in), so that no tanh saturates (float32's 1 - tanh^2
    # would lose the digits the tolerance asks for).
    xs = (2, 3, 9, 7)
    layers = [("pa", 16, 3, 3, None, 1, 1, 1, "tanh"),
              ("pb", 16, 16, 3, "pb.bias", 1, 1, 1, "relu"),
              ("pc", 32, 16, 1, None, 1, 0, 1, "tanh"),
              ("pd", 16, 32, 5, None, 1, 1, 1, "tanh"),
              ("pe", 16, 16, 3, None, 1, 2, 2, "tanh"),
              ("pf", 16, 16, 3, None, 2, 1, 1, "relu"),
              ("pg", 8, 16, 1, None, 2, 0, 1, None)]
    P = {"fc.weight": rs.randn(3, 8)}
    for name, co, ci, k, bias, stride, pad, dil, act in layers:
        P[name + ".weight"] = rs.randn(co, ci, k, k) * 2 / np.sqrt(ci * k * k)
        if bias:
            P[bias] = rs.randn(co)
    b = Builder(xs)
    y, ys = "%x", xs
    for name, co, ci, k, bias, stride, pad, dil, act in layers:
        y, ys = conv(b, y, ys, name, torch.zeros(co, ci, k, k),
                     torch.zeros(co) if bias else None, stride, pad, dil, 1)
        if act:
            y = b.op("$R = cnn.%s %s : $T" % (act, y), dyn(ys))
    g = b.op("$R = cnn.global_avg_pool %s : (%s) -> $T" % (y, t(dyn(ys))), (None, 8, 1, 1))
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (g, t((None, 8, 1, 1))), (None, 8))
    wv = b.param("fc.weight", (3, 8))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (f, wv, t((None, 8)), t((3, 8))), (None, 3))

    def ref(x, P):
        h = x
        for name, co, ci, k, bias, stride, pad, dil, act in layers:
            h = F.conv2d(h, P[name + ".weight"], P[bias] if bias else None,
                         stride, pad, dil)
            if act:
                h = getattr(torch, act)(h)
        h = F.adaptive_avg_pool2d(h, 1).flatten(1)
        return F.linear(h, P["fc.weight"])
    return xs, P, b.module(o, (2, 3)), ref


@net
def input_gradient_strided_dilated_grouped(rs):
    # The second convolution's input needs a gradient: conv2d_backward_input
    # with stride, padding, dilation and groups.
    xs = (2, 2, 9, 9)
    P = {"a.weight": rs.randn(4, 2, 3, 3), "b.weight": rs.randn(6, 2, 3, 3),
         "b.bias": rs.randn(6), "fc.weight": rs.randn(3, 6 * 5 * 5)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "a", torch.zeros(4, 2, 3, 3), None, 1, 1, 1, 1)
    r = b.op("$R = cnn.relu %s : $T" % y, dyn(ys))
    z, zs = conv(b, r, ys, "b", torch.zeros(6, 2, 3, 3), torch.zeros(6), 2, 2, 2, 2)
    n = zs[1] * zs[2] * zs[3]
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (z, t(dyn(zs))), (None, n))
    wv = b.param("fc.weight", (3, n))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (f, wv, t((None, n)), t((3, n))), (None, 3))

    def ref(x, P):
        h = F.relu(F.conv2d(x, P["a.weight"], None, 1, 1))
        h = F.conv2d(h, P["b.weight"], P["b.bias"], 2, 2, 2, 2).flatten(1)
        return F.linear(h, P["fc.weight"])
    return xs, P, b.module(o, (2, 3)), ref


@net
def broadcast_arith_gate(rs):
    # MobileNet v3's squeeze-and-excitation gate and hard activations as
    # the ONNX importer writes them: mul, add and sub with NumPy
    # broadcasting, the gradients summed over the broadcast axes (a gate
    # [N, C, 1, 1], a lower-rank parameter [C, 1, 1], a [1, C, 1, 1] one).
    xs = (2, 3, 6, 6)
    P = {"c.weight": rs.randn(4, 3, 3, 3), "shift": rs.randn(4, 1, 1),
         "offset": rs.randn(1, 4, 1, 1), "fc.weight": rs.randn(3, 4 * 6 * 6)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "c", torch.zeros(4, 3, 3, 3), None, 1, 1, 1, 1)
    g = b.op("$R = cnn.global_avg_pool %s : (%s) -> $T" % (y, t(dyn(ys))),
             (None, 4, 1, 1))
    half = b.op("$R = cnn.constant {value = dense<0.5> : $T} : $T", (1, 1, 1, 1))
    sc = b.op("$R = cnn.mul %s, %s : (%s, %s) -> $T"
              % (g, half, t((None, 4, 1, 1)), t((1, 1, 1, 1))), (None, 4, 1, 1))
    sh = b.param("shift", (4, 1, 1))
    a = b.op("$R = cnn.add %s, %s : (%s, %s) -> $T"
             % (sc, sh, t((None, 4, 1, 1)), t((4, 1, 1))), (None, 4, 1, 1))
    gate = b.op("$R = cnn.clip %s {min = 0.0 : f32, max = 1.0 : f32} : $T" % a,
                (None, 4, 1, 1))
    z = b.op("$R = cnn.mul %s, %s : (%s, %s) -> $T"
             % (y, gate, t(dyn(ys)), t((None, 4, 1, 1))), dyn(ys))
    off = b.param("offset", (1, 4, 1, 1))
    d = b.op("$R = cnn.sub %s, %s : (%s, %s) -> $T"
             % (z, off, t(dyn(ys)), t((1, 4, 1, 1))), dyn(ys))
    r = b.op("$R = cnn.tanh %s : $T" % d, dyn(ys))
    n = 4 * 6 * 6
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (r, t(dyn(ys))), (None, n))
    wv = b.param("fc.weight", (3, n))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (f, wv, t((None, n)), t((3, n))), (None, 3))

    def ref(x, P):
        h = F.conv2d(x, P["c.weight"], None, 1, 1)
        gate = torch.clamp(F.adaptive_avg_pool2d(h, 1) * 0.5 + P["shift"], 0, 1)
        h = torch.tanh(h * gate - P["offset"]).flatten(1)
        return F.linear(h, P["fc.weight"])
    return xs, P, b.module(o, (2, 3)), ref


@net
def shuffle_chunk_concat(rs):
    # ShuffleNet v2's unit: the channels split in two (slice), one half
    # through a convolution, concatenated, then shuffled (reshape to 5-D,
    # transpose, reshape back); the gradients go back through all of them.
    xs = (2, 3, 5, 5)
    P = {"a.weight": rs.randn(4, 3, 3, 3), "b.weight": rs.randn(2, 2, 1, 1),
         "fc.weight": rs.randn(3, 4 * 5 * 5)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "a", torch.zeros(4, 3, 3, 3), None, 1, 1, 1, 1)
    half = (None, 2, 5, 5)
    lo = b.op("$R = cnn.slice %s {starts = [0, 0, 0, 0], steps = [1, 1, 1, 1], sizes = [-1, 2, 5, 5]} : (%s) -> $T"
              % (y, t(dyn(ys))), half)
    hi = b.op("$R = cnn.slice %s {starts = [0, 2, 0, 0], steps = [1, 1, 1, 1], sizes = [-1, 2, 5, 5]} : (%s) -> $T"
              % (y, t(dyn(ys))), half)
    z, zs = conv(b, hi, (2, 2, 5, 5), "b", torch.zeros(2, 2, 1, 1), None, 1, 0, 1, 1)
    r = b.op("$R = cnn.relu %s : $T" % z, half)
    c = b.op("$R = cnn.concat %s, %s {axis = 1 : i64} : (%s, %s) -> $T"
             % (lo, r, t(half), t(half)), dyn(ys))
    g5 = (None, 2, 2, 5, 5)
    g = b.op("$R = cnn.reshape %s {shape = [0, 2, 2, 5, 5]} : (%s) -> $T"
             % (c, t(dyn(ys))), g5)
    tr = b.op("$R = cnn.transpose %s {perm = [0, 2, 1, 3, 4]} : (%s) -> $T"
              % (g, t(g5)), g5)
    sh = b.op("$R = cnn.reshape %s {shape = [0, 4, 5, 5]} : (%s) -> $T"
              % (tr, t(g5)), dyn(ys))
    th = b.op("$R = cnn.tanh %s : $T" % sh, dyn(ys))
    n = 4 * 5 * 5
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (th, t(dyn(ys))), (None, n))
    wv = b.param("fc.weight", (3, n))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (f, wv, t((None, n)), t((3, n))), (None, 3))

    def ref(x, P):
        h = F.conv2d(x, P["a.weight"], None, 1, 1)
        lo, hi = h.chunk(2, dim=1)
        h = torch.cat([lo, F.relu(F.conv2d(hi, P["b.weight"]))], 1)
        n = h.shape[0]
        h = h.view(n, 2, 2, 5, 5).transpose(1, 2).reshape(n, 4, 5, 5)
        return F.linear(torch.tanh(h).flatten(1), P["fc.weight"])
    return xs, P, b.module(o, (2, 3)), ref


@net
def layernorm_gelu_matmul(rs):
    # ConvNeXt's block as PyTorch exports it to ONNX (opset 13): channels
    # last (transpose), LayerNorm decomposed (reduce_mean with and without a
    # negative axis, sub, mul, add, sqrt, div, the affine broadcast over the
    # last axis), Linear as a batched matmul with a bias, GELU through erf
    # (div by a constant, add, mul), channels first again, and a mean over
    # the spatial axes without keepdims.
    xs = (2, 4, 3, 3)
    P = {"a.weight": rs.randn(6, 4, 3, 3), "ln.weight": rs.randn(6) + 2,
         "ln.bias": rs.randn(6), "fc1.weight": rs.randn(6, 8),
         "fc1.bias": rs.randn(8), "fc2.weight": rs.randn(8, 6),
         "head.weight": rs.randn(3, 6)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "a", torch.zeros(6, 4, 3, 3), None, 1, 1, 1, 1)
    nhwc, one = (None, 3, 3, 6), (None, 3, 3, 1)
    tr = b.op("$R = cnn.transpose %s {perm = [0, 2, 3, 1]} : (%s) -> $T"
              % (y, t(dyn(ys))), nhwc)
    mean = b.op("$R = cnn.reduce %s {kind = #cnn.reduction<mean>, axes = [3], keepdims = true} : (%s) -> $T"
                % (tr, t(nhwc)), one)
    d = b.op("$R = cnn.sub %s, %s : (%s, %s) -> $T" % (tr, mean, t(nhwc), t(one)), nhwc)
    sq = b.op("$R = cnn.mul %s, %s : (%s, %s) -> $T" % (d, d, t(nhwc), t(nhwc)), nhwc)
    var = b.op("$R = cnn.reduce %s {kind = #cnn.reduction<mean>, axes = [-1], keepdims = true} : (%s) -> $T"
               % (sq, t(nhwc)), one)
    c4 = (1, 1, 1, 1)
    eps = b.op("$R = cnn.constant {value = dense<1.0e-05> : $T} : $T", c4)
    ve = b.op("$R = cnn.add %s, %s : (%s, %s) -> $T" % (var, eps, t(one), t(c4)), one)
    sd = b.op("$R = cnn.sqrt %s : $T" % ve, one)
    nrm = b.op("$R = cnn.div %s, %s : (%s, %s) -> $T" % (d, sd, t(nhwc), t(one)), nhwc)
    gv = b.param("ln.weight", (6,))
    bv = b.param("ln.bias", (6,))
    g = b.op("$R = cnn.mul %s, %s : (%s, %s) -> $T" % (nrm, gv, t(nhwc), t((6,))), nhwc)
    be = b.op("$R = cnn.add %s, %s : (%s, %s) -> $T" % (g, bv, t(nhwc), t((6,))), nhwc)
    hid = (None, 3, 3, 8)
    w1 = b.param("fc1.weight", (6, 8))
    m1 = b.op("$R = cnn.matmul %s, %s : (%s, %s) -> $T" % (be, w1, t(nhwc), t((6, 8))), hid)
    b1 = b.param("fc1.bias", (8,))
    m1b = b.op("$R = cnn.add %s, %s : (%s, %s) -> $T" % (m1, b1, t(hid), t((8,))), hid)
    r2 = b.op("$R = cnn.constant {value = dense<1.41421354> : $T} : $T", c4)
    q = b.op("$R = cnn.div %s, %s : (%s, %s) -> $T" % (m1b, r2, t(hid), t(c4)), hid)
    e = b.op("$R = cnn.erf %s : $T" % q, hid)
    onec = b.op("$R = cnn.constant {value = dense<1.0> : $T} : $T", c4)
    e1 = b.op("$R = cnn.add %s, %s : (%s, %s) -> $T" % (e, onec, t(hid), t(c4)), hid)
    h = b.op("$R = cnn.mul %s, %s : (%s, %s) -> $T" % (m1b, e1, t(hid), t(hid)), hid)
    halfc = b.op("$R = cnn.constant {value = dense<0.5> : $T} : $T", c4)
    h2 = b.op("$R = cnn.mul %s, %s : (%s, %s) -> $T" % (h, halfc, t(hid), t(c4)), hid)
    w2 = b.param("fc2.weight", (8, 6))
    m2 = b.op("$R = cnn.matmul %s, %s : (%s, %s) -> $T" % (h2, w2, t(hid), t((8, 6))), nhwc)
    back = b.op("$R = cnn.transpose %s {perm = [0, 3, 1, 2]} : (%s) -> $T"
                % (m2, t(nhwc)), dyn(ys))
    pooled = b.op("$R = cnn.reduce %s {kind = #cnn.reduction<mean>, axes = [2, 3], keepdims = false} : (%s) -> $T"
                  % (back, t(dyn(ys))), (None, 6))
    hv = b.param("head.weight", (3, 6))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (pooled, hv, t((None, 6)), t((3, 6))), (None, 3))

    def ref(x, P):
        h = F.conv2d(x, P["a.weight"], None, 1, 1).permute(0, 2, 3, 1)
        h = F.layer_norm(h, (6,), P["ln.weight"], P["ln.bias"], 1e-5)
        h = h @ P["fc1.weight"] + P["fc1.bias"]
        h = 0.5 * h * (1 + torch.erf(h / 1.41421354))
        h = (h @ P["fc2.weight"]).permute(0, 3, 1, 2)
        return F.linear(h.mean((2, 3)), P["head.weight"])
    return xs, P, b.module(o, (2, 3)), ref


@net
def unary_div_chain(rs):
    # cnn.unary's functions with derivatives (neg, exp, reciprocal, log,
    # softplus) and a division by a parameter that broadcasts.
    xs = (2, 3, 4, 4)
    P = {"c.weight": rs.randn(4, 3, 3, 3), "den": rs.rand(4, 1, 1) + 1,
         "fc.weight": rs.randn(3, 4 * 4 * 4)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "c", torch.zeros(4, 3, 3, 3), None, 1, 1, 1, 1)
    T = dyn(ys)
    c4 = (1, 1, 1, 1)

    def un(v, fn):
        return b.op("$R = cnn.unary %s {fn = #cnn.unary<%s>} : $T" % (v, fn), T)

    def binop(kind, u, v, vs=T):
        return b.op("$R = cnn.%s %s, %s : (%s, %s) -> $T" % (kind, u, v, t(T), t(vs)), T)
    k = b.op("$R = cnn.constant {value = dense<0.3> : $T} : $T", c4)
    one = b.op("$R = cnn.constant {value = dense<1.0> : $T} : $T", c4)
    e = un(binop("mul", un(y, "neg"), k, c4), "exp")
    r = un(binop("add", e, one, c4), "reciprocal")
    l = un(binop("add", binop("mul", y, y), one, c4), "log")
    sp = un(y, "softplus")
    z = binop("add", binop("add", r, l), sp)
    den = b.param("den", (4, 1, 1))
    q = binop("div", z, den, (4, 1, 1))
    n = 4 * 4 * 4
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (q, t(T)), (None, n))
    wv = b.param("fc.weight", (3, n))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (f, wv, t((None, n)), t((3, n))), (None, 3))

    def ref(x, P):
        h = F.conv2d(x, P["c.weight"], None, 1, 1)
        z = (1 / (torch.exp(-h * 0.3) + 1) + torch.log(h * h + 1) +
             F.softplus(h)) / P["den"]
        return F.linear(z.flatten(1), P["fc.weight"])
    return xs, P, b.module(o, (2, 3)), ref


@net
def reductions(rs):
    # cnn.reduce's kinds with derivatives: sum, l2, sum_square, log_sum and
    # log_sum_exp, over one or two axes, with and without keepdims (reshaped
    # back to broadcast).
    xs = (2, 3, 4, 4)
    P = {"c.weight": rs.randn(4, 3, 3, 3), "fc.weight": rs.randn(3, 4 * 4 * 4)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "c", torch.zeros(4, 3, 3, 3), None, 1, 1, 1, 1)
    T = dyn(ys)

    def red(v, kind, axes, keep, shape, vs=T):
        return b.op("$R = cnn.reduce %s {kind = #cnn.reduction<%s>, axes = %s, "
                    "keepdims = %s} : (%s) -> $T"
                    % (v, kind, list(axes), "true" if keep else "false", t(vs)),
                    shape)

    def binop(kind, u, v, vs):
        return b.op("$R = cnn.%s %s, %s : (%s, %s) -> $T" % (kind, u, v, t(T), t(vs)), T)

    def reshape(v, vs, shape):
        return b.op("$R = cnn.reshape %s {shape = %s} : (%s) -> $T"
                    % (v, [-1] + list(shape[1:]), t(vs)), shape)
    s = red(y, "sum", [3], True, (None, 4, 4, 1))
    ss = red(y, "sum_square", [2], True, (None, 4, 1, 4))
    lse = red(y, "log_sum_exp", [1, 2], True, (None, 1, 1, 4))
    l2 = reshape(red(y, "l2", [2], False, (None, 4, 4)), (None, 4, 4),
                 (None, 4, 1, 4))
    one = b.op("$R = cnn.constant {value = dense<1.0> : $T} : $T", (1, 1, 1, 1))
    sq1 = binop("add", binop("mul", y, y, T), one, (1, 1, 1, 1))
    ls = reshape(red(sq1, "log_sum", [3], False, (None, 4, 4)), (None, 4, 4),
                 (None, 4, 4, 1))
    z = binop("mul", y, s, (None, 4, 4, 1))
    z = binop("add", z, ss, (None, 4, 1, 4))
    z = binop("add", z, lse, (None, 1, 1, 4))
    z = binop("add", z, l2, (None, 4, 1, 4))
    z = binop("add", z, ls, (None, 4, 4, 1))
    n = 4 * 4 * 4
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (z, t(T)), (None, n))
    wv = b.param("fc.weight", (3, n))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (f, wv, t((None, n)), t((3, n))), (None, 3))

    def ref(x, P):
        h = F.conv2d(x, P["c.weight"], None, 1, 1)
        n = h.shape[0]
        z = (h * h.sum(3, keepdim=True) + (h * h).sum(2, keepdim=True) +
             torch.logsumexp(h, dim=(1, 2), keepdim=True) +
             h.norm(dim=2).view(n, 4, 1, 4) +
             torch.log((h * h + 1).sum(3)).view(n, 4, 4, 1))
        return F.linear(z.flatten(1), P["fc.weight"])
    return xs, P, b.module(o, (2, 3)), ref


@net
def max_min(rs):
    # Elementwise maximum and minimum against a parameter that broadcasts
    # (both operands take gradients) and the max and min reductions, with
    # and without keepdims.
    xs = (2, 3, 4, 4)
    P = {"c.weight": rs.randn(4, 3, 3, 3), "floor": rs.randn(4, 1, 1),
         "fc.weight": rs.randn(3, 4 * 4 * 4)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "c", torch.zeros(4, 3, 3, 3), None, 1, 1, 1, 1)
    T = dyn(ys)

    def binop(kind, u, v, vs):
        return b.op("$R = cnn.%s %s, %s : (%s, %s) -> $T" % (kind, u, v, t(T), t(vs)), T)
    fl = b.param("floor", (4, 1, 1))
    hi = binop("max", y, fl, (4, 1, 1))
    lo = binop("min", y, fl, (4, 1, 1))
    mx = b.op("$R = cnn.reduce %s {kind = #cnn.reduction<max>, axes = [2, 3], "
              "keepdims = true} : (%s) -> $T" % (y, t(T)), (None, 4, 1, 1))
    mn = b.op("$R = cnn.reduce %s {kind = #cnn.reduction<min>, axes = [1], "
              "keepdims = false} : (%s) -> $T" % (y, t(T)), (None, 4, 4))
    mn4 = b.op("$R = cnn.reshape %s {shape = [-1, 1, 4, 4]} : (%s) -> $T"
               % (mn, t((None, 4, 4))), (None, 1, 4, 4))
    z = binop("mul", hi, lo, T)
    z = binop("add", z, mx, (None, 4, 1, 1))
    z = binop("add", z, mn4, (None, 1, 4, 4))
    n = 4 * 4 * 4
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (z, t(T)), (None, n))
    wv = b.param("fc.weight", (3, n))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (f, wv, t((None, n)), t((3, n))), (None, 3))

    def ref(x, P):
        h = F.conv2d(x, P["c.weight"], None, 1, 1)
        z = (torch.maximum(h, P["floor"]) * torch.minimum(h, P["floor"]) +
             h.amax(dim=(2, 3), keepdim=True) + h.amin(dim=1).unsqueeze(1))
        return F.linear(z.flatten(1), P["fc.weight"])
    return xs, P, b.module(o, (2, 3)), ref


@net
def softmax_inside(rs):
    # Softmax over the channels and log-softmax over the last axis inside
    # the network (attention-like gates), not as the loss.
    xs = (2, 3, 4, 4)
    P = {"c.weight": rs.randn(4, 3, 3, 3), "fc.weight": rs.randn(3, 4 * 4 * 4)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "c", torch.zeros(4, 3, 3, 3), None, 1, 1, 1, 1)
    T = dyn(ys)
    sm = b.op("$R = cnn.softmax %s {axis = 1 : i64} : $T" % y, T)
    ls = b.op("$R = cnn.log_softmax %s {axis = -1 : i64} : $T" % y, T)
    z = b.op("$R = cnn.mul %s, %s : (%s, %s) -> $T" % (sm, ls, t(T), t(T)), T)
    n = 4 * 4 * 4
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (z, t(T)), (None, n))
    wv = b.param("fc.weight", (3, n))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (f, wv, t((None, n)), t((3, n))), (None, 3))

    def ref(x, P):
        h = F.conv2d(x, P["c.weight"], None, 1, 1)
        z = F.softmax(h, 1) * F.log_softmax(h, -1)
        return F.linear(z.flatten(1), P["fc.weight"])
    return xs, P, b.module(o, (2, 3)), ref


@net
def conv_transpose(rs):
    # ONNX ConvTranspose as imported: cnn.conv2d_backward_input in the
    # forward graph (stride 2, grouped, with an output padding), its bias
    # added per channel; both the input and the weight take gradients.
    xs = (2, 3, 4, 4)
    P = {"c.weight": rs.randn(4, 3, 3, 3), "t.weight": rs.randn(4, 2, 3, 3),
         "t.bias": rs.randn(4, 1, 1), "fc.weight": rs.randn(3, 4 * 8 * 8)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "c", torch.zeros(4, 3, 3, 3), None, 1, 1, 1, 1)
    wt = b.param("t.weight", (4, 2, 3, 3))
    up = (None, 4, 8, 8)
    u = b.op("$R = cnn.conv2d_backward_input %s, %s {strides = [2, 2], "
             "pads = [1, 1, 0, 0], group = 2} : (%s, %s) -> $T"
             % (y, wt, t(dyn(ys)), t((4, 2, 3, 3))), up)
    tb = b.param("t.bias", (4, 1, 1))
    ub = b.op("$R = cnn.add %s, %s : (%s, %s) -> $T" % (u, tb, t(up), t((4, 1, 1))), up)
    th = b.op("$R = cnn.tanh %s : $T" % ub, up)
    n = 4 * 8 * 8
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (th, t(up)), (None, n))
    wv = b.param("fc.weight", (3, n))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (f, wv, t((None, n)), t((3, n))), (None, 3))

    def ref(x, P):
        h = F.conv2d(x, P["c.weight"], None, 1, 1)
        h = F.conv_transpose2d(h, P["t.weight"], None, stride=2, padding=1,
                               output_padding=1, groups=2) + P["t.bias"]
        return F.linear(torch.tanh(h).flatten(1), P["fc.weight"])
    return xs, P, b.module(o, (2, 3)), ref


@net
def pow_general(rs):
    # cnn.pow with a constant exponent other than 2 (LRN's beta) and with a
    # parameter exponent that broadcasts: both operands take gradients.
    xs = (2, 3, 4, 4)
    P = {"c.weight": rs.randn(4, 3, 3, 3), "e": rs.rand(4, 1, 1) + 0.5,
         "fc.weight": rs.randn(3, 4 * 4 * 4)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "c", torch.zeros(4, 3, 3, 3), None, 1, 1, 1, 1)
    T = dyn(ys)
    c4 = (1, 1, 1, 1)

    def binop(kind, u, v, vs):
        return b.op("$R = cnn.%s %s, %s : (%s, %s) -> $T" % (kind, u, v, t(T), t(vs)), T)
    one = b.op("$R = cnn.constant {value = dense<1.0> : $T} : $T", c4)
    half = b.op("$R = cnn.constant {value = dense<0.5> : $T} : $T", c4)
    beta = b.op("$R = cnn.constant {value = dense<0.75> : $T} : $T", c4)
    p1 = binop("pow", binop("add", binop("mul", y, y, T), one, c4), beta, c4)
    sg = b.op("$R = cnn.sigmoid %s : $T" % y, T)
    ev = b.param("e", (4, 1, 1))
    p2 = binop("pow", binop("add", sg, half, c4), ev, (4, 1, 1))
    z = binop("add", p1, p2, T)
    n = 4 * 4 * 4
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (z, t(T)), (None, n))
    wv = b.param("fc.weight", (3, n))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (f, wv, t((None, n)), t((3, n))), (None, 3))

    def ref(x, P):
        h = F.conv2d(x, P["c.weight"], None, 1, 1)
        z = (h * h + 1) ** 0.75 + (torch.sigmoid(h) + 0.5) ** P["e"]
        return F.linear(z.flatten(1), P["fc.weight"])
    return xs, P, b.module(o, (2, 3)), ref


@net
def unary_piecewise(rs):
    # cnn.unary's piecewise functions with their parameters: abs, elu, selu,
    # celu, softsign, thresholded_relu and shrink, and PRelu with a slope
    # parameter per channel (sums of them, so each
    # derivative shows; the kinks are measure zero for random inputs).
    xs = (2, 3, 4, 4)
    # (A smaller head: the sum of eight functions would otherwise saturate
    # the softmax, where float32 gradients lose digits.)
    P = {"c.weight": rs.randn(4, 3, 3, 3), "slope": rs.rand(4, 1, 1),
         "fc.weight": 0.2 * rs.randn(3, 4 * 4 * 4)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "c", torch.zeros(4, 3, 3, 3), None, 1, 1, 1, 1)
    T = dyn(ys)

    def un(fn, attrs=""):
        return b.op("$R = cnn.unary %s {fn = #cnn.unary<%s>%s} : $T" % (y, fn, attrs), T)

    def add(u, v):
        return b.op("$R = cnn.add %s, %s : (%s, %s) -> $T" % (u, v, t(T), t(T)), T)
    z = un("abs")
    z = add(z, un("elu", ", alpha = 0.7 : f32"))
    z = add(z, un("selu", ", alpha = 1.6732632 : f32, beta = 1.050701 : f32"))
    z = add(z, un("celu", ", alpha = 1.5 : f32"))
    z = add(z, un("softsign"))
    z = add(z, un("thresholded_relu", ", alpha = 0.3 : f32"))
    z = add(z, un("shrink", ", alpha = 0.4 : f32, beta = 0.1 : f32"))
    sl = b.param("slope", (4, 1, 1))
    pr = b.op("$R = cnn.prelu %s, %s : (%s, %s) -> $T" % (y, sl, t(T), t((4, 1, 1))), T)
    z = add(z, pr)
    n = 4 * 4 * 4
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (z, t(T)), (None, n))
    wv = b.param("fc.weight", (3, n))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (f, wv, t((None, n)), t((3, n))), (None, 3))

    def ref(x, P):
        h = F.conv2d(x, P["c.weight"], None, 1, 1)
        shrink = torch.where(h < -0.4, h + 0.1,
                             torch.where(h > 0.4, h - 0.1, torch.zeros_like(h)))
        z = (h.abs() + F.elu(h, 0.7) + F.selu(h) + F.celu(h, 1.5) +
             F.softsign(h) + F.threshold(h, 0.3, 0.0) + shrink +
             F.prelu(h, P["slope"].flatten()))
        return F.linear(z.flatten(1), P["fc.weight"])
    return xs, P, b.module(o, (2, 3)), ref


@net
def pad_and_crop(rs):
    # Constant padding with a nonzero value on some sides and cropping
    # (negative pads) on another: the gradient is cropped and zero-padded
    # back.
    xs = (2, 3, 5, 5)
    P = {"c.weight": rs.randn(4, 3, 3, 3), "fc.weight": rs.randn(3, 4 * 6 * 7)}
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "c", torch.zeros(4, 3, 3, 3), None, 1, 1, 1, 1)
    ps = (None, 4, 6, 7)
    p = b.op("$R = cnn.pad %s {pads = [0, 0, 2, 1, 0, 0, -1, 1], value = 0.5 : f32} : (%s) -> $T"
             % (y, t(dyn(ys))), ps)
    th = b.op("$R = cnn.tanh %s : $T" % p, ps)
    n = 4 * 6 * 7
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (th, t(ps)), (None, n))
    wv = b.param("fc.weight", (3, n))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (f, wv, t((None, n)), t((3, n))), (None, 3))

    def ref(x, P):
        h = F.conv2d(x, P["c.weight"], None, 1, 1)
        h = F.pad(h, (1, 1, 2, -1), value=0.5)
        return F.linear(torch.tanh(h).flatten(1), P["fc.weight"])
    return xs, P, b.module(o, (2, 3)), ref


def batch_norm(b, x, xs, name, eps, momentum):
    """Adds a BatchNorm whose affine trains (train mode: batch statistics,
    running statistics updated with PyTorch's `momentum`)."""
    c = xs[1]
    g, be = b.param(name + ".weight", (c,)), b.param(name + ".bias", (c,))
    m = b.param(name + ".running_mean", (c,), buffer=True)
    v = b.param(name + ".running_var", (c,), buffer=True)
    vec = t((c,))
    return b.op("$R = cnn.batch_norm %s, %s, %s, %s, %s {epsilon = %.8e : f32, momentum = %.8e : f32} : (%s, %s, %s, %s, %s) -> $T"
                % (x, g, be, m, v, eps, 1.0 - momentum, t(dyn(xs)), vec, vec, vec, vec), dyn(xs))


def torch_batch_norm(h, P, name, eps, momentum):
    # Updates P's running statistics in place, as nn.BatchNorm2d does.
    return F.batch_norm(h, P[name + ".running_mean"], P[name + ".running_var"],
                        P[name + ".weight"], P[name + ".bias"], training=True,
                        momentum=momentum, eps=eps)


def bn_stats(rs, c):
    return {"weight": rs.rand(c) + 0.5, "bias": rs.randn(c),
            "running_mean": rs.randn(c), "running_var": rs.rand(c) + 0.5}


@net
def conv_batchnorm_train_wide(rs):
    # Rows of 10 (>= half a vector): the statistics sum in lanes along x.
    xs = (3, 2, 10, 10)
    P = {"c.weight": rs.randn(4, 2, 3, 3), "fc.weight": rs.randn(3, 4 * 5 * 5)}
    P.update({"bn." + k: v for k, v in bn_stats(rs, 4).items()})
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "c", torch.zeros(4, 2, 3, 3), None, 1, 1, 1, 1)
    n = batch_norm(b, y, ys, "bn", 1e-3, 0.3)
    r = b.op("$R = cnn.relu %s : $T" % n, dyn(ys))
    ps = (ys[0], 4, 5, 5)
    p = b.op("$R = cnn.max_pool2d %s {kernel_shape = [2, 2], strides = [2, 2]} : (%s) -> $T"
             % (r, t(dyn(ys))), dyn(ps))
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (p, t(dyn(ps))), (None, 100))
    wv = b.param("fc.weight", (3, 100))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (f, wv, t((None, 100)), t((3, 100))), (None, 3))

    def ref(x, P):
        h = F.conv2d(x, P["c.weight"], None, 1, 1)
        h = F.relu(torch_batch_norm(h, P, "bn", 1e-3, 0.3))
        return F.linear(F.max_pool2d(h, 2).flatten(1), P["fc.weight"])
    return xs, P, b.module(o, (3, 3)), ref


@net
def conv_batchnorm_train_narrow(rs):
    # 4x4 rows: the statistics sum across channels; a trainable conv before
    # (its gradient goes through the batch statistics).
    xs = (4, 3, 6, 6)
    P = {"c.weight": rs.randn(5, 3, 3, 3), "fc.weight": rs.randn(2, 5 * 4 * 4)}
    P.update({"bn." + k: v for k, v in bn_stats(rs, 5).items()})
    b = Builder(xs)
    y, ys = conv(b, "%x", xs, "c", torch.zeros(5, 3, 3, 3), None, 1, 0, 1, 1)
    n = batch_norm(b, y, ys, "bn", 1e-5, 0.1)
    r = b.op("$R = cnn.sigmoid %s : $T" % n, dyn(ys))
    f = b.op("$R = cnn.flatten %s {axis = 1} : (%s) -> $T" % (r, t(dyn(ys))), (None, 80))
    wv = b.param("fc.weight", (2, 80))
    o = b.op("$R = cnn.gemm %s, %s {transB = true} : (%s, %s) -> $T"
             % (f, wv, t((None, 80)), t((2, 80))), (None, 2))

    def ref(x, P):
        h = F.conv2d(x, P["c.weight"])
        h = torch.sigmoid(torch_batch_norm(h, P, "bn", 1e-5, 0.1))
        return F.linear(h.flatten(1), P["fc.weight"])
    return xs, P, b.module(o, (4, 2)), ref


@net
def linear_batchnorm1d_train(rs):
    # BatchNorm1d on [N, C] between two Linear layers.
    xs = (5, 7)
    P = {"f1.weight": rs.randn(6, 7), "f2.weight": rs.randn(3, 6),
         "f2.bias": rs.randn(3)}
    P.update({"bn." + k: v for k, v in bn_stats(rs, 6).items()})
    b = Builder(xs)
    w1 = b.param("f1.weight", (6, 7))
    h = b.op("$R = cnn.gemm %%x, %s {transB = true} : (%s, %s) -> $T"
             % (w1, t((None, 7)), t((6, 7))), (None, 6))
    n = batch_norm(b, h, (5, 6), "bn", 1e-5, 0.1)
    th = b.op("$R = cnn.tanh %s : $T" % n, (None, 6))
    w2, b2 = b.param("f2.weight", (3, 6)), b.param("f2.bias", (3,))
    o = b.op("$R = cnn.gemm %s, %s, %s {transB = true} : (%s, %s, %s) -> $T"
             % (th, w2, b2, t((None, 6)), t((3, 6)), t((3,))), (None, 3))

    def ref(x, P):
        h = torch_batch_norm(F.linear(x, P["f1.weight"]), P, "bn", 1e-5, 0.1)
        return F.linear(torch.tanh(h), P["f2.weight"], P["f2.bias"])
    return xs, P, b.module(o, (5, 3)), ref


def is_buffer(name):
    return name.endswith(".running_mean") or name.endswith(".running_var")


def check(name, cnnc_binary, work, loss_kind="cross_entropy"):
    rs = np.random.RandomState(0)
    xs, P, mlir, ref = NETS[name](rs)
    P = {k: (0.5 * v).astype(np.float32) for k, v in P.items()}
    src = os.path.join(work, name + "_" + loss_kind + ".mlir")
    with open(src, "w") as f:
        f.write(mlir)
    so = os.path.join(work, name + "_" + loss_kind + ".so")
    subprocess.run([cnnc_binary, src, "--train", "--loss", loss_kind, "-o", so,
                    "--name", "g"], check=True)
    model = cnnc.load(so)
    for k, v in P.items():
        model.set_parameter(k, v)
    x = rs.randn(*xs).astype(np.float32)
    classes = ref(torch.zeros(xs, dtype=torch.float64),
                  {k: torch.from_numpy(v).double() for k, v in P.items()}).shape[1]
    if loss_kind == "mse":
        labels = rs.randn(xs[0], classes).astype(np.float32)
        loss_fn = F.mse_loss
    else:
        labels = rs.randint(0, classes, xs[0]).astype(np.int64)
        loss_fn = F.cross_entropy
    model.configure("sgd", lr=1.0)
    model.train_step(x, labels)
    ok = True
    tp = {k: torch.from_numpy(v).double().requires_grad_(not is_buffer(k))
          for k, v in P.items()}
    xt = torch.from_numpy(x).double()
    yt = torch.from_numpy(labels)
    if loss_kind == "mse":
        yt = yt.double()
    loss = loss_fn(ref(xt, tp), yt)
    loss.backward()
    for k, v in P.items():
        if is_buffer(k):
            # Running statistics: the new value, as PyTorch's train mode
            # leaves it (the variance unbiased).
            got = model.parameter(k)
            want = tp[k].numpy()
            err = np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-12)
            status = "ok" if err <= TOL else "MISMATCH"
            ok = ok and status == "ok"
            print("%s %s %s: running statistic vs PyTorch %.2e %s" % (
                name, loss_kind, k, err, status))
            continue
        got = v - model.parameter(k)
        auto = tp[k].grad.numpy()
        scale = max(np.max(np.abs(auto)), 1e-12)
        err = np.max(np.abs(got - auto)) / scale
        # Central differences in float64 on a sample of elements.
        flat = v.reshape(-1)
        fd_err = 0.0
        for i in np.random.RandomState(1).choice(flat.size, min(6, flat.size), replace=False):
            eps = 1e-6
            plus = {kk: torch.from_numpy(vv).double() for kk, vv in P.items()}
            minus = {kk: torch.from_numpy(vv).double() for kk, vv in P.items()}
            plus[k].view(-1)[i] += eps
            minus[k].view(-1)[i] -= eps
            with torch.no_grad():
                fd = (loss_fn(ref(xt, plus), yt) -
                      loss_fn(ref(xt, minus), yt)).item() / (2 * eps)
            fd_err = max(fd_err, abs(got.reshape(-1)[i] - fd) / scale)
        status = "ok" if err <= TOL and fd_err <= TOL else "MISMATCH"
        ok = ok and status == "ok"
        print("%s %s %s: vs autograd %.2e, vs finite differences %.2e %s" % (
            name, loss_kind, k, err, fd_err, status))
    return ok


if __name__ == "__main__":
    cnnc_binary, work = sys.argv[1], sys.argv[2]
    only = sys.argv[3].split(",") if len(sys.argv) > 3 else None
    os.makedirs(work, exist_ok=True)
    results = [check(n, cnnc_binary, work) for n in NETS
               if only is None or n in only]
    # The MSE loss and its gradient, on one of the networks.
    if only is None:
        results.append(check("strided_padded_maxpool", cnnc_binary, work, "mse"))
    print("ALL OK" if all(results) else "GRADIENT MISMATCH")
    sys.exit(0 if all(results) else 1)
