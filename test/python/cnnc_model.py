"""ctypes binding of the cnnc model ABI (runtime/include/cnnc/model_abi.h),
for tests that drive a compiled model from Python (PyTorch comparisons)."""
import ctypes

import numpy as np

MAX_RANK = 8


class TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int32), ("dims", ctypes.c_int64 * MAX_RANK)]


class ParamInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("group", ctypes.c_char_p),
                ("rank", ctypes.c_int32), ("dims", ctypes.c_int64 * MAX_RANK),
                ("trainable", ctypes.c_int32), ("is_buffer", ctypes.c_int32)]


class TrainConfig(ctypes.Structure):
    _fields_ = [("optimizer", ctypes.c_int32), ("lr", ctypes.c_float),
                ("momentum", ctypes.c_float), ("weight_decay", ctypes.c_float),
                ("beta1", ctypes.c_float), ("beta2", ctypes.c_float),
                ("eps", ctypes.c_float), ("nesterov", ctypes.c_int32),
                ("seed", ctypes.c_uint64)]


OPTIMIZERS = {"sgd": 0, "adam": 1, "adamw": 2}


class Model:
    def __init__(self, path, prefix):
        self.lib = ctypes.CDLL(path)
        self.p = prefix
        self.handle = ctypes.c_void_p()
        self.fn("last_error").restype = ctypes.c_char_p
        self.check(self.fn("create")(ctypes.byref(self.handle)))
        run = self.fn("run")
        run.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p,
                        ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        step = self.fn("train_step")
        step.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p,
                         ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                         ctypes.POINTER(ctypes.c_float)]

    def fn(self, name):
        return getattr(self.lib, self.p + "_" + name)

    def check(self, status):
        if status != 0:
            raise RuntimeError("cnnc status %d: %s" % (
                status, self.fn("last_error")(self.handle).decode()))

    def output_shape(self, index, batch):
        info = TensorInfo()
        self.check(self.fn("output_info")(index, ctypes.byref(info)))
        return [batch if d < 0 else d for d in info.dims[:info.rank]]

    def run(self, *inputs):
        inputs = [np.ascontiguousarray(x, np.float32) for x in inputs]
        batch = inputs[0].shape[0]
        n_out = self.fn("num_outputs")()
        outs = [np.zeros(self.output_shape(i, batch), np.float32)
                for i in range(n_out)]
        ins = (ctypes.c_void_p * len(inputs))(*[x.ctypes.data for x in inputs])
        inb = (ctypes.c_size_t * len(inputs))(*[x.nbytes for x in inputs])
        o = (ctypes.c_void_p * n_out)(*[y.ctypes.data for y in outs])
        ob = (ctypes.c_size_t * n_out)(*[y.nbytes for y in outs])
        self.check(self.fn("run")(self.handle, batch, ins, inb, o, ob))
        return outs

    def params(self):
        out = {}
        for i in range(self.fn("num_params")()):
            info = ParamInfo()
            self.check(self.fn("param_info")(i, ctypes.byref(info)))
            out[info.name.decode()] = (i, tuple(info.dims[:info.rank]),
                                       bool(info.trainable))
        return out

    def get_param(self, index, shape):
        a = np.zeros(shape, np.float32)
        self.check(self.fn("get_param")(
            self.handle, index, a.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
            ctypes.c_size_t(a.nbytes)))
        return a

    def set_param(self, index, values):
        a = np.ascontiguousarray(values, np.float32)
        self.check(self.fn("set_param")(
            self.handle, index, a.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
            ctypes.c_size_t(a.nbytes)))

    def configure(self, optimizer, lr, momentum=0.0, weight_decay=0.0,
                  nesterov=False, betas=(0.9, 0.999), eps=1e-8):
        cfg = TrainConfig(OPTIMIZERS[optimizer], lr, momentum, weight_decay,
                          betas[0], betas[1], eps, int(nesterov), 0)
        self.check(self.fn("train_configure")(self.handle, ctypes.byref(cfg)))

    def set_learning_rate(self, group, lr):
        f = self.fn("set_learning_rate")
        f.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_float]
        self.check(f(self.handle, group.encode(), lr))

    def train_step(self, x, labels):
        x = np.ascontiguousarray(x, np.float32)
        labels = np.ascontiguousarray(labels)
        loss = ctypes.c_float()
        ins = (ctypes.c_void_p * 1)(x.ctypes.data)
        inb = (ctypes.c_size_t * 1)(x.nbytes)
        self.check(self.fn("train_step")(self.handle, x.shape[0], ins, inb,
                                         labels.ctypes.data, labels.nbytes,
                                         ctypes.byref(loss)))
        return loss.value

    def set_trainable(self, group, trainable):
        f = self.fn("set_trainable")
        f.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32]
        self.check(f(self.handle, group.encode(), int(trainable)))

    def feature_shape(self, batch):
        info = TensorInfo()
        self.check(self.fn("feature_info")(self.handle, ctypes.byref(info)))
        return [batch if d < 0 else d for d in info.dims[:info.rank]]

    def compute_features(self, x):
        x = np.ascontiguousarray(x, np.float32)
        out = np.zeros(self.feature_shape(x.shape[0]), np.float32)
        ins = (ctypes.c_void_p * 1)(x.ctypes.data)
        inb = (ctypes.c_size_t * 1)(x.nbytes)
        f = self.fn("compute_features")
        f.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p,
                      ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
        self.check(f(self.handle, x.shape[0], ins, inb, out.ctypes.data,
                     out.nbytes))
        return out

    def train_step_features(self, features, labels):
        features = np.ascontiguousarray(features, np.float32)
        labels = np.ascontiguousarray(labels)
        loss = ctypes.c_float()
        f = self.fn("train_step_features")
        f.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p,
                      ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
                      ctypes.POINTER(ctypes.c_float)]
        self.check(f(self.handle, features.shape[0], features.ctypes.data,
                     features.nbytes, labels.ctypes.data, labels.nbytes,
                     ctypes.byref(loss)))
        return loss.value

    def save_state(self):
        f = self.fn("save_state")
        f.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                      ctypes.POINTER(ctypes.c_size_t)]
        n = ctypes.c_size_t()
        self.check(f(self.handle, None, ctypes.byref(n)))
        buf = ctypes.create_string_buffer(n.value)
        self.check(f(self.handle, buf, ctypes.byref(n)))
        return buf.raw[:n.value]

    def load_state(self, data):
        f = self.fn("load_state")
        f.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        return f(self.handle, data, len(data))

    def __del__(self):
        if getattr(self, "handle", None):
            self.fn("release")(self.handle)
