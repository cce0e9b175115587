"""Writes the .npz fixtures NumPyArchiveTests reads, with numpy's own np.savez and
np.savez_compressed (run by hand from this folder: python3 make_npz_golden.py).

Both archives hold the same three arrays; npz_expected.json lists each key's shape and
values in C order as np.load reads them back.
"""
import json
import numpy as np

arrays = {
    "weight": np.array([[0.5, -1.0, 2.0], [3.25, -4.5, 1e-3]], dtype="<f4"),
    "counts": np.array([1, 2, 3, 40000], dtype="<i8"),
    "bias": np.linspace(-1, 1, 50, dtype="<f8"),
}
np.savez("stored.npz", **arrays)
np.savez_compressed("deflated.npz", **arrays)
expected = {}
with np.load("stored.npz") as archive:
    for key in archive.files:
        expected[key] = {"shape": list(archive[key].shape), "values": [float(v) for v in archive[key].ravel(order="C")]}
with open("npz_expected.json", "w") as f:
    json.dump({"numpy": np.__version__, "order": list(arrays), "arrays": expected}, f, indent=1, sort_keys=True)
