#!/bin/sh
# Regenerates the golden runs (tests/golden/<name>/summary.json) after an intended change of results:
#
#   tools/golden/regenerate.sh [path/to/fleetsim]      # default build/release/fleetsim
#
# Runs every line of tests/golden/goldens.txt with the given fleetsim (outputs in a temporary
# directory, no report) and copies its summary.json into the tree; review `git diff tests/golden`
# and commit it with the change. CTest then checks them (ctest -L golden). docs/ci-compare.md.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
fleetsim=${1:-$root/build/release/fleetsim}
[ -x "$fleetsim" ] || { echo "error: $fleetsim is not an executable fleetsim (build it first)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
grep -v '^#' tests/golden/goldens.txt | grep -v '^[[:space:]]*$' | while read -r name scenario options; do
  echo "golden $name: fleetsim run $scenario $options"
  # shellcheck disable=SC2086  # the options are words on purpose
  "$fleetsim" run "$scenario" $options -o "$work/$name" -q --no-report
  mkdir -p "tests/golden/$name"
  cp "$work/$name/summary.json" "tests/golden/$name/summary.json"
done
echo "regenerated; review with: git diff --stat tests/golden"
