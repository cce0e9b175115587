"""Writes the .npy fixtures NumPyTests reads, with numpy's own np.save (run by hand).

Each file holds the values 0, 1, -2, 3.5, ... of its dtype; expected.json lists, per file,
the shape and the values in C order as numpy reads them back (np.load(...).ravel(order='C')).
"""
import json
import numpy as np

cases = {
    "f4_2x3.npy": np.array([[0, 1, -2], [3.5, 4.25, -5]], dtype="<f4"),
    "f8_be_3.npy": np.array([1.5, -2.25, 1e-3], dtype=">f8"),
    "u1_2x2.npy": np.array([[0, 255], [7, 128]], dtype="|u1"),
    "i2_4.npy": np.array([-32768, -1, 0, 32767], dtype="<i2"),
    "i8_2.npy": np.array([-5, 123456789], dtype="<i8"),
    "bool_3.npy": np.array([True, False, True]),
    "f2_2.npy": np.array([0.5, -65504], dtype="<f2"),
    "fortran_2x3x2.npy": np.asfortranarray(np.arange(12, dtype="<f4").reshape(2, 3, 2)),
    "scalar.npy": np.array(7.0, dtype="<f4"),
}
expected = {}
for name, array in cases.items():
    np.save(name, array)
    back = np.load(name)
    expected[name] = {"shape": list(back.shape), "values": [float(v) for v in back.ravel(order="C")]}
with open("expected.json", "w") as f:
    json.dump({"numpy": np.__version__, "cases": expected}, f, indent=1, sort_keys=True)
