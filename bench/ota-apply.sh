#!/bin/bash
# Apply times again, from what `BENCH_DIR=DIR BENCH_KEEP=1 npm run bench:ota` left in DIR:
# for each update uN, ROUNDS rounds, OSTree and the agent interleaved (every copy made and
# synced first, then each tool in turn first), each on a fresh copy of the device state that
# holds the old version. OSTree: `static-delta apply-offline` +
# `checkout`; the agent: `apply` under `python3.11 -I -S` with the interpreter's own folder first
# on PATH (as on a device with /usr/bin/python3.11, not through pyenv's shim).
# Usage: bench/ota-apply.sh DIR PYTHON [ROUNDS]      (prints one line per round, medians last)
# Environment: AGENTS="a.py b.py" times each of these agent files in turn (default
# DIR/slimenv-agent.py); WORK=DIR2 makes the fresh copies there instead of in DIR (DIR is then
# only read); UPDATES="u0 u3" picks the updates (default every DIR/uN); PYFLAGS the
# interpreter's flags (default "-I -S", as docs/fleet.md runs the agent: no site-packages, no
# .pth start-up hooks of the machine).
set -euo pipefail
DIR=$1 PY=$2 ROUNDS=${3:-5}
WORK=${WORK:-$DIR}
read -r -a pyflags <<< "${PYFLAGS:--I -S}"
read -r -a agents <<< "${AGENTS:-$DIR/slimenv-agent.py}"
ups=()
if [ -n "${UPDATES:-}" ]; then for u in $UPDATES; do ups+=("$DIR/$u"); done; else ups=("$DIR"/u[0-9]); fi
mkdir -p "$WORK"
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
med() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
for U in "${ups[@]}"; do
  # the new commit: ref "to" (ref "b" in runs before ref names that cannot be read as a hash)
  rev=$(ostree --repo="$U/ostree-srv" rev-parse to 2>/dev/null || ostree --repo="$U/ostree-srv" rev-parse b)
  o_all=()
  declare -A a_all=()
  for r in $(seq 1 "$ROUNDS"); do
    # every device copy made and synced first, then the applies, in turn first: an ext4 mkdir
    # costs 10 or 150 µs depending on what the journal is doing, so all must see the same state
    rm -rf "$WORK/.apply-o" "$WORK"/.apply-s*
    cp -a "$U/ostree-dev-base" "$WORK/.apply-o"
    for i in "${!agents[@]}"; do cp -a "$U/slimenv-dev-base" "$WORK/.apply-s$i"; done
    sync
    order=(o "${!agents[@]}")
    n=${#order[@]}
    shift_by=$(( (r - 1) % n ))
    order=("${order[@]:$shift_by}" "${order[@]:0:$shift_by}")
    line="$(basename "$U") round $r:"
    for who in "${order[@]}"; do
      t=$(date +%s%N)
      if [ "$who" = o ]; then
        ostree --repo="$WORK/.apply-o" static-delta apply-offline "$U/ostree.delta"
        ostree --repo="$WORK/.apply-o" checkout "$rev" "$WORK/.apply-o/co"
        o=$(ms "$t")
        o_all+=("$o")
        line="$line ostree ${o} ms"
      else
        PATH="$(dirname "$PY"):$PATH" "$PY" "${pyflags[@]}" "${agents[$who]}" --root "$WORK/.apply-s$who" \
          --key "$DIR/fleet.pub" apply "$U/b-from-a.bundle" >/dev/null
        a=$(ms "$t")
        a_all[$who]="${a_all[$who]:-} $a"
        line="$line agent${who} ${a} ms"
      fi
    done
    echo "$line"
  done
  line="$(basename "$U") median: ostree $(med "${o_all[@]}") ms"
  for i in "${!agents[@]}"; do
    # shellcheck disable=SC2086
    line="$line, agent${i} $(med ${a_all[$i]}) ms"
  done
  echo "$line"
  unset a_all
done
rm -rf "$WORK/.apply-o" "$WORK"/.apply-s*
