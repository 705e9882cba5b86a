#!/usr/bin/python3
"""The classic "simple MNIST neural network from scratch in numpy" tutorial
(Samson Zhang's Kaggle notebook), reproduced as it is: 784-10-10, ReLU then
softmax, W and b from np.random.rand(..) - 0.5, one-hot labels, full-batch
gradient descent, alpha 0.1, 500 iterations, training accuracy printed every
10 iterations. Its quirks are kept on purpose:

  * m = 42000 is taken from the whole table before the dev split, so the
    gradients of the 41,000 training columns are divided by 42,000;
  * db = 1/m * np.sum(dZ): one scalar over all units and columns, added to
    every unit's bias;
  * softmax without subtracting the maximum, with Python's sum() over rows.

The only change: instead of Kaggle's train.csv (42,000 rows of label + 784
pixels), the table is 42,000 of the 60,000 MNIST training images from
datasets/mnist/*.gz, taken after a seeded shuffle (the tutorial shuffles the
table too), in the same layout (an int64 table, label first). The first
1,000 rows are the dev set, the other 41,000 the training set, as in the
original.

A benchmark companion of `nncl train --preset tutorial` and
`--preset tutorial-faithful` (tools/bench_train.sh). The time printed is the
500 iterations only (not loading), including the tutorial's own accuracy
prints every 10 iterations.

usage: /usr/bin/python3 tools/tutorial_numpy.py [--dtype float32|float64]
           [--iterations 500] [--seed 0] [--data DIR] [--json FILE] [--quiet]
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float64",
                    help="float64 is what the tutorial computes in (default)")
    ap.add_argument("--iterations", type=int, default=500)
    ap.add_argument("--alpha", type=float, default=0.10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rows", type=int, default=42000, help="rows of the table (Kaggle's train.csv has 42,000)")
    ap.add_argument("--data", default=os.path.join(ROOT, "datasets", "mnist"))
    ap.add_argument("--json", help="write the timings and accuracies here")
    ap.add_argument("--quiet", action="store_true", help="do not print every 10th iteration")
    args = ap.parse_args()
    dt = np.dtype(args.dtype)

    t_load = time.perf_counter()
    images = load_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz")).reshape(-1, 784)
    labels = load_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz"))
    np.random.seed(args.seed)
    pick = np.random.permutation(images.shape[0])[:args.rows]
    # The Kaggle table: one row per image, the label first, int64 as pandas reads it.
    data = np.concatenate([labels[pick, None], images[pick]], axis=1).astype(np.int64)

    # ---- from here on, the tutorial ----
    m, n = data.shape
    np.random.shuffle(data)

    data_dev = data[0:1000].T
    Y_dev = data_dev[0]
    X_dev = data_dev[1:n]
    X_dev = (X_dev / 255.).astype(dt, copy=False)

    data_train = data[1000:m].T
    Y_train = data_train[0]
    X_train = data_train[1:n]
    X_train = (X_train / 255.).astype(dt, copy=False)
    _, m_train = X_train.shape
    load_seconds = time.perf_counter() - t_load

    def init_params():
        W1 = (np.random.rand(10, 784) - 0.5).astype(dt, copy=False)
        b1 = (np.random.rand(10, 1) - 0.5).astype(dt, copy=False)
        W2 = (np.random.rand(10, 10) - 0.5).astype(dt, copy=False)
        b2 = (np.random.rand(10, 1) - 0.5).astype(dt, copy=False)
        return W1, b1, W2, b2

    def ReLU(Z):
        return np.maximum(Z, 0)

    def softmax(Z):
        A = np.exp(Z) / sum(np.exp(Z))
        return A

    def forward_prop(W1, b1, W2, b2, X):
        Z1 = W1.dot(X) + b1
        A1 = ReLU(Z1)
        Z2 = W2.dot(A1) + b2
        A2 = softmax(Z2)
        return Z1, A1, Z2, A2

    def ReLU_deriv(Z):
        return Z > 0

    def one_hot(Y):
        one_hot_Y = np.zeros((Y.size, Y.max() + 1), dtype=dt)
        one_hot_Y[np.arange(Y.size), Y] = 1
        one_hot_Y = one_hot_Y.T
        return one_hot_Y

    def backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y):
        one_hot_Y = one_hot(Y)
        dZ2 = A2 - one_hot_Y
        dW2 = 1 / m * dZ2.dot(A1.T)
        db2 = 1 / m * np.sum(dZ2)
        dZ1 = W2.T.dot(dZ2) * ReLU_deriv(Z1)
        dW1 = 1 / m * dZ1.dot(X.T)
        db1 = 1 / m * np.sum(dZ1)
        return dW1, db1, dW2, db2

    def update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, alpha):
        W1 = W1 - alpha * dW1
        b1 = b1 - alpha * db1
        W2 = W2 - alpha * dW2
        b2 = b2 - alpha * db2
        return W1, b1, W2, b2

    def get_predictions(A2):
        return np.argmax(A2, 0)

    def get_accuracy(predictions, Y):
        return np.sum(predictions == Y) / Y.size

    def gradient_descent(X, Y, alpha, iterations):
        W1, b1, W2, b2 = init_params()
        for i in range(iterations):
            Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, X)
            dW1, db1, dW2, db2 = backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y)
            W1, b1, W2, b2 = update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, alpha)
            if i % 10 == 0:
                predictions = get_predictions(A2)
                acc = get_accuracy(predictions, Y)
                if not args.quiet:
                    print("Iteration: ", i, " accuracy", acc, flush=True)
        return W1, b1, W2, b2

    def make_predictions(X, W1, b1, W2, b2):
        _, _, _, A2 = forward_prop(W1, b1, W2, b2, X)
        return get_predictions(A2)

    with np.errstate(over="ignore", invalid="ignore"):
        t0 = time.perf_counter()
        W1, b1, W2, b2 = gradient_descent(X_train, Y_train, args.alpha, args.iterations)
        seconds = time.perf_counter() - t0
        train_acc = get_accuracy(make_predictions(X_train, W1, b1, W2, b2), Y_train)
        dev_acc = get_accuracy(make_predictions(X_dev, W1, b1, W2, b2), Y_dev)
    assert W1.dtype == dt and b1.dtype == dt and W2.dtype == dt and b2.dtype == dt, "a parameter changed dtype"

    result = {"dtype": args.dtype, "iterations": args.iterations, "seconds": seconds,
              "load_seconds": load_seconds, "train_rows": int(m_train), "m": int(m),
              "train_accuracy": float(train_acc), "dev_accuracy": float(dev_acc), "seed": args.seed}
    print("%s: %d iterations in %.2f s (loading %.2f s); train accuracy %.4f, dev accuracy %.4f"
          % (args.dtype, args.iterations, seconds, load_seconds, train_acc, dev_acc))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
