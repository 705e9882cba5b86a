# Sourced by the tools/bench_*.sh scripts: what every benchmark prints first,
# so that a figure always travels with the machine it was measured on.

# "cpu: MODEL; N cores; ISA; load A B C" and, after it, the caller's words.
bench_cpu_line() {
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(nproc) cores;" \
         "$(grep -q avx512f /proc/cpuinfo && echo avx512f || echo avx2); load $(cut -d' ' -f1-3 /proc/loadavg)${1:+; $1}"
}
