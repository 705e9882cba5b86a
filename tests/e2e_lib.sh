# Shared by the end-to-end scripts (sourced): a temporary folder removed on
# exit, pass/fail counting, and the closing "N passed, N failed" line.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
pass=0
ok() { pass=$((pass + 1)); }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# expect DESCRIPTION COMMAND...: the command must succeed.
expect() {
    d=$1; shift
    if "$@"; then ok; else fail "$d"; fi
}
# json FILE EXPR: print a Python expression over the parsed JSON file d.
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# The devices to exercise: the first OpenCL device (if any) and host.
pick_devices() {
    devices="host"
    if "$nncl" --device list --json | python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)[0]['backend']=='opencl' else 1)"; then
        devices="0 host"
    fi
}
# same_metrics RUN_A RUN_B: both runs wrote a metrics.csv with at least one
# epoch row, and the two agree in every column but the last (seconds).
same_metrics() {
    for sm_run in "$1" "$2"; do
        [ -s "$sm_run/metrics.csv" ] && [ "$(wc -l <"$sm_run/metrics.csv")" -ge 2 ] || return 1
    done
    cut -d, -f1-7 "$1/metrics.csv" >"$tmp/same-a" && cut -d, -f1-7 "$2/metrics.csv" >"$tmp/same-b" &&
        cmp -s "$tmp/same-a" "$tmp/same-b"
}
finish() {
    echo "$pass passed, $fails failed"
    [ "$fails" -eq 0 ]
}
