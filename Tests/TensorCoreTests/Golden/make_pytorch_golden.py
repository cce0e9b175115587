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

# Issue 3: the ReLU family, batch norm and more losses.
cases += [
    record("leaky_relu", {"x": t(3, 5)}, lambda x: F.leaky_relu(x, 0.1)),
    record("elu", {"x": t(3, 5)}, lambda x: F.elu(x, alpha=0.7)),
    record("selu", {"x": t(3, 5)}, lambda x: F.selu(x)),
    record("gelu", {"x": t(3, 5)}, lambda x: F.gelu(x)),
    record("gelu_tanh", {"x": t(3, 5)}, lambda x: F.gelu(x, approximate="tanh")),
    record("prelu_shared", {"x": t(2, 3, 2, 2), "a": torch.tensor([0.25])}, lambda x, a: F.prelu(x, a)),
    record("prelu_channels", {"x": t(2, 3, 2, 2), "a": torch.tensor([0.1, 0.2, 0.3])}, lambda x, a: F.prelu(x, a)),
]
for name, shape in [("batch_norm_1d", (5, 3)), ("batch_norm_2d", (3, 2, 4, 3))]:
    rm, rv = t(shape[1]), torch.rand(shape[1]) + 0.5
    rm0, rv0 = rm.clone(), rv.clone()
    case = record(name, {"x": t(*shape), "w": t(shape[1]), "b": t(shape[1])},
                  lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5),
                  {"running_mean_before": flat(rm0), "running_var_before": flat(rv0)})
    case["running_mean_after"], case["running_var_after"] = flat(rm), flat(rv)
    cases.append(case)
    cases.append(record(name + "_eval", {"x": t(*shape), "w": t(shape[1]), "b": t(shape[1])},
                        lambda x, w, b: F.batch_norm(x, rm0, rv0, w, b, training=False, eps=1e-5),
                        {"running_mean_before": flat(rm0), "running_var_before": flat(rv0)}))

# Losses are scalars: the probe is a single number.
targets = [3, 0, 4, 1]
cases.append(record("cross_entropy", {"x": t(4, 5) * 2},
                    lambda x: F.cross_entropy(x, torch.tensor(targets)), {"targets": targets}))
y = t(3, 4)
cases.append(record("mse_loss", {"x": t(3, 4)}, lambda x: F.mse_loss(x, y), {"target": flat(y)}))

y2 = t(3, 4)
cases.append(record("mse_sum", {"x": t(3, 4)}, lambda x: F.mse_loss(x, y2, reduction="sum"), {"target": flat(y2)}))
cases.append(record("l1_mean", {"x": t(3, 4)}, lambda x: F.l1_loss(x, y2), {"target": flat(y2)}))
cases.append(record("cross_entropy_smoothing", {"x": t(4, 5) * 2},
                    lambda x: F.cross_entropy(x, torch.tensor(targets), label_smoothing=0.2), {"targets": targets}))
soft = torch.softmax(t(4, 5), dim=1)
cases.append(record("cross_entropy_soft", {"x": t(4, 5) * 2},
                    lambda x: F.cross_entropy(x, soft, label_smoothing=0.1), {"target": flat(soft)}))
cases.append(record("nll", {"x": t(4, 5)}, lambda x: F.nll_loss(F.log_softmax(x, 1), torch.tensor(targets)),
                    {"targets": targets}))
bits = torch.rand(3, 4)
cases.append(record("bce", {"x": torch.rand(3, 4) * 0.8 + 0.1}, lambda x: F.binary_cross_entropy(x, bits), {"target": flat(bits)}))
cases.append(record("bce_logits", {"x": t(3, 4) * 2}, lambda x: F.binary_cross_entropy_with_logits(x, bits),
                    {"target": flat(bits)}))

cases.append(record("adaptive_avg_pool_5x7_to_3x4", {"x": t(2, 2, 5, 7)}, lambda x: F.adaptive_avg_pool2d(x, (3, 4))))
cases.append(record("global_avg_pool", {"x": t(2, 3, 4, 5)}, lambda x: F.adaptive_avg_pool2d(x, 1)))
cases.append(record("global_max_pool", {"x": t(2, 3, 4, 5)}, lambda x: F.adaptive_max_pool2d(x, 1)))
emb_index = [[1, 4, 1], [0, 2, 4]]
cases.append(record("embedding", {"w": t(5, 3)}, lambda w: F.embedding(torch.tensor(emb_index), w),
                    {"targets": [i for row in emb_index for i in row]}))

# Model-zoo ops (appended so earlier cases keep their values).
cases.append(record("local_response_norm_alexnet", {"x": t(2, 7, 3, 4) * 3},
                    lambda x: F.local_response_norm(x, 5, alpha=1e-4, beta=0.75, k=2.0)))
cases.append(record("local_response_norm_strong", {"x": t(1, 6, 2, 3) * 2},
                    lambda x: F.local_response_norm(x, 4, alpha=0.5, beta=0.6, k=1.0)))
cases.append(record("relu6_hardtanh", {"x": t(3, 8) * 5},
                    lambda x: F.relu6(x) + F.hardtanh(x, -2.0, 3.0)))
cases.append(record("channel_shuffle_concat", {"a": t(2, 2, 3, 3), "b": t(2, 4, 3, 3)},
                    lambda a, b: torch.cat([a, b], 1).view(2, 2, 3, 3, 3).transpose(1, 2).reshape(2, 6, 3, 3)))
cases.append(record("max_pool_ceil_window_past_input", {"x": t(2, 3, 2, 2)},
                    lambda x: F.max_pool2d(x, 3, stride=2, ceil_mode=True)))
cases.append(record("avg_pool_ceil_window_past_input", {"x": t(1, 2, 2, 3)},
                    lambda x: F.avg_pool2d(x, 3, stride=2, ceil_mode=True)))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pytorch_golden.json")
with open(path, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, indent=None, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(cases)} cases to {path}")
