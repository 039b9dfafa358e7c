"""Writes pickles that must be refused: each names a global outside Experiments' allow-list.

Unpickling any of them with Python's pickle.load would run the global; Experiments must refuse them
naming it. Written by hand-built reduce tuples, so running this script executes nothing.
"""
import os
import pickle
import sys
import types


class Reduce:
    def __init__(self, function, args):
        self.function, self.args = function, args

    def __reduce__(self):
        return (self.function, self.args)


class Custom:
    pass


def main():
    payload = Reduce(os.system, ("echo pwned",))
    for protocol in (2, 4):
        with open(f"hostile-os-system-protocol{protocol}.pkl", "wb") as f:
            pickle.dump({"training_data": payload, "training_labels": [0]}, f, protocol=protocol)
    with open("hostile-eval-protocol5.pkl", "wb") as f:
        pickle.dump({"training_data": Reduce(eval, ("1+1",)), "training_labels": [0]}, f, protocol=5)
    # A class of the user's own, as if defined in a module "mymodule".
    sys.modules["mymodule"] = types.ModuleType("mymodule")
    sys.modules["mymodule"].Custom = Custom
    Custom.__module__ = "mymodule"
    with open("hostile-class-protocol3.pkl", "wb") as f:
        pickle.dump({"training_data": [[1.0]], "training_labels": [Custom()]}, f, protocol=3)


if __name__ == "__main__":
    main()
