#!/usr/bin/env bash
# Profiles the service process during the cost scenario's measured rounds (docs/benchmarks.md,
# "Where an event's CPU goes"): perf on-CPU samples of the service alone, then the samples grouped by stage.
#
#   tests/Tests/Cost/Profile/profile.sh [runs] [directory]
#
# Needs perf (root, or perf_event_paranoid <= 1) and a Release build of the tests:
#   dotnet build -c Release tests/Tests
set -euo pipefail
runs=${1:-3}
out=${2:-$(mktemp -d /tmp/citrigger-profile-XXXX)}
here=$(cd "$(dirname "$0")" && pwd)
bin=$here/../../bin/Release/net10.0
for run in $(seq 1 "$runs"); do
  dir=$out/run$run
  mkdir -p "$dir"
  (cd "$bin" && CITRIGGER_COST_PROFILE=$dir ./Tests -class CiTrigger.Tests.Cost.CostBudgetTests -noColor > "$dir/test.txt" 2>&1) &
  tests=$!
  for store in sqlite redis; do
    # The scenario leaves {store}.measuring before its measured rounds and waits for {store}.recording;
    # after them it leaves {store}.measured and waits for {store}.stopped.
    until [ -e "$dir/$store.measuring" ] || ! kill -0 $tests 2>/dev/null; do sleep 0.05; done
    [ -e "$dir/$store.measuring" ] || break
    pid=$(cat "$dir/$store.pid")
    awk '{print $14 + $15}' "/proc/$pid/stat" > "$dir/$store.ticks-before"
    perf record -F 999 -g -p "$pid" -o "$dir/$store.perf.data" > "$dir/$store.perf.log" 2>&1 &
    perf=$!
    sleep 1
    touch "$dir/$store.recording"
    until [ -e "$dir/$store.measured" ]; do sleep 0.05; done
    awk '{print $14 + $15}' "/proc/$pid/stat" > "$dir/$store.ticks-after"
    kill -INT $perf
    wait $perf || true
    # perf names JIT-compiled code from the map the service writes; keep it beside the samples.
    perf script -i "$dir/$store.perf.data" -F comm,tid,ip,sym,dso > "$dir/$store.script.txt" 2>/dev/null
    touch "$dir/$store.stopped"
  done
  wait $tests || echo "run $run: the test failed (a profiling run's figures are not the budget's)" >&2
done
args=()
for store in sqlite redis; do
  ticks=0
  paths=()
  for run in $(seq 1 "$runs"); do
    dir=$out/run$run
    [ -e "$dir/$store.script.txt" ] || continue
    ticks=$((ticks + $(cat "$dir/$store.ticks-after") - $(cat "$dir/$store.ticks-before")))
    paths+=("$dir/$store.script.txt")
  done
  [ ${#paths[@]} -gt 0 ] || continue
  # CPU per event: the process's user + system time over the window, 200 events a run.
  ms=$(awk -v t="$ticks" -v n="${#paths[@]}" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", 1000 * t / hz / (200 * n) }')
  args+=("$store=$ms:$(IFS=,; echo "${paths[*]}")")
done
python3 "$here/stages.py" "${args[@]}"
echo "samples and traces in $out"
