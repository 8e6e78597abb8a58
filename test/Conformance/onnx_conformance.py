#!/usr/bin/env python3
"""Runs ONNX's own conformance cases (Debian's libonnx-testdata) through cnnc.

Each case directory holds model.onnx and test_data_set_*/{input,output}_*.pb.
For every case listed in onnx-cases.txt the model is compiled with the real
CLI (`cnnc model.onnx -o case.so`), run with `cnnc-run` on the case's inputs,
and every output is compared with the expected one: the largest absolute
error must be <= TOL * max |expected| (the output's own scale, floored at
float32's smallest normal), for every target given with --targets (the x86
levels the host can execute: the same cases on SSE4.1, AVX2 and AVX-512).

A case listed with `bind=I,J` has graph inputs I, J (Resize's scales and
sizes, ...) that a model file would hold as initializers: the harness makes
them initializers holding the data set's values before compiling (one model
per data set), and compares the outputs as for any case; the expected
numbers are still ONNX's.

Cases of the supported op set that cnnc does not run are listed, with the
reason, in onnx-unsupported.txt; a case in neither list fails the run, so the
lists stay complete as the test data grows.

Usage: onnx_conformance.py --bin BUILD/bin --work DIR [--filter SUBSTR]
                           [--targets T1,T2,...]
"""
import argparse
import glob
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

DATA = "/usr/share/libonnx-testdata/data"
HERE = os.path.dirname(os.path.abspath(__file__))
TOL = 1e-4
# Test-name prefixes of the op set cnnc supports; every case matching one
# must be in one of the two lists.
OP_PREFIXES = re.compile(
    r"^test_(conv_|conv$|relu|leakyrelu|clip|sigmoid|tanh|maxpool|averagepool|"
    r"globalaveragepool|globalmaxpool|batchnorm|gemm|matmul_|add|sub|mul|div|"
    r"flatten|reshape|concat|constant_pad|softmax|logsoftmax|reduce_|"
    r"dropout|identity$|hardsigmoid|hardswish|transpose|slice|pow|sqrt|erf$|"
    r"neg|abs$|exp$|exp_|log$|log_|reciprocal|softplus|softsign|elu|selu|"
    r"celu|thresholdedrelu|shrink|prelu|sum_|mean_|max_|min_|split|"
    r"depthtospace|spacetodepth|instancenorm|layer_normalization|edge_pad|"
    r"reflect_pad|convtranspose|lrn|resize|upsample|gather_[0-9]|gather_2d|"
    r"gather_neg)")


def read_list(name):
    entries = {}
    with open(os.path.join(HERE, name)) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            entries[parts[0]] = parts[1] if len(parts) > 1 else ""
    return entries


def load_pb(path):
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def bind_inputs(model_path, dataset, indices, out_path):
    """model_path with graph inputs `indices` turned into initializers that
    hold dataset's input_<i>.pb."""
    m = onnx.load(model_path)
    names = [i.name for i in m.graph.input
             if i.name not in {t.name for t in m.graph.initializer}]
    keep = []
    for i, inp in enumerate(m.graph.input):
        if inp.name in names and names.index(inp.name) in indices:
            t = TensorProto()
            with open(os.path.join(
                    dataset, "input_%d.pb" % names.index(inp.name)),
                    "rb") as f:
                t.ParseFromString(f.read())
            t.name = inp.name
            m.graph.initializer.append(t)
        else:
            keep.append(inp)
    del m.graph.input[:]
    m.graph.input.extend(keep)
    onnx.save(m, out_path)


def run_case(case, bindir, work, target, tol, bind=()):
    model = os.path.join(DATA, case, "model.onnx")
    name = re.sub(r"[^A-Za-z0-9_]", "_", os.path.basename(case))
    so = os.path.join(work, name + ".so")
    sets = sorted(glob.glob(os.path.join(DATA, case, "test_data_set_*")))
    if not sets:
        return "no test data"

    def compile_model(path):
        r = subprocess.run([os.path.join(bindir, "cnnc"), path, "-o", so,
                            "--name", name, "--target=" + target],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return "compile failed: " + (r.stderr.strip() or
                                         r.stdout.strip())[:2000]
        return None

    if not bind:
        failure = compile_model(model)
        if failure:
            return failure
    for ds in sets:
        if bind:
            bound = os.path.join(work, name + "_bound.onnx")
            bind_inputs(model, ds, bind, bound)
            failure = compile_model(bound)
            if failure:
                return failure
        inputs = sorted(glob.glob(os.path.join(ds, "input_*.pb")),
                        key=lambda p: int(re.findall(r"(\d+)\.pb$", p)[0]))
        outputs = sorted(glob.glob(os.path.join(ds, "output_*.pb")),
                         key=lambda p: int(re.findall(r"(\d+)\.pb$", p)[0]))
        cmd = [os.path.join(bindir, "cnnc-run"), so]
        for i, p in enumerate(inputs):
            if i in bind:
                continue
            npy = os.path.join(work, "%s_in%d.npy" % (name, i))
            np.save(npy, load_pb(p))
            cmd += ["-i", npy]
        outs = []
        for i, _ in enumerate(outputs):
            npy = os.path.join(work, "%s_out%d.npy" % (name, i))
            outs.append(npy)
            cmd += ["-o", npy]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            return "run failed: " + r.stderr.strip()[:2000]
        for i, p in enumerate(outputs):
            expected = load_pb(p).astype(np.float64)
            got = np.load(outs[i]).astype(np.float64)
            if got.shape != expected.shape:
                return "output %d: shape %s, expected %s" % (
                    i, got.shape, expected.shape)
            scale = max(float(np.finfo(np.float32).tiny),
                        float(np.max(np.abs(expected)))) if expected.size else 1.0
            err = float(np.max(np.abs(got - expected))) if expected.size else 0.0
            if not err <= tol * scale:
                return "output %d: max abs error %.3g > %.1g * %.3g" % (
                    i, err, tol, scale)
    return None


def bind_of(option):
    """The input indices of an onnx-cases.txt option `bind=1,2`."""
    m = re.match(r"bind=([\d,]+)$", option or "")
    return tuple(int(i) for i in m.group(1).split(",")) if m else ()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--filter", default="")
    ap.add_argument("--tol", type=float, default=TOL,
                    help="error bound relative to each output's scale")
    ap.add_argument("--targets", default="host",
                    help="comma-separated cnnc --target values")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    supported = read_list("onnx-cases.txt")
    unsupported = read_list("onnx-unsupported.txt")
    problems = []
    for both in sorted(set(supported) & set(unsupported)):
        problems.append("%s: listed as supported and unsupported" % both)
    for d in ("node", "pytorch-converted", "pytorch-operator"):
        for case in sorted(os.listdir(os.path.join(DATA, d))):
            key = d + "/" + case
            if d == "node" and OP_PREFIXES.match(case) and \
                    key not in supported and key not in unsupported:
                problems.append("%s: in neither onnx-cases.txt nor "
                                "onnx-unsupported.txt" % key)
    passed = 0
    for case in sorted(supported):
        if args.filter not in case:
            continue
        if not os.path.isdir(os.path.join(DATA, case)):
            problems.append("%s: no such test case" % case)
            continue
        for target in args.targets.split(","):
            label = "" if target == "host" else " [%s]" % target
            error = run_case(case, args.bin, args.work, target, args.tol,
                             bind_of(supported[case]))
            if error:
                print("FAIL %s%s: %s" % (case, label, error))
                problems.append(case + label)
            else:
                print("PASS %s%s" % (case, label))
                passed += 1
    # Unsupported cases must be refused cleanly: exit status 1 and an
    # error line, never a crash.
    refused = 0
    for case in sorted(unsupported):
        if args.filter not in case:
            continue
        model = os.path.join(DATA, case, "model.onnx")
        r = subprocess.run([os.path.join(args.bin, "cnnc"), model, "-o",
                            os.path.join(args.work, "refused.so")],
                           capture_output=True, text=True)
        if r.returncode != 1 or "error:" not in r.stderr:
            print("FAIL %s: expected a clean refusal, got exit %d: %s" % (
                case, r.returncode, r.stderr.strip()[:500]))
            problems.append(case)
        else:
            refused += 1
    print("%d passed, %d refused cleanly, %d problems" %
          (passed, refused, len(problems)))
    for p in problems:
        print("PROBLEM " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
