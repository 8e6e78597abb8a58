"""Writes the seed corpora of cnnc's fuzz targets from the test inputs.

Usage: make_corpus.py SRC_ROOT OUT_DIR

OUT_DIR/<target>/ gets, per target (see docs/reliability.md):
  onnx, onnx-proto  the importer's lit-test models (test/Frontend/onnx/
                    Inputs/onnx_cases.py: valid, malformed, external data)
                    and ONNX's node and PyTorch-converted conformance models
                    (libonnx-testdata) of the operators cnnc imports
  dsl               every .cnn file of the repository (tests, examples)
  mlir              every .mlir file of the repository, cut at `// -----`
                    as -split-input-file does
  npy               small arrays of every dtype, byte order, format version
                    and rank the reader handles (numpy), and ones it refuses
  idx               IDX files of every element type and rank, plain and
                    gzip (the fuzzer's first byte), and the first samples of
                    Fashion-MNIST when dataset-fashion-mnist is installed
The training states and checkpoints (state, checkpoint) are written by
make_state_seeds, from the code that saves them.

Without python3-onnx or numpy, their corpora are left with what needs
neither (the fuzzers then start from the other seeds or from nothing).
"""
import gzip
import hashlib
import importlib.util
import io
import os
import re
import struct
import sys

# ONNX conformance models of operators cnnc imports (libonnx-testdata).
TESTDATA = "/usr/share/libonnx-testdata/data"
NODE_OPS = re.compile(
    r"^test_(conv|convtranspose|maxpool|averagepool|globalaveragepool|"
    r"globalmaxpool|relu|leakyrelu|sigmoid|tanh|batchnorm|gemm|matmul|add|"
    r"sub|mul|div|flatten|reshape|concat|pad|constant_pad|edge_pad|"
    r"reflect_pad|clip|softmax|logsoftmax|dropout|identity|transpose|"
    r"constant|constantofshape|shape|gather|unsqueeze|squeeze|slice|cast|"
    r"reduce_)")
TORCH_MODELS = re.compile(r"^test_(Conv2d|AvgPool2d|MaxPool2d|BatchNorm2d|"
                          r"Linear|ReLU|LeakyReLU|Sigmoid|Tanh|"
                          r"ConstantPad2d|ReflectionPad2d|Softmax|LogSoftmax|"
                          r"PReLU|ZeroPad2d|ConvTranspose2d)")
MAX_SEED_BYTES = 64 * 1024
FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    # Named by content, as libFuzzer names what it adds.
    digest = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(directory, "%s-%s" % (name, digest)), "wb") as f:
        f.write(data)


def repo_files(src, suffix):
    for top in ("test", "examples"):
        for root, dirs, files in os.walk(os.path.join(src, top)):
            dirs[:] = [d for d in dirs if d != "Fuzz"]
            for name in sorted(files):
                if name.endswith(suffix):
                    yield os.path.join(root, name)


def dsl_seeds(src, out):
    for path in repo_files(src, ".cnn"):
        with open(path, "rb") as f:
            write(out, os.path.basename(path), f.read())


def mlir_seeds(src, out):
    for path in repo_files(src, ".mlir"):
        with open(path, "rb") as f:
            text = f.read()
        for i, part in enumerate(re.split(rb"^// -----.*$", text, flags=re.M)):
            if part.strip():
                write(out, "%s.%d" % (os.path.basename(path), i), part)


def onnx_seeds(src, outs):
    def add(name, data):
        if 0 < len(data) <= MAX_SEED_BYTES:
            for out in outs:
                write(out, name, data)

    if os.path.isdir(TESTDATA):
        for kind, pattern in (("node", NODE_OPS),
                              ("pytorch-converted", TORCH_MODELS),
                              ("pytorch-operator", None), ("simple", None)):
            top = os.path.join(TESTDATA, kind)
            if not os.path.isdir(top):
                continue
            for case in sorted(os.listdir(top)):
                model = os.path.join(top, case, "model.onnx")
                if (pattern is None or pattern.match(case)) and \
                        os.path.isfile(model):
                    with open(model, "rb") as f:
                        add(case, f.read())
    try:
        spec = importlib.util.spec_from_file_location(
            "onnx_cases",
            os.path.join(src, "test/Frontend/onnx/Inputs/onnx_cases.py"))
        cases = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(cases)
    except ImportError as e:
        print("make_corpus.py: no importer test models (%s)" % e,
              file=sys.stderr)
        return
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in sorted(cases.CASES.items()):
            path = os.path.join(tmp, name, "model.onnx")
            os.makedirs(os.path.dirname(path))
            try:
                make(path)
            except Exception as e:  # a case needing a newer onnx
                print("make_corpus.py: case %s: %s" % (name, e),
                      file=sys.stderr)
                continue
            with open(path, "rb") as f:
                add(name, f.read())


def npy_seeds(out):
    try:
        import numpy as np
    except ImportError:
        print("make_corpus.py: no numpy: no .npy seeds", file=sys.stderr)
        return
    arrays = [
        np.arange(12, dtype="<f4").reshape(3, 4),
        np.arange(6, dtype=">f4").reshape(1, 2, 3),
        np.linspace(-2, 2, 5).astype("<f8"),
        np.linspace(-2, 2, 5).astype("<f2"),
        np.arange(-3, 3, dtype="<i8"),
        np.arange(-3, 3, dtype="|i1"),
        np.arange(-3, 3, dtype="<i2"),
        np.arange(-3, 3, dtype=">i4"),
        np.arange(6, dtype="|u1"),
        np.arange(6, dtype="<u2"),
        np.arange(6, dtype="<u4"),
        np.arange(6, dtype="<u8"),
        np.array([True, False, True]),
        np.array(3.5, dtype="<f4"),  # rank 0
        np.zeros((0, 3), dtype="<f4"),
        np.zeros((1,) * 8, dtype="<f4"),  # rank 8, the most the reader takes
        np.zeros((1,) * 9, dtype="<f4"),  # rank 9: refused
        np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)),
        np.array([1 + 2j], dtype="<c8"),  # refused
    ]
    for i, a in enumerate(arrays):
        for version in ((1, 0), (2, 0)) if i < 3 else ((1, 0),):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, a, version=version)
            write(out, "array%d-v%d" % (i, version[0]), buf.getvalue())


def idx_file(code, dims, payload):
    return struct.pack(">BBBB", 0, 0, code, len(dims)) + \
        b"".join(struct.pack(">I", d) for d in dims) + payload


def idx_seeds(out):
    elements = {0x08: ">B", 0x09: ">b", 0x0B: ">h", 0x0C: ">i", 0x0D: ">f",
                0x0E: ">d"}
    for code, fmt in sorted(elements.items()):
        for dims in ((6,), (2, 3), (2, 1, 3), (1, 1, 2, 3)):
            count = 1
            for d in dims:
                count *= d
            payload = b"".join(struct.pack(fmt, i % 5) for i in range(count))
            data = idx_file(code, dims, payload)
            for mode in (0, 1):  # idx_fuzzer.c: 1 gzips the rest
                write(out, "idx-%02x-r%d-m%d" % (code, len(dims), mode),
                      bytes([mode]) + data)
    # A gzip stream given as is (mode 0): the reader's own gzip detection.
    write(out, "idx-gz-direct",
          b"\0" + gzip.compress(idx_file(0x08, (4,), b"\1\2\3\4")))
    # The head of the real data: 5 images and 20 labels.
    for name, head, count, sample in (
            ("train-images-idx3-ubyte.gz", 16, 5, 784),
            ("train-labels-idx1-ubyte.gz", 8, 20, 1)):
        path = os.path.join(FASHION_MNIST, name)
        if not os.path.isfile(path):
            continue
        with gzip.open(path, "rb") as f:
            data = bytearray(f.read(head + count * sample))
        data[4:8] = struct.pack(">I", count)
        for mode in (0, 1):
            write(out, "fashion-%s-m%d" % (name.split("-")[1], mode),
                  bytes([mode]) + bytes(data))


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    src, out = argv[1], argv[2]
    dsl_seeds(src, os.path.join(out, "dsl"))
    mlir_seeds(src, os.path.join(out, "mlir"))
    idx_seeds(os.path.join(out, "idx"))
    npy_seeds(os.path.join(out, "npy"))
    onnx_seeds(src, [os.path.join(out, "onnx"), os.path.join(out, "onnx-proto")])
    for target in ("dsl", "mlir", "idx", "npy", "onnx", "onnx-proto"):
        print("make_corpus.py: %-12s %4d seeds" %
              (target, len(os.listdir(os.path.join(out, target)))))


if __name__ == "__main__":
    main(sys.argv)
