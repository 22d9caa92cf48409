#!/bin/bash
# Apply times again, from what `BENCH_DIR=DIR BENCH_KEEP=1 npm run bench:ota` left in DIR:
# for each update uN, ROUNDS rounds, OSTree and the agent interleaved, each on a fresh copy
# of the device state that holds the old version. OSTree: `static-delta apply-offline` +
# `checkout`; the agent: `apply` under `python3.11 -I` with the interpreter's own folder first
# on PATH (as on a device with /usr/bin/python3.11, not through pyenv's shim).
# Usage: bench/ota-apply.sh DIR PYTHON [ROUNDS]      (prints one line per round, medians last)
set -euo pipefail
DIR=$1 PY=$2 ROUNDS=${3:-5}
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
for U in "$DIR"/u[0-9]; do
  rev=$(ostree --repo="$U/ostree-srv" rev-parse b)
  o_all=() a_all=()
  for r in $(seq 1 "$ROUNDS"); do
    rm -rf "$DIR/.apply-o" "$DIR/.apply-s"
    cp -a "$U/ostree-dev-base" "$DIR/.apply-o"
    cp -a "$U/slimenv-dev-base" "$DIR/.apply-s"
    sync
    t=$(date +%s%N)
    ostree --repo="$DIR/.apply-o" static-delta apply-offline "$U/ostree.delta"
    ostree --repo="$DIR/.apply-o" checkout "$rev" "$DIR/.apply-o/co"
    o=$(ms "$t")
    t=$(date +%s%N)
    PATH="$(dirname "$PY"):$PATH" "$PY" -I "$DIR/slimenv-agent.py" --root "$DIR/.apply-s" \
      --key "$DIR/fleet.pub" apply "$U/b-from-a.bundle" >/dev/null
    a=$(ms "$t")
    echo "$(basename "$U") round $r: ostree ${o} ms, agent ${a} ms"
    o_all+=("$o") a_all+=("$a")
  done
  med() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
  echo "$(basename "$U") median: ostree $(med "${o_all[@]}") ms, agent $(med "${a_all[@]}") ms"
done
rm -rf "$DIR/.apply-o" "$DIR/.apply-s"
