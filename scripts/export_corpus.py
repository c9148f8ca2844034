#!/usr/bin/env python3
"""Exports a corpus of torchvision architectures to ONNX (random weights, never downloaded)
in the ONNX test layout: <out>/<name>/model.onnx and test_data_set_0/{input_0,output_0}.pb,
the reference output computed by torch. The corpus judges schedule rules on shapes the
bundled models lack (benchmarks and tuning, not the unit suite).

  /usr/bin/python3 scripts/export_corpus.py [--out corpus] [--only resnet50,vgg11]

Needs Debian's python3-torch, python3-torchvision and python3-onnx (apt-get install).
"""
import argparse
import os
import sys

import numpy as np
import onnx
import torch
import torchvision.models as tvm
from onnx import numpy_helper

# name: (constructor, input shape, opset). Opset 9 for the model-zoo-era families.
MODELS = {
    'resnet50': (lambda: tvm.resnet50(), (1, 3, 224, 224), 9),
    'densenet121': (lambda: tvm.densenet121(), (1, 3, 224, 224), 9),
    'googlenet': (lambda: tvm.googlenet(aux_logits=False, init_weights=True), (1, 3, 224, 224), 9),
    'inception_v3': (lambda: tvm.inception_v3(aux_logits=False, init_weights=True), (1, 3, 299, 299), 11),
    'vgg11': (lambda: tvm.vgg11(), (1, 3, 224, 224), 9),
    'mnasnet1_0': (lambda: tvm.mnasnet1_0(), (1, 3, 224, 224), 13),
    'regnet_y_400mf': (lambda: tvm.regnet_y_400mf(), (1, 3, 224, 224), 13),
    'convnext_tiny': (lambda: tvm.convnext_tiny(), (1, 3, 224, 224), 13),
    'vit_b_16': (lambda: tvm.vit_b_16(), (1, 3, 224, 224), 13),
    'mobilenet_v3_small': (lambda: tvm.mobilenet_v3_small(), (1, 3, 224, 224), 13),
    'efficientnet_b0': (lambda: tvm.efficientnet_b0(), (1, 3, 224, 224), 13),
    'shufflenet_v2_x1_0': (lambda: tvm.shufflenet_v2_x1_0(), (1, 3, 224, 224), 11),
    'resnext50_32x4d': (lambda: tvm.resnext50_32x4d(), (1, 3, 224, 224), 13),
    'alexnet': (lambda: tvm.alexnet(), (1, 3, 224, 224), 9),
}


def export(name, out):
    ctor, shape, opset = MODELS[name]
    torch.manual_seed(0)
    model = ctor().eval()
    # Random weights give batch-norm statistics of 0/1; perturb them so the folded
    # scales and shifts are not trivial.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    x = torch.rand(*shape) - 0.5
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, 'test_data_set_0'), exist_ok=True)
    path = os.path.join(d, 'model.onnx')
    torch.onnx.export(model, x, path, opset_version=opset, input_names=['input'], output_names=['output'],
                      do_constant_folding=True)
    with torch.no_grad():
        y = model(x)
    for kind, t in (('input', x), ('output', y)):
        p = numpy_helper.from_array(t.numpy().astype(np.float32), kind)
        with open(os.path.join(d, 'test_data_set_0', f'{kind}_0.pb'), 'wb') as f:
            f.write(p.SerializeToString())
    onnx.checker.check_model(path)
    print(f'{name}: opset {opset}, {os.path.getsize(path) / 1e6:.1f} MB', flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default='corpus')
    ap.add_argument('--only', default='')
    args = ap.parse_args()
    names = [n for n in args.only.split(',') if n] or list(MODELS)
    for n in names:
        if n not in MODELS:
            sys.exit(f'unknown model {n}; known: {", ".join(MODELS)}')
        export(n, args.out)


if __name__ == '__main__':
    main()
