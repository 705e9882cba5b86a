#!/bin/sh
# nncl's training against PyTorch (CPU, 2 threads) and the numpy "from
# scratch" tutorial, in one invocation with the runs interleaved:
#   (a) samples/s of 784-128-10 at batch 128 with Adam, torch tuned/untuned vs nncl on each device
#   (b) time to 98% test accuracy: torch 784-512-256-10 vs the bare `nncl train`
#   (c) tools/tutorial_numpy.py (float32, float64) vs `nncl train --preset tutorial[-faithful]`
# A benchmark, not a test: on a shared machine compare the ratios within one
# run. Prints markdown tables (progress goes to stderr).
#
# usage: tools/bench_train.sh [--sections a,b,c] [--devices 0,1] [--runs 3] [--seeds 3]
#                             [--nncl-runs 1] [--tutorial-runs 1] [--progressive] ...
#   (all options: /usr/bin/python3 tools/bench_torch.py compare --help)
#
# Needs Debian's python3-torch and python3-numpy (installed here when missing)
# and runs them with /usr/bin/python3, whatever python3 is first on PATH.
set -eu
cd "$(dirname "$0")/.."
. tools/packages.sh
ensure_packages bench_train python3-numpy python3-torch
if [ ! -f build/build.ninja ]; then
    sh tools/setup.sh >&2
fi
ninja -C build nncl >&2 || [ -x build/nncl ] || { echo "bench_train: no build/nncl" >&2; exit 1; }
exec /usr/bin/python3 tools/bench_torch.py compare "$@"
