"""Writes lenet5_pytorch.safetensors and lenet_bn_pytorch.safetensors: randomly initialised
PyTorch LeNet-5 and LeNet_modify (the layouts `fovea train` uses), a batch of inputs and
PyTorch's logits for them. LeNetGoldenTests.swift loads each state dict into Fovea's model and
compares logits. Needs torch (from PyPI) only to
regenerate:
    python Tests/ModelsTests/Golden/make_lenet_golden.py
The safetensors file is written by hand (8-byte little-endian header length, JSON header,
raw little-endian float32 data) so no extra package is needed.
"""
import json
import os
import struct
import sys
import torch

# The same network as the PyTorch reference run (Scripts/pytorch_lenet_mnist.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "Scripts"))
from pytorch_lenet_mnist import LeNet5, LeNetBN  # noqa: E402

torch.manual_seed(5)


def write(path, tensors, meta):
    header, blobs, offset = {"__metadata__": meta}, [], 0
    for name, v in tensors.items():
        data = v.detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    print(f"wrote {path}")


here = os.path.dirname(os.path.abspath(__file__))
net = LeNet5().eval()
x = torch.rand(3, 1, 28, 28)
with torch.no_grad():
    logits = net(x)
tensors = {f"model.{k}": v for k, v in net.state_dict().items()}
tensors["input"] = x
tensors["logits"] = logits
write(os.path.join(here, "lenet5_pytorch.safetensors"), tensors, {"torch": torch.__version__})

# LeNet_modify (LeNet-BN): move the batch-norm running statistics with a few training-mode
# passes, then record evaluation-mode logits. num_batches_tracked (int64 in PyTorch) is
# stored as float32, as Fovea keeps it.
bn = LeNetBN()
with torch.no_grad():
    for _ in range(3):
        bn.train()(torch.rand(16, 1, 28, 28))
    bn.eval()
    x = torch.rand(4, 1, 28, 28)
    logits = bn(x)
tensors = {f"model.{k}": v for k, v in bn.state_dict().items()}
tensors["input"] = x
tensors["logits"] = logits
write(os.path.join(here, "lenet_bn_pytorch.safetensors"), tensors, {"torch": torch.__version__})
