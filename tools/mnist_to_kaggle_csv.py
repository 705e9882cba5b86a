#!/usr/bin/env python3
"""Make Kaggle "Digit Recognizer"-style CSV files from the MNIST IDX files.

train.csv: header label,pixel0,...,pixel783; the first TRAIN_ROWS (42,000)
           images of MNIST's training set.
test.csv:  header pixel0,...,pixel783 (no label); TEST_ROWS (28,000) images
           that are not in train.csv: the rest of the training set
           (images 42,000..59,999), then the t10k set.
--solution FILE also writes the test labels as a Kaggle submission
           (ImageId,Label), to score predictions against.

Standard library only. Reads datasets/mnist/*-idx?-ubyte[.gz] (gzip by magic
bytes) or another directory given with --mnist-dir.

  tools/mnist_to_kaggle_csv.py --out-dir /tmp/kaggle
  tools/mnist_to_kaggle_csv.py --train-rows 1000 --test-rows 500 --out-dir small
"""
import argparse
import gzip
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MNIST = os.path.join(HERE, "..", "datasets", "mnist")


def read_idx(directory, base, magic):
    for name in (base, base + ".gz"):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            break
    else:
        sys.exit(f"mnist_to_kaggle_csv: {os.path.join(directory, base)}[.gz] not found")
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    (got,) = struct.unpack(">I", data[:4])
    if got != magic:
        sys.exit(f"mnist_to_kaggle_csv: {path}: bad magic number 0x{got:08x}, expected 0x{magic:08x}")
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    body = data[4 + 4 * dims:]
    size = 1
    for s in shape:
        size *= s
    if len(body) != size:
        sys.exit(f"mnist_to_kaggle_csv: {path}: {len(body)} data bytes, header says {size}")
    return shape, body


def write_atomic(path, lines):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="\n") as f:
        for line in lines:
            f.write(line)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mnist-dir", default=DEFAULT_MNIST,
                    help="directory with the MNIST IDX files (default: %(default)s)")
    ap.add_argument("--out-dir", default=".", help="where to write train.csv and test.csv (default: .)")
    ap.add_argument("--train-rows", type=int, default=42000, help="rows of train.csv (default: 42000)")
    ap.add_argument("--test-rows", type=int, default=28000, help="rows of test.csv (default: 28000)")
    ap.add_argument("--solution", metavar="FILE",
                    help="also write test.csv's labels as ImageId,Label to FILE")
    a = ap.parse_args()

    (n_tr, h, w), tr_img = read_idx(a.mnist_dir, "train-images-idx3-ubyte", 0x803)
    (n_trl,), tr_lab = read_idx(a.mnist_dir, "train-labels-idx1-ubyte", 0x801)
    (n_te, h2, w2), te_img = read_idx(a.mnist_dir, "t10k-images-idx3-ubyte", 0x803)
    (n_tel,), te_lab = read_idx(a.mnist_dir, "t10k-labels-idx1-ubyte", 0x801)
    if n_tr != n_trl or n_te != n_tel or (h, w) != (h2, w2):
        sys.exit("mnist_to_kaggle_csv: image and label counts or sizes disagree")
    px = h * w
    images = tr_img + te_img
    labels = tr_lab + te_lab
    total = n_tr + n_te
    if a.train_rows < 0 or a.test_rows < 0 or a.train_rows + a.test_rows > total:
        sys.exit(f"mnist_to_kaggle_csv: --train-rows + --test-rows must be at most {total}")

    num = [str(i) for i in range(256)]
    pix_header = ",".join(f"pixel{i}" for i in range(px))

    def rows(start, count, with_label):
        for r in range(start, start + count):
            cells = ",".join(map(num.__getitem__, images[r * px:(r + 1) * px]))
            yield (f"{labels[r]}," if with_label else "") + cells + "\n"

    os.makedirs(a.out_dir, exist_ok=True)
    train = os.path.join(a.out_dir, "train.csv")
    test = os.path.join(a.out_dir, "test.csv")
    write_atomic(train, [f"label,{pix_header}\n", *rows(0, a.train_rows, True)])
    write_atomic(test, [f"{pix_header}\n", *rows(a.train_rows, a.test_rows, False)])
    if a.solution:
        write_atomic(a.solution, ["ImageId,Label\n"] +
                     [f"{i + 1},{labels[a.train_rows + i]}\n" for i in range(a.test_rows)])
    print(f"wrote {train} ({a.train_rows} rows) and {test} ({a.test_rows} rows)", file=sys.stderr)


if __name__ == "__main__":
    main()
