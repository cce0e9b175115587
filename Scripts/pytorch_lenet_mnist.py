"""Reference run: the same LeNet-5 that `fovea train` trains, in PyTorch, on the bundled MNIST.

Used to compare accuracy and speed with Fovea in one run on this machine; Fovea's tests do not
need it. Usage (torch from PyPI in a venv):
    python Scripts/pytorch_lenet_mnist.py --epochs 1 --lr 0.01 --momentum 0.9 --batch-size 32 --threads 2
"""
import argparse, gzip, struct, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class LeNetBN(nn.Module):
    """The course's LeNet_modify (seed 002): 20 and 50 filters, batch norm, one shared PReLU,
    dropout 0.5, Kaiming-uniform weights (fan_in)."""

    def __init__(self):
        super().__init__()
        self.prelu = nn.PReLU()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.bn1 = nn.BatchNorm2d(20)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.bn2 = nn.BatchNorm2d(50)
        self.fc1 = nn.Linear(800, 500)
        self.bn3 = nn.BatchNorm1d(500)
        self.dropout1 = nn.Dropout(p=0.5)
        self.fc2 = nn.Linear(500, 10)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.kaiming_uniform_(m.weight, mode="fan_in")

    def forward(self, x):
        x = F.max_pool2d(self.prelu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(self.prelu(self.bn2(self.conv2(x))), 2)
        x = torch.flatten(x, 1)
        x = self.dropout1(self.prelu(self.bn3(self.fc1(x))))
        return self.fc2(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="Data/mnist")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--schedule", choices=["constant", "cosine"], default="constant")
    p.add_argument("--model", choices=["lenet5", "lenet-bn"], default="lenet5")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    norm = lambda x: (torch.tensor(x, dtype=torch.float32).unsqueeze(1) / 255 - 0.1307) / 0.3081
    xtr, ytr = norm(idx(f"{a.data}/train-images-idx3-ubyte.gz")), torch.tensor(idx(f"{a.data}/train-labels-idx1-ubyte.gz"), dtype=torch.long)
    xte, yte = norm(idx(f"{a.data}/t10k-images-idx3-ubyte.gz")), torch.tensor(idx(f"{a.data}/t10k-labels-idx1-ubyte.gz"), dtype=torch.long)
    net = LeNet5() if a.model == "lenet5" else LeNetBN()
    if a.optimizer == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=a.momentum)
    steps = a.epochs * ((len(xtr) + a.batch_size - 1) // a.batch_size)
    step = 0
    for epoch in range(a.epochs):
        t0 = time.perf_counter()
        net.train()
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), a.batch_size):
            if a.schedule == "cosine":
                for g in opt.param_groups:
                    g["lr"] = a.lr * 0.5 * (1 + np.cos(np.pi * step / steps))
            j = perm[i:i + a.batch_size]
            loss = F.cross_entropy(net(xtr[j]), ytr[j])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        dt = time.perf_counter() - t0
        net.eval()
        with torch.no_grad():
            logits = net(xte)
            acc = (logits.argmax(1) == yte).float().mean().item()
            tl = F.cross_entropy(logits, yte).item()
        print(f"epoch {epoch + 1}: {dt:.2f}s ({len(xtr) / dt:.0f} images/s), test_loss {tl:.4f}, test_accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
