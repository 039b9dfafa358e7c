"""Writes state-dict-protocol2.pkl: the data.pkl of torch.save(model.state_dict()), without PyTorch installed.

torch.save pickles the state dict with protocol 2 and this persistent_id (torch/serialization.py, _save):
    ("storage", torch.FloatStorage, str(len(id_map)), "cpu", numel)
and a tensor through Tensor.__reduce_ex__ (torch/_tensor.py, _reduce_ex_internal) as
    (torch._utils._rebuild_tensor_v2, (storage, storage_offset, tuple(size), stride, requires_grad, OrderedDict()))
while Module.state_dict (torch/nn/modules/module.py) fills an OrderedDict module by module (its parameters, its
buffers, then its children, keys prefix + name) and records dict(version=module._version) under prefix[:-1] in the
dict's _metadata attribute (BatchNorm is at version 2). This script registers stand-in torch modules whose objects
reduce to exactly those tuples and builds the keys and prefixes as torch builds them, so Python's own pickler writes
the bytes torch.save would for the model below. Run it with python3 from this folder; it is deterministic.
The test that reads it (Tests/Training/Export/WeightFileTests.cs) builds the same state dict.
"""
import collections
import math
import pickle
import sys
import types

torch = types.ModuleType("torch")
utils = types.ModuleType("torch._utils")
sys.modules["torch"] = torch
sys.modules["torch._utils"] = utils


def _rebuild_tensor_v2(*args):
    raise NotImplementedError("a stand-in")


_rebuild_tensor_v2.__module__ = "torch._utils"
utils._rebuild_tensor_v2 = _rebuild_tensor_v2


class FloatStorage:
    pass


class LongStorage:
    pass


for storage_class in (FloatStorage, LongStorage):
    storage_class.__module__ = "torch"
    setattr(torch, storage_class.__name__, storage_class)


class Storage:
    def __init__(self, storage_type, numel):
        self.storage_type = storage_type
        self.numel = numel


class Tensor:
    def __init__(self, shape, storage_type=FloatStorage):
        self.shape = tuple(shape)
        self.storage = Storage(storage_type, math.prod(shape))

    def stride(self):
        strides, step = [], 1
        for size in reversed(self.shape):
            strides.insert(0, step)
            step *= size
        return tuple(strides)

    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor_v2, (self.storage, 0, tuple(self.shape), self.stride(), False, collections.OrderedDict()))


class Module:
    _version = 1

    def __init__(self, tensors=(), children=()):
        self.tensors = list(tensors)
        self.children = list(children)

    def state_dict(self, destination, prefix=""):
        destination._metadata[prefix[:-1]] = dict(version=self._version)
        for name, tensor in self.tensors:
            destination[prefix + name] = tensor
        for name, child in self.children:
            child.state_dict(destination, prefix + name + ".")
        return destination


class BatchNorm(Module):
    _version = 2

    def __init__(self, channels):
        super().__init__([("weight", Tensor([channels])), ("bias", Tensor([channels])), ("running_mean", Tensor([channels])),
                          ("running_var", Tensor([channels])), ("num_batches_tracked", Tensor([], LongStorage))])


def sequential(*modules):
    return Module(children=[(str(index), module) for index, module in enumerate(modules)])


model = sequential(
    Module([("weight", Tensor([4, 1, 3, 3])), ("bias", Tensor([4]))]),
    BatchNorm(4),
    Module(),
    Module(children=[("layers", sequential(Module([("weight", Tensor([4, 4, 3, 3]))]), BatchNorm(4)))]),
    Module(),
    Module(),
    Module([("weight", Tensor([300, 400])), ("bias", Tensor([300]))]),
    Module(),
    Module([("weight", Tensor([3, 300])), ("bias", Tensor([3]))]),
)

state_dict = collections.OrderedDict()
state_dict._metadata = collections.OrderedDict()
model.state_dict(state_dict)

id_map = {}


class PyTorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            storage_key = id_map.setdefault(id(obj), str(len(id_map)))
            return ("storage", obj.storage_type, storage_key, "cpu", obj.numel)
        return None


with open("state-dict-protocol2.pkl", "wb") as file:
    PyTorchPickler(file, protocol=2).dump(state_dict)
