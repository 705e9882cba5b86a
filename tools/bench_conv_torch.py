#!/usr/bin/python3
"""PyTorch's side of tools/bench_conv.c: the same four convolution layers
(batch 128 of 28x28, 'same' padding, relu) and their 2x2 max pooling, timed
the same way (the best of --runs after one warm-up), on the CPU with 2 threads.
Prints one line per layer, "layer I FWD_MS BWD_MS POOL_MS", which bench_conv
reads. Exit 77 when torch is not installed (a benchmark, never a dependency)."""
import argparse
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("bench_conv_torch: torch is not installed", file=sys.stderr)
    sys.exit(77)

LAYERS = [(1, 28, 16, 5, False), (16, 14, 32, 5, True), (1, 28, 32, 3, False), (32, 14, 64, 3, True)]


def best_ms(fn, runs):
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for i, (c, hw, k, f, needs_dx) in enumerate(LAYERS):
        x = torch.rand(args.batch, c, hw, hw) - 0.5
        x.requires_grad_(needs_dx)
        w = (torch.rand(k, c, f, f) - 0.5).requires_grad_(True)
        b = (torch.rand(k) - 0.5).requires_grad_(True)
        dy = torch.rand(args.batch, k, hw, hw) - 0.5

        def fwd():
            with torch.no_grad():
                return F.relu(F.conv2d(x, w, b, padding="same"))

        # The backward alone: a graph built outside the timed call, kept.
        def bwd():
            z = F.conv2d(x, w, b, padding="same")
            t0 = time.perf_counter()
            z.backward(dy)
            return time.perf_counter() - t0

        bwd()
        bwd_ms = min(bwd() * 1e3 for _ in range(args.runs))
        y = fwd().requires_grad_(True)
        pdy = torch.rand(args.batch, k, hw // 2, hw // 2) - 0.5

        def pool():
            p = F.max_pool2d(y, 2)
            p.backward(pdy)

        print(f"layer {i} {best_ms(fwd, args.runs):.3f} {bwd_ms:.3f} {best_ms(pool, args.runs):.3f}",
              flush=True)


if __name__ == "__main__":
    main()
