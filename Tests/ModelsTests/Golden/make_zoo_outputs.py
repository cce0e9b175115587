#!/usr/bin/env python3
"""Records torchvision models' weights and evaluation-mode outputs for ZooOutputTests.swift:
shufflenet_v2_x1_0 and squeezenet1_1 with 10 classes, random weights and random batch-norm
running statistics, at 2x3x64x64. Weights are stored as float16 (to keep the files small) and
the outputs are computed in float32 from those same rounded weights.

Run by hand (needs torch and torchvision from PyPI):
    /tmp/torchenv/bin/python Tests/ModelsTests/Golden/make_zoo_outputs.py
"""
import os

import torch
from safetensors_writer import write_safetensors
from torchvision import models as tvm

HERE = os.path.dirname(os.path.abspath(__file__))


def record(name, model):
    torch.manual_seed(7)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
        state = {k: v.to(torch.float16) if v.is_floating_point() else v.to(torch.float32)
                 for k, v in model.state_dict().items()}
        model.load_state_dict({k: v.to(torch.float32) for k, v in state.items()})
        model.eval()
        x = torch.randn(2, 3, 64, 64)
        y = model(x)
    tensors = {"model." + k: v for k, v in state.items()}
    tensors["input"] = x
    tensors["logits"] = y
    write_safetensors(os.path.join(HERE, name + ".safetensors"), tensors)
    print(name, tuple(y.shape))


if __name__ == "__main__":
    record("shufflenet_v2_torchvision", tvm.shufflenet_v2_x1_0(num_classes=10))
    record("squeezenet1_1_torchvision", tvm.squeezenet1_1(num_classes=10))
