"""cnnc from Python: compile models and run and train the libraries.

    import cnnc, numpy as np
    cnnc.compile("lenet5.cnn", "lenet5.so", train=True)
    m = cnnc.load("lenet5.so")
    m.inputs                      # [Tensor(name='image', dtype=float32, shape=(None, 1, 28, 28))]
    y = m(np.zeros((8, 1, 28, 28), np.float32))      # any batch
    m.configure("adam", lr=1e-3)
    loss = m.train_step(x, labels)
    weights = m.parameters()      # {name: numpy array}

The library's C ABI (docs/abi.md) through ctypes: the function table every
library exports (`cnnc_model_entry`), so no name prefix is needed and several
models load side by side. Every failure raises `cnnc.Error` with the
library's own message.
"""
import ctypes
import os
import shutil
import subprocess
from collections import namedtuple

import numpy as np

__all__ = ["Error", "Model", "Tensor", "Parameter", "compile", "load",
           "cnnc_executable"]
__version__ = "0.5.0"

ABI_VERSION = 4
_MAX_RANK = 8
_DTYPES = {1: np.dtype(np.float32), 2: np.dtype(np.int64)}
_STATUS = {1: "invalid argument", 2: "shape mismatch", 3: "out of memory",
           4: "kernel error", 5: "unsupported", 6: "I/O error",
           7: "numeric error", 8: "CPU lacks the library's features"}
_OPTIMIZERS = {"sgd": 0, "adam": 1, "adamw": 2}

Tensor = namedtuple("Tensor", "name dtype shape")
Tensor.__doc__ = "A model input or output: shape[0] is None for the batch."
Parameter = namedtuple("Parameter", "name group shape trainable is_buffer")


class Error(RuntimeError):
    """A cnnc call failed: `status` is the C ABI's code, the message the
    library's own."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class _TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int32),
                ("rank", ctypes.c_int32), ("dims", ctypes.c_int64 * _MAX_RANK)]


class _ParamInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("group", ctypes.c_char_p),
                ("rank", ctypes.c_int32), ("dims", ctypes.c_int64 * _MAX_RANK),
                ("trainable", ctypes.c_int32), ("is_buffer", ctypes.c_int32)]


class _TrainTensor(ctypes.Structure):
    _fields_ = [("param", ctypes.c_int32), ("kind", ctypes.c_int32),
                ("data", ctypes.c_void_p), ("count", ctypes.c_size_t)]


class _TrainConfig(ctypes.Structure):
    _fields_ = [("optimizer", ctypes.c_int32), ("lr", ctypes.c_float),
                ("momentum", ctypes.c_float), ("weight_decay", ctypes.c_float),
                ("beta1", ctypes.c_float), ("beta2", ctypes.c_float),
                ("eps", ctypes.c_float), ("nesterov", ctypes.c_int32),
                ("seed", ctypes.c_uint64)]


_P = ctypes.c_void_p
_I = ctypes.c_int
_I32 = ctypes.c_int32
_I64 = ctypes.c_int64
_SZ = ctypes.c_size_t
_F = ctypes.CFUNCTYPE


class _Api(ctypes.Structure):
    """cnnc_model_api (runtime/include/cnnc/model_abi.h), field for field."""
    _fields_ = [
        ("abi_version", _I32),
        ("model_name", ctypes.c_char_p),
        ("create", _F(_I, ctypes.POINTER(_P))),
        ("release", _F(None, _P)),
        ("num_inputs", _F(_I32)),
        ("num_outputs", _F(_I32)),
        ("input_info", _F(_I, _I32, ctypes.POINTER(_TensorInfo))),
        ("output_info", _F(_I, _I32, ctypes.POINTER(_TensorInfo))),
        ("run", _F(_I, _P, _I64, _P, _P, _P, _P)),
        ("set_num_threads", _F(_I, _P, _I32)),
        ("last_error", _F(ctypes.c_char_p, _P)),
        ("num_params", _F(_I32)),
        ("param_info", _F(_I, _I32, ctypes.POINTER(_ParamInfo))),
        ("get_param", _F(_I, _P, _I32, _P, _SZ)),
        ("set_param", _F(_I, _P, _I32, _P, _SZ)),
        ("train_configure", _F(_I, _P, ctypes.POINTER(_TrainConfig))),
        ("train_step", _F(_I, _P, _I64, _P, _P, _P, _SZ,
                          ctypes.POINTER(ctypes.c_float))),
        ("set_learning_rate", _F(_I, _P, ctypes.c_char_p, ctypes.c_float)),
        ("source_onnx", _F(None, ctypes.POINTER(_P), ctypes.POINTER(_SZ))),
        ("set_trainable", _F(_I, _P, ctypes.c_char_p, _I32)),
        ("train_plan", _F(_P)),
        ("feature_info", _F(_I, _P, ctypes.POINTER(_TensorInfo))),
        ("compute_features", _F(_I, _P, _I64, _P, _P, _P, _SZ)),
        ("train_step_features", _F(_I, _P, _I64, _P, _SZ, _P, _SZ,
                                   ctypes.POINTER(ctypes.c_float))),
        ("save_state", _F(_I, _P, _P, ctypes.POINTER(_SZ))),
        ("load_state", _F(_I, _P, _P, _SZ)),
        ("train_backward", _F(_I, _P, _I64, _P, _P, _P, _SZ,
                              ctypes.POINTER(ctypes.c_float))),
        ("train_backward_features", _F(_I, _P, _I64, _P, _SZ, _P, _SZ,
                                       ctypes.POINTER(ctypes.c_float))),
        ("train_gradients", _F(_I, _P, _P, _I32, ctypes.POINTER(_I32))),
        ("train_apply", _F(_I, _P)),
        ("set_gradient_hook", _F(_I, _P, _P, _P)),
        ("set_replica_reduce", _F(_I, _P, _P, _P)),
    ]


def _tensor(info):
    dims = tuple(None if info.dims[d] == -1 else int(info.dims[d])
                 for d in range(info.rank))
    return Tensor(info.name.decode(), _DTYPES.get(info.dtype), dims)


def _pointers(arrays):
    ptrs = (_P * max(1, len(arrays)))(*[a.ctypes.data for a in arrays])
    sizes = (_SZ * max(1, len(arrays)))(*[a.nbytes for a in arrays])
    return ptrs, sizes


class Model:
    """A loaded model library: inference, and training when compiled with
    --train. Not thread-safe (one Model per thread, as the C ABI says)."""

    def __init__(self, path):
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise Error("%s: no such model library" % path)
        try:
            # RTLD_LOCAL: each library's unprefixed entry point stays its own.
            self._lib = ctypes.CDLL(os.path.abspath(path),
                                    mode=os.RTLD_NOW | os.RTLD_LOCAL)
        except OSError as e:
            raise Error("%s: cannot load: %s" % (path, e)) from None
        try:
            entry = self._lib.cnnc_model_entry
        except AttributeError:
            raise Error("%s: not a cnnc model library (no cnnc_model_entry)"
                        % path) from None
        entry.restype = ctypes.POINTER(_Api)
        api = entry()
        if not api or api.contents.abi_version != ABI_VERSION:
            raise Error("%s: model ABI version %s, this package reads %d"
                        % (path, api.contents.abi_version if api else "?",
                           ABI_VERSION))
        self._api = api.contents
        self.path = path
        self.name = self._api.model_name.decode()
        handle = _P()
        status = self._api.create(ctypes.byref(handle))
        if status != 0:
            raise Error("%s: cannot create an instance: %s"
                        % (path, self._api.last_error(None).decode()), status)
        self._handle = handle
        self.inputs = [self._info(self._api.input_info, i)
                       for i in range(self._api.num_inputs())]
        self.outputs = [self._info(self._api.output_info, i)
                        for i in range(self._api.num_outputs())]
        self._params = {}
        for i in range(self._api.num_params()):
            info = _ParamInfo()
            self._check(self._api.param_info(i, ctypes.byref(info)))
            p = Parameter(info.name.decode(),
                          info.group.decode() if info.group else "",
                          tuple(int(info.dims[d]) for d in range(info.rank)),
                          bool(info.trainable), bool(info.is_buffer))
            self._params[p.name] = (i, p)
        self._threads = None

    # -- plumbing -----------------------------------------------------------
    def _info(self, fn, index):
        info = _TensorInfo()
        self._check(fn(index, ctypes.byref(info)))
        return _tensor(info)

    def _check(self, status):
        if status != 0:
            message = self._api.last_error(self._handle) if getattr(
                self, "_handle", None) else b""
            raise Error("%s: %s%s" % (self.name, _STATUS.get(status, status),
                                      ": " + message.decode() if message else ""),
                        status)

    def _need_training(self):
        if not self._api.train_step:
            raise Error("%s was compiled without --train" % self.name, 5)

    def _batch_arrays(self, arrays, specs, what):
        if len(arrays) != len(specs):
            raise Error("%s takes %d %s%s, got %d" % (
                self.name, len(specs), what, "" if len(specs) == 1 else "s",
                len(arrays)))
        out, batch = [], None
        for a, spec in zip(arrays, specs):
            a = np.asarray(a)
            if a.dtype != spec.dtype:
                if not np.can_cast(a.dtype, spec.dtype, casting="same_kind"):
                    raise Error("%s '%s': dtype %s, expected %s" % (
                        what, spec.name, a.dtype, spec.dtype))
                a = a.astype(spec.dtype)
            a = np.ascontiguousarray(a)
            ok = a.ndim == len(spec.shape) and all(
                d is None or d == s for d, s in zip(spec.shape, a.shape))
            if not ok:
                raise Error("%s '%s': shape %s, expected (%s)" % (
                    what, spec.name, a.shape,
                    ", ".join("N" if d is None else str(d) for d in spec.shape)))
            b = a.shape[0] if spec.shape and spec.shape[0] is None else None
            if b is not None:
                if batch is not None and b != batch:
                    raise Error("%s '%s': batch %d, the others have %d" % (
                        what, spec.name, b, batch))
                batch = b
            out.append(a)
        if batch == 0:
            raise Error("batch must be at least 1")
        return out, batch or 1

    def _out_shape(self, spec, batch):
        return tuple(batch if d is None else d for d in spec.shape)

    def _labels(self, labels, batch):
        labels = np.asarray(labels)
        if labels.dtype.kind in "iu":
            labels = np.ascontiguousarray(labels, dtype=np.int64)
        else:
            labels = np.ascontiguousarray(labels, dtype=np.float32)
        if labels.shape[:1] != (batch,):
            raise Error("labels: shape %s, expected a batch of %d" % (
                labels.shape, batch))
        return labels

    # -- inference ------------------------------------------------------------
    def run(self, *inputs):
        """Outputs (a tuple of arrays) for inputs of any batch."""
        arrays, batch = self._batch_arrays(inputs, self.inputs, "input")
        outs = [np.empty(self._out_shape(o, batch), o.dtype) for o in self.outputs]
        ip, isz = _pointers(arrays)
        op, osz = _pointers(outs)
        self._check(self._api.run(self._handle, batch, ip, isz, op, osz))
        return tuple(outs)

    def __call__(self, *inputs):
        outs = self.run(*inputs)
        return outs[0] if len(outs) == 1 else outs

    @property
    def threads(self):
        """Threads of the kernels' parallel loops (None: the default);
        setting 0 uses all cores."""
        return self._threads

    @threads.setter
    def threads(self, n):
        self._check(self._api.set_num_threads(self._handle, int(n)))
        self._threads = int(n)

    # -- parameters -----------------------------------------------------------
    @property
    def parameter_info(self):
        return [p for _, p in self._params.values()]

    def _param(self, name):
        if name not in self._params:
            raise Error("%s has no parameter '%s'" % (self.name, name))
        return self._params[name]

    def parameter(self, name):
        index, p = self._param(name)
        a = np.empty(p.shape, np.float32)
        self._check(self._api.get_param(self._handle, index, a.ctypes.data,
                                        a.nbytes))
        return a

    def parameters(self):
        """Every parameter (running statistics included) as a new array."""
        return {name: self.parameter(name) for name in self._params}

    def set_parameter(self, name, values):
        index, p = self._param(name)
        a = np.ascontiguousarray(values, dtype=np.float32)
        if a.shape != p.shape:
            raise Error("parameter '%s': shape %s, expected %s" % (
                name, a.shape, p.shape))
        self._check(self._api.set_param(self._handle, index, a.ctypes.data,
                                        a.nbytes))

    # -- training -------------------------------------------------------------
    @property
    def trainable(self):
        return bool(self._api.train_step)

    def configure(self, optimizer="sgd", lr=0.01, momentum=0.0,
                  weight_decay=0.0, nesterov=False, betas=(0.9, 0.999),
                  eps=1e-8, seed=0):
        """Sets the optimizer (PyTorch's SGD, Adam, AdamW semantics) and
        resets its state."""
        self._need_training()
        if optimizer not in _OPTIMIZERS:
            raise Error("optimizer must be one of %s, got '%s'" % (
                ", ".join(_OPTIMIZERS), optimizer))
        cfg = _TrainConfig(_OPTIMIZERS[optimizer], lr, momentum, weight_decay,
                           betas[0], betas[1], eps, int(nesterov), seed)
        self._check(self._api.train_configure(self._handle, ctypes.byref(cfg)))

    def _train_call(self, fn, inputs_and_labels):
        """fn(handle, batch, inputs, input_bytes, labels, label_bytes, loss)
        on the inputs and the labels (the last argument); returns the loss."""
        self._need_training()
        *inputs, labels = inputs_and_labels
        arrays, batch = self._batch_arrays(inputs, self.inputs, "input")
        labels = self._labels(labels, batch)
        ip, isz = _pointers(arrays)
        loss = ctypes.c_float()
        self._check(fn(self._handle, batch, ip, isz, labels.ctypes.data,
                       labels.nbytes, ctypes.byref(loss)))
        return float(loss.value)

    def train_step(self, *inputs_and_labels):
        """One forward, backward and optimizer step; returns the loss. The
        last argument holds the labels (int64 classes for cross-entropy)."""
        return self._train_call(self._api.train_step, inputs_and_labels)

    def backward(self, *inputs_and_labels):
        """The first half of train_step (forward, loss, backward): the
        gradients stay in the model for gradients() and apply(). Returns the
        loss."""
        return self._train_call(self._api.train_backward, inputs_and_labels)

    def gradients(self):
        """After backward(): [(parameter name, kind, array)] with kind
        "gradient" or "running_stat" (a BatchNorm running statistic's new
        value). The arrays are views of the model's memory, valid until the
        next training call: change them in place (e.g. average them across
        processes) before apply()."""
        count = _I32()
        self._check(self._api.train_gradients(self._handle, None, 0,
                                              ctypes.byref(count)))
        table = (_TrainTensor * max(1, count.value))()
        self._check(self._api.train_gradients(self._handle, table, count.value,
                                              ctypes.byref(count)))
        names = {i: name for name, (i, _) in self._params.items()}
        out = []
        for t in table[:count.value]:
            _, info = self._params[names[t.param]]
            view = np.ctypeslib.as_array(
                ctypes.cast(t.data, ctypes.POINTER(ctypes.c_float)),
                shape=(t.count,)).reshape(info.shape)
            out.append((names[t.param],
                        "gradient" if t.kind == 0 else "running_stat", view))
        return out

    def apply(self):
        """The second half of train_step: the optimizer step with the
        gradients of the last backward()."""
        self._need_training()
        self._check(self._api.train_apply(self._handle))

    def set_learning_rate(self, lr, group=None):
        """Learning rate of a group (or name prefix), or of everything."""
        self._need_training()
        self._check(self._api.set_learning_rate(
            self._handle, group.encode() if group else None, lr))

    def set_trainable(self, group, trainable=True):
        """Freezes or unfreezes a group (or name prefix) at run time."""
        self._need_training()
        self._check(self._api.set_trainable(self._handle, group.encode(),
                                            int(bool(trainable))))

    # -- feature cache --------------------------------------------------------
    # With a frozen backbone, every epoch recomputes the same backbone
    # outputs: computing them once (compute_features) and training the head
    # on them (train_step_features) gives the same steps for less work.

    def feature_info(self):
        """The output of the frozen prefix that every trainable parameter
        comes after (a Tensor, shape[0] None for the batch). It follows
        what is frozen now (set_trainable); raises Error (status 5, with
        the library's reason) when there is no such prefix."""
        self._need_training()
        info = _TensorInfo()
        self._check(self._api.feature_info(self._handle, ctypes.byref(info)))
        return _tensor(info)

    def compute_features(self, *inputs):
        """Runs the frozen prefix on inputs of any batch: its output (see
        feature_info), for train_step_features."""
        spec = self.feature_info()
        arrays, batch = self._batch_arrays(inputs, self.inputs, "input")
        out = np.empty(self._out_shape(spec, batch), spec.dtype)
        ip, isz = _pointers(arrays)
        self._check(self._api.compute_features(self._handle, batch, ip, isz,
                                               out.ctypes.data, out.nbytes))
        return out

    def train_step_features(self, features, labels):
        """train_step on features from compute_features: the same loss and
        the same update as train_step on the inputs they came from, without
        running the frozen prefix. Returns the loss."""
        spec = self.feature_info()
        (features,), batch = self._batch_arrays([features], [spec], "feature")
        labels = self._labels(labels, batch)
        loss = ctypes.c_float()
        self._check(self._api.train_step_features(
            self._handle, batch, features.ctypes.data, features.nbytes,
            labels.ctypes.data, labels.nbytes, ctypes.byref(loss)))
        return float(loss.value)

    def save_state(self):
        """The whole training state as bytes (docs/abi.md, with a checksum)."""
        size = _SZ()
        self._check(self._api.save_state(self._handle, None, ctypes.byref(size)))
        buf = ctypes.create_string_buffer(size.value)
        self._check(self._api.save_state(self._handle, buf, ctypes.byref(size)))
        return buf.raw[:size.value]

    def load_state(self, state):
        """Restores a state from save_state; refused whole if damaged."""
        data = bytes(state)
        self._check(self._api.load_state(self._handle, data, len(data)))

    def export_onnx(self, path):
        """Writes the model as ONNX with the current parameters: the ONNX
        file the library was compiled from, or for a DSL model its ONNX
        form, which `cnnc --train` embeds (needs the `onnx` package)."""
        data, size = _P(), _SZ()
        self._api.source_onnx(ctypes.byref(data), ctypes.byref(size))
        if not data or not size.value:
            raise Error("%s embeds no ONNX form of the model to export "
                        "into: compile it with --train (or --embed-source)"
                        % self.name, 5)
        import onnx
        from onnx import numpy_helper
        model = onnx.load_from_string(ctypes.string_at(data, size.value))
        values = self.parameters()
        written = 0
        for init in model.graph.initializer:
            if init.name in values:
                old = numpy_helper.to_array(init)
                new = values[init.name].astype(old.dtype).reshape(old.shape)
                init.CopyFrom(numpy_helper.from_array(new, init.name))
                written += 1
        tmp = os.fspath(path) + ".tmp"
        onnx.save(model, tmp)
        os.replace(tmp, path)
        return written

    def close(self):
        if getattr(self, "_handle", None):
            self._api.release(self._handle)
            self._handle = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self):
        return "cnnc.Model(%r: %s -> %s%s)" % (
            self.path, [t.shape for t in self.inputs],
            [t.shape for t in self.outputs], ", trainable" if self.trainable else "")


def load(path):
    """Loads a model library written by cnnc."""
    return Model(path)


def cnnc_executable():
    """$CNNC, else `cnnc` next to an installed package (<prefix>/bin), else
    on PATH."""
    if os.environ.get("CNNC"):
        return os.environ["CNNC"]
    here = os.path.dirname(os.path.abspath(__file__))
    for up in ("../../../../bin/cnnc", "../../../bin/cnnc", "../../bin/cnnc"):
        candidate = os.path.normpath(os.path.join(here, up))
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("cnnc")
    if not found:
        raise Error("cnnc not found: put it on PATH or set CNNC=/path/to/cnnc")
    return found


def compile(model, output, train=False, freeze=(), name=None, target=None,
            options=()):
    """Compiles an ONNX, DSL or MLIR model into a library (cnnc's command
    line); returns the loaded Model. Raises Error with cnnc's messages."""
    cmd = [cnnc_executable(), os.fspath(model), "-o", os.fspath(output)]
    if train:
        cmd.append("--train")
    for prefix in freeze:
        cmd += ["--freeze", prefix]
    if name:
        cmd += ["--name", name]
    if target:
        cmd.append("--target=" + target)
    cmd += list(options)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if r.returncode != 0:
        raise Error(r.stderr.strip() or "cnnc failed (exit %d)" % r.returncode,
                    r.returncode)
    return load(output)
