#!/bin/sh
# Put Fashion-MNIST into datasets/fashion-mnist/ under its standard IDX names.
#
#   tools/fetch_fashion_mnist.sh [--copy] [TARGET_DIR]
#
# The data come from Debian's package dataset-fashion-mnist (installed with
# apt-get if missing; that needs root or sudo). By default the four files are
# symbolic links to /usr/share/datasets/fashion-mnist; --copy copies them.
# TARGET_DIR defaults to datasets/fashion-mnist in the source tree.
# nncl finds the Debian directory by itself too (nncl_data_resolve); this
# script is for a self-contained tree or `meson install`.
set -eu

copy=0
if [ "${1:-}" = "--copy" ]; then copy=1; shift; fi
root=$(cd "$(dirname "$0")/.." && pwd)
target=${1:-$root/datasets/fashion-mnist}
src=/usr/share/datasets/fashion-mnist
files="train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz"

if [ ! -f "$src/train-images-idx3-ubyte.gz" ]; then
    echo "fetch_fashion_mnist.sh: installing Debian's dataset-fashion-mnist" >&2
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update && apt-get install -y dataset-fashion-mnist
    elif command -v sudo >/dev/null 2>&1; then
        sudo apt-get update && sudo apt-get install -y dataset-fashion-mnist
    else
        echo "fetch_fashion_mnist.sh: run as root: apt-get install dataset-fashion-mnist" >&2
        exit 1
    fi
fi

mkdir -p "$target"
for f in $files; do
    if [ ! -f "$src/$f" ]; then
        echo "fetch_fashion_mnist.sh: $src/$f is missing (dpkg -L dataset-fashion-mnist)" >&2
        exit 1
    fi
    rm -f "$target/$f"
    if [ $copy -eq 1 ]; then cp "$src/$f" "$target/$f"; else ln -s "$src/$f" "$target/$f"; fi
done
echo "fetch_fashion_mnist.sh: $target ready ($(if [ $copy -eq 1 ]; then echo copies; else echo links; fi) of $src)" >&2
