#!/bin/sh
# End to end: `nncl check` on host and the first OpenCL device: the table
# (a row per op of NNCL_OPS on the OpenCL device, grad and determinism on
# host, PASS everywhere, the summary), the JSON, --seed repeating a run,
# the exit codes, and comparisons broken on purpose (NNCL_CHECK_INJECT
# perturbs one device value of the named check before it is compared): each
# must exit 1 and name the check that failed.
# usage: e2e_check.sh PATH/TO/nncl SOURCE_DIR
set -u
nncl=$1
src=$2
. "$(dirname "$0")/e2e_lib.sh"

pick_devices
host=$("$nncl" --device list --json | python3 -c "import json,sys; print(json.load(sys.stdin)[-1]['index'])")
ocl=""
case "$devices" in "0 host") ocl=0 ;; esac
if [ "${NNCL_REQUIRE_OPENCL:-0}" = 1 ]; then
    expect "an OpenCL device to check (NNCL_REQUIRE_OPENCL=1)" test -n "$ocl"
fi
# The ops, from the one list of them.
ops=$(sed -n '/^#define NNCL_OPS(X)/,/^$/p' "$src/include/nncl/ops.h" | sed -n 's/.*X(\([a-z0-9_]*\)).*/\1/p')
expect "the op list was read from ops.h" test "$(echo "$ops" | wc -l)" -ge 10

# ---- bad usage: exit 2 --------------------------------------------------------
"$nncl" check --help >"$tmp/help" 2>&1
expect "check --help exits 0" test $? -eq 0
expect "check --help shows usage" grep -q 'usage: nncl check' "$tmp/help"
expect "nncl --help lists check" sh -c "'$nncl' --help | grep -q '^  check '"
for bad in "--frob" "--seed" "--seed abc" "--seed -3" "--device nosuchdevice" "extra"; do
    # shellcheck disable=SC2086
    "$nncl" check $bad >"$tmp/bad.out" 2>"$tmp/bad.err"
    expect "check $bad exits 2" test $? -eq 2
    expect "check $bad says why on stderr" test -s "$tmp/bad.err"
done
NNCL_CHECK_INJECT=nosuchcheck "$nncl" check --quick >/dev/null 2>"$tmp/bad.err"
expect "an unknown NNCL_CHECK_INJECT exits 2" test $? -eq 2

# ---- every device, the table ------------------------------------------------------
"$nncl" check >"$tmp/all" 2>"$tmp/all.err"
expect "check on every device exits 0" test $? -eq 0
expect "the table has its header" grep -q '^dev  *check  *shape  *max abs  *max rel  *tolerance  *ms  *result' "$tmp/all"
expect "the seed is printed" grep -q '^nncl check: seed [0-9][0-9]* (repeat with --seed' "$tmp/all"
expect "no row fails" sh -c "! grep -q ' FAIL$' '$tmp/all'"
expect "the summary says all passed" grep -q '^[0-9]* checks on [0-9]* devices*: all passed in ' "$tmp/all"
expect "host: grad row" grep -q "^$host  *grad .* PASS$" "$tmp/all"
expect "host: determinism row" grep -q "^$host  *determinism .* bits .* PASS$" "$tmp/all"
expect "host is not compared with itself op by op" sh -c "! grep -q '^$host  *gemm ' '$tmp/all'"
if [ -n "$ocl" ]; then
    for op in $ops grad train train-cnn determinism; do
        expect "device $ocl: a passing $op row" grep -q "^$ocl  *$op  .* PASS$" "$tmp/all"
    done
fi
seed=$(sed -n 's/^nncl check: seed \([0-9]*\) .*/\1/p' "$tmp/all")

# ---- JSON, and --seed repeating the shapes ---------------------------------------------
for dev in $devices; do
    "$nncl" check --device "$dev" --seed "$seed" --json >"$tmp/j-$dev" 2>"$tmp/j-$dev.err"
    expect "check --device $dev --json exits 0" test $? -eq 0
    expect "check --device $dev --json: the object" python3 - "$tmp/j-$dev" "$dev" "$seed" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
dev, seed = sys.argv[2], int(sys.argv[3])
assert d["ok"] is True and d["failed"] == 0 and d["seed"] == seed, (d["ok"], d["failed"], d["seed"])
assert len(d["devices"]) == 1, d["devices"]
backend = d["devices"][0]["backend"]
assert (backend == "host") == (dev == "host"), backend
keys = {"device", "check", "shape", "part", "max_abs", "max_rel", "atol", "rtol",
        "error_over_tolerance", "bad", "seconds", "result", "error", "detail"}
for c in d["checks"]:
    assert keys <= set(c), keys - set(c)
    assert c["result"] == "pass" and c["bad"] == 0 and not c["error"], c
    assert c["error_over_tolerance"] <= 1, c
names = [c["check"] for c in d["checks"]]
assert names[-3:] == ["train", "train-cnn", "determinism"] or names == ["grad", "determinism"], names
assert d["passed"] == len(d["checks"])
PY
    # The same seed gives the same shapes as the table's run.
    expect "--seed $seed repeats the shapes on $dev" python3 - "$tmp/j-$dev" "$tmp/all" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
idx = d["devices"][0]["index"]
lines = open(sys.argv[2]).read().splitlines()
if idx is None:  # --device host: the host alone, no listing; its index in the full one
    idx = next(l.split()[1].rstrip(":") for l in lines if l.startswith("device ") and ": host (" in l)
table = [l for l in lines if l.startswith(f"{idx} ")]
assert len(table) == len(d["checks"]), (len(table), len(d["checks"]))
for line, c in zip(table, d["checks"]):
    assert line.split()[1] == c["check"] and c["shape"] in line, (line, c)
PY
done

# The global form picks the device too.
"$nncl" --device host check --quick >"$tmp/g" 2>&1
expect "nncl --device host check exits 0" test $? -eq 0
expect "nncl --device host check runs host's two rows only, without asking OpenCL" sh -c \
    "test \$(grep -c -E ' (PASS|FAIL)$' '$tmp/g') -eq 2 && test \$(grep -c -E '^host +[a-z].* PASS$' '$tmp/g') -eq 2 &&
     grep -q '^(OpenCL not asked: the host was chosen)' '$tmp/g'"

# ---- a broken comparison fails and names the check ----------------------------------------
inject() { # DEVICE CHECK
    NNCL_CHECK_INJECT=$2 "$nncl" check --quick --device "$1" >"$tmp/inj" 2>&1
    expect "NNCL_CHECK_INJECT=$2 on $1 exits 1" test $? -eq 1
    expect "NNCL_CHECK_INJECT=$2 on $1: its row fails" grep -q -E "^$1 +$2 .* FAIL$" "$tmp/inj"
    expect "NNCL_CHECK_INJECT=$2 on $1: only that row fails" test "$(grep -c ' FAIL$' "$tmp/inj")" -eq 1
    expect "NNCL_CHECK_INJECT=$2 on $1: the summary names it" grep -q "1 FAILED (device $1 $2)" "$tmp/inj"
    expect "NNCL_CHECK_INJECT=$2 on $1: the disagreement is shown" grep -q "^  device $1, $2: " "$tmp/inj"
}
inject "$host" grad
inject "$host" determinism
if [ -n "$ocl" ]; then
    for name in gemm softmax_xent linear_u8_head grad train determinism; do
        inject "$ocl" "$name"
    done
    NNCL_CHECK_INJECT=head_xent "$nncl" check --quick --device "$ocl" --json >"$tmp/inj.json" 2>/dev/null
    expect "an injected failure in --json exits 1" test $? -eq 1
    expect "the JSON names the failing check" python3 -c "
import json; d = json.load(open('$tmp/inj.json'))
bad = [c['check'] for c in d['checks'] if c['result'] == 'fail']
assert d['ok'] is False and d['failed'] == 1 and bad == ['head_xent'], bad
assert [c for c in d['checks'] if c['check'] == 'head_xent'][0]['detail']"
fi

finish
