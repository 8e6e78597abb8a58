"""Reductions along the batch axis, whose extent is known only at run time.

  batch_axis.py make DIR
      DIR/<case>.onnx for each case below, a float32 [N, 3, 4] input x.
  batch_axis.py check DIR CASE X.npy OUT.npy
      OUT (cnnc-run's output) is NumPy's result on X within 1e-6 of its
      largest magnitude.
Prints OK or exits 1 with the reason.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


CASES = {
    # name: (node, numpy reference, output shape)
    "softmax0": (helper.make_node("Softmax", ["x"], ["y"], axis=0),
                 lambda x: softmax(x, 0), ["N", 3, 4]),
    "logsoftmax0": (helper.make_node("LogSoftmax", ["x"], ["y"], axis=0),
                    lambda x: np.log(softmax(x, 0)), ["N", 3, 4]),
    "mean0": (helper.make_node("ReduceMean", ["x"], ["y"], axes=[0],
                               keepdims=0),
              lambda x: x.mean(axis=0), [3, 4]),
    "mean02": (helper.make_node("ReduceMean", ["x"], ["y"], axes=[0, 2],
                                keepdims=1),
               lambda x: x.mean(axis=(0, 2), keepdims=True), [1, 3, 1]),
}


def make(out):
    for name, (node, _, shape) in CASES.items():
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)
        graph = helper.make_graph([node], name, [x], [y])
        model = helper.make_model(graph,
                                  opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 7
        onnx.save(model, os.path.join(out, name + ".onnx"))
    print("OK")


def check(_, case, x_path, out_path):
    x = np.load(x_path)
    ref = CASES[case][1](x.astype(np.float64))
    got = np.load(out_path)
    if got.shape != ref.shape:
        print("FAIL: %s: shape %s, NumPy's %s" % (case, got.shape, ref.shape))
        sys.exit(1)
    err = float(np.abs(got - ref).max()) / max(1e-30, float(np.abs(ref).max()))
    if not np.isfinite(err) or err > 1e-6:
        print("FAIL: %s: relative error %.3g" % (case, err))
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "make":
        make(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "check":
        check(*sys.argv[2:])
    else:
        print(__doc__)
        sys.exit(1)
