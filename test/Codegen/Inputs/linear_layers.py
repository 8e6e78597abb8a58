"""Linear layers on the last axis, as PyTorch exports them (MatMul by a 2-D
weight, Add of the bias, the exact GELU through Erf), which cnn-fuse-ops
turns into fused_gemm kernels with register tiles over rows (and over a
second leading dim): against NumPy in float64, with extents that leave
partial tiles everywhere (odd rows, odd columns, 5 x 7 images, a 2 x 2 one,
a batch known only at run time), in both loop orders (row tiles inside
staged column panels of B when there are fewer rows than columns), at batch
1 and 3 and at each x86 target level of the host.

  linear_layers.py BIN_DIR WORK_DIR TARGETS

Prints one line per output and target, and ALL OK, or MISMATCH lines.
"""
import math
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# name: (input shape after the batch, N, bias, gelu)
CASES = {
    "odd_gelu": ([5, 7, 13], 19, True, True),
    "box_2x2": ([2, 2, 40], 48, True, False),
    "rank3": ([9, 24], 33, False, True),
    "narrow": ([24], 3, True, False),
    "many_rows": ([3, 30, 8], 16, True, True),
    # Fewer rows than columns, whole column panels: one task per panel of B,
    # staged in a buffer (ConvNeXt's last stage, 7 x 7 rows).
    "late_stage": ([7, 7, 24], 64, True, True),
    "rank3_panel": ([9, 24], 48, True, False),
}
erf = np.vectorize(math.erf)


def make(path, rng):
    nodes, ins, outs, inits, weights = [], [], [], [], {}
    sqrt2 = numpy_helper.from_array(np.array(math.sqrt(2), np.float32),
                                    "sqrt2")
    one = numpy_helper.from_array(np.array(1, np.float32), "one")
    half = numpy_helper.from_array(np.array(0.5, np.float32), "half")
    inits += [sqrt2, one, half]
    for name, (shape, n, bias, gelu) in CASES.items():
        k = shape[-1]
        w = rng.standard_normal([k, n]).astype(np.float32) / math.sqrt(k)
        b = rng.standard_normal([n]).astype(np.float32)
        weights[name] = (w, b)
        inits.append(numpy_helper.from_array(w, name + "_w"))
        ins.append(helper.make_tensor_value_info(name + "_x", TensorProto.FLOAT,
                                                 ["N"] + shape))
        v = name + "_mm"
        nodes.append(helper.make_node("MatMul", [name + "_x", name + "_w"],
                                      [v]))
        if bias:
            inits.append(numpy_helper.from_array(b, name + "_b"))
            nodes.append(helper.make_node("Add", [v, name + "_b"],
                                          [name + "_v"]))
            v = name + "_v"
        if gelu:
            nodes += [
                helper.make_node("Div", [v, "sqrt2"], [name + "_d"]),
                helper.make_node("Erf", [name + "_d"], [name + "_e"]),
                helper.make_node("Add", [name + "_e", "one"], [name + "_p"]),
                helper.make_node("Mul", [v, name + "_p"], [name + "_q"]),
                helper.make_node("Mul", [name + "_q", "half"], [name + "_g"]),
            ]
            v = name + "_g"
        nodes.append(helper.make_node("Identity", [v], [name]))
        outs.append(helper.make_tensor_value_info(
            name, TensorProto.FLOAT, ["N"] + shape[:-1] + [n]))
    graph = helper.make_graph(nodes, "linear_layers", ins, outs, inits)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, path)
    return weights


def reference(name, x, weights):
    shape, n, bias, gelu = CASES[name]
    w, b = (t.astype(np.float64) for t in weights[name])
    y = x @ w
    if bias:
        y = y + b
    if gelu:
        y = y * (erf(y / math.sqrt(2)) + 1) * 0.5
    return y


def main(bin_dir, work, targets):
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(11)
    model = os.path.join(work, "linear_layers.onnx")
    weights = make(model, rng)
    ok = True
    for target in targets.split(","):
        lib = os.path.join(work, "linear-%s.so" % target)
        cmd = [os.path.join(bin_dir, "cnnc"), model, "-o", lib]
        if target != "host":
            cmd.append("--target=" + target)
        subprocess.run(cmd, check=True)
        ir = subprocess.run(cmd[:2] + ["--emit=mlir"] + cmd[4:],
                            capture_output=True, text=True, check=True).stdout
        fused = ir.count("cnn.fused_gemm")
        if fused != len(CASES) or "cnn.erf" in ir or "cnn.matmul" in ir:
            print("[%s] %d fused_gemm of %d, unfused ops left MISMATCH" % (
                target, fused, len(CASES)))
            ok = False
        for batch in (1, 3):
            run = [os.path.join(bin_dir, "cnnc-run"), lib]
            xs = {}
            for name, (shape, _, _, _) in CASES.items():
                xs[name] = rng.standard_normal([batch] + shape).astype(
                    np.float32)
                path = os.path.join(work, "%s-x%d.npy" % (name, batch))
                np.save(path, xs[name])
                run += ["-i", path]
            outs = [os.path.join(work, "%s-%d.npy" % (n, batch))
                    for n in CASES]
            for path in outs:
                run += ["-o", path]
            subprocess.run(run, check=True)
            for name, path in zip(CASES, outs):
                want = reference(name, xs[name].astype(np.float64), weights)
                got = np.load(path)
                if got.shape != want.shape:
                    print("%s [%s] batch %d: shape %s, NumPy's %s MISMATCH" %
                          (name, target, batch, got.shape, want.shape))
                    ok = False
                    continue
                err = float(np.abs(got - want).max()) / float(
                    np.abs(want).max())
                good = bool(np.isfinite(got).all()) and err <= 1e-5
                ok &= good
                print("%s [%s] batch %d: %.1e %s" % (
                    name, target, batch, err, "OK" if good else "MISMATCH"))
    print("ALL OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
