#!/usr/bin/env python3
"""PyTorch loads an nncl CNN's model file into the same layers and predicts the
same: train a small CNN with every layer kind (conv with same/valid padding
and stride 2, batchnorm after a convolution and after a dense layer, max and
average pooling, dropout) on 1,000 MNIST rows, write 200 held-out images as a
Kaggle-style CSV, run `nncl predict --proba` on them, build the network in
PyTorch from the file's metadata (its layer list and input shape), load the
tensors by name with load_state_dict (strict: every name and shape must
match), and compare the class probabilities: at most 1e-4 apart, the same
argmax. Exit 77 (skipped) without python3-torch.

usage: model_torch.py PATH/TO/nncl SOURCE_DIR
"""
import json
import os
import struct
import subprocess
import sys
import shutil
import tempfile

try:
    import torch
except ImportError:
    print("python3-torch is not installed: skipped")
    sys.exit(77)

LAYERS = "conv:6:3,batchnorm,maxpool:2,conv:8:3:valid:s2,avgpool:2,dropout:0.2,24,batchnorm"


def read_safetensors(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    head = json.loads(data[8:8 + n])
    meta = head.pop("__metadata__")
    body = data[8 + n:]
    tensors = {}
    for name, t in head.items():
        b, e = t["data_offsets"]
        v = torch.frombuffer(bytearray(body[b:e]), dtype=torch.float32).reshape(t["shape"])
        tensors[name] = v
    return meta, tensors


def build(meta, act):
    """The layers of the metadata's list as an nn.ModuleList named layers."""
    c, h, w = (int(v) for v in meta["input_shape"].split(","))
    shape = (c, h, w)
    layers, acts = torch.nn.ModuleList(), []
    items = meta["layers"].split(",")
    for i, item in enumerate(items):
        parts = item.split(":")
        last = i == len(items) - 1
        kind = "dense" if parts[0].isdigit() else parts[0]
        if kind == "dense":
            units = int(parts[-1])
            layers.append(torch.nn.Linear(shape[0] * shape[1] * shape[2], units))
            shape = (units, 1, 1)
            acts.append(None if last else act)
        elif kind == "conv":
            k, s = int(parts[1]), int(parts[2])
            stride, pad = 1, "same"
            for o in parts[3:]:
                if o == "valid":
                    pad = 0
                elif o[0] == "s":
                    stride = int(o[1:])
                elif o[0] == "p":
                    pad = int(o[1:])
            if pad == "same":
                # nncl's "same": out = ceil(in / stride), zeros split, the odd one after
                outs = [-(-n // stride) for n in shape[1:]]
                need = [max((o - 1) * stride + s - n, 0) for o, n in zip(outs, shape[1:])]
                layers.append(torch.nn.Sequential(
                    torch.nn.ZeroPad2d((need[1] // 2, need[1] - need[1] // 2, need[0] // 2, need[0] - need[0] // 2)),
                    torch.nn.Conv2d(shape[0], k, s, stride=stride)))
                shape = (k, outs[0], outs[1])
            else:
                layers.append(torch.nn.Conv2d(shape[0], k, s, stride=stride, padding=pad))
                shape = (k, (shape[1] + 2 * pad - s) // stride + 1, (shape[2] + 2 * pad - s) // stride + 1)
            acts.append(None if last else act)
        elif kind in ("maxpool", "avgpool"):
            win = int(parts[1])
            stride = int(parts[2][1:]) if len(parts) > 2 else win
            cls = torch.nn.MaxPool2d if kind == "maxpool" else torch.nn.AvgPool2d
            layers.append(cls(win, stride))
            shape = (shape[0], (shape[1] - win) // stride + 1, (shape[2] - win) // stride + 1)
            acts.append(None)
        elif kind == "batchnorm":
            cls = torch.nn.BatchNorm2d if shape[1] * shape[2] > 1 else torch.nn.BatchNorm1d
            layers.append(cls(shape[0], eps=1e-5, momentum=0.1))
            acts.append(None)
        elif kind == "dropout":
            layers.append(torch.nn.Dropout(float(parts[1])))
            acts.append(None)
        elif kind == "flatten":
            layers.append(torch.nn.Flatten())
            shape = (shape[0] * shape[1] * shape[2], 1, 1)
            acts.append(None)
        else:
            raise SystemExit("unknown layer " + item)
    return layers, acts, (c, h, w)


class Net(torch.nn.Module):
    def __init__(self, meta):
        super().__init__()
        act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[meta["activation"]]
        self.layers, self.acts, self.in_shape = build(meta, act)

    def forward(self, x):
        x = x.reshape(-1, *self.in_shape)
        for layer, act in zip(self.layers, self.acts):
            if isinstance(layer, torch.nn.Linear) or isinstance(layer, torch.nn.BatchNorm1d):
                x = x.reshape(x.shape[0], -1)
            x = layer(x)
            if act:
                x = act(x)
        return x


def main():
    nncl, src = os.path.abspath(sys.argv[1]), sys.argv[2]
    tmp = tempfile.mkdtemp()
    env = dict(os.environ)
    subprocess.run(["python3", os.path.join(src, "tools", "mnist_to_kaggle_csv.py"),
                    "--mnist-dir", os.path.join(src, "datasets", "mnist"), "--out-dir", tmp,
                    "--train-rows", "1000", "--test-rows", "200"], check=True, stdout=subprocess.DEVNULL)
    run = os.path.join(tmp, "run")
    r = subprocess.run([nncl, "train", "--device", "host", "--data", os.path.join(tmp, "train.csv"), "--layers",
                        LAYERS, "--epochs", "2", "--batch", "32", "--quiet", "--no-report", "--out", run],
                       env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("nncl train failed: " + r.stdout + r.stderr)
    proba_csv = os.path.join(tmp, "proba.csv")
    r = subprocess.run([nncl, "predict", run, "--device", "host", "--data", os.path.join(tmp, "test.csv"), "--proba",
                        "--out", proba_csv], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("nncl predict failed: " + r.stdout + r.stderr)
    rows = open(proba_csv).read().splitlines()
    header = rows[0].split(",")
    cols = list(range(1, len(header)))     # prediction, then one column per class
    nncl_p = torch.tensor([[float(r.split(",")[i]) for i in cols] for r in rows[1:]])

    meta, tensors = read_safetensors(os.path.join(run, "model.safetensors"))
    net = Net(meta)
    state = {k: v for k, v in tensors.items() if k.startswith("layers.")}
    # nn.Sequential(pad, conv) holds the convolution as its element 1
    own = net.state_dict()
    renamed = {}
    for k, v in state.items():
        idx, field = k.split(".")[1], k.split(".", 2)[2]
        key = "layers.%s.%s" % (idx, field)
        if key not in own:
            key = "layers.%s.1.%s" % (idx, field)
        renamed[key] = v
    for k in own:
        if k.endswith("num_batches_tracked"):
            renamed[k] = own[k]
    net.load_state_dict(renamed, strict=True)
    net.eval()
    pixels = [[float(v) for v in r.split(",")] for r in open(os.path.join(tmp, "test.csv")).read().splitlines()[1:]]
    x = (torch.tensor(pixels) - tensors["input.shift"]) * tensors["input.scale"]
    with torch.no_grad():
        p = torch.softmax(net(x), dim=1)
    diff = (p - nncl_p).abs().max().item()
    # the same class wherever the two most likely are more than 1e-3 apart
    top2 = p.topk(2, dim=1).values
    clear = (top2[:, 0] - top2[:, 1]) > 1e-3
    same = bool((p.argmax(1) == nncl_p.argmax(1))[clear].all())
    print("%d images, %d classes: max |p_torch - p_nncl| = %.2g, argmax the same: %s" % (p.shape[0], p.shape[1], diff,
                                                                                         same))
    shutil.rmtree(tmp)
    if not (diff <= 1e-4 and same):
        sys.exit(1)


main()
