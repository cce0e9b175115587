"""Writes loss_golden.json: inputs, loss values and gradients of PyTorch's losses, which
LossGoldenTests.swift checks Fovea's losses against. Needs torch only to regenerate:
    python Tests/TensorCoreTests/Golden/make_loss_golden.py
(recorded with torch 2.15.0, float32).

Every case is one loss with one reduction: "mean" and "sum" are PyTorch's, "halfSum" is the
course's 1/2 * sum (0.5 * reduction="sum"). The gradients are those of probe * loss for a
fixed scalar probe, so the upstream gradient is not 1. "grads" holds d/d"input" and, where
PyTorch differentiates the target, d/d"target".
"""
import json
import os
import torch
import torch.nn.functional as F

torch.manual_seed(20261123)
REDUCTIONS = ["mean", "sum", "halfSum"]


def flat(x):
    return [float(v) for v in x.detach().reshape(-1).tolist()]


def reduce(fn, reduction):
    """Calls fn(reduction=...) with PyTorch's reduction, or half the sum for halfSum."""
    if reduction == "halfSum":
        return 0.5 * fn("sum")
    return fn(reduction)


def record(name, loss, reduction, x, fn, target=None, target_grad=False, targets=None, **extra):
    """fn(x, target, reduction) -> scalar loss; target is a tensor or None."""
    xl = x.clone().requires_grad_(True)
    tl = None if target is None else target.clone().requires_grad_(target_grad)
    out = reduce(lambda r: fn(xl, tl, r), reduction)
    probe = float(torch.empty(()).uniform_(0.5, 2.0))
    (probe * out).backward()
    case = {
        "name": name, "loss": loss, "reduction": reduction,
        "inputs": {"input": {"shape": list(x.shape), "values": flat(x)}},
        "output": float(out.detach()), "probe": probe,
        "grads": {"input": flat(xl.grad)},
    }
    if target is not None:
        case["inputs"]["target"] = {"shape": list(target.shape), "values": flat(target)}
        if target_grad:
            case["grads"]["target"] = flat(tl.grad)
    if targets is not None:
        case["targets"] = [int(v) for v in targets.tolist()]
    for k, v in extra.items():
        case[k] = flat(v) if isinstance(v, torch.Tensor) else v
    return case


cases = []
N, C = 5, 4
class_weight = torch.tensor([0.5, 2.0, 1.0, 1.5])

for r in REDUCTIONS:
    # Regression losses; target grads too. One l1 element has a zero difference (gradient 0).
    x, y = torch.randn(3, 4), torch.randn(3, 4)
    cases.append(record(f"mse_{r}", "mse", r, x, lambda a, b, red: F.mse_loss(a, b, reduction=red), y, True))
    y_tie = y.clone()
    y_tie[1, 2] = x[1, 2]
    cases.append(record(f"l1_{r}", "l1", r, x, lambda a, b, red: F.l1_loss(a, b, reduction=red), y_tie, True))

    # Cross-entropy from logits and class indices: smoothing x class weights.
    logits, idx = torch.randn(N, C) * 2, torch.tensor([0, 3, 1, 1, 2])
    for eps in [0.0, 0.2, 1.0]:
        for w in [None, class_weight]:
            tag = f"cross_entropy_{r}_ls{eps}" + ("_weighted" if w is not None else "")
            cases.append(record(tag, "cross_entropy", r, logits,
                                lambda a, _, red, w=w, eps=eps: F.cross_entropy(a, idx, weight=w, label_smoothing=eps, reduction=red),
                                targets=idx, label_smoothing=eps, weight=w))

    # Cross-entropy from logits and target probabilities: soft and one-hot rows.
    soft = torch.softmax(torch.randn(N, C), dim=1)
    one_hot = F.one_hot(idx, C).float()
    for kind, probs in [("soft", soft), ("onehot", one_hot)]:
        for eps in [0.0, 0.15]:
            for w in [None, class_weight]:
                tag = f"cross_entropy_{kind}_{r}_ls{eps}" + ("_weighted" if w is not None else "")
                cases.append(record(tag, "cross_entropy_probabilities", r, logits,
                                    lambda a, b, red, w=w, eps=eps: F.cross_entropy(a, b, weight=w, label_smoothing=eps, reduction=red),
                                    probs, True, label_smoothing=eps, weight=w))

    # NLL of log-probabilities.
    logp = torch.log_softmax(torch.randn(N, C), dim=1)
    for w in [None, class_weight]:
        tag = f"nll_{r}" + ("_weighted" if w is not None else "")
        cases.append(record(tag, "nll", r, logp, lambda a, _, red, w=w: F.nll_loss(a, idx, weight=w, reduction=red),
                            targets=idx, weight=w))

    # Binary cross-entropy on probabilities (target grads), and with p at 0 and 1 where the
    # logs are clamped at -100 (no target grads there: PyTorch's are infinite).
    p, t = torch.rand(3, 4) * 0.9 + 0.05, torch.rand(3, 4)
    cases.append(record(f"bce_{r}", "bce", r, p, lambda a, b, red: F.binary_cross_entropy(a, b, reduction=red), t, True))
    p_edge = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.3, 0.7])
    t_edge = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0, 0.25])
    cases.append(record(f"bce_clamped_{r}", "bce", r, p_edge, lambda a, b, red: F.binary_cross_entropy(a, b, reduction=red), t_edge))

    # Binary cross-entropy on logits, with large |x| for stability, and with pos_weight.
    xl = torch.randn(3, 4) * 3
    xl[0, 0], xl[2, 3] = 40.0, -40.0
    tb = torch.rand(3, 4)
    pos_weight = torch.tensor([1.0, 3.0, 0.5, 2.0])
    cases.append(record(f"bce_logits_{r}", "bce_logits", r, xl,
                        lambda a, b, red: F.binary_cross_entropy_with_logits(a, b, reduction=red), tb, True))
    cases.append(record(f"bce_logits_pos_weight_{r}", "bce_logits", r, xl,
                        lambda a, b, red: F.binary_cross_entropy_with_logits(a, b, pos_weight=pos_weight, reduction=red),
                        tb, True, pos_weight=pos_weight))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "loss_golden.json")
with open(path, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, indent=None, separators=(",", ":"))
print(f"wrote {len(cases)} cases to {path}")
