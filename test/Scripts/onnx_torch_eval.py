"""Runs an ONNX model (opset 13) with PyTorch's operators, node by node.

The reference for what cnnc writes as ONNX: each node is the torch.nn.functional
(or torch) call with the meaning ONNX's operator specification gives it, so a
model cnnc exports runs here with PyTorch's numerics, not cnnc's. Only the
operators cnnc's exporter writes are known; any other raises.

  evaluate(model, {input_name: numpy array}) -> [numpy array per output]
"""
import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _pads2d(pads):
    # ONNX [top, left, bottom, right] -> F.pad's (left, right, top, bottom)
    top, left, bottom, right = pads
    return (left, right, top, bottom)


def _pool(x, a, kind):
    k = list(a["kernel_shape"])
    strides = list(a.get("strides", [1, 1]))
    pads = list(a.get("pads", [0, 0, 0, 0]))
    dil = list(a.get("dilations", [1, 1]))
    ceil = bool(a.get("ceil_mode", 0))
    symmetric = pads[0] == pads[2] and pads[1] == pads[3]
    if kind == "max":
        if symmetric:
            return F.max_pool2d(x, k, strides, pads[:2], dil, ceil_mode=ceil)
        x = F.pad(x, _pads2d(pads), value=-float("inf"))
        return F.max_pool2d(x, k, strides, 0, dil, ceil_mode=ceil)
    include = bool(a.get("count_include_pad", 0))
    if symmetric and pads[0] * 2 <= k[0] and pads[1] * 2 <= k[1]:
        return F.avg_pool2d(x, k, strides, pads[:2], ceil_mode=ceil,
                            count_include_pad=include)
    raise NotImplementedError("asymmetric average pooling")


def _node(node, v):
    a = _attrs(node)
    x = [v[name] if name else None for name in node.input]
    t = node.op_type
    if t == "Conv":
        pads = list(a.get("pads", [0, 0, 0, 0]))
        inp = x[0]
        if pads[0] != pads[2] or pads[1] != pads[3]:
            inp = F.pad(inp, _pads2d(pads))
            pads = [0, 0]
        return F.conv2d(inp, x[1], x[2] if len(x) > 2 else None,
                        list(a.get("strides", [1, 1])), pads[:2],
                        list(a.get("dilations", [1, 1])), a.get("group", 1))
    if t == "MaxPool":
        return _pool(x[0], a, "max")
    if t == "AveragePool":
        return _pool(x[0], a, "avg")
    if t == "GlobalAveragePool":
        return x[0].mean(dim=(2, 3), keepdim=True)
    if t == "GlobalMaxPool":
        return x[0].amax(dim=(2, 3), keepdim=True)
    if t == "BatchNormalization":
        return F.batch_norm(x[0], x[3], x[4], x[1], x[2], training=False,
                            eps=a.get("epsilon", 1e-5))
    if t == "Gemm":
        A = x[0].t() if a.get("transA", 0) else x[0]
        B = x[1].t() if a.get("transB", 0) else x[1]
        y = a.get("alpha", 1.0) * (A @ B)
        if len(x) > 2 and x[2] is not None:
            y = y + a.get("beta", 1.0) * x[2]
        return y
    if t == "MatMul":
        return torch.matmul(x[0], x[1])
    if t == "Relu":
        return F.relu(x[0])
    if t == "Sigmoid":
        return torch.sigmoid(x[0])
    if t == "Tanh":
        return torch.tanh(x[0])
    if t == "LeakyRelu":
        return F.leaky_relu(x[0], a.get("alpha", 0.01))
    if t == "Clip":
        return torch.clamp(x[0], float(x[1]), float(x[2]))
    if t in ("Dropout", "Identity"):
        return x[0]  # inference: Dropout without training_mode
    if t in ("Add", "Sub", "Mul", "Div"):
        return {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul,
                "Div": torch.div}[t](x[0], x[1])
    if t == "Flatten":
        axis = a.get("axis", 1)
        return x[0].reshape(int(np.prod(x[0].shape[:axis])), -1)
    if t == "Reshape":
        shape = [int(d) if int(d) != 0 else x[0].shape[i]
                 for i, d in enumerate(x[1])]
        return x[0].reshape(shape)
    if t == "Concat":
        return torch.cat(x, dim=a["axis"])
    if t == "Pad":
        pads = [int(p) for p in x[1]]
        n = len(pads) // 2
        torch_pads = []
        for axis in reversed(range(n)):
            torch_pads += [pads[axis], pads[axis + n]]
        return F.pad(x[0], torch_pads, value=float(x[2]) if len(x) > 2 else 0.0)
    if t == "Softmax":
        return F.softmax(x[0], dim=a.get("axis", -1))
    if t == "LogSoftmax":
        return F.log_softmax(x[0], dim=a.get("axis", -1))
    if t == "ReduceMean":
        return x[0].mean(dim=tuple(a["axes"]), keepdim=bool(a.get("keepdims", 1)))
    raise NotImplementedError("ONNX operator %s" % t)


def evaluate(model, feeds):
    if isinstance(model, str):
        model = onnx.load(model)
    v = {}
    for init in model.graph.initializer:
        v[init.name] = torch.from_numpy(onnx.numpy_helper.to_array(init).copy())
    for name, array in feeds.items():
        v[name] = torch.from_numpy(np.ascontiguousarray(array))
    with torch.no_grad():
        for node in model.graph.node:
            out = _node(node, v)
            v[node.output[0]] = out
    return [v[o.name].numpy() for o in model.graph.output]
