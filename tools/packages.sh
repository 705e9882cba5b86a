# Sourced by the tools/ scripts: install the Debian packages given that are
# not installed yet (apt-get, as root or through sudo), and nothing else.
#   ensure_packages WHO PACKAGE...
ensure_packages() {
    who=$1
    shift
    missing=""
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
            missing="$missing $p"
        fi
    done
    [ -n "$missing" ] || return 0
    echo "$who: installing:$missing" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
}
