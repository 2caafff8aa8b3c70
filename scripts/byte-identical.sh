#!/usr/bin/env bash
# Shows that a refactor changed no result: builds two commits, runs every library scenario
# (run with 3 replications; sweep where the file has [[sweep.axis]]; search where it has
# [slo]) plus the policy-coverage scenarios in scripts/byte-identical/, and compares
# summary.json, results.csv, timeline.csv, search.json and search.csv byte for byte.
#
#   scripts/byte-identical.sh BASE [HEAD]        (HEAD defaults to the work tree)
#
# With CAPSIM_TOLERANCE=1e-9 files that differ are compared number by number instead and
# the largest relative difference is printed (for changes of summation order).
set -euo pipefail
top=$(git rev-parse --show-toplevel)
base=${1:?usage: scripts/byte-identical.sh BASE [HEAD]}
head=${2:-}
work=$(mktemp -d /tmp/byte-identical.XXXXXX)
trap 'git -C "$top" worktree remove --force "$work/base" >/dev/null 2>&1 || true; [ -n "$head" ] && git -C "$top" worktree remove --force "$work/head" >/dev/null 2>&1; true' EXIT

build() { # rev dir -> binary path
  local rev=$1 dir=$2
  if [ -z "$rev" ]; then
    (cd "$top" && cargo build --release --locked -q) >&2
    echo "$top/target/release/capsim"
  else
    git -C "$top" worktree add -q --detach "$dir" "$rev" >&2
    (cd "$dir" && CARGO_TARGET_DIR="$top/target/byte-identical-$(git -C "$dir" rev-parse --short HEAD)" cargo build --release --locked -q) >&2
    echo "$top/target/byte-identical-$(git -C "$dir" rev-parse --short HEAD)/release/capsim"
  fi
}

outputs() { # capsim-binary scenario-dir out-dir
  local bin=$1 src=$2 out=$3
  mkdir -p "$out"
  for f in "$src"/scenarios/*.toml "$top"/scripts/byte-identical/*.toml; do
    n=$(basename "$f" .toml)
    "$bin" run "$f" --replications 3 --threads 2 --quiet --out "$out/run-$n"
    if grep -q '^\[\[sweep.axis\]\]' "$f"; then
      "$bin" sweep "$f" --quiet --threads 2 --out "$out/sweep-$n"
    fi
    if grep -q '^\[slo\]' "$f"; then
      "$bin" search "$f" --replications 2 --quiet --threads 2 --out "$out/search-$n"
    fi
  done
}

echo "== building ${base} and ${head:-the work tree}"
bin_a=$(build "$base" "$work/base")
bin_b=$(build "$head" "$work/head")
src_b=${head:+$work/head}; src_b=${src_b:-$top}
# Both binaries read the same scenario files (the newer tree's), so input changes don't
# masquerade as result changes.
outputs "$bin_a" "$src_b" "$work/a"
outputs "$bin_b" "$src_b" "$work/b"

status=0; same=0
for a in $(cd "$work/a" && find . -name summary.json -o -name results.csv -o -name timeline.csv -o -name search.json -o -name search.csv | sort); do
  if cmp -s "$work/a/$a" "$work/b/$a"; then
    same=$((same + 1))
  elif [ -n "${CAPSIM_TOLERANCE:-}" ]; then
    python3 "$top/scripts/byte-identical/numdiff.py" "$work/a/$a" "$work/b/$a" "$CAPSIM_TOLERANCE" || status=1
  else
    echo "DIFFERS: $a"; diff <(head -c 2000 "$work/a/$a") <(head -c 2000 "$work/b/$a") | head -10; status=1
  fi
done
echo "== $same file(s) byte-identical"
[ $status -eq 0 ] && echo "== no result changed" || echo "== results changed (see above)"
exit $status
