#!/bin/sh
# Builds the libFuzzer targets (the `fuzz` preset: clang 14, ASan+UBSan) and runs each for SECONDS on
# the seed corpus: scenarios/ and tests/data/malformed/ for fuzz_scenario and fuzz_cli,
# tools/fuzz/units_seeds/ for fuzz_units. Stops at the first finding and exits non-zero, leaving crash-*/oom-*/timeout-* in
# WORKDIR. New corpus entries go to WORKDIR, never into the tree. docs/fuzzing.md.
#
#   tools/fuzz/run.sh 30                       # CI smoke run: 30 s per target
#   tools/fuzz/run.sh 600 /tmp/fleetsim-fuzz   # the documented 10-minute run
#   FLEETSIM_FUZZ_SEED=1 tools/fuzz/run.sh 30  # reproducible (CI); 0 or unset: a new random seed each run
set -eu
cd "$(dirname "$0")/../.."
seconds=${1:-30}
work=${2:-$(mktemp -d /tmp/fleetsim-fuzz.XXXXXX)}
mkdir -p "$work/scenario" "$work/units" "$work/cli"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
root=$(pwd)
fuzz_seed=${FLEETSIM_FUZZ_SEED:-0}
cd "$work"
# -rss_limit_mb: the loader refuses fleets and network clusters whose state would not fit (docs/robustness.md);
# anything needing more than 2 GB to load is a finding. -timeout: 10 s for one input is a hang.
"$root/build/fuzz/fuzz_scenario" -seed="$fuzz_seed" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -dict="$root/tools/fuzz/scenario.dict" -print_final_stats=1 \
  scenario "$root/scenarios" "$root/tests/data/malformed"
"$root/build/fuzz/fuzz_units" -seed="$fuzz_seed" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
  units "$root/tools/fuzz/units_seeds"
# fuzz_cli (`fleetsim run`/`validate` with options and --set on mutated scenarios) is not in this smoke
# run: one legal input (the flagship seed, eleven fabrics) takes about 22 s under ASan, so its seeds
# alone outlast 30 s. Its long runs (docs/fuzzing.md) build it with
# `cmake --build build/fuzz --target fuzz_cli` and give it -timeout=120.
echo "fuzz: no findings in ${seconds} s per target; corpus in $work"
