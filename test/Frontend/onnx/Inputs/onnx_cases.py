"""Writes small ONNX models for the importer's lit tests.

Usage: onnx_cases.py CASE OUTPUT [CASE OUTPUT...]

(Several cases per run: importing onnx costs more than writing a model.)

Models are built with onnx.helper so that each test controls exactly which
nodes, attributes and (broken) tensors the importer sees. Cases meant to be
malformed skip onnx.checker and write the bytes directly.
"""
import os
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT
I64 = TensorProto.INT64


def save(model, path, check=True):
    if check:
        onnx.checker.check_model(model)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def model(nodes, inputs, outputs, inits=(), opset=13, name="g"):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    # Output types are left to shape inference, as exporters write them.
    try:
        return onnx.shape_inference.infer_shapes(m)
    except Exception:
        return m


def vi(name, shape, elem=F):
    return helper.make_tensor_value_info(name, elem, shape)


def weight(name, shape, seed=0):
    data = np.random.RandomState(seed).uniform(-1, 1, shape).astype(np.float32)
    return numpy_helper.from_array(data, name)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


# --- Convolution and pooling --------------------------------------------------

def conv_auto_pad(path, mode):
    x = vi("x", ["N", 3, 8, 8])
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv",
                              auto_pad=mode, strides=[2, 2])]
    save(model(nodes, [x], [vi("y", None)], [weight("w", [4, 3, 3, 3])]), path)


def pools(path):
    x = vi("x", ["N", 4, 9, 9])
    nodes = [
        helper.make_node("MaxPool", ["x"], ["m"], name="maxpool",
                         kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
        helper.make_node("AveragePool", ["m"], ["a"], name="avgpool",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                         count_include_pad=1),
        helper.make_node("GlobalMaxPool", ["a"], ["g"], name="gmax"),
        helper.make_node("GlobalAveragePool", ["x"], ["h"], name="gavg"),
    ]
    save(model(nodes, [x], [vi("g", None), vi("h", None)]), path)


def maxpool_indices(path):
    x = vi("x", [1, 1, 4, 4])
    nodes = [
        helper.make_node("MaxPool", ["x"], ["m", "idx"], name="pool",
                         kernel_shape=[2, 2]),
        helper.make_node("Cast", ["idx"], ["y"], name="cast", to=F),
    ]
    save(model(nodes, [x], [vi("m", None), vi("y", None)]), path)


# --- Activations, softmax ----------------------------------------------------

def softmax(path, opset, op="Softmax"):
    x = vi("x", ["N", 3, 4, 5])
    nodes = [helper.make_node(op, ["x"], ["y"], name="sm", axis=1)]
    save(model(nodes, [x], [vi("y", None)], opset=opset), path)


def clip_opset7(path):
    x = vi("x", ["N", 8])
    nodes = [helper.make_node("Clip", ["x"], ["y"], name="clip", min=0.0,
                              max=6.0),
             helper.make_node("Clip", ["y"], ["z"], name="clip_max_only",
                              max=1.0)]
    save(model(nodes, [x], [vi("z", None)], opset=7), path)


def clip_opset11(path):
    x = vi("x", ["N", 8])
    nodes = [
        helper.make_node("Constant", [], ["lo"], name="c_lo",
                         value=numpy_helper.from_array(np.array(0.0, np.float32))),
        helper.make_node("Constant", [], ["hi"], name="c_hi",
                         value=numpy_helper.from_array(np.array(6.0, np.float32))),
        helper.make_node("Clip", ["x", "lo", "hi"], ["y"], name="relu6"),
        # Omitted minimum: unbounded below.
        helper.make_node("Clip", ["y", "", "hi"], ["z"], name="upper_only"),
    ]
    save(model(nodes, [x], [vi("z", None)], opset=11), path)


def activations(path):
    x = vi("x", ["N", 8])
    scale = numpy_helper.from_array(np.array(0.5, np.float32), "half")
    nodes = [
        helper.make_node("LeakyRelu", ["x"], ["a"], name="leaky", alpha=0.2),
        helper.make_node("Sigmoid", ["a"], ["b"], name="sig"),
        helper.make_node("Tanh", ["b"], ["c"], name="tanh"),
        helper.make_node("Constant", [], ["one"], name="one_const",
                         value=numpy_helper.from_array(np.array([1.0], np.float32))),
        helper.make_node("Add", ["c", "one"], ["d"], name="add_one"),
        helper.make_node("Mul", ["d", "half"], ["e"], name="mul_half"),
        helper.make_node("Dropout", ["e", "ratio"], ["f"], name="drop"),
        helper.make_node("ReduceMean", ["f"], ["g"], name="mean", axes=[1],
                         keepdims=0),
    ]
    ratio = numpy_helper.from_array(np.array(0.25, np.float32), "ratio")
    save(model(nodes, [x], [vi("g", None)], [scale, ratio]), path)


def reductions(path, opset):
    # ReduceSum's axes: an attribute before opset 13, an input since;
    # noop_with_empty_axes; the other kinds with their axes attribute.
    x = vi("x", ["N", 3, 4, 5])
    if opset < 13:
        nodes = [helper.make_node("ReduceSum", ["x"], ["s"], axes=[2, 3],
                                  keepdims=0, name="sum")]
        inits = []
    else:
        nodes = [helper.make_node("ReduceSum", ["x", "axes"], ["s"],
                                  keepdims=0, name="sum"),
                 helper.make_node("ReduceSum", ["x"], ["same"],
                                  noop_with_empty_axes=1, name="noop")]
        inits = [ints("axes", [2, 3])]
    nodes += [
        helper.make_node("ReduceL2", ["x"], ["l2"], axes=[-1], name="l2"),
        helper.make_node("ReduceLogSumExp", ["x"], ["lse"], axes=[1],
                         keepdims=0, name="lse"),
        helper.make_node("ReduceMax", ["x"], ["all"], name="max"),
    ]
    outs = ["s", "l2", "lse", "all"] + (["same"] if opset >= 13 else [])
    save(model(nodes, [x], [vi(o, None) for o in outs], inits, opset=opset),
         path)


def reduce_runtime_axes(path):
    # The axes follow from the batch, known only at run time.
    x = vi("x", ["N", 3])
    nodes = [helper.make_node("Shape", ["x"], ["shape"], name="shape"),
             helper.make_node("Slice", ["shape", "zero", "one"], ["batch"],
                              name="slice"),
             helper.make_node("Sub", ["batch", "batch_minus_1"], ["axis"],
                              name="sub"),
             helper.make_node("ReduceSum", ["x", "axis"], ["y"],
                              name="runtime_sum")]
    save(model(nodes, [x], [vi("y", [None, 3])],
               [ints("zero", [0]), ints("one", [1]),
                ints("batch_minus_1", [1])]), path, check=False)


def split(path, opset, variant="ok"):
    # Split into given parts (an attribute before opset 13, an initializer
    # input since) and into equal parts; along the batch, refused.
    x = vi("x", ["N", 6, 4])
    sizes, axis = {"ok": ([1, 2, 3], 1), "batch": ([1, 1], 0)}[variant]
    outs = ["a%d" % i for i in range(len(sizes))]
    if opset < 13:
        nodes = [helper.make_node("Split", ["x"], outs, axis=axis,
                                  split=sizes, name="parts")]
        inits = []
    else:
        nodes = [helper.make_node("Split", ["x", "sizes"], outs, axis=axis,
                                  name="parts")]
        inits = [ints("sizes", sizes)]
    nodes.append(helper.make_node("Split", ["x"], ["h0", "h1"], axis=-1,
                                  name="halves"))
    save(model(nodes, [x], [vi(o, None) for o in outs + ["h0", "h1"]],
               inits, opset=opset), path, check=variant == "ok")


def resize(path, mode, scales, coords="asymmetric", rounding="floor",
           **attrs):
    x = vi("x", ["N", 2, 4, 4])
    nodes = [helper.make_node("Resize", ["x", "", "scales"], ["y"],
                              name="resize", mode=mode,
                              coordinate_transformation_mode=coords,
                              nearest_mode=rounding, **attrs)]
    scales_t = numpy_helper.from_array(np.array(scales, np.float32), "scales")
    save(model(nodes, [x], [vi("y", None)], [scales_t]), path, check=False)


def gather(path, indices, axis):
    # Gather on a run-time tensor by indices that are an initializer.
    x = vi("x", ["N", 3, 4, 4])
    idx = numpy_helper.from_array(np.array(indices, np.int64), "idx")
    nodes = [helper.make_node("Gather", ["x", "idx"], ["y"], name="gather",
                              axis=axis)]
    save(model(nodes, [x], [vi("y", None)], [idx]), path, check=False)


def resize_sizes(path, sizes):
    x = vi("x", ["N", 2, 4, 4])
    nodes = [helper.make_node("Resize", ["x", "roi", "scales", "sizes"], ["y"],
                              name="resize", mode="linear")]
    inits = [numpy_helper.from_array(np.array([], np.float32), "roi"),
             numpy_helper.from_array(np.array([], np.float32), "scales"),
             numpy_helper.from_array(np.array(sizes, np.int64), "sizes")]
    save(model(nodes, [x], [vi("y", None)], inits), path, check=False)


def dropout_mask(path):
    x = vi("x", ["N", 8])
    nodes = [helper.make_node("Dropout", ["x"], ["y", "mask"], name="drop",
                              ratio=0.5),
             helper.make_node("Cast", ["mask"], ["m"], name="cast", to=F)]
    save(model(nodes, [x], [vi("y", None), vi("m", None)], opset=10), path)


# --- Dense layers, shapes ----------------------------------------------------

def dense(path):
    x = vi("x", ["batch_size", 2, 3, 4])
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["g"],
                         name="/fc/Gemm", transB=1, alpha=0.5),
        helper.make_node("MatMul", ["g", "proj"], ["y"], name="/head/MatMul"),
    ]
    inits = [weight("fc.weight", [10, 24]), weight("fc.bias", [10], 1),
             weight("proj", [10, 5], 2)]
    save(model(nodes, [x], [vi("y", None)], inits), path)


def matmul_transposed_weight(path):
    """A Linear layer on a channels-last tensor as PyTorch exports it:
    MatMul with the Transpose of the weight."""
    x = vi("x", ["batch_size", 3, 3, 4])
    nodes = [
        helper.make_node("Transpose", ["fc.weight"], ["wt"], name="/fc/T",
                         perm=[1, 0]),
        helper.make_node("MatMul", ["x", "wt"], ["y"], name="/fc/MatMul"),
    ]
    save(model(nodes, [x], [vi("y", None)], [weight("fc.weight", [5, 4])]),
         path)


def view_chain(path):
    """x.view(x.size(0), -1) as PyTorch exports it, built by hand."""
    x = vi("x", ["N", 2, 3, 4])
    nodes = [
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="gather", axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"], name="unsq"),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], name="cat",
                         axis=0),
        helper.make_node("Reshape", ["x", "target"], ["y"], name="view"),
        # A static slice of the shape: [3, 4] -> 12 via ReduceProd-free math.
        helper.make_node("Slice", ["s", "st", "en"], ["hw"], name="slice"),
        helper.make_node("Concat", ["n1", "two", "hw"], ["t2"], name="cat2",
                         axis=0),
        helper.make_node("Reshape", ["x", "t2"], ["z"], name="same_shape"),
        helper.make_node("Unsqueeze", ["y", "axes2"], ["u"], name="unsq_act"),
        helper.make_node("Squeeze", ["u", "axes2"], ["v"], name="sq_act"),
    ]
    inits = [ints("zero", 0), ints("axes0", [0]), ints("minus1", [-1]),
             ints("st", [2]), ints("en", [4]), ints("two", [2]),
             ints("axes2", [2])]
    outputs = [vi("v", ["N", 24]), vi("z", ["N", 2, 3, 4])]
    save(model(nodes, [x], outputs, inits), path)


def concat_pad(path, opset):
    a = vi("a", ["N", 2, 4, 4])
    b = vi("b", ["N", 3, 4, 4])
    nodes = [helper.make_node("Concat", ["a", "b"], ["c"], name="cat", axis=1)]
    if opset < 11:
        nodes.append(helper.make_node("Pad", ["c"], ["y"], name="pad",
                                      pads=[0, 0, 1, 2, 0, 0, 3, 4], value=1.5))
        inits = []
    else:
        nodes.append(helper.make_node("Pad", ["c", "pads", "val"], ["y"],
                                      name="pad"))
        inits = [ints("pads", [0, 0, 1, 2, 0, 0, 3, 4]),
                 numpy_helper.from_array(np.array(1.5, np.float32), "val")]
    save(model(nodes, [a, b], [vi("y", None)], inits, opset=opset), path)


def pad_mode(path, mode, pads, batch=1):
    x = vi("x", [batch, 1, 4, 4])
    nodes = [helper.make_node("Pad", ["x", "pads"], ["y"], name="pad",
                              mode=mode)]
    save(model(nodes, [x], [vi("y", None)], [ints("pads", pads)]), path,
         check=False)


def cut(path):
    x = vi("x", ["N", 3, 8, 8])
    nodes = [
        helper.make_node("Conv", ["x", "backbone.conv.weight"], ["c"],
                         name="/backbone/conv/Conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="/backbone/relu/Relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["p"], name="/pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="/flatten"),
        helper.make_node("Gemm", ["f", "head.weight", "head.bias"], ["y"],
                         name="/head/Gemm", transB=1),
    ]
    inits = [weight("backbone.conv.weight", [4, 3, 3, 3]),
             weight("head.weight", [2, 4], 1), weight("head.bias", [2], 2)]
    save(model(nodes, [x], [vi("y", None)], inits), path)


def unsupported(path):
    x = vi("x", ["N", 4])
    nodes = [
        helper.make_node("Floor", ["x"], ["a"], name="floor_1"),
        helper.make_node("Relu", ["a"], ["b"], name="relu"),
        helper.make_node("Ceil", ["b"], ["c"], name="up1"),
        helper.make_node("Ceil", ["c"], ["d"], name="up2"),
        helper.make_node("Ceil", ["d"], ["e"]),
    ]
    save(model(nodes, [x], [vi("e", None)]), path)


def transpose_activations(path):
    x = vi("x", ["N", 4, 5])
    nodes = [helper.make_node("Transpose", ["x"], ["y"], name="swap",
                              perm=[0, 2, 1])]
    save(model(nodes, [x], [vi("y", None)]), path)


def gather_activations(path):
    x = vi("x", ["N", 4, 5])
    index = numpy_helper.from_array(np.array([1], dtype=np.int64), "index")
    nodes = [helper.make_node("Gather", ["x", "index"], ["y"], name="pick",
                              axis=1)]
    save(model(nodes, [x], [vi("y", None)], [index]), path)


# --- Malformed models ---------------------------------------------------------

def valid_bytes():
    x = vi("x", ["N", 4])
    nodes = [helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transB=1)]
    return model(nodes, [x], [vi("y", None)], [weight("w", [3, 4])]
                 ).SerializeToString()


def empty(path):
    open(path, "wb").close()


def truncated(path):
    data = valid_bytes()
    with open(path, "wb") as f:
        f.write(data[: len(data) - 7])


def random_bytes(path):
    rng = random.Random(1234)
    with open(path, "wb") as f:
        f.write(bytes(rng.getrandbits(8) for _ in range(4096)))


def cycle(path):
    x = vi("x", ["N", 4])
    nodes = [
        helper.make_node("Add", ["x", "b"], ["a"], name="add_a"),
        helper.make_node("Relu", ["a"], ["b"], name="relu_b"),
        helper.make_node("Relu", ["a"], ["y"], name="out"),
    ]
    save(model(nodes, [x], [vi("y", None)]), path, check=False)


def unsorted(path):
    """Valid but not topologically sorted: the importer sorts it."""
    x = vi("x", ["N", 4])
    nodes = [
        helper.make_node("Sigmoid", ["a"], ["y"], name="second"),
        helper.make_node("Relu", ["x"], ["a"], name="first"),
    ]
    save(model(nodes, [x], [vi("y", ["N", 4])]), path, check=False)


def missing_initializer(path):
    x = vi("x", ["N", 4])
    nodes = [helper.make_node("Gemm", ["x", "fc.weight"], ["y"], name="fc",
                              transB=1)]
    save(model(nodes, [x], [vi("y", None)]), path, check=False)


def absurd_dims(path, which):
    x = vi("x", ["N", 4])
    w = weight("w", [3, 4])
    if which == "huge":
        del w.dims[:]
        w.dims.extend([1 << 40, 1 << 40])
    elif which == "negative":
        del w.dims[:]
        w.dims.extend([3, -4])
    elif which == "rawsize":
        w.raw_data = w.raw_data[:-4]
    nodes = [helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transB=1)]
    save(model(nodes, [x], [vi("y", ["N", 3])], [w]), path, check=False)


def huge_input(path):
    x = vi("x", ["N", 1 << 31, 1 << 31, 1 << 31])
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    save(model(nodes, [x], [vi("y", ["N", 1 << 31, 1 << 31, 1 << 31])]), path)


def duplicate_initializer(path):
    x = vi("x", ["N", 4])
    nodes = [helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transB=1)]
    inits = [weight("w", [3, 4]), weight("w", [3, 4], 1)]
    save(model(nodes, [x], [vi("y", ["N", 3])], inits), path, check=False)


def duplicate_output(path):
    x = vi("x", ["N", 4])
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    save(model(nodes, [x], [vi("y", ["N", 4]), vi("y", ["N", 4])]), path,
         check=False)


def symbolic_dim(path):
    x = vi("x", ["N", 3, "H", 8])
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    save(model(nodes, [x], [vi("y", None)]), path)


def opset18(path):
    x = vi("x", ["N", 4])
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    m = model(nodes, [x], [vi("y", None)], opset=18)
    m.ir_version = 8
    save(m, path, check=False)


def legacy_opset(path, op):
    # Opset 1: Softplus has not changed since; Relu lost consumed_inputs at
    # opset 6.
    x = vi("x", ["N", 4])
    nodes = [helper.make_node(op, ["x"], ["y"], name="legacy_" + op.lower())]
    m = model(nodes, [x], [vi("y", ["N", 4])], opset=1)
    m.ir_version = 3
    save(m, path, check=False)


def external(path, location):
    """A weight in an external file; `location` may try to leave the folder."""
    folder = os.path.dirname(os.path.abspath(path))
    w = weight("fc.weight", [3, 4])
    data = w.raw_data
    if location == "inside.bin":
        with open(os.path.join(folder, location), "wb") as f:
            f.write(b"\0" * 16 + data)
    elif location.startswith("escape/"):
        # A link inside the folder that points out of it.
        outside = os.path.dirname(folder)
        with open(os.path.join(outside, "outside.bin"), "wb") as f:
            f.write(b"\0" * 16 + data)
        link = os.path.join(folder, "escape")
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(outside, link)
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "16"),
                       ("length", str(len(data)))):
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    x = vi("x", ["N", 4])
    nodes = [helper.make_node("Gemm", ["x", "fc.weight"], ["y"], name="fc",
                              transB=1)]
    save(model(nodes, [x], [vi("y", None)], [w]), path, check=False)


def zero_strides(path, op):
    """strides = [0, 0]: libonnx's shape inference divides by them."""
    attrs = dict(strides=[0, 0], kernel_shape=[2, 2])
    inits = []
    inputs = ["x"]
    if op == "Conv":
        inits = [weight("w", [2, 1, 2, 2])]
        inputs = ["x", "w"]
    node = helper.make_node(op, inputs, ["y"], **attrs)
    g = helper.make_graph([node], "g", [vi("x", [1, 1, 6, 6])],
                          [vi("y", ["n", "c", "h", "w"])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    save(m, path, check=False)


def dead_zero_strides(path):
    """A Conv with strides [0, 0] whose output nothing reads: cnnc does not
    import it, so libonnx's shape inference must not see it either."""
    node = helper.make_node("Conv", ["x", "w"], ["y"], strides=[0, 0],
                            kernel_shape=[2, 2])
    g = helper.make_graph([node], "g", [vi("x", [1, 1, 6, 6])],
                          [vi("w", [2, 1, 2, 2])], [weight("w", [2, 1, 2, 2])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    save(m, path, check=False)


def rank1_conv_transpose_weight(path):
    """X [3, 4, 5], W [5]: libonnx's ConvTranspose inference reads W's dims."""
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"])
    g = helper.make_graph([node], "g", [vi("x", [3, 4, 5]), vi("w", [5])],
                          [vi("y", ["a", "b", "c"])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    save(m, path, check=False)


def rank1_conv_weight(path):
    """A rank-1 Conv weight and a rank-2 input through shape inference."""
    node = helper.make_node("Conv", ["x", "w"], ["y"])
    g = helper.make_graph([node], "g", [vi("x", [3, 4]), vi("w", [5])],
                          [vi("y", ["a", "b"])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    save(m, path, check=False)


CASES = {
    "zero_strides_conv": lambda p: zero_strides(p, "Conv"),
    "zero_strides_maxpool": lambda p: zero_strides(p, "MaxPool"),
    "zero_strides_avgpool": lambda p: zero_strides(p, "AveragePool"),
    "rank1_conv_transpose_weight": rank1_conv_transpose_weight,
    "dead_zero_strides": dead_zero_strides,
    "rank1_conv_weight": rank1_conv_weight,
    "conv_same_upper": lambda p: conv_auto_pad(p, "SAME_UPPER"),
    "conv_same_lower": lambda p: conv_auto_pad(p, "SAME_LOWER"),
    "conv_valid": lambda p: conv_auto_pad(p, "VALID"),
    "pools": pools,
    "maxpool_indices": maxpool_indices,
    "softmax7": lambda p: softmax(p, 7),
    "softmax13": lambda p: softmax(p, 13),
    "logsoftmax11": lambda p: softmax(p, 11, "LogSoftmax"),
    "clip7": clip_opset7,
    "clip11": clip_opset11,
    "activations": activations,
    "dropout_mask": dropout_mask,
    "gather_perm": lambda p: gather(p, [2, 0, 1], 1),
    "gather_scalar": lambda p: gather(p, -1, 2),
    "gather_batch": lambda p: gather(p, [0], 0),
    "gather_range": lambda p: gather(p, [1, 4], 3),
    "resize_nearest": lambda p: resize(p, "nearest", [1, 1, 2, 3]),
    "resize_linear": lambda p: resize(p, "linear", [1, 1, 2, 2]),
    "resize_fraction": lambda p: resize(p, "nearest", [1, 1, 1.5, 2]),
    "resize_asymmetric_round": lambda p: resize(p, "nearest", [1, 1, 2, 2],
                                                rounding="round_prefer_floor"),
    "resize_crop": lambda p: resize(p, "linear", [1, 1, 2, 2],
                                    coords="tf_crop_and_resize"),
    "resize_channels": lambda p: resize(p, "linear", [1, 2, 2, 2]),
    "resize_sizes_channels": lambda p: resize_sizes(p, [1, 3, 8, 8]),
    "resize_huge": lambda p: resize(p, "linear", [1, 1, 2000, 1]),
    "split11": lambda p: split(p, 11),
    "split13": lambda p: split(p, 13),
    "split_batch": lambda p: split(p, 13, "batch"),
    "reductions11": lambda p: reductions(p, 11),
    "reductions13": lambda p: reductions(p, 13),
    "reduce_runtime_axes": reduce_runtime_axes,
    "dense": dense,
    "matmul_transposed_weight": matmul_transposed_weight,
    "view_chain": view_chain,
    "concat_pad7": lambda p: concat_pad(p, 7),
    "concat_pad13": lambda p: concat_pad(p, 13),
    "pad_wrap": lambda p: pad_mode(p, "wrap", [0, 0, 1, 1, 0, 0, 1, 1]),
    "pad_reflect_batch": lambda p: pad_mode(p, "reflect",
                                            [1, 0, 0, 0, 0, 0, 0, 0], "N"),
    "pad_reflect_wide": lambda p: pad_mode(p, "reflect",
                                           [0, 0, 4, 0, 0, 0, 0, 0]),
    "cut": cut,
    "unsupported": unsupported,
    "truncated": truncated,
    "random": random_bytes,
    "cycle": cycle,
    "unsorted": unsorted,
    "missing_initializer": missing_initializer,
    "huge_dims": lambda p: absurd_dims(p, "huge"),
    "negative_dims": lambda p: absurd_dims(p, "negative"),
    "raw_size": lambda p: absurd_dims(p, "rawsize"),
    "huge_input": huge_input,
    "duplicate_output": duplicate_output,
    "duplicate_initializer": duplicate_initializer,
    "transpose_activations": transpose_activations,
    "gather_activations": gather_activations,
    "symbolic_dim": symbolic_dim,
    "opset18": opset18,
    "softplus_opset1": lambda p: legacy_opset(p, "Softplus"),
    "relu_opset1": lambda p: legacy_opset(p, "Relu"),
    "external_inside": lambda p: external(p, "inside.bin"),
    "external_parent": lambda p: external(p, "../secret.bin"),
    "external_absolute": lambda p: external(p, "/etc/passwd"),
    "external_symlink": lambda p: external(p, "escape/outside.bin"),
    "empty": empty,
}

if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.exit(__doc__)
    for case, out in zip(args[::2], args[1::2]):
        CASES[case](out)
