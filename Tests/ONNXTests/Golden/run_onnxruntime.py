"""Runs exported ONNX files with onnxruntime for Fovea's tests (Tests/ONNXTests).

Usage: python3 run_onnxruntime.py MANIFEST.json
       python3 run_onnxruntime.py --serve      (one JSON job a line on stdin, one JSON answer a line on stdout)

MANIFEST is a JSON list of {"model": FILE.onnx, "input": FILE.f32, "shape": [N, C, H, W],
"output": FILE.f32}: each input file holds little-endian float32 values, the output file gets
the model's first output the same way. Where the `onnx` package is installed, each model is
also checked with onnx.checker.check_model first (below CHECK_LIMIT bytes). Prints one line per model.
"""
import json
import os
import sys

import numpy as np
import onnxruntime as ort

try:
    import onnx
except ImportError:  # the checker is a bonus, onnxruntime is the reference
    onnx = None

# The checker reads a whole file into Python objects; files above this size (the 0.2-0.6 GB
# AlexNet, ZFNet and VGG exports, whose operators the smaller models also use) go to
# onnxruntime unchecked, which keeps the test run short.
CHECK_LIMIT = 128 << 20


def run(job):
    """Checks and runs one model; returns the output shape."""
    if onnx is not None and os.path.getsize(job["model"]) < CHECK_LIMIT:
        onnx.checker.check_model(job["model"])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(job["model"], options, providers=["CPUExecutionProvider"])
    x = np.fromfile(job["input"], dtype="<f4").reshape(job["shape"])
    name = session.get_inputs()[0].name
    y = session.run(None, {name: x})[0].astype("<f4")
    y.tofile(job["output"])
    return list(y.shape)


def serve():
    for line in sys.stdin:
        try:
            answer = {"ok": True, "shape": run(json.loads(line)), "checked": onnx is not None}
        except Exception as error:  # reported to the Swift test, which fails with it
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer), flush=True)


def main(manifest_path):
    with open(manifest_path) as f:
        jobs = json.load(f)
    for job in jobs:
        shape = run(job)
        checked = "checked, " if onnx is not None else ""
        print(f"{job['model']}: {checked}output {shape}")


if __name__ == "__main__":
    serve() if sys.argv[1:] == ["--serve"] else main(sys.argv[1])
