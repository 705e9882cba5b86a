#!/usr/bin/python3
"""conv2d_fwd, conv2d_bwd and pool2d on every nncl device against PyTorch
(torch.nn.functional.conv2d, max_pool2d, avg_pool2d and their autograd
gradients) on the same numbers, which tests/conv_dump.c writes.
Exit 77 (skipped) when torch is not installed.

Tolerance: |nncl - torch| <= 1e-5 + 1e-4 |torch| for every value (both sides
sum O(100) float products of numbers in [-1, 1] in different orders).
usage: conv_torch.py PATH/TO/conv_dump"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print(f"conv_torch: skipped, {e}")
    sys.exit(77)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "conv.bin")
        subprocess.run([sys.argv[1], path], check=True)
        with open(path, "rb") as f:
            meta = json.loads(f.readline())
            data = np.frombuffer(f.read(), dtype="<f4")
    pos = 0

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        a = torch.from_numpy(data[pos:pos + n].copy()).reshape(shape)
        pos += n
        return a

    failures = 0

    def compare(what, got, want):
        nonlocal failures
        err = (got - want).abs()
        bound = 1e-5 + 1e-4 * want.abs()
        if bool((err > bound).any()):
            failures += 1
            i = int((err - bound).argmax())
            print(f"FAIL {what}: element {i} is {got.flatten()[i]:.9g}, torch {want.flatten()[i]:.9g}")
        else:
            print(f"ok   {what}: max |difference| {float(err.max()):.3g}")

    for d, dev in enumerate(meta["devices"]):
        for s in meta["convs"]:
            x = take(s["n"], s["c"], s["h"], s["w"]).requires_grad_(True)
            w = take(s["k"], s["c"], s["kh"], s["kw"]).requires_grad_(True)
            b = take(s["k"]).requires_grad_(True)
            dy = take(s["n"], s["k"], s["oh"], s["ow"])
            y, dx, dw, db = (take(s["n"], s["k"], s["oh"], s["ow"]), take(s["n"], s["c"], s["h"], s["w"]),
                             take(s["k"], s["c"], s["kh"], s["kw"]), take(s["k"]))
            st = s["stride"]
            # nncl's padding may be one larger after than before ('same' with an
            # even filter): pad explicitly, as much as the last window needs.
            after_h = max(0, (s["oh"] - 1) * st + s["kh"] - s["h"] - s["pad_h"])
            after_w = max(0, (s["ow"] - 1) * st + s["kw"] - s["w"] - s["pad_w"])
            xp = F.pad(x, (s["pad_w"], after_w, s["pad_h"], after_h))
            ty = F.conv2d(xp, w, b, stride=st)
            assert ty.shape == y.shape, (ty.shape, y.shape)
            ty.backward(dy)
            name = f"device {d} ({dev}) conv {s['n']}x{s['c']}x{s['h']}x{s['w']} k{s['k']} {s['kh']}x{s['kw']} s{st}"
            compare(name + " y", y, ty.detach())
            compare(name + " dx", dx, x.grad)
            compare(name + " dw", dw, w.grad)
            compare(name + " db", db, b.grad)
        for s in meta["pools"]:
            x = take(s["n"], s["c"], s["h"], s["w"])
            dy = take(s["n"], s["c"], s["oh"], s["ow"])
            for kind, fn in (("max", F.max_pool2d), ("avg", F.avg_pool2d)):
                y, dx = take(s["n"], s["c"], s["oh"], s["ow"]), take(s["n"], s["c"], s["h"], s["w"])
                xt = x.clone().requires_grad_(True)
                ty = fn(xt, s["window"], s["stride"])
                ty.backward(dy)
                name = f"device {d} ({dev}) {kind}pool {s['h']}x{s['w']} window {s['window']} stride {s['stride']}"
                compare(name + " y", y, ty.detach())
                compare(name + " dx", dx, xt.grad)
    assert pos == len(data), (pos, len(data))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
