#!/usr/bin/env bash
# The whole test suite; with `real-cluster` only the tests against a real kube-apiserver and those on the
# real single-node cluster, with `real-node` only the latter. Installs what the tests need first:
# redis-server, chromium, chromium-driver and promtool (from the prometheus package) from Debian, and the
# Kubernetes binaries built once from Debian's source (tests/kube/build-apiserver.sh: about 8 minutes the
# first time, cached in ~/.cache/citrigger-kube afterwards) with Debian's etcd. The tests start their own
# servers on loopback ports and stop them by PID; the real-node tests, which run after all others, start
# the cluster of tests/kube/cluster.sh (root needed: containers, a bridge, iptables) with a watchdog that
# removes it even when the run is killed, and remove it when they end. Prints one closing line:
# "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")"

filter=()
case "${1:-}" in
    real-cluster)
        shift
        filter=(--filter-namespace 'CiTrigger.Tests.RealCluster' --filter-namespace 'CiTrigger.Tests.RealNode') ;;
    real-node)
        shift
        filter=(--filter-namespace 'CiTrigger.Tests.RealNode') ;;
esac

sudo_cmd=""
if [ "$(id -u)" != "0" ]; then sudo_cmd="sudo"; fi
# redis-server, and Chromium with its driver for the status page's browser tests.
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}" >&2
    $sudo_cmd apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null \
        || { echo "test.sh: could not install ${missing[*]}" >&2; exit 1; }
fi

# promtool checks the /metrics exposition. It comes from Debian's prometheus package, taken apart rather
# than installed, so no Prometheus daemon is set up on the machine for it.
cache="${KUBE_APISERVER_CACHE:-$HOME/.cache/citrigger-kube}"
if command -v promtool >/dev/null 2>&1; then
    export CITRIGGER_PROMTOOL="$(command -v promtool)"
else
    export CITRIGGER_PROMTOOL="$cache/promtool"
    if [ ! -x "$CITRIGGER_PROMTOOL" ]; then
        echo "test.sh: extracting promtool from Debian's prometheus package" >&2
        mkdir -p "$cache"
        work=$(mktemp -d)
        ( cd "$work" && { apt-get download prometheus >/dev/null 2>&1 || { $sudo_cmd apt-get update -qq >/dev/null && apt-get download prometheus >/dev/null; }; } \
            && dpkg-deb -x prometheus_*.deb root && cp root/usr/bin/promtool "$CITRIGGER_PROMTOOL.tmp" && mv "$CITRIGGER_PROMTOOL.tmp" "$CITRIGGER_PROMTOOL" ) \
            || echo "test.sh: could not get promtool; the exposition test will fail" >&2
        rm -rf "$work"
    fi
fi

# A failed build is not fatal here: the real-cluster tests then fail, each with the reason, and the
# rest of the suite still runs.
if apiserver=$(tests/kube/build-apiserver.sh); then
    export CITRIGGER_KUBE_APISERVER="$apiserver"
else
    echo "test.sh: kube-apiserver could not be built; the real-cluster tests will fail" >&2
    export CITRIGGER_KUBE_APISERVER="${KUBE_APISERVER_CACHE:-$HOME/.cache/citrigger-kube}/kube-apiserver-v1.20.2"
fi

log=$(mktemp)
if [ ${#filter[@]} -gt 0 ]; then
    dotnet test --project tests/Tests "$@" -- "${filter[@]}" 2>&1 | tee "$log"
else
    dotnet test --project tests/Tests "$@" 2>&1 | tee "$log"
fi
status=${PIPESTATUS[0]}

total=$(grep -oE '^\s*total: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
failed=$(grep -oE '^\s*failed: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
succeeded=$(grep -oE '^\s*succeeded: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
rm -f "$log"
if [ -z "$total" ]; then
    # The run did not get as far as a summary (build error, crash): count it as one failure.
    echo "0 passed, 1 failed"
    exit 1
fi
echo "${succeeded:-0} passed, ${failed:-0} failed"
exit "$status"
