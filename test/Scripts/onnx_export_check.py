"""Checks the ONNX files cnnc writes for DSL models (cnnc --emit=onnx, and
cnnc-train --export of a library compiled from the DSL).

  onnx_export_check.py data DIR N C H W CLASSES
      DIR/x.npy: N random float32 images (a fixed seed); DIR/y.npy: int64
      labels below CLASSES.
  onnx_export_check.py valid MODEL.onnx
      libonnx's checker (full_check: strict shape inference) accepts MODEL.
  onnx_export_check.py same MODEL.onnx X.npy OUT.npy...
      PyTorch, running MODEL's nodes (onnx_torch_eval.py), computes OUT
      (cnnc-run's outputs) from X: every output within 1e-5 of the
      reference's own scale (its largest magnitude, at least 1).
  onnx_export_check.py trained TRAINED.onnx INITIAL.onnx WEIGHTS.npz
      TRAINED has INITIAL's nodes, inputs and outputs unchanged; each
      initializer named in WEIGHTS holds exactly those values; every
      trainable one of them moved from its INITIAL value.
Every check prints OK or exits 1 with the reason.
"""
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_torch_eval  # noqa: E402


def fail(why):
    print("FAIL: " + why)
    sys.exit(1)


def data(out, n, c, h, w, classes):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((int(n), int(c), int(h), int(w))).astype(np.float32)
    y = rng.integers(0, int(classes), size=int(n)).astype(np.int64)
    np.save(os.path.join(out, "x.npy"), x)
    np.save(os.path.join(out, "y.npy"), y)
    print("OK")


def valid(path):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    print("OK")


def same(path, x_path, *outs):
    model = onnx.load(path)
    if len(model.graph.input) != 1:
        fail("expected one input, the model has %d" % len(model.graph.input))
    if len(outs) != len(model.graph.output):
        fail("%d outputs given, the model has %d"
             % (len(outs), len(model.graph.output)))
    x = np.load(x_path)
    ref = onnx_torch_eval.evaluate(model, {model.graph.input[0].name: x})
    for name, r, out_path in zip((o.name for o in model.graph.output), ref,
                                 outs):
        got = np.load(out_path)
        if got.shape != r.shape:
            fail("%s: shape %s, PyTorch's %s" % (name, got.shape, r.shape))
        scale = max(1.0, float(np.abs(r).max()))
        err = float(np.abs(got - r).max()) / scale
        if not np.isfinite(err) or err > 1e-5:
            fail("%s: error %.3g of the reference's scale %.3g" %
                 (name, err, scale))
    print("OK")


def trained(trained_path, initial_path, npz_path):
    t = onnx.load(trained_path)
    i = onnx.load(initial_path)
    for field in ("node", "input", "output"):
        a = [x.SerializeToString() for x in getattr(t.graph, field)]
        b = [x.SerializeToString() for x in getattr(i.graph, field)]
        if a != b:
            fail("the graph's %s differ from the untrained export" % field)
    t_init = {x.name: onnx.numpy_helper.to_array(x) for x in t.graph.initializer}
    i_init = {x.name: onnx.numpy_helper.to_array(x) for x in i.graph.initializer}
    if set(t_init) != set(i_init):
        fail("the initializers are not the untrained export's")
    weights = np.load(npz_path)
    if not weights.files:
        fail("no parameters in " + npz_path)
    moved = 0
    for name in weights.files:
        if name not in t_init:
            fail("parameter %s is not an initializer of the export" % name)
        if not np.array_equal(weights[name].reshape(t_init[name].shape),
                              t_init[name]):
            fail("initializer %s is not the trained parameter" % name)
        if not np.array_equal(t_init[name], i_init[name]):
            moved += 1
    if moved == 0:
        fail("no initializer moved from its initial value")
    print("OK %d parameters, %d moved" % (len(weights.files), moved))


if __name__ == "__main__":
    commands = {"data": data, "valid": valid, "same": same, "trained": trained}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        fail(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
