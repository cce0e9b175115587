"""Writes optimizer_golden.json: PyTorch's parameter trajectories for 10 steps of each
optimizer on a fixed least-squares problem, and the learning rates of its schedulers.
OptimizerGoldenTests.swift reproduces them. Needs torch (from PyPI) only to regenerate:
    python Tests/OptimizersTests/Golden/make_optimizer_golden.py
Problem: X [8, 3], y [8] fixed; parameters w [3] and b [1]; loss = mean((X w + b - y)^2).
"""
import json
import os
import torch

torch.manual_seed(3)
X = torch.randn(8, 3)
y = torch.randn(8)
w0 = torch.randn(3)
b0 = torch.randn(1)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def trajectory(make, steps=10, clip_norm=None, groups=False):
    w = w0.clone().requires_grad_(True)
    b = b0.clone().requires_grad_(True)
    opt = make([{"params": [w]}, {"params": [b], "lr_scale": True}] if groups else [w, b])
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((X @ w + b - y) ** 2).mean()
        loss.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_([w, b], clip_norm)
        opt.step()
        out.append(flat(w) + flat(b))
    return out


O = torch.optim
configs = {
    "sgd": lambda p: O.SGD(p, lr=0.1),
    "sgd_momentum": lambda p: O.SGD(p, lr=0.05, momentum=0.9),
    "sgd_nesterov_decay": lambda p: O.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adagrad": lambda p: O.Adagrad(p, lr=0.3),
    "adagrad_decay": lambda p: O.Adagrad(p, lr=0.3, lr_decay=0.1, weight_decay=0.05),
    "rmsprop": lambda p: O.RMSprop(p, lr=0.01),
    "rmsprop_centered_momentum": lambda p: O.RMSprop(p, lr=0.01, momentum=0.5, centered=True, weight_decay=0.02),
    "adam": lambda p: O.Adam(p, lr=0.1),
    "adam_amsgrad_decay": lambda p: O.Adam(p, lr=0.1, betas=(0.8, 0.99), amsgrad=True, weight_decay=0.1),
    "adamw": lambda p: O.AdamW(p, lr=0.1, weight_decay=0.1),
}
cases = {name: trajectory(make) for name, make in configs.items()}
cases["sgd_clip_norm"] = trajectory(lambda p: O.SGD(p, lr=0.1), clip_norm=0.5)
# Two groups: w with the base rate, b with a tenth of it and its own momentum.
cases["sgd_groups"] = trajectory(lambda p: O.SGD([{"params": p[0]["params"]},
                                                  {"params": p[1]["params"], "lr": 0.01, "momentum": 0.5}],
                                                 lr=0.1, momentum=0.9), groups=True)
cases["adam_groups"] = trajectory(lambda p: O.Adam([{"params": p[0]["params"]},
                                                    {"params": p[1]["params"], "lr": 0.01, "weight_decay": 0.1}],
                                                   lr=0.1), groups=True)
cases["rmsprop_groups"] = trajectory(lambda p: O.RMSprop([{"params": p[0]["params"]},
                                                          {"params": p[1]["params"], "lr": 0.05, "momentum": 0.5}],
                                                         lr=0.01), groups=True)
cases["adagrad_groups"] = trajectory(lambda p: O.Adagrad([{"params": p[0]["params"], "weight_decay": 0.2},
                                                          {"params": p[1]["params"], "lr": 0.05}],
                                                         lr=0.3), groups=True)


def rates(make_scheduler, steps, lr=0.1, metrics=None):
    w = torch.zeros(1, requires_grad=True)
    opt = O.SGD([w], lr=lr)
    sched = make_scheduler(opt)
    out = []
    for i in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step(metrics[i]) if metrics is not None else sched.step()
    return out


S = O.lr_scheduler
plateau_metrics = [0.5, 0.6, 0.6, 0.6, 0.6, 0.61, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
schedules = {
    "step": rates(lambda o: S.StepLR(o, step_size=3, gamma=0.5), 10),
    "multistep": rates(lambda o: S.MultiStepLR(o, milestones=[2, 5, 7], gamma=0.1), 10),
    "exponential": rates(lambda o: S.ExponentialLR(o, gamma=0.9), 10),
    "cosine": rates(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 10),
    "onecycle": rates(lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=20), 20),
    "plateau": rates(lambda o: S.ReduceLROnPlateau(o, mode="max", factor=0.1, patience=2), 12, metrics=plateau_metrics),
}

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizer_golden.json")
with open(path, "w") as f:
    json.dump({"torch": torch.__version__, "X": flat(X), "y": flat(y), "w0": flat(w0), "b0": flat(b0),
               "trajectories": cases, "schedules": schedules, "plateau_metrics": plateau_metrics}, f)
    f.write("\n")
print(f"wrote {len(cases)} trajectories and {len(schedules)} schedules to {path}")
