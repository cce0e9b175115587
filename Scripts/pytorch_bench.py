#!/usr/bin/env python3
"""PyTorch side of `fovea bench --suite --compare`: the same models, batch sizes, optimizers
and thread count as Fovea's benchmark cases, on the same random inputs' shapes, so the two
can be compared in one run on one machine. Run by hand or by `fovea bench --compare` when
torch (and torchvision, for the ImageNet models) is installed; Fovea's tests never need it.

    python3 Scripts/pytorch_bench.py --threads 2                 # every case, one JSON line each
    python3 Scripts/pytorch_bench.py --threads 2 --case lenet5-train

Each case runs in its own child process so that its peak resident memory (ru_maxrss) is its
own. Training cases print images per second; inference cases print the median latency of a
single image in milliseconds.
"""
import argparse
import json
import resource
import subprocess
import sys
import time

CASES = ["lenet5-train", "lenet-bn-train", "resnet18-cifar-train", "lenet5-infer", "resnet18-infer", "resnet50-infer", "vgg16-infer"]


def models():
    import torch.nn as nn
    import torch.nn.functional as F

    class LeNet5(nn.Module):
        """Fovea's `lenet5`: conv 6@5x5 pad 2, max pool, conv 16@5x5, max pool, 120-84-10, ReLU."""
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.flatten(1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    class LeNetModify(nn.Module):
        """Fovea's `lenet-bn`, the course's LeNet_modify: conv 20@5x5, BN, PReLU, pool, conv 50@5x5,
        BN, PReLU, pool, dense 500, BN, PReLU, dropout 0.5, dense 10."""
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 20, 5), nn.BatchNorm2d(20), nn.PReLU(), nn.MaxPool2d(2),
                                          nn.Conv2d(20, 50, 5), nn.BatchNorm2d(50), nn.PReLU(), nn.MaxPool2d(2))
            self.classifier = nn.Sequential(nn.Linear(800, 500), nn.BatchNorm1d(500), nn.PReLU(), nn.Dropout(0.5), nn.Linear(500, 10))

        def forward(self, x):
            return self.classifier(self.features(x).flatten(1))

    class Basic(nn.Module):
        def __init__(self, cin, planes, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.down = None
            if stride != 1 or cin != planes:
                self.down = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

        def forward(self, x):
            y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
            return F.relu(y + (self.down(x) if self.down is not None else x))

    class CifarResNet18(nn.Module):
        """Fovea's `resnet18-cifar`: 3x3 stride-1 stem, no max pool, 4 stages of 2 basic blocks."""
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            layers, cin = [], 64
            for i, planes in enumerate([64, 128, 256, 512]):
                for b in range(2):
                    layers.append(Basic(cin, planes, 2 if i > 0 and b == 0 else 1))
                    cin = planes
            self.layers = nn.Sequential(*layers)
            self.fc = nn.Linear(512, 10)

        def forward(self, x):
            x = self.layers(F.relu(self.bn1(self.conv1(x))))
            return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))

    return LeNet5, LeNetModify, CifarResNet18


def run_case(name, steps, inferences):
    import torch
    LeNet5, LeNetModify, CifarResNet18 = models()
    torch.manual_seed(0)
    if name.endswith("-train"):
        model, batch, shape, make_opt = {
            "lenet5-train": (LeNet5(), 64, (1, 28, 28), lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9)),
            "lenet-bn-train": (LeNetModify(), 64, (1, 28, 28), lambda p: torch.optim.Adam(p, lr=1e-3)),
            "resnet18-cifar-train": (CifarResNet18(), 128, (3, 32, 32), lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9)),
        }[name]
        if name == "resnet18-cifar-train":
            steps = max(3, steps // 60)
        opt = make_opt(model.parameters())
        model.train()
        x = torch.randn(batch, *shape)
        y = torch.randint(0, 10, (batch,))

        def step():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        for _ in range(min(10, steps)):
            step()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        seconds = time.perf_counter() - start
        return {"case": name, "images_per_second": steps * batch / seconds, "steps": steps, "batch": batch}
    import torchvision.models as tvm
    model, shape = {
        "lenet5-infer": (LeNet5(), (1, 28, 28)),
        "resnet18-infer": (tvm.resnet18(), (3, 224, 224)),
        "resnet50-infer": (tvm.resnet50(), (3, 224, 224)),
        "vgg16-infer": (tvm.vgg16(), (3, 224, 224)),
    }[name]
    model.eval()
    x = torch.randn(1, *shape)
    runs = inferences if name == "lenet5-infer" else max(5, inferences // 200)
    with torch.no_grad():
        for _ in range(min(20, runs)):
            model(x)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    times.sort()
    return {"case": name, "latency_ms": times[len(times) // 2] * 1000, "best_ms": times[0] * 1000, "runs": runs}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--case", choices=CASES)
    parser.add_argument("--steps", type=int, default=300, help="training steps for the LeNets (ResNet-18: steps / 60)")
    parser.add_argument("--inferences", type=int, default=2000, help="LeNet-5 inferences (ImageNet models: / 200)")
    args = parser.parse_args()
    if args.case is None:
        for case in CASES:
            out = subprocess.run([sys.executable, __file__, "--threads", str(args.threads), "--case", case,
                                  "--steps", str(args.steps), "--inferences", str(args.inferences)],
                                 capture_output=True, text=True)
            print(out.stdout.strip() if out.returncode == 0 else json.dumps({"case": case, "error": out.stderr.strip()[-300:]}), flush=True)
        return
    import torch
    torch.set_num_threads(args.threads)
    result = run_case(args.case, args.steps, args.inferences)
    result.update(threads=torch.get_num_threads(), torch=torch.__version__,
                  peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
