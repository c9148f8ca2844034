#!/usr/bin/env python3
"""Exports models for measuring compile time (`tessera inspect --time <model>`): VGG-16 and
VGG-11 (528 and 507 MB of weights; VGG-16 also at opset 9, as model-zoo models are) and a
2-layer LSTM text model (embedding 10k x 256, nn.LSTM(256, 512, num_layers=2) over a fixed
sequence, linear head) at sequence lengths 32 and 128. Weights are random (no download).

Needs torch and torchvision (e.g. Debian's python3-torch and python3-torchvision):
    /usr/bin/python3 scripts/export_compile_models.py OUT_DIR
"""
import os
import sys

import torch
import torch.nn as nn
import torchvision


class LstmText(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10000, 256)
        self.lstm = nn.LSTM(256, 512, num_layers=2)
        self.fc = nn.Linear(512, 10)

    def forward(self, tokens):  # [T, N]
        h, _ = self.lstm(self.emb(tokens))
        return self.fc(h[-1])


def export(model, example, path, opset):
    model.eval()
    # Fixed shapes (dynamic_axes=None): the LSTM's sequence stays a concrete dim.
    torch.onnx.export(model, example, path, opset_version=opset, input_names=['input'],
                      output_names=['output'], dynamic_axes=None, do_constant_folding=True)
    print(f'{path}: {os.path.getsize(path) / 2**20:.0f} MiB')


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else 'compile-models'
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    image = torch.randn(1, 3, 224, 224)
    export(torchvision.models.vgg16(weights=None), image, f'{out}/vgg16.onnx', 13)
    export(torchvision.models.vgg16(weights=None), image, f'{out}/vgg16_op9.onnx', 9)
    export(torchvision.models.vgg11(weights=None), image, f'{out}/vgg11.onnx', 13)
    for steps in (32, 128):
        export(LstmText(), torch.randint(0, 10000, (steps, 1)), f'{out}/lstm_t{steps}.onnx', 13)


if __name__ == '__main__':
    main()
