"""Writes the pickle fixtures of Tests/Training/Data without NumPy installed.

NumPy pickles an array through ndarray.__reduce_ex__: for protocols 2-4 (and non-contiguous arrays)
    (numpy.core.multiarray._reconstruct, (numpy.ndarray, (0,), b'b'),
     (1, shape, dtype, is_fortran, raw_bytes))
and for protocol 5 (contiguous arrays)
    (numpy.core.numeric._frombuffer, (PickleBuffer(data), dtype, shape, order))
with dtypes pickled as (numpy.dtype, ('f4', False, True), (3, '<', None, None, None, -1, -1, 0)) and
scalars as (numpy.core.multiarray.scalar, (dtype, raw_bytes)). NumPy 2.x names numpy._core instead of
numpy.core. This script registers stand-in modules under exactly those names, whose objects reduce to
exactly those tuples (dtypes are singletons, as NumPy's builtin dtypes are), so Python's own pickler
writes the opcode stream NumPy would. Run it with python3 from this folder; it is deterministic.
"""
import gzip
import pickle
import struct
import sys
import types

TRAIN, TEST, WIDTH = 30, 12, 4


def train_row(i):
    label = i % 3
    return label, [label * 2.0 + ((i * 7 + j * 3) % 5) * 0.25 for j in range(WIDTH)]


def test_row(i):
    label = i % 3
    return label, [label * 2.0 + ((i * 5 + j) % 4) * 0.25 for j in range(WIDTH)]


def install_numpy(major):
    core = "numpy.core" if major == 1 else "numpy._core"
    numpy = types.ModuleType("numpy")
    core_module = types.ModuleType(core)
    multiarray = types.ModuleType(core + ".multiarray")
    numeric = types.ModuleType(core + ".numeric")

    def function(module, name):
        def stand_in(*args):
            raise NotImplementedError(name)
        stand_in.__module__ = module
        stand_in.__name__ = stand_in.__qualname__ = name
        setattr(sys.modules[module], name, stand_in)
        return stand_in

    for name, module in [("numpy", numpy), (core, core_module), (core + ".multiarray", multiarray), (core + ".numeric", numeric)]:
        sys.modules[name] = module

    class dtype:
        _singletons = {}

        def __new__(cls, code):
            if code not in cls._singletons:
                instance = object.__new__(cls)
                instance.code = code
                cls._singletons[code] = instance
            return cls._singletons[code]

        def __reduce__(self):
            endian = "|" if self.code[1:] == "1" else "<"
            return (dtype, (self.code, False, True), (3, endian, None, None, None, -1, -1, 0))

    dtype.__module__, dtype.__qualname__ = "numpy", "dtype"
    numpy.dtype = dtype

    reconstruct = function(core + ".multiarray", "_reconstruct")
    frombuffer = function(core + ".numeric", "_frombuffer")
    scalar_function = function(core + ".multiarray", "scalar")

    class ndarray:
        def __init__(self, code, shape, raw, fortran=False):
            self.dtype, self.shape, self.raw, self.fortran = dtype(code), tuple(shape), raw, fortran

        def __reduce_ex__(self, protocol):
            if protocol < 5:
                return (reconstruct, (ndarray, (0,), b"b"), (1, self.shape, self.dtype, self.fortran, self.raw))
            return (frombuffer, (pickle.PickleBuffer(bytearray(self.raw)), self.dtype, self.shape, "F" if self.fortran else "C"))

    ndarray.__module__, ndarray.__qualname__ = "numpy", "ndarray"
    numpy.ndarray = ndarray

    class scalar:  # a NumPy scalar such as np.int64(2); only its reduce tuple matters
        def __init__(self, code, raw):
            self.dtype, self.raw = dtype(code), raw

        def __reduce__(self):
            return (scalar_function, (self.dtype, self.raw))

    return ndarray, scalar


def float32(rows, fortran=False):
    if fortran:
        return b"".join(struct.pack("<f", rows[i][j]) for j in range(WIDTH) for i in range(len(rows)))
    return b"".join(struct.pack("<f", value) for row in rows for value in row)


def int64(values):
    return b"".join(struct.pack("<q", value) for value in values)


def split(row, count):
    labels, rows = zip(*(row(i) for i in range(count)))
    return list(labels), [list(r) for r in rows]


def arrays_dict(ndarray, fortran=False):
    train_labels, train_rows = split(train_row, TRAIN)
    test_labels, test_rows = split(test_row, TEST)
    return {
        "training_data": ndarray("f4", (TRAIN, WIDTH), float32(train_rows, fortran), fortran),
        "training_labels": ndarray("i8", (TRAIN,), int64(train_labels)),
        "testing_data": ndarray("f4", (TEST, WIDTH), float32(test_rows, fortran), fortran),
        "testing_labels": ndarray("i8", (TEST,), int64(test_labels)),
    }


def lists_dict():
    train_labels, train_rows = split(train_row, TRAIN)
    test_labels, test_rows = split(test_row, TEST)
    return {"training_data": train_rows, "training_labels": train_labels, "testing_data": test_rows, "testing_labels": test_labels}


def write(name, data, protocol):
    with open(name, "wb") as f:
        pickle.dump(data, f, protocol=protocol)


def main():
    major = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    if major == 0:
        # Plain Python containers: no NumPy involved.
        for protocol in (2, 4, 5):
            write(f"lists-protocol{protocol}.pkl", lists_dict(), protocol)
        with gzip.GzipFile("lists-protocol4.pkl.gz", "wb", mtime=0) as f:
            pickle.dump(lists_dict(), f, protocol=4)
        return
    ndarray, scalar = install_numpy(major)
    for protocol in (2, 3, 4, 5):
        write(f"numpy{major}-protocol{protocol}.pkl", arrays_dict(ndarray), protocol)
    for protocol in (2, 5):
        write(f"numpy{major}-fortran-protocol{protocol}.pkl", arrays_dict(ndarray, fortran=True), protocol)
    # Rows as lists of float32 arrays and labels as NumPy int64 scalars, as list(array) gives them.
    data = lists_dict()
    data["training_data"] = [ndarray("f4", (WIDTH,), float32([row])) for row in data["training_data"]]
    data["training_labels"] = [scalar("i8", int64([label])) for label in data["training_labels"]]
    write(f"numpy{major}-scalars-protocol2.pkl", data, 2)
    write(f"numpy{major}-scalars-protocol4.pkl", data, 4)


if __name__ == "__main__":
    main()
