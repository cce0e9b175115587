"""Writes the PyTorch-exported ONNX fixture that Fovea's importer is tested on.

A small seeded CNN touching the operators Fovea imports (Conv with padding, stride, groups
and dilation, BatchNormalization, Relu, PRelu, LeakyRelu, Sigmoid, Tanh, Clip, MaxPool with
ceil mode, AveragePool, ConvTranspose, Mul, Concat, GlobalAveragePool, Reshape, Flatten, Gemm,
BatchNormalization 1-D, Dropout, MatMul, Add, Softmax) is exported with torch.onnx.export
(the TorchScript exporter, opset 13) to pytorch_cnn.onnx, and a fixed input with PyTorch's
output to pytorch_cnn.json. Needs torch and onnx; the tests need neither.

Usage: python3 make_pytorch_fixture.py   (run in this folder)
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2)
        self.prelu = nn.PReLU(8)
        self.conv3 = nn.Conv2d(8, 12, 3, padding=2, dilation=2)
        self.leaky = nn.LeakyReLU(0.2)
        self.pool = nn.MaxPool2d(2, ceil_mode=True)
        self.avg = nn.AvgPool2d(3, stride=1, padding=1)
        self.up = nn.ConvTranspose2d(12, 6, 3, stride=2, padding=1, output_padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Linear(18, 16)
        self.bn2 = nn.BatchNorm1d(16)
        self.dropout = nn.Dropout(0.3)
        self.w2 = nn.Parameter(torch.randn(16, 5) * 0.3)
        self.b2 = nn.Parameter(torch.randn(5) * 0.1)

    def forward(self, x):                       # x: [N, 3, 11, 11]
        a = self.bn1(F.relu(self.conv1(x)))     # [N, 8, 11, 11]; BN after the ReLU is not folded into the Conv
        b = self.prelu(self.conv2(a))           # [N, 8, 6, 6]
        c = self.leaky(self.conv3(b))           # [N, 12, 6, 6]
        d = self.pool(c)                        # [N, 12, 3, 3]
        e = self.avg(c) * torch.sigmoid(c)      # [N, 12, 6, 6]
        u = torch.tanh(self.up(d))              # [N, 6, 6, 6]
        f = torch.clamp(torch.cat([e, u], 1), -0.5, 0.5)
        g = torch.reshape(self.gap(f), (-1, 18))
        h = self.dropout(F.relu(self.bn2(self.fc1(torch.flatten(g, 1)))))
        return torch.softmax(torch.matmul(h, self.w2) + self.b2, dim=1)


def main():
    torch.manual_seed(8)
    net = Net()
    with torch.no_grad():
        for bn in (net.bn1, net.bn2):
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
            bn.running_mean.uniform_(-0.3, 0.3)
            bn.running_var.uniform_(0.5, 1.5)
    net.eval()
    x = torch.randn(2, 3, 11, 11)
    with torch.no_grad():
        y = net(x)
    torch.onnx.export(net, (x,), "pytorch_cnn.onnx", opset_version=13, input_names=["x"], output_names=["probabilities"],
                      do_constant_folding=True, dynamo=False)
    with open("pytorch_cnn.json", "w") as f:
        json.dump({
            "origin": f"make_pytorch_fixture.py, torch {torch.__version__}, seed 8",
            "input_shape": list(x.shape), "input": [round(v, 8) for v in x.flatten().tolist()],
            "output_shape": list(y.shape), "output": [round(v, 8) for v in y.flatten().tolist()],
            "parameters": [name for name, _ in net.named_parameters()],
        }, f, indent=1)
    print("wrote pytorch_cnn.onnx and pytorch_cnn.json; output", list(y.shape))


if __name__ == "__main__":
    main()
