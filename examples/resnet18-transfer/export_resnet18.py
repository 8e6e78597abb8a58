#!/usr/bin/env python3
"""Export torchvision's ResNet-18 to ONNX as the backbone of
resnet18-transfer.cnn.

    /usr/bin/python3 export_resnet18.py resnet18.onnx

The weights are torchvision's random initialization (weights=None: the
machine has no network to fetch the ImageNet ones); a real transfer run
loads trained weights into the same graph, which does not change its shape.

The export keeps what cnnc needs to fine-tune the backbone:
  * a dynamic batch axis ("N"), as the DSL's `input image: [N, 3, 224, 224]`;
  * BatchNormalization nodes with their own parameters: eval mode with
    TrainingMode.PRESERVE skips the exporter's Conv+BN folding, and no
    constant folding keeps the initializers as PyTorch names them
    (conv1.weight, bn1.running_mean, layer1.0.conv1.weight, ...), whose first
    component names the importer's parameter groups;
  * opset 13, and node names such as "/fc/Gemm" to cut the graph at.
"""
import sys

import torch
import torchvision


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: export_resnet18.py OUTPUT.onnx\n")
        return 2
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None)
    # Eval mode: BatchNormalization with one output (running statistics are
    # inputs, not updated outputs); PRESERVE below keeps it unfused.
    model.eval()
    example = torch.randn(1, 3, 224, 224)
    torch.onnx.export(
        model,
        example,
        argv[1],
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
