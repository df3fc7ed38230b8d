#!/usr/bin/env bash
# Makes sure a real kube-apiserver (v1.20.2, built from Debian bookworm's `kubernetes` source package)
# and Debian's etcd are available for the real-cluster tests. Builds only when the binary is missing
# from the cache directory; prints progress because a cold build takes about 8 minutes on two cores.
#
#   KUBE_APISERVER_CACHE   cache directory (default ~/.cache/citrigger-kube)
#
# Prints nothing on stdout but the path of the binary on success.
set -euo pipefail

cache="${KUBE_APISERVER_CACHE:-$HOME/.cache/citrigger-kube}"
binary="$cache/kube-apiserver-v1.20.2"
say() { echo "build-apiserver: $*" >&2; }

apt_install() {
    local sudo_cmd=""
    if [ "$(id -u)" != "0" ]; then sudo_cmd="sudo"; fi
    if [ -z "${apt_updated:-}" ]; then
        $sudo_cmd apt-get update -qq >/dev/null
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "$@" >/dev/null
}

if ! command -v etcd >/dev/null 2>&1; then
    say "installing etcd-server"
    apt_install etcd-server
fi

if [ -x "$binary" ]; then
    echo "$binary"
    exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ -x "$binary" ]; then
    echo "$binary"
    exit 0
fi

say "kube-apiserver is not cached in $cache: building it from Debian's kubernetes source package (about 8 minutes, once)"
sources=/etc/apt/sources.list.d/citrigger-bookworm-src.sources
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
    say "adding a deb-src entry for bookworm main"
    sudo_cmd=""
    if [ "$(id -u)" != "0" ]; then sudo_cmd="sudo"; fi
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        | $sudo_cmd tee "$sources" >/dev/null
    apt_updated=""
fi
say "installing the Go toolchain and build tools"
apt_install golang-go rsync make dpkg-dev golang-github-modern-go-reflect2-dev

work="$cache/src"
rm -rf "$work"
mkdir -p "$work"
say "downloading the kubernetes source package"
(cd "$work" && apt-get source -qq --download-only kubernetes >/dev/null 2>&1 && dpkg-source -x --no-check kubernetes_*.dsc src >/dev/null) \
    || { say "could not get the kubernetes source package"; exit 1; }
tree="$work/src"

# The vendored reflect2 1.0.1 crashes under Go >= 1.18 on the first object create; Debian's copy works.
reflect2=$(dirname "$(find /usr/share/gocode/src/github.com/modern-go/reflect2 -name reflect2.go | head -1)")
say "replacing vendored modern-go/reflect2 with $reflect2"
rm -f "$tree/vendor/github.com/modern-go/reflect2/"*.go
cp "$reflect2"/*.go "$tree/vendor/github.com/modern-go/reflect2/"
rm -f "$tree/vendor/github.com/modern-go/reflect2/"*_test.go

say "compiling cmd/kube-apiserver (progress: a dot every 30 s)"
(while sleep 30; do printf . >&2; done) &
ticker=$!
trap 'kill $ticker 2>/dev/null || true' EXIT
(cd "$tree" && CGO_ENABLED=0 KUBE_GIT_VERSION=v1.20.2 KUBE_GIT_TREE_STATE=clean GOFLAGS=-mod=vendor \
    make WHAT=cmd/kube-apiserver >"$work/build.log" 2>&1) \
    || { echo >&2; say "build failed; last lines of $work/build.log:"; tail -20 "$work/build.log" >&2; exit 1; }
kill $ticker 2>/dev/null || true
echo >&2
built=$(find "$tree/_output" -type f -name kube-apiserver -perm -u+x | head -1)
[ -n "$built" ] || { say "build finished but no kube-apiserver binary was found"; exit 1; }
cp "$built" "$binary.tmp" && mv "$binary.tmp" "$binary"
rm -rf "$work"
say "built $binary"
echo "$binary"
