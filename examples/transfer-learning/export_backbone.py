#!/usr/bin/env python3
"""Exports the LeNet-5 of the example (5 classes) to ONNX, untrained.

    export_backbone.py OUT.onnx [SEED]

PyTorch names the parameters after the modules (conv1.weight, fc1.bias,
...), so cnnc groups them as conv1, conv2, fc1, fc2, fc3, and the DSL files
cut the graph before node /fc3/Gemm, the old head.
"""
import sys

import torch
import torch.nn as nn


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 5)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


def main(argv):
    # The initial weights (pretraining on task A starts from them).
    torch.manual_seed(int(argv[2]) if len(argv) > 2 else 0)
    torch.onnx.export(LeNet5(), torch.zeros(1, 1, 28, 28), argv[1],
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}},
                      opset_version=13, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.TRAINING)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
