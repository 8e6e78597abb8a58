#!/usr/bin/env python3
"""Gradients through single ONNX operators that cnnc imports as
decompositions or derivatives built of other ops (LRN, Resize,
InstanceNormalization, LayerNormalization, Pad in every mode, strided
Slice, ReduceL1, Gather, ConvTranspose), against PyTorch
autograd in float64.

Each case is a graph written with onnx.helper (PyTorch exports some of
these ops as other subgraphs): Conv -> OP -> Tanh -> Flatten -> Gemm, with
every weight an initializer; `cnnc --train` compiles it and the Python
package's backward() computes the gradients of the cross-entropy of one
batch, compared with PyTorch's on the same function, relative to each
tensor's largest gradient (bound 1e-4; float32 against float64), or, where
the true gradient is zero, within 1e-6 of the largest gradient of all.

Usage: onnx_op_grads.py WORK_DIR [CASE...]
Prints one line per case and parameter, then ALL OK or MISMATCH.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
import cnnc  # noqa: E402

C, H = 4, 6  # channels and size after the first convolution


def lrn(rs):
    node = helper.make_node("LRN", ["h"], ["z"], size=3, alpha=0.5,
                            beta=0.75, bias=1.5)
    return [node], {}, (C, H, H), lambda h, P: F.local_response_norm(
        h, 3, alpha=0.5, beta=0.75, k=1.5)


def instance_norm(rs):
    P = {"s": rs.rand(C) + 0.5, "b": rs.randn(C)}
    node = helper.make_node("InstanceNormalization", ["h", "s", "b"], ["z"],
                            epsilon=1e-3)
    return [node], P, (C, H, H), lambda h, P: F.instance_norm(
        h, weight=P["s"], bias=P["b"], eps=1e-3)


def layer_norm(rs):
    P = {"s": rs.rand(H, H) + 0.5, "b": rs.randn(H, H)}
    node = helper.make_node("LayerNormalization", ["h", "s", "b"], ["z"],
                            axis=2, epsilon=1e-3)
    return [node], P, (C, H, H), lambda h, P: F.layer_norm(
        h, (H, H), P["s"], P["b"], 1e-3)


def pad_constant(rs):
    node = helper.make_node("Pad", ["h", "pads", "v"], ["z"], mode="constant")
    consts = {"pads": np.array([0, 0, 2, 1, 0, 0, -1, 1], np.int64),
              "v": np.array(0.25, np.float32)}
    return [node], consts, (C, H + 1, H + 2), lambda h, P: F.pad(
        h, (1, 1, 2, -1), value=0.25)


def pad_reflect(rs):
    # The largest reflect pad an axis allows (5 of 6) and uneven borders.
    node = helper.make_node("Pad", ["h", "pads"], ["z"], mode="reflect")
    consts = {"pads": np.array([0, 0, 2, 1, 0, 0, 5, 2], np.int64)}
    return [node], consts, (C, H + 7, H + 3), lambda h, P: F.pad(
        h, (1, 2, 2, 5), mode="reflect")


def pad_edge(rs):
    node = helper.make_node("Pad", ["h", "pads"], ["z"], mode="edge")
    consts = {"pads": np.array([0, 0, 3, 0, 0, 0, 1, 2], np.int64)}
    return [node], consts, (C, H + 4, H + 2), lambda h, P: F.pad(
        h, (0, 2, 3, 1), mode="replicate")


def slice_strided(rs):
    # Negative and positive steps on three axes; along H the spread of
    # 1, 3, 5 by step 2 passes the input's end.
    node = helper.make_node("Slice", ["h", "starts", "ends", "axes", "steps"],
                            ["z"])
    consts = {"starts": np.array([3, 1, 5], np.int64),
              "ends": np.array([-5, 6, 0], np.int64),
              "axes": np.array([1, 2, 3], np.int64),
              "steps": np.array([-2, 2, -3], np.int64)}
    return [node], consts, (2, 3, 2), lambda h, P: h[:, [3, 1]][:, :, 1::2][
        ..., [5, 2]]


def reduce_l1(rs):
    # Scaled down so that the Tanh after it does not saturate (where float32's
    # 1 - tanh^2 loses its digits).
    nodes = [helper.make_node("ReduceL1", ["h"], ["l1"], axes=[2], keepdims=1),
             helper.make_node("Mul", ["l1", "k"], ["z"])]
    consts = {"k": np.array(0.1, np.float32)}
    return nodes, consts, (C, 1, H), lambda h, P: h.abs().sum(
        2, keepdim=True) * 0.1


def reduce_prod(rs):
    # Over the channels of h * m + p (m and p trainable too): m puts one
    # exact zero at (0, 0) (the gradient there is the product of the
    # others) and two at (0, 1) (all zero); elsewhere y / x.
    m = np.ones((C, H, H), np.float32)
    m[1, 0, 0] = 0
    m[0, 0, 1] = m[2, 0, 1] = 0
    nodes = [helper.make_node("Mul", ["h", "m"], ["hm"]),
             helper.make_node("Add", ["hm", "p"], ["hp"]),
             helper.make_node("ReduceProd", ["hp"], ["pr"], axes=[1],
                              keepdims=1),
             helper.make_node("Mul", ["pr", "k"], ["z"])]
    consts = {"m": m, "p": np.zeros((C, H, H), np.float32),
              "k": np.array(0.1, np.float32)}
    return nodes, consts, (1, H, H), lambda h, P: (h * P["m"] + P["p"]).prod(
        1, keepdim=True) * 0.1


def conv_transpose(rs):
    P = {"t": rs.randn(C, 2, 3, 3), "tb": rs.randn(4)}
    node = helper.make_node("ConvTranspose", ["h", "t", "tb"], ["z"],
                            strides=[2, 2], pads=[1, 1, 1, 1],
                            output_padding=[1, 1], group=2)
    return [node], P, (4, 2 * H, 2 * H), lambda h, P: F.conv_transpose2d(
        h, P["t"], P["tb"], stride=2, padding=1, output_padding=1, groups=2)


def resize_nearest(rs):
    node = helper.make_node("Resize", ["h", "", "scales"], ["z"],
                            mode="nearest",
                            coordinate_transformation_mode="asymmetric",
                            nearest_mode="floor")
    consts = {"scales": np.array([1, 1, 2, 3], np.float32)}
    return [node], consts, (C, 2 * H, 3 * H), lambda h, P: F.interpolate(
        h, scale_factor=(2, 3), mode="nearest")


def resize_linear(rs):
    # Separable interpolation matrices: bilinear by 2 x 1.5 (half_pixel, as
    # PyTorch's align_corners=False with a scale factor).
    node = helper.make_node("Resize", ["h", "", "scales"], ["z"],
                            mode="linear",
                            coordinate_transformation_mode="half_pixel")
    consts = {"scales": np.array([1, 1, 2, 1.5], np.float32)}
    return [node], consts, (C, 2 * H, 3 * H // 2), lambda h, P: F.interpolate(
        h, scale_factor=(2, 1.5), mode="bilinear", align_corners=False)


def resize_cubic(rs):
    node = helper.make_node("Resize", ["h", "", "scales"], ["z"],
                            mode="cubic",
                            coordinate_transformation_mode="align_corners")
    consts = {"scales": np.array([1, 1, 2, 2], np.float32)}
    return [node], consts, (C, 2 * H, 2 * H), lambda h, P: F.interpolate(
        h, scale_factor=2, mode="bicubic", align_corners=True)


def gather_channels(rs):
    # Runs of a permutation with a repeat (the gradient sums both uses), a
    # negative index.
    node = helper.make_node("Gather", ["h", "idx"], ["z"], axis=1)
    consts = {"idx": np.array([3, 1, 1, -4, 2], np.int64)}
    return [node], consts, (5, H, H), lambda h, P: h[:, [3, 1, 1, 0, 2]]


def gather_columns(rs):
    # 2-D indices along the last axis: the result gains an axis.
    node = helper.make_node("Gather", ["h", "idx"], ["z"], axis=-1)
    consts = {"idx": np.array([[0, 2, 4], [5, 1, 1]], np.int64)}
    idx = torch.tensor([[0, 2, 4], [5, 1, 1]])
    return [node], consts, (C, H, 2, 3), lambda h, P: h[..., idx]


CASES = {"lrn": lrn, "resize_nearest": resize_nearest,
         "resize_linear": resize_linear, "resize_cubic": resize_cubic,
         "gather_channels": gather_channels, "gather_columns": gather_columns,
         "instance_norm": instance_norm,
         "layer_norm": layer_norm, "pad_constant": pad_constant,
         "pad_reflect": pad_reflect, "pad_edge": pad_edge,
         "slice_strided": slice_strided, "reduce_l1": reduce_l1,
         "reduce_prod": reduce_prod,
         "conv_transpose": conv_transpose}


def check(name, work):
    rs = np.random.RandomState(3)
    nodes, extra, zshape, op = CASES[name](rs)
    P = {"c.weight": rs.randn(C, 3, 3, 3) * 0.5, "c.bias": rs.randn(C)}
    P.update({k: v for k, v in extra.items() if v.dtype != np.int64 and
              v.ndim > 0 and k != "scales"})
    consts = {k: v for k, v in extra.items() if k not in P}
    flat = int(np.prod(zshape))
    P["fc.weight"] = rs.randn(3, flat) * 0.1
    graph_nodes = [helper.make_node("Conv", ["x", "c.weight", "c.bias"],
                                    ["h"], pads=[1, 1, 1, 1])]
    graph_nodes += nodes
    graph_nodes += [helper.make_node("Tanh", ["z"], ["a"]),
                    helper.make_node("Flatten", ["a"], ["f"]),
                    helper.make_node("Gemm", ["f", "fc.weight"], ["y"],
                                     transB=1)]
    inits = [numpy_helper.from_array(v.astype(np.float32), k)
             for k, v in P.items()]
    inits += [numpy_helper.from_array(v, k) for k, v in consts.items()]
    x_info = helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                           ["N", 3, H, H])
    y_info = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])
    model = helper.make_model(
        helper.make_graph(graph_nodes, name, [x_info], [y_info], inits),
        opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    src = os.path.join(work, name + ".onnx")
    onnx.save(model, src)
    so = os.path.join(work, name + ".so")
    subprocess.run(["cnnc", src, "--train", "-o", so], check=True)
    x = rs.randn(3, 3, H, H).astype(np.float32)
    labels = np.array([0, 2, 1], np.int64)
    lib = cnnc.load(so)
    lib.configure("sgd", lr=0.0)
    lib.backward(x, labels)
    got = {n: g.copy() for n, kind, g in lib.gradients() if kind == "gradient"}
    T = {k: torch.tensor(v.astype(np.float32), dtype=torch.float64,
                         requires_grad=True) for k, v in P.items()}
    h = F.conv2d(torch.from_numpy(x).double(), T["c.weight"], T["c.bias"],
                 padding=1)
    z = torch.tanh(op(h, T)).flatten(1)
    F.cross_entropy(z @ T["fc.weight"].t(), torch.from_numpy(labels)).backward()
    # Relative to the tensor's largest gradient (bound 1e-4). Where the
    # true gradient is zero (a bias just before a normalization, which
    # removes it), float32 leaves the rounding of sums that cancel: the
    # bound is then 1e-6 of the largest gradient of all.
    largest = max(float(np.max(np.abs(t.grad.numpy()))) for t in T.values())
    ok = True
    for k, t in T.items():
        ref = t.grad.numpy()
        if k not in got:
            print("%s %s: no gradient MISMATCH" % (name, k))
            ok = False
            continue
        scale = float(np.max(np.abs(ref)))
        zero = scale <= 1e-12 * largest
        err = float(np.max(np.abs(got[k] - ref))) / (
            1e-2 * largest if zero else scale)
        good = err <= 1e-4
        ok &= good
        print("%s %s: %.2e %s" % (name, k, err, "ok" if good else "MISMATCH"))
    return ok


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    names = sys.argv[2:] or list(CASES)
    results = [check(n, work) for n in names]
    print("ALL OK" if all(results) else "MISMATCH")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
