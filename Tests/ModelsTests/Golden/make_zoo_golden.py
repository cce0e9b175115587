#!/usr/bin/env python3
"""Records torchvision's state_dict names and shapes, parameter counts and multiply-accumulate
counts for the models Fovea's zoo mirrors, into zoo_torchvision.json beside this script.

Run by hand (needs torch and torchvision from PyPI; the tests only read the JSON):
    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch torchvision
    /tmp/torchenv/bin/python Tests/ModelsTests/Golden/make_zoo_golden.py

MACs count what Fovea's summary counts: for every Conv2d, output elements x (in_channels /
groups) x kernel height x kernel width; for every Linear, in_features x out_features per row;
one image, evaluation mode (so auxiliary classifiers are not run).
"""
import json
import os

import torch
import torch.nn as nn
import torchvision
from torchvision import models as tvm

HERE = os.path.dirname(os.path.abspath(__file__))


def cifar_resnet18(num_classes=10):
    """ResNet-18 for 32x32 inputs: a 3x3 stride-1 stem and no max-pool (He et al. 2016, sec. 4.2 style)."""
    m = tvm.resnet18(num_classes=num_classes)
    m.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    m.maxpool = nn.Identity()
    return m


# (Fovea zoo name, builder, input C, H, W, classes)
CASES = [
    ("alexnet", lambda: tvm.alexnet(), (3, 224, 224), 1000),
    ("vgg11", lambda: tvm.vgg11(), (3, 224, 224), 1000),
    ("vgg13", lambda: tvm.vgg13(), (3, 224, 224), 1000),
    ("vgg16", lambda: tvm.vgg16(), (3, 224, 224), 1000),
    ("vgg19", lambda: tvm.vgg19(), (3, 224, 224), 1000),
    ("vgg11-bn", lambda: tvm.vgg11_bn(), (3, 224, 224), 1000),
    ("vgg13-bn", lambda: tvm.vgg13_bn(), (3, 224, 224), 1000),
    ("vgg16-bn", lambda: tvm.vgg16_bn(), (3, 224, 224), 1000),
    ("vgg19-bn", lambda: tvm.vgg19_bn(), (3, 224, 224), 1000),
    ("googlenet", lambda: tvm.googlenet(aux_logits=True, init_weights=False), (3, 224, 224), 1000),
    ("googlenet-noaux", lambda: tvm.googlenet(aux_logits=False, init_weights=False), (3, 224, 224), 1000),
    ("inception-v3", lambda: tvm.inception_v3(aux_logits=True, init_weights=False), (3, 299, 299), 1000),
    ("inception-v3-noaux", lambda: tvm.inception_v3(aux_logits=False, init_weights=False), (3, 299, 299), 1000),
    ("resnet18", lambda: tvm.resnet18(), (3, 224, 224), 1000),
    ("resnet34", lambda: tvm.resnet34(), (3, 224, 224), 1000),
    ("resnet50", lambda: tvm.resnet50(), (3, 224, 224), 1000),
    ("resnet101", lambda: tvm.resnet101(), (3, 224, 224), 1000),
    ("resnet152", lambda: tvm.resnet152(), (3, 224, 224), 1000),
    ("resnet18-cifar", lambda: cifar_resnet18(10), (3, 32, 32), 10),
    ("densenet121", lambda: tvm.densenet121(), (3, 224, 224), 1000),
    ("densenet161", lambda: tvm.densenet161(), (3, 224, 224), 1000),
    ("densenet169", lambda: tvm.densenet169(), (3, 224, 224), 1000),
    ("densenet201", lambda: tvm.densenet201(), (3, 224, 224), 1000),
    ("squeezenet1.0", lambda: tvm.squeezenet1_0(), (3, 224, 224), 1000),
    ("squeezenet1.1", lambda: tvm.squeezenet1_1(), (3, 224, 224), 1000),
    ("shufflenet-v2", lambda: tvm.shufflenet_v2_x1_0(), (3, 224, 224), 1000),
    ("mobilenet-v2", lambda: tvm.mobilenet_v2(), (3, 224, 224), 1000),
]


def count_macs(model, shape):
    total = [0]

    def conv_hook(m, inp, out):
        kh, kw = m.kernel_size
        total[0] += out.numel() * (m.in_channels // m.groups) * kh * kw

    def linear_hook(m, inp, out):
        total[0] += (out.numel() // m.out_features) * m.in_features * m.out_features

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    model.eval()
    with torch.no_grad():
        out = model(torch.zeros(1, *shape))
    for h in handles:
        h.remove()
    return total[0], list(out.shape)


def main():
    torch.manual_seed(0)
    result = {"torch": torch.__version__, "torchvision": torchvision.__version__, "models": {}}
    for name, build, shape, classes in CASES:
        model = build()
        macs, out_shape = count_macs(model, shape)
        state = [[k, list(v.shape)] for k, v in model.state_dict().items()]
        result["models"][name] = {
            "input": list(shape),
            "classes": classes,
            "output": out_shape,
            "parameters": sum(p.numel() for p in model.parameters()),
            "buffers": sum(b.numel() for b in model.buffers()),
            "macs": macs,
            "state": state,
        }
        print(f"{name:20s} params {result['models'][name]['parameters']:>12,d}  MACs {macs:>15,d}")
    with open(os.path.join(HERE, "zoo_torchvision.json"), "w") as f:
        json.dump(result, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
