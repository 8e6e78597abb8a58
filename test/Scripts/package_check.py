#!/usr/bin/env python3
"""The `cnnc` Python package (python/cnnc) against PyTorch.

LeNet-5 from the DSL compiled with cnnc.compile, loaded with cnnc.load:
shapes and names, inference at batch 1 and 5, three SGD steps with
momentum, state save/load, run-time freezing, the feature cache of a
backbone frozen at compile time, and the errors a user meets
(wrong dtype, shape, batch, a model without --train, a bad model file);
then a LeNet-5 exported by PyTorch to ONNX, trained and exported back to
ONNX with export_onnx.

Usage: package_check.py WORK_DIR
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, HERE)
import cnnc  # noqa: E402
from lenet5_torch import LAYERS, lenet5, rel_err  # noqa: E402
from train_parity_onnx import export_lenet  # noqa: E402

EXAMPLES = os.path.join(HERE, "..", "..", "examples")
TOL = 1e-4  # float32 kernels against float32 PyTorch: summation order only


def expect_error(what, fn, needle):
    try:
        fn()
    except cnnc.Error as e:
        ok = needle in str(e)
        print("%s: cnnc.Error%s" % (what, "" if ok else " WITHOUT '%s': %s" % (needle, e)))
        return ok
    print("%s: no error MISMATCH" % what)
    return False


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    ok = True
    m = cnnc.compile(os.path.join(EXAMPLES, "lenet5.cnn"),
                     os.path.join(work, "lenet.so"), train=True)
    print("inputs:", m.inputs)
    print("outputs:", m.outputs)
    ok &= m.inputs == [cnnc.Tensor("image", np.dtype(np.float32), (None, 1, 28, 28))]
    ok &= m.outputs == [cnnc.Tensor("logits", np.dtype(np.float32), (None, 10))]

    torch.manual_seed(0)
    net = lenet5()
    for name in m.parameters():
        layer, kind = name.split(".")
        m.set_parameter(name, getattr(net[LAYERS[layer]], kind).detach().numpy())
    for batch in (1, 5):
        x = np.random.RandomState(batch).randn(batch, 1, 28, 28).astype(np.float32)
        with torch.no_grad():
            ref = net(torch.from_numpy(x)).numpy()
        err = rel_err(m(x), ref)
        print("batch %d: max relative error %.2e %s" % (
            batch, err, "ok" if err <= TOL else "MISMATCH"))
        ok &= err <= TOL

    m.threads = 2
    ok &= m.threads == 2

    # Training against PyTorch's SGD with momentum.
    m.configure("sgd", lr=0.05, momentum=0.9)
    ref_opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    rs = np.random.RandomState(1)
    batches = [(rs.randn(8, 1, 28, 28).astype(np.float32),
                rs.randint(0, 10, 8).astype(np.int64)) for _ in range(4)]
    for x, y in batches[:3]:
        loss = m.train_step(x, y)
        ref_opt.zero_grad()
        ref_loss = nn.functional.cross_entropy(net(torch.from_numpy(x)),
                                               torch.from_numpy(y))
        ref_loss.backward()
        ref_opt.step()
    worst = max(rel_err(m.parameter(name),
                        getattr(net[LAYERS[name.split(".")[0]]],
                                name.split(".")[1]).detach().numpy())
                for name in m.parameters())
    print("3 SGD steps: loss %.4f (PyTorch %.4f), worst weight error %.2e %s" % (
        loss, ref_loss.item(), worst, "ok" if worst <= TOL else "MISMATCH"))
    ok &= worst <= TOL

    # The state: the same next step after a round trip.
    state = m.save_state()
    before = m.parameters()
    m.train_step(*batches[3])
    after = m.parameters()
    m.load_state(state)
    restored = all(np.array_equal(m.parameter(k), v) for k, v in before.items())
    m.train_step(*batches[3])
    again = all(np.array_equal(m.parameter(k), v) for k, v in after.items())
    print("state round trip: restored %s, same next step %s" % (restored, again))
    ok &= restored and again
    # A step in two calls (backward, gradients, apply; ABI 4): the
    # gradients are PyTorch's at the same weights, and applying them is the
    # same step as train_step.
    m.load_state(state)
    m.backward(*batches[3])
    ref_opt.zero_grad()
    nn.functional.cross_entropy(net(torch.from_numpy(batches[3][0])),
                                torch.from_numpy(batches[3][1])).backward()
    grads = m.gradients()
    grad_err = max(rel_err(g, getattr(net[LAYERS[name.split(".")[0]]],
                                      name.split(".")[1]).grad.numpy())
                   for name, kind, g in grads)
    names_ok = sorted(n for n, _, _ in grads) == sorted(m.parameters())
    m.apply()
    same = all(np.array_equal(m.parameter(k), v) for k, v in after.items())
    print("two-call step: %d gradients (all parameters %s), worst error vs "
          "PyTorch %.2e, same as train_step %s %s" % (
              len(grads), names_ok, grad_err, same,
              "ok" if names_ok and same and grad_err <= TOL else "MISMATCH"))
    ok &= names_ok and same and grad_err <= TOL
    ok &= expect_error("apply without backward", m.apply, "no pending step")
    damaged = bytearray(state)
    damaged[len(damaged) // 2] ^= 4
    ok &= expect_error("damaged state", lambda: m.load_state(bytes(damaged)),
                       "checksum")

    # Freezing a group at run time.
    m.set_trainable("features", False)
    frozen = m.parameter("C1.weight")
    m.train_step(*batches[0])
    still = np.array_equal(m.parameter("C1.weight"), frozen)
    print("frozen features unchanged by a step: %s" % still)
    ok &= still
    m.set_trainable("features", True)
    ok &= expect_error("feature cache without a frozen prefix",
                       m.feature_info, "the first trainable layer reads the "
                       "model's input")

    # The feature cache of a backbone frozen at compile time: a step on the
    # backbone's output is the step train_step takes on the images.
    fm = cnnc.compile(os.path.join(EXAMPLES, "lenet5.cnn"),
                      os.path.join(work, "frozen.so"), train=True,
                      freeze=["features"])
    print("feature_info:", fm.feature_info())
    ok &= fm.feature_info() == cnnc.Tensor("features", np.dtype(np.float32),
                                           (None, 400))
    fm.configure("sgd", lr=0.05, momentum=0.9)
    state = fm.save_state()
    x, y = batches[0]
    loss = fm.train_step(x, y)
    stepped = fm.parameters()
    fm.load_state(state)
    features = fm.compute_features(x)
    cached_loss = fm.train_step_features(features, y)
    worst = max(rel_err(fm.parameter(k), v) for k, v in stepped.items())
    good = abs(cached_loss - loss) <= TOL * max(1.0, abs(loss)) and worst <= TOL
    print("train_step_features: loss %.4f (train_step %.4f), worst weight "
          "error %.2e %s" % (cached_loss, loss, worst,
                             "ok" if good else "MISMATCH"))
    ok &= good
    ok &= expect_error("features of a wrong shape", lambda: fm.train_step_features(
        features[:, :399], y), "shape (8, 399), expected (N, 400)")

    # Errors a user meets.
    x = np.zeros((2, 1, 28, 28), np.float32)
    ok &= expect_error("wrong shape", lambda: m(np.zeros((2, 1, 27, 28), np.float32)),
                       "shape (2, 1, 27, 28), expected (N, 1, 28, 28)")
    ok &= expect_error("wrong dtype", lambda: m(x.astype(np.complex64)),
                       "dtype complex64, expected float32")
    ok &= expect_error("two inputs", lambda: m(x, x), "takes 1 input, got 2")
    ok &= expect_error("labels", lambda: m.train_step(x, np.zeros(3, np.int64)),
                       "expected a batch of 2")
    ok &= expect_error("unknown parameter", lambda: m.parameter("nope"),
                       "no parameter 'nope'")
    ok &= expect_error("not a library", lambda: cnnc.load(os.path.join(
        EXAMPLES, "lenet5.cnn")), "cannot load")
    bad = os.path.join(work, "bad.cnn")
    with open(bad, "w") as f:
        f.write("model bad\ninput image: [N, 1, 4, 4]\nr = relu(image, k=1)\n"
                "output r\n")
    ok &= expect_error("compile error", lambda: cnnc.compile(
        bad, os.path.join(work, "bad.so")), "unknown argument 'k' of relu")
    infer = cnnc.compile(os.path.join(EXAMPLES, "lenet5.cnn"),
                         os.path.join(work, "infer.so"))
    ok &= expect_error("training an inference library",
                       lambda: infer.configure("sgd"), "without --train")
    # An inference library stores packable convolution weights only packed
    # (docs/abi.md): get_parameter and set_parameter still speak the plain
    # [cout][cin][kh][kw] layout, and run uses what was set.
    rs2 = np.random.RandomState(7)
    values = {k: rs2.randn(*v.shape).astype(np.float32)
              for k, v in infer.parameters().items()}
    for k, v in values.items():
        infer.set_parameter(k, v)
    roundtrip = all(np.array_equal(infer.parameter(k), v) for k, v in values.items())
    for name, v in values.items():
        layer, kind = name.split(".")
        getattr(net[LAYERS[layer]], kind).data.copy_(torch.from_numpy(v))
    x = np.random.RandomState(3).randn(3, 1, 28, 28).astype(np.float32)
    with torch.no_grad():
        err = rel_err(infer(x), net(torch.from_numpy(x)).numpy())
    print("inference library: parameters round trip %s, run with them %.2e %s" % (
        roundtrip, err, "ok" if err <= TOL else "MISMATCH"))
    ok &= roundtrip and err <= TOL

    # ONNX: trained weights exported back into the ONNX file.
    _, src = export_lenet(work)
    om = cnnc.compile(src, os.path.join(work, "onnx.so"), train=True)
    om.configure("adam", lr=1e-3)
    for x, y in batches[:2]:
        om.train_step(x, y)
    out = os.path.join(work, "trained.onnx")
    written = om.export_onnx(out)
    import onnx
    from onnx import numpy_helper
    inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(out).graph.initializer}
    same = all(np.array_equal(inits[k], v) for k, v in om.parameters().items())
    print("export_onnx: %d initializers written, equal to the parameters: %s" % (
        written, same))
    ok &= same and written == len(om.parameters())
    print("ALL OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
