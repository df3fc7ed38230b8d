#!/usr/bin/env bash
# Where the service's allocated bytes go during the cost scenario's measured rounds (docs/benchmarks.md,
# "Where an event's allocated bytes go"): dotnet-trace records the runtime's allocation samples of the
# service process alone (GC keyword, verbose: one sample per ~100 KB, with type and stack) for each of the
# three stores, then tests/AllocationProfile sums them by type, by our innermost frame and inclusively.
#
#   tests/Tests/Cost/Profile/allocations.sh [seconds] [directory]
#
# Needs dotnet-trace (dotnet tool install -g dotnet-trace) and a Release build of the tests:
#   dotnet build -c Release tests/Tests
set -euo pipefail
seconds=${1:-12}
out=${2:-$(mktemp -d /tmp/citrigger-allocations-XXXX)}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
bin=$here/../../bin/Release/net10.0
trace=$(command -v dotnet-trace || echo "$HOME/.dotnet/tools/dotnet-trace")
mkdir -p "$out"
(cd "$bin" && CITRIGGER_COST_PROFILE=$out ./Tests -class CiTrigger.Tests.Cost.CostBudgetTests -noColor > "$out/test.txt" 2>&1) &
tests=$!
stores=()
for store in sqlite redis sqlite-pipelines; do
  # The scenario leaves {store}.measuring before its measured rounds and waits for {store}.recording, and
  # after them leaves {store}.measured and waits for {store}.stopped (the trace's method names are written
  # at its end, while the process still runs).
  until [ -e "$out/$store.measuring" ] || ! kill -0 $tests 2>/dev/null; do sleep 0.05; done
  [ -e "$out/$store.measuring" ] || break
  pid=$(cat "$out/$store.pid")
  "$trace" collect -p "$pid" --providers Microsoft-Windows-DotNETRuntime:0x1:5 --duration "00:00:00:$seconds" \
    -o "$out/$store.nettrace" > "$out/$store.trace.log" 2>&1 &
  tracing=$!
  sleep 2
  touch "$out/$store.recording"
  wait $tracing || echo "$store: dotnet-trace failed (see $out/$store.trace.log)" >&2
  until [ -e "$out/$store.measured" ]; do sleep 0.05; done
  touch "$out/$store.stopped"
  stores+=("$store")
done
wait $tests || echo "the test failed (a profiling run's figures are not the budget's)" >&2
for store in "${stores[@]}"; do
  echo "# $store"
  dotnet run -c Release --project "$root/tests/AllocationProfile" -- "$out/$store.nettrace"
  echo
done
echo "traces in $out"
