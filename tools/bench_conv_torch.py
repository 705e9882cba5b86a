#!/usr/bin/python3
"""PyTorch's side of tools/bench_conv.c: the same four convolution layers
(batch 128 of 28x28, 'same' padding, relu) and their 2x2 max pooling, timed
the same way (the best of --runs after one warm-up), on the CPU with 2 threads.
Prints one line per layer, "layer I FWD_MS BWD_MS POOL_MS", which bench_conv
reads. With --train, instead: the two CNNs' whole training step (forward,
cross-entropy, backward, Adam; batch --batch of random 28x28 inputs, 10
classes), "train NET SAMPLES_PER_S" per network, the median of --runs timed
rounds of --steps steps after a warm-up (tools/bench_cnn.sh reads these).
Exit 77 when torch is not installed (a benchmark, never a dependency)."""
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


# The two CNNs of issue 13 (tools/bench_conv.c): conv, relu, 2x2 max pool,
# twice, then dense 128 (relu) and 10.
NETS = [("cnn5", 16, 32, 5), ("cnn3", 32, 64, 3)]


def train(args):
    nn = torch.nn
    for name, c1, c2, f in NETS:
        net = nn.Sequential(nn.Conv2d(1, c1, f, padding=f // 2), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(c1, c2, f, padding=f // 2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                            nn.Linear(c2 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        x = torch.rand(args.batch, 1, 28, 28)
        t = torch.randint(0, 10, (args.batch,))

        def step():
            opt.zero_grad()
            F.cross_entropy(net(x), t).backward()
            opt.step()

        for _ in range(3):
            step()
        rates = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            for _ in range(args.steps):
                step()
            rates.append(args.steps * args.batch / (time.perf_counter() - t0))
        rates.sort()
        print(f"train {name} {rates[len(rates) // 2]:.1f}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train", action="store_true", help="the whole training step of the two CNNs")
    ap.add_argument("--steps", type=int, default=10, help="steps per timed round (--train)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.train:
        train(args)
        return
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
