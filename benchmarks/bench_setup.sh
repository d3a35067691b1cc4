#!/usr/bin/env bash
# Set-up time from a fresh clone (docs/facilitator.md, "Set-up time"): `make .venv/.installed`, which is
# what `make lab` and `make test` do before starting anything, with pip or uv, from the package index or
# from wheelhouse/ offline (under `unshare -n`: no network interface at all; needs root).
# Each run gets an empty pip/uv cache, and the machine's own pip settings are ignored.
# Not part of `make test` or `make bench`: it downloads about 180 MB several times.
#   bash benchmarks/bench_setup.sh [repository]        # default: this clone's committed HEAD
set -euo pipefail
REPO=$(cd "${1:-$(dirname "$0")/..}" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export PIP_CONFIG_FILE=/dev/null
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL
offline() { if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then unshare -n "$@"; else "$@"; fi; }
clone() { local d; d=$(mktemp -d "$WORK/clone.XXXX"); git clone -q "$REPO" "$d"; echo "$d"; }
timed() {   # label, command...: prints the label, seconds and load average
    local label=$1; shift
    local start end; start=$(date +%s.%N)
    if "$@" > "$WORK/log" 2>&1; then status=ok; else status="FAILED (see below)"; fi
    end=$(date +%s.%N)
    printf '%-58s %6.0f s  %s  load %s\n' "$label" "$(echo "$end - $start" | bc)" "$status" "$(cut -d' ' -f1-3 /proc/loadavg)"
    [ "$status" = ok ] || tail -20 "$WORK/log"
}
python3 -m venv "$WORK/uv" && "$WORK/uv/bin/pip" install -q uv
UV="$WORK/uv/bin"
echo "$(nproc) CPUs, $(free -g | awk '/Mem:/ {print $2}') GiB; $(python3 --version); $("$UV/uv" --version)"

c=$(clone); cd "$c"; export PIP_CACHE_DIR="$WORK/cache-a"
timed "make lab, pip, from the package index" make .venv/.installed
export PIP_CACHE_DIR="$WORK/cache-b"
timed "make wheelhouse" make wheelhouse
echo "  wheelhouse: $(ls wheelhouse/*.whl | wc -l) wheels, $(du -sh wheelhouse | cut -f1)"
HOUSE="$c/wheelhouse"

c=$(clone); cd "$c"; cp -r "$HOUSE" .; export PIP_CACHE_DIR="$WORK/cache-c"
timed "make lab, pip, from wheelhouse/, offline" offline make .venv/.installed
.venv/bin/python -c "import labkit, jupyterlab, moto" && echo "  the offline .venv imports labkit, jupyterlab, moto"

c=$(clone); cd "$c"; export UV_CACHE_DIR="$WORK/cache-d"
timed "make lab INSTALLER=uv, from the package index" env PATH="$UV:$PATH" make .venv/.installed INSTALLER=uv

c=$(clone); cd "$c"; cp -r "$HOUSE" .; export UV_CACHE_DIR="$WORK/cache-e"
timed "make lab INSTALLER=uv, from wheelhouse/, offline" offline env PATH="$UV:$PATH" make .venv/.installed INSTALLER=uv
.venv/bin/python -c "import labkit, jupyterlab, moto" && echo "  the offline .venv imports labkit, jupyterlab, moto"
