#!/usr/bin/env bash
# The whole test suite. Installs what the tests need first (redis-server, chromium and chromium-driver
# from Debian's packages; the tests start their own servers on loopback ports and stop them by PID), then
# prints one closing line: "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")"

# What the tests run besides .NET, from Debian's packages: redis-server, and Chromium with its driver for
# the status page's browser tests.
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}" >&2
    sudo_cmd=""
    if [ "$(id -u)" != "0" ]; then sudo_cmd="sudo"; fi
    $sudo_cmd apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null \
        || { echo "test.sh: could not install ${missing[*]}" >&2; exit 1; }
fi

log=$(mktemp)
dotnet test --project tests/Tests "$@" 2>&1 | tee "$log"
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
