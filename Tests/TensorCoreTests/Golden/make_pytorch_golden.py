"""Writes pytorch_golden.json: inputs, outputs and gradients of PyTorch ops that
GoldenPyTorchTests.swift checks Fovea against. Needs torch (from PyPI) only to regenerate:
    python Tests/TensorCoreTests/Golden/make_pytorch_golden.py
Every case's loss is sum(output * probe) with a fixed random probe, so gradients are dense.
"""
import json
import os
import torch
import torch.nn.functional as F

torch.manual_seed(20261122)


def t(*shape):
    return torch.randn(shape, dtype=torch.float32)


def flat(x):
    return [float(v) for v in x.detach().reshape(-1).tolist()]


def record(name, inputs, fn, extra=None):
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    out = fn(**leaves)
    probe = t(*out.shape)
    (out * probe).sum().backward()
    case = {
        "name": name,
        "inputs": {k: {"shape": list(v.shape), "values": flat(v)} for k, v in inputs.items()},
        "output": {"shape": list(out.shape), "values": flat(out)},
        "probe": flat(probe),
        "grads": {k: flat(v.grad) for k, v in leaves.items()},
    }
    if extra:
        case.update(extra)
    return case


cases = [
    record("conv2d_groups_stride_padding_dilation",
           {"x": t(2, 4, 7, 6), "w": t(6, 2, 3, 3), "b": t(6)},
           lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)),
    record("conv2d_same_dilation2",
           {"x": t(1, 3, 8, 9), "w": t(4, 3, 4, 3), "b": t(4)},
           lambda x, w, b: F.conv2d(x, w, b, padding="same", dilation=2)),
    record("conv2d_depthwise_stride2",
           {"x": t(2, 3, 9, 9), "w": t(3, 1, 3, 3)},
           lambda x, w: F.conv2d(x, w, None, stride=2, padding=1, groups=3)),
    record("max_pool2d_k3_s2_p1_ceil",
           {"x": t(2, 3, 8, 7)},
           lambda x: F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True)),
    record("avg_pool2d_k3_s2_p1_exclude_pad",
           {"x": t(2, 2, 7, 8)},
           lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)),
    record("avg_pool2d_k2_include_pad_ceil",
           {"x": t(1, 2, 5, 5)},
           lambda x: F.avg_pool2d(x, 2, stride=2, padding=1, ceil_mode=True, count_include_pad=True)),
    record("log_softmax_axis1", {"x": t(3, 5) * 4}, lambda x: F.log_softmax(x, dim=1)),
    record("softmax_axis0", {"x": t(4, 3) * 3}, lambda x: F.softmax(x, dim=0)),
    record("tanh_sigmoid_relu", {"x": t(2, 7)}, lambda x: torch.tanh(x) + torch.sigmoid(x) * F.relu(x)),
]

# Losses are scalars: the probe is a single number.
targets = [3, 0, 4, 1]
cases.append(record("cross_entropy", {"x": t(4, 5) * 2},
                    lambda x: F.cross_entropy(x, torch.tensor(targets)), {"targets": targets}))
y = t(3, 4)
cases.append(record("mse_loss", {"x": t(3, 4)}, lambda x: F.mse_loss(x, y), {"target": flat(y)}))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pytorch_golden.json")
with open(path, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, indent=None, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(cases)} cases to {path}")
