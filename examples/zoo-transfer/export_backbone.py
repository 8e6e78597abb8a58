#!/usr/bin/env python3
"""Export a torchvision classifier to ONNX as the backbone of the DSL
examples next to this script (mobilenet_v2-head.cnn,
efficientnet_b0-head.cnn).

    /usr/bin/python3 export_backbone.py mobilenet_v2 mobilenet_v2.onnx [SIZE]

The weights are torchvision's random initialization (weights=None: the
machine has no network to fetch the ImageNet ones); a real transfer run
loads trained weights into the same graph, which does not change its shape.
As for examples/resnet18-transfer: a dynamic batch axis ("N"), BatchNorm
kept with its parameters (eval mode, TrainingMode.PRESERVE, no constant
folding: initializers keep PyTorch's names, whose first component names the
importer's parameter groups: features, classifier), opset 13, and node
names such as "/classifier/classifier.1/Gemm" to cut the graph at. SIZE
(default 224) is the image size of the export.
"""
import sys

import torch
import torchvision


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write("usage: export_backbone.py MODEL OUTPUT.onnx [SIZE]\n")
        return 2
    size = int(argv[3]) if len(argv) == 4 else 224
    torch.manual_seed(0)
    model = getattr(torchvision.models, argv[1])(weights=None).eval()
    torch.onnx.export(
        model,
        torch.randn(1, 3, size, size),
        argv[2],
        input_names=["image"],
        output_names=["logits"],
        dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}},
        opset_version=13,
        do_constant_folding=False,
        training=torch.onnx.TrainingMode.PRESERVE,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
