#!/usr/bin/env python3
"""An independent reader of nncl's model.safetensors, standard library only.

Checks the file against the safetensors format (u64 little-endian header
length, JSON header, data offsets that tile the data section exactly), that the
tensors have the documented names and shapes, and optionally runs the network
in plain Python on MNIST test images to compare with `nncl predict`.

usage: read_safetensors.py MODEL [--predict IDX_IMAGES_GZ N PREDICTIONS_FILE]
Exits non-zero with a message on any mismatch.
"""
import gzip
import json
import math
import struct
import sys


def fail(msg):
    print(f"read_safetensors: {msg}", file=sys.stderr)
    sys.exit(1)


def load(path):
    data = open(path, "rb").read()
    if len(data) < 8:
        fail("file shorter than 8 bytes")
    (hlen,) = struct.unpack("<Q", data[:8])
    if hlen > len(data) - 8:
        fail("header length beyond the file")
    header = json.loads(data[8:8 + hlen].decode("utf-8"))
    body = data[8 + hlen:]
    meta = header.pop("__metadata__", None)
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        fail("__metadata__ missing or not all strings")
    tensors, spans = {}, []
    for name, t in header.items():
        if t["dtype"] != "F32":
            fail(f"{name}: dtype {t['dtype']}")
        begin, end = t["data_offsets"]
        count = 1
        for d in t["shape"]:
            count *= d
        if end - begin != 4 * count:
            fail(f"{name}: {end - begin} bytes for shape {t['shape']}")
        spans.append((begin, end))
        tensors[name] = (t["shape"], struct.unpack(f"<{count}f", body[begin:end]))
    spans.sort()
    pos = 0
    for begin, end in spans:
        if begin != pos:
            fail("data offsets leave a gap or overlap")
        pos = end
    if pos != len(body):
        fail("data section longer than the tensors")
    return meta, tensors


def check_layout(meta, tensors):
    sizes = [int(s) for s in meta["layers"].split(",")]
    for i in range(len(sizes) - 1):
        w, b = f"layers.{i}.weight", f"layers.{i}.bias"
        if tensors[w][0] != [sizes[i + 1], sizes[i]]:
            fail(f"{w} has shape {tensors[w][0]}, expected [{sizes[i + 1]}, {sizes[i]}]")
        if tensors[b][0] != [sizes[i + 1]]:
            fail(f"{b} has shape {tensors[b][0]}")
    for t in ("input.shift", "input.scale"):
        if tensors[t][0] != [sizes[0]]:
            fail(f"{t} has shape {tensors[t][0]}")
    if meta.get("format") != "nncl":
        fail("metadata format is not nncl")
    json.loads(meta["class_names"])
    return sizes


def act(name, x):
    if name == "relu":
        return x if x > 0 else 0.0
    if name == "leaky_relu":
        return x if x > 0 else x * float(meta_global["activation_param"])
    if name == "sigmoid":
        return 1 / (1 + math.exp(-x))
    if name == "tanh":
        return math.tanh(x)
    return x


def predict(meta, tensors, sizes, image):
    shift, scale = tensors["input.shift"][1], tensors["input.scale"][1]
    a = [(image[j] - shift[j]) * scale[j] for j in range(sizes[0])]
    for l in range(len(sizes) - 1):
        W, b = tensors[f"layers.{l}.weight"][1], tensors[f"layers.{l}.bias"][1]
        n_in, n_out = sizes[l], sizes[l + 1]
        z = [b[o] + sum(W[o * n_in + i] * a[i] for i in range(n_in)) for o in range(n_out)]
        last = l == len(sizes) - 2
        a = z if last else [act(meta["activation"], v) for v in z]
    return max(range(len(a)), key=lambda k: a[k])


def usage(msg):
    print(f"read_safetensors: {msg}", file=sys.stderr)
    print("usage: read_safetensors.py MODEL [--predict IDX_IMAGES_GZ N PREDICTIONS_FILE]", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    # Exactly MODEL, or MODEL --predict IMAGES N PREDICTIONS: anything else is
    # refused, so a caller's typo cannot skip the comparison and still say ok.
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        usage("expected MODEL as the first argument")
    if len(args) != 1 and (args[1] != "--predict" or len(args) != 5):
        usage(f"unexpected arguments: {' '.join(args[1:])}")
    n = 0
    if len(args) == 5:
        try:
            n = int(args[3])
        except ValueError:
            n = 0
        if n <= 0:
            usage(f"--predict N must be a positive integer, got '{args[3]}'")
    meta, tensors = load(args[0])
    meta_global = meta
    sizes = check_layout(meta, tensors)
    print(f"ok: layers {sizes}, activation {meta['activation']}, {len(tensors)} tensors")
    if len(args) == 5:
        images_path, preds_path = args[2], args[4]
        raw = gzip.open(images_path).read() if images_path.endswith(".gz") else open(images_path, "rb").read()
        magic, count, h, w = struct.unpack(">IIII", raw[:16])
        names = json.loads(meta["class_names"])
        lines = open(preds_path).read().split("\n")[1:]
        if n > count or n > len(lines):
            fail(f"--predict {n}: only {count} images and {len(lines)} prediction lines")
        for i in range(n):
            image = raw[16 + i * h * w:16 + (i + 1) * h * w]
            mine = names[predict(meta, tensors, sizes, image)]
            if lines[i] != mine:
                fail(f"image {i}: Python says {mine}, nncl predict says {lines[i]}")
        print(f"ok: {n} predictions agree with nncl predict")
