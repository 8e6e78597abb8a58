"""Makes data sets and checks results for the cnnc-train tests.

  train_util.py toy DIR
      A separable 3-class problem with 4 features, as the default variant of
      fake_train_model.c takes it: train (600) and test (300) samples as
      .npy (float32 images, int64 labels) and as IDX (uint8 2x2 images,
      ubyte labels), plain and gzip-compressed; and small.npy /
      small_labels.npy, 10 samples labelled 0,1,2,0,1,2,...
  train_util.py bad DIR
      Broken and unfitting data files (see the names below).
  train_util.py onnx DIR
      source.onnx: the ONNX model fake_train_model.c pretends to be compiled
      from (Gemm with initializers fc.weight and fc.bias), and broken
      variants.
  train_util.py reference DUMP IMAGES LABELS [--key value]...
      Replays the training in numpy (float32) with --no-shuffle order and
      compares the parameters fake_train_model.c dumped (FAKE_TRAIN_DUMP).
      Keys: optimizer lr momentum nesterov weight_decay betas eps epochs
      steps batch normalize bias_lr.
  train_util.py check-export OUT.onnx SOURCE.onnx DUMP
      OUT holds the dumped parameters as raw float32 data, and everything
      else is SOURCE byte for byte.
  train_util.py metrics FILE LINES with-test|no-test
      FILE has LINES JSON lines with the documented keys.
  train_util.py same-metrics A B
      The same losses and accuracies, line by line.
  train_util.py learned FILE
      The loss fell to under half and the last test accuracy is >= 95%.
  train_util.py shuffled LOG LABELS STEPS_PER_EPOCH
      Every epoch of the step log (FAKE_TRAIN_LOG) feeds each label of
      LABELS exactly once, not in file order, and epochs differ.
Every check prints OK or exits 1 with the reason.
"""
import gzip
import json
import math
import struct
import sys

import numpy as np

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4",
             0x0D: ">f4", 0x0E: ">f8"}


def idx_bytes(array, code=0x08):
    array = np.asarray(array)
    header = bytes([0, 0, code, array.ndim])
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(IDX_TYPES[code]).tobytes()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def write_gz(path, data):
    # mtime=0: the same bytes on every run.
    with open(path, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
            f.write(data)


def read_idx(path):
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    code, rank = data[2], data[3]
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data[4 + 4 * rank:], IDX_TYPES[code]).reshape(dims)


def load(path):
    if path.endswith(".npy"):
        return np.load(path)
    return read_idx(path)


def fail(message):
    sys.exit("FAIL: " + message)


# --- Data --------------------------------------------------------------------

def separable(rng, n):
    labels = np.arange(n) % 3
    rng.shuffle(labels)
    x = rng.normal(0, 0.3, (n, 4)).astype(np.float32)
    x[np.arange(n), labels] += 2.0
    pixels = rng.integers(0, 50, (n, 4))
    pixels[np.arange(n), labels] = rng.integers(200, 256, n)
    return x, labels.astype(np.int64), pixels.astype(np.uint8).reshape(n, 2, 2)


def toy(out):
    rng = np.random.default_rng(0)
    for name, n in (("train", 600), ("test", 300)):
        x, labels, pixels = separable(rng, n)
        np.save("%s/%s.npy" % (out, name), x)
        np.save("%s/%s_labels.npy" % (out, name), labels)
        np.save("%s/%s_u8.npy" % (out, name), pixels)
        images, label_file = idx_bytes(pixels), idx_bytes(labels)
        write("%s/%s-images-idx3-ubyte" % (out, name), images)
        write("%s/%s-labels-idx1-ubyte" % (out, name), label_file)
        write_gz("%s/%s-images-idx3-ubyte.gz" % (out, name), images)
        write_gz("%s/%s-labels-idx1-ubyte.gz" % (out, name), label_file)
    small_labels = np.arange(10) % 3
    x = rng.normal(0, 1, (10, 4)).astype(np.float32)
    np.save(out + "/small.npy", x)
    np.save(out + "/small_labels.npy", small_labels.astype(np.int64))


def bad(out):
    rng = np.random.default_rng(1)
    _, labels, pixels = separable(rng, 600)
    images = idx_bytes(pixels)
    write(out + "/magic.idx", b"\x12\x34\x56\x78" + images[4:])
    write(out + "/magic-type.idx", b"\x00\x00\x07\x03" + images[4:])
    write(out + "/short.idx", b"\x00\x00")
    write(out + "/trunc-header.idx", images[:9])
    write(out + "/trunc.idx", images[:-100])
    write_gz(out + "/trunc.idx.gz", images[:-100])
    # A valid gzip file cut short: the compressed stream ends early.
    whole = gzip.compress(images, mtime=0)
    write(out + "/cut.idx.gz", whole[:len(whole) // 2])
    # Flipped bits in the middle of the compressed stream.
    corrupt = bytearray(whole)
    for i in range(len(corrupt) // 2, len(corrupt) // 2 + 8):
        corrupt[i] ^= 0xFF
    write(out + "/corrupt.idx.gz", bytes(corrupt))
    write(out + "/trailing.idx", images + b"\0\0\0")
    write_gz(out + "/trailing.idx.gz", images + b"\0\0\0")
    # Headers claiming absurd sizes: rejected before any allocation.
    write(out + "/absurd.idx", b"\x00\x00\x08\x03" +
          struct.pack(">III", 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF))
    write(out + "/huge.idx", b"\x00\x00\x08\x03" +
          struct.pack(">III", 1000000, 1000, 1000) + b"\0" * 64)
    write_gz(out + "/huge.idx.gz", b"\x00\x00\x08\x03" +
             struct.pack(">III", 1000000, 1000, 1000) + b"\0" * 64)
    write(out + "/dim-2g.idx", b"\x00\x00\x08\x01" + struct.pack(">I", 0xFFFFFFFF))
    write(out + "/rank9.idx", b"\x00\x00\x08\x09" + b"\0\0\0\1" * 9 + b"\0")
    write(out + "/empty.idx", idx_bytes(np.zeros((0, 2, 2), np.uint8)))
    write(out + "/empty-labels.idx", idx_bytes(np.zeros((0,), np.uint8)))
    # Well-formed files that do not fit the model or each other.
    write(out + "/labels599.idx", idx_bytes(labels[:599]))
    out_of_range = labels.copy()
    out_of_range[17] = 3
    write(out + "/labels-3.idx", idx_bytes(out_of_range))
    negative = labels.copy()
    negative[5] = -1
    np.save(out + "/labels-neg.npy", negative)
    write(out + "/images3x3.idx", idx_bytes(np.zeros((600, 3, 3), np.uint8)))
    np.save(out + "/float-labels.npy", labels.astype(np.float32))
    np.save(out + "/labels2d.npy", labels.reshape(600, 1))
    nan = np.zeros((600, 4), np.float32)
    nan[42, 1] = np.nan
    np.save(out + "/nan.npy", nan)
    np.save(out + "/int-images.npy", np.zeros((600, 4), np.int32))
    np.save(out + "/scalar.npy", np.float32(1))
    with open(out + "/images.npy.gz", "wb") as f:
        import io
        buf = io.BytesIO()
        np.save(buf, np.zeros((600, 4), np.float32))
        f.write(gzip.compress(buf.getvalue(), mtime=0))


def make_onnx(out):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    w = (0.01 * (np.arange(12) % 7 - 3)).astype(np.float32).reshape(3, 4)
    b = np.zeros(3, np.float32)

    def model(inits):
        graph = helper.make_graph(
            [helper.make_node("Gemm", ["x", "fc.weight", "fc.bias"],
                              ["logits"], name="/fc/Gemm", transB=1)],
            "fake_train",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
            [helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                           ["N", 3])],
            initializer=inits, doc_string="the graph's own doc string")
        m = helper.make_model(graph, producer_name="train_util.py",
                              opset_imports=[helper.make_opsetid("", 13)])
        m.doc_string = "kept as it is by --export"
        helper.set_model_props(m, {"author": "cnnc tests"})
        return m

    # fc.weight as float_data, fc.bias as raw_data: export turns both into
    # raw_data; an unrelated initializer stays as it is.
    weight = helper.make_tensor("fc.weight", TensorProto.FLOAT, [3, 4],
                                w.flatten().tolist())
    bias = numpy_helper.from_array(b, "fc.bias")
    unused = helper.make_tensor("unused", TensorProto.FLOAT, [2], [1.5, -2])
    onnx.save(model([weight, bias, unused]), out + "/source.onnx")
    onnx.save(model([weight, unused]), out + "/missing-bias.onnx")
    onnx.save(model([weight, numpy_helper.from_array(np.zeros(4, np.float32),
                                                     "fc.bias")]),
              out + "/wrong-size.onnx")
    onnx.save(model([weight, numpy_helper.from_array(np.zeros(3), "fc.bias")]),
              out + "/double-bias.onnx")
    write(out + "/garbage.onnx", b"this is not an ONNX model\n" * 3)


# --- Checks ------------------------------------------------------------------

def options(args):
    opts = {"optimizer": "sgd", "lr": "0.01", "momentum": "0",
            "nesterov": "0", "weight_decay": "0", "betas": "0.9,0.999",
            "eps": "1e-8", "epochs": "1", "steps": "0", "batch": "32",
            "normalize": "0,1", "bias_lr": ""}
    for i in range(0, len(args), 2):
        key = args[i].lstrip("-").replace("-", "_")
        if key not in opts:
            fail("unknown key " + args[i])
        opts[key] = args[i + 1]
    return opts


def reference(args):
    dump, images_path, labels_path = args[:3]
    o = options(args[3:])
    f32 = np.float32
    x = load(images_path)
    if x.dtype == np.uint8:
        x = x.astype(f32) / f32(255)
    mean, std = (f32(v) for v in o["normalize"].split(","))
    x = ((x.astype(f32) - mean) / std).reshape(len(x), -1)
    y = load(labels_path).astype(np.int64)
    n, batch = len(x), int(o["batch"])
    steps_per_epoch = -(-n // batch)
    steps = int(o["steps"]) or int(o["epochs"]) * steps_per_epoch
    params = [(0.01 * (np.arange(12) % 7 - 3)).astype(f32).reshape(3, 4),
              np.zeros(3, f32)]
    lrs = [f32(o["lr"]), f32(o["bias_lr"] or o["lr"])]
    momentum, wd = f32(o["momentum"]), f32(o["weight_decay"])
    beta1, beta2 = (f32(v) for v in o["betas"].split(","))
    eps = f32(o["eps"])
    bufs = [np.zeros_like(p) for p in params]
    vs = [np.zeros_like(p) for p in params]
    for t in range(1, steps + 1):
        k = (t - 1) % steps_per_epoch
        xb, yb = x[k * batch:(k + 1) * batch], y[k * batch:(k + 1) * batch]
        logits = xb @ params[0].T + params[1]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        d = e / e.sum(axis=1, keepdims=True)
        d[np.arange(len(yb)), yb] -= 1
        d /= f32(len(yb))
        grads = [d.T @ xb, d.sum(axis=0)]
        for i, (p, g) in enumerate(zip(params, grads)):
            lr = lrs[i]
            if o["optimizer"] == "sgd":
                g = g + wd * p
                if momentum:
                    bufs[i] = g if t == 1 else momentum * bufs[i] + g
                    g = g + momentum * bufs[i] if o["nesterov"] == "1" \
                        else bufs[i]
                p -= lr * g
                continue
            if o["optimizer"] == "adamw":
                p *= f32(1) - lr * wd
            else:
                g = g + wd * p
            bufs[i] = beta1 * bufs[i] + (f32(1) - beta1) * g
            vs[i] = beta2 * vs[i] + (f32(1) - beta2) * g * g
            m_hat = bufs[i] / (f32(1) - beta1 ** t)
            v_hat = vs[i] / (f32(1) - beta2 ** t)
            p -= lr * m_hat / (np.sqrt(v_hat) + eps)
    got = np.fromfile(dump, "<f4")
    want = np.concatenate([p.flatten() for p in params])
    if got.shape != want.shape:
        fail("dump has %d values, expected %d" % (got.size, want.size))
    if not np.allclose(got, want, rtol=1e-4, atol=1e-6):
        fail("parameters differ from numpy's replay:\n%s\n%s" % (got, want))
    print("OK")


def check_export(args):
    import onnx
    from onnx import numpy_helper
    out, src = onnx.load(args[0]), onnx.load(args[1])
    dump = np.fromfile(args[2], "<f4")
    want = {"fc.weight": dump[:12].reshape(3, 4), "fc.bias": dump[12:15]}
    source_inits = {t.name: t for t in src.graph.initializer}
    for t in out.graph.initializer:
        if t.name not in want:
            continue
        if list(t.dims) != list(source_inits[t.name].dims):
            fail("%s: dims %s changed" % (t.name, list(t.dims)))
        if t.float_data or not t.raw_data:
            fail("%s: expected raw_data only" % t.name)
        if not np.array_equal(numpy_helper.to_array(t), want[t.name]):
            fail("%s: values differ from the model's" % t.name)
        if np.array_equal(numpy_helper.to_array(t),
                          numpy_helper.to_array(source_inits[t.name])):
            fail("%s: still the source's values" % t.name)
        t.CopyFrom(source_inits[t.name])
    if out.SerializeToString() != src.SerializeToString():
        fail("the export changed more than the parameters")
    print("OK")


def read_metrics(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def metrics(args):
    lines = read_metrics(args[0])
    if len(lines) != int(args[1]):
        fail("%d lines, expected %s" % (len(lines), args[1]))
    for i, m in enumerate(lines):
        for key in ("epoch", "epochs", "step", "train_samples", "train_loss",
                    "test_accuracy", "images_per_second", "seconds"):
            if key not in m:
                fail("line %d lacks %s" % (i + 1, key))
        if m["epoch"] != i + 1 or m["epochs"] != len(lines):
            fail("line %d: epoch %s/%s" % (i + 1, m["epoch"], m["epochs"]))
        if not math.isfinite(m["train_loss"]) or m["seconds"] < 0 or \
                m["images_per_second"] < 0:
            fail("line %d: bad numbers %s" % (i + 1, m))
        accuracy = m["test_accuracy"]
        if args[2] == "with-test":
            if not isinstance(accuracy, float) or not 0 <= accuracy <= 1:
                fail("line %d: test_accuracy %r" % (i + 1, accuracy))
        elif accuracy is not None:
            fail("line %d: test_accuracy %r without test data" % (i + 1,
                                                                  accuracy))
    print("OK")


def same_metrics(args):
    a, b = read_metrics(args[0]), read_metrics(args[1])
    keys = ("epoch", "step", "train_samples", "train_loss", "test_accuracy")
    if [[m[k] for k in keys] for m in a] != [[m[k] for k in keys] for m in b]:
        fail("metrics differ:\n%s\n%s" % (a, b))
    print("OK")


def learned(args):
    lines = read_metrics(args[0])
    first, last = lines[0]["train_loss"], lines[-1]["train_loss"]
    if not last < first / 2:
        fail("loss %g -> %g" % (first, last))
    if lines[-1]["test_accuracy"] < 0.95:
        fail("test accuracy %g" % lines[-1]["test_accuracy"])
    print("OK")


def shuffled(args):
    labels = list(load(args[1]))
    per_epoch = int(args[2])
    steps = []
    with open(args[0]) as f:
        for line in f:
            if line.startswith("step "):
                text = line.split("labels=")[1].strip()
                steps.append([int(v) for v in text.split(",")])
    if len(steps) % per_epoch:
        fail("%d steps is not a whole number of epochs" % len(steps))
    epochs = [sum(steps[i:i + per_epoch], [])
              for i in range(0, len(steps), per_epoch)]
    for i, e in enumerate(epochs):
        if sorted(e) != sorted(labels):
            fail("epoch %d does not feed every sample once" % (i + 1))
        if e == labels:
            fail("epoch %d is in file order" % (i + 1))
    if len(epochs) > 1 and all(e == epochs[0] for e in epochs):
        fail("every epoch has the same order")
    print("OK")


def main():
    command, args = sys.argv[1], sys.argv[2:]
    commands = {"toy": lambda a: toy(a[0]), "bad": lambda a: bad(a[0]),
                "onnx": lambda a: make_onnx(a[0]), "reference": reference,
                "check-export": check_export, "metrics": metrics,
                "same-metrics": same_metrics, "learned": learned,
                "shuffled": shuffled}
    if command not in commands:
        sys.exit("unknown command " + command)
    commands[command](args)


if __name__ == "__main__":
    main()
