# Sourced by the tools/bench_*.sh scripts: what every benchmark prints first,
# so that a figure always travels with the machine it was measured on.

# OpenBLAS (numpy's, PyTorch's, nncl's host backend) has taken this AVX-512
# machine for a Prescott on some boots (tools/BENCHMARKS.md): name its core
# where the CPU has AVX-512, so every peer runs its real kernels.
bench_blas_core() {
    if grep -q avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; fi
}

# "cpu: MODEL; N cores; ISA; load A B C" and, after it, the caller's words.
bench_cpu_line() {
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(nproc) cores;" \
         "$(grep -q avx512f /proc/cpuinfo && echo avx512f || echo avx2); load $(cut -d' ' -f1-3 /proc/loadavg)${1:+; $1}"
}
