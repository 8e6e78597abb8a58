"""Exports small PyTorch models to ONNX for the importer's lit tests.

Usage: torch_models.py CASE OUTPUT

The models are what users feed cnnc: torch.onnx.export with a dynamic batch
dimension, so the graphs hold PyTorch's own shape computations (Shape,
Gather, Unsqueeze, Concat...) and naming ("/conv1/Conv", "fc1.weight").
"""
import sys
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

warnings.filterwarnings("ignore")
torch.manual_seed(0)


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class ConvBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1),
                                    nn.BatchNorm2d(8))
        # Trained statistics differ from the initial ones: no tied weights.
        with torch.no_grad():
            self.layer1[1].running_mean.uniform_(-1, 1)
            self.layer1[1].running_var.uniform_(0.5, 2)
            self.layer1[1].weight.uniform_(0.5, 2)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        return F.relu(self.layer1(x))


class PadClip(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3)
        self.act = nn.ReLU6()

    def forward(self, x):
        x = F.pad(x, (1, 2, 3, 4))
        return self.act(self.conv(x))


def export(module, shape, path, **kwargs):
    module.eval()
    torch.onnx.export(module, torch.randn(*shape), path, input_names=["input"],
                      output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
                      **kwargs)


if __name__ == "__main__":
    case, out = sys.argv[1], sys.argv[2]
    if case == "lenet":
        export(LeNet5(), (2, 1, 28, 28), out, opset_version=13)
    elif case == "batchnorm":
        # Without constant folding the BatchNormalization nodes are kept.
        export(ConvBN(), (2, 3, 8, 8), out, opset_version=13,
               training=torch.onnx.TrainingMode.PRESERVE,
               do_constant_folding=False)
    elif case == "padclip":
        export(PadClip(), (2, 2, 9, 9), out, opset_version=13)
    else:
        sys.exit("unknown case " + case)
