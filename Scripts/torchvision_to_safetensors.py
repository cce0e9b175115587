#!/usr/bin/env python3
"""Converts a torchvision classification model's weights into a safetensors file that
Fovea loads into the matching zoo model (same state-dict names and layouts), for
`fovea predict`, `fovea evaluate`, `fovea finetune --weights` and `fovea export`.

Needs torch and torchvision (pip install torch torchvision); Fovea itself never does.

    python3 Scripts/torchvision_to_safetensors.py resnet18 resnet18.safetensors
    python3 Scripts/torchvision_to_safetensors.py squeezenet1_1 sq.safetensors --weights DEFAULT
    python3 Scripts/torchvision_to_safetensors.py resnet18 r18-6.safetensors --weights none --classes 6

Then, for instance:
    fovea finetune --weights resnet18.safetensors --freeze conv1 --freeze layer1 --data aoi/ --input 3x224x224

The file holds every tensor of `model.state_dict()` as float32 (batch norm's integer
`num_batches_tracked` too, as Fovea keeps it as a float buffer) and metadata
naming the Fovea model, its input and classes, the ImageNet normalisation torchvision's
weights expect, and the source. Loading it never runs code: safetensors is a JSON header
and raw little-endian floats.
"""
import argparse
import json
import struct

# torchvision builder -> Fovea zoo name (`fovea models` lists them).
FOVEA_NAMES = {
    "alexnet": "alexnet",
    "vgg11": "vgg11", "vgg13": "vgg13", "vgg16": "vgg16", "vgg19": "vgg19",
    "vgg11_bn": "vgg11-bn", "vgg13_bn": "vgg13-bn", "vgg16_bn": "vgg16-bn", "vgg19_bn": "vgg19-bn",
    "googlenet": "googlenet", "inception_v3": "inception-v3",
    "resnet18": "resnet18", "resnet34": "resnet34", "resnet50": "resnet50", "resnet101": "resnet101", "resnet152": "resnet152",
    "densenet121": "densenet121", "densenet161": "densenet161", "densenet169": "densenet169", "densenet201": "densenet201",
    "squeezenet1_0": "squeezenet1.0", "squeezenet1_1": "squeezenet1.1",
    "shufflenet_v2_x1_0": "shufflenet-v2", "mobilenet_v2": "mobilenet-v2",
}


def write_safetensors(path, tensors, metadata):
    """The safetensors layout: u64 header length, JSON header, then the raw data."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, array in tensors.items():
        data = array.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", choices=sorted(FOVEA_NAMES), help="torchvision builder name")
    parser.add_argument("output", help="the .safetensors file to write")
    parser.add_argument("--weights", default="DEFAULT",
                        help="torchvision weights enum name (DEFAULT, IMAGENET1K_V1, ...) or 'none' for random weights")
    parser.add_argument("--classes", type=int, default=None, help="class count for random weights (default 1000)")
    parser.add_argument("--size", type=int, default=None, help="input side (default 224, 299 for inception_v3)")
    args = parser.parse_args()

    import torch
    import torchvision
    from torchvision import models

    builder = getattr(models, args.model)
    kwargs = {}
    if args.model in ("googlenet", "inception_v3"):
        kwargs["aux_logits"] = True
        kwargs["init_weights"] = True
    if args.weights.lower() == "none":
        model = builder(weights=None, num_classes=args.classes or 1000, **kwargs)
        source = f"torchvision {torchvision.__version__} {args.model}, random weights (seed 0)"
    else:
        enum = models.get_model_weights(args.model)[args.weights]
        model = builder(weights=enum, **kwargs)
        source = f"torchvision {torchvision.__version__} {args.model} {enum}"
    model.eval()
    state = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
    classes = [a for k, a in state.items() if k.endswith("bias") and a.ndim == 1][-1].shape[0]
    size = args.size or (299 if args.model == "inception_v3" else 224)
    metadata = {
        "model": FOVEA_NAMES[args.model], "input": f"3x{size}x{size}", "classes": str(classes),
        "normalize_mean": "0.485,0.456,0.406", "normalize_std": "0.229,0.224,0.225", "fit": "resize",
        "source": source, "torch": torch.__version__,
    }
    write_safetensors(args.output, state, metadata)
    print(f"wrote {args.output}: {len(state)} tensors, {sum(a.size for a in state.values())} parameters and buffers, "
          f"Fovea model {metadata['model']}, input {metadata['input']}, {classes} classes")


if __name__ == "__main__":
    torch_seed = 0
    try:
        import torch
        torch.manual_seed(torch_seed)
    except ImportError:
        pass
    main()
