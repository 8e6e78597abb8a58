"""Every kind of cnn.reduce (ONNX ReduceSum ... ReduceLogSumExp), against
NumPy in float64, over inner axes, over several axes and over the batch
axis (whose extent is known only at run time), at two batch sizes and at
each x86 target level of the host.

  reductions.py BIN_DIR WORK_DIR TARGETS

TARGETS: comma-separated cnnc --target values ("host" for none). The
inputs: x of magnitude up to about 100, so that exp(x) overflows float32
(ReduceLogSumExp must shift by the maximum); p in [0.5, 1.5] for the
product and the log of the sum. Prints one line per output and target, and
ALL OK, or MISMATCH lines.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

# name: (ONNX op, input, axes, keepdims, NumPy reference on float64)
OUTPUTS = {
    "sum_hw": ("ReduceSum", "x", [2, 3], 0, lambda x: x.sum((2, 3))),
    "sum_n": ("ReduceSum", "x", [0], 1, lambda x: x.sum(0, keepdims=True)),
    "mean_c": ("ReduceMean", "x", [1], 1, lambda x: x.mean(1, keepdims=True)),
    "max_w": ("ReduceMax", "x", [-1], 0, lambda x: x.max(-1)),
    "max_all": ("ReduceMax", "x", None, 1,
                lambda x: x.max(keepdims=True)),
    "min_ch": ("ReduceMin", "x", [1, 2], 1,
               lambda x: x.min((1, 2), keepdims=True)),
    "prod_c": ("ReduceProd", "p", [1], 0, lambda p: p.prod(1)),
    "l1_hw": ("ReduceL1", "x", [2, 3], 1,
              lambda x: np.abs(x).sum((2, 3), keepdims=True)),
    "l2_n": ("ReduceL2", "x", [0, 3], 0,
             lambda x: np.sqrt((x * x).sum((0, 3)))),
    "sumsq_c": ("ReduceSumSquare", "x", [1], 1,
                lambda x: (x * x).sum(1, keepdims=True)),
    "logsum_w": ("ReduceLogSum", "p", [3], 0, lambda p: np.log(p.sum(3))),
    "lse_c": ("ReduceLogSumExp", "x", [1], 0,
              lambda x: np.log(np.exp(x - x.max(1, keepdims=True)).sum(1)) +
              x.max(1)),
    "lse_n": ("ReduceLogSumExp", "x", [0, 2], 1,
              lambda x: np.log(np.exp(x - x.max((0, 2), keepdims=True))
                               .sum((0, 2), keepdims=True)) +
              x.max((0, 2), keepdims=True)),
}
SHAPE = [3, 4, 5]  # after the batch


def make(path):
    nodes, outs = [], []
    for name, (op, src, axes, keep, ref) in OUTPUTS.items():
        kw = {"keepdims": keep}
        if axes is not None:
            kw["axes"] = axes
        nodes.append(helper.make_node(op, [src], [name], name=name, **kw))
        shape = list(ref(np.ones([2] + SHAPE)).shape)
        if axes is not None and 0 not in axes:
            shape[0] = "N"
        outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                  shape))
    ins = [helper.make_tensor_value_info(n, TensorProto.FLOAT,
                                         ["N"] + SHAPE) for n in ("x", "p")]
    graph = helper.make_graph(nodes, "reductions", ins, outs)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 6
    onnx.save(model, path)


def main(bin_dir, work, targets):
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "reductions.onnx")
    make(model)
    rng = np.random.default_rng(7)
    ok = True
    for target in targets.split(","):
        lib = os.path.join(work, "reductions-%s.so" % target)
        cmd = [os.path.join(bin_dir, "cnnc"), model, "-o", lib]
        if target != "host":
            cmd.append("--target=" + target)
        subprocess.run(cmd, check=True)
        for batch in (1, 4):
            x = (30 * rng.standard_normal([batch] + SHAPE)).astype(np.float32)
            p = rng.uniform(0.5, 1.5, [batch] + SHAPE).astype(np.float32)
            paths = []
            for n, v in (("x", x), ("p", p)):
                paths.append(os.path.join(work, "%s%d.npy" % (n, batch)))
                np.save(paths[-1], v)
            outs = [os.path.join(work, "%s-%d.npy" % (n, batch))
                    for n in OUTPUTS]
            run = [os.path.join(bin_dir, "cnnc-run"), lib]
            for path in paths:
                run += ["-i", path]
            for path in outs:
                run += ["-o", path]
            subprocess.run(run, check=True)
            for (name, (_, src, _, _, ref)), path in zip(OUTPUTS.items(),
                                                          outs):
                want = ref((x if src == "x" else p).astype(np.float64))
                got = np.load(path)
                if got.shape != want.shape:
                    print("%s [%s] batch %d: shape %s, NumPy's %s MISMATCH" % (
                        name, target, batch, got.shape, want.shape))
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
