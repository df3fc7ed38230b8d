#!/usr/bin/env bash
# Makes sure the Kubernetes v1.20.2 binaries built from Debian bookworm's `kubernetes` source package, and
# Debian's etcd, are available for the real-cluster and real-node tests:
#   kube-apiserver, kubelet, kube-controller-manager, kube-scheduler, kube-proxy   (one `make`)
#   pause                                                                          (build/pause/linux/pause.c, static)
# each cached as <name>-v1.20.2 in the cache directory. Builds only what is missing, all of it in one
# make (a kube-apiserver cached by an earlier version of this script is kept and used as it is). A cold
# build of the five takes about 8 minutes on two cores (7 min 28 s measured); progress is printed every 30 s.
#
#   KUBE_APISERVER_CACHE   cache directory (default ~/.cache/citrigger-kube)
#   KUBE_BINARIES          which binaries to make sure of (default: all five; "kube-apiserver" alone for
#                          the apiserver-only tests)
#
# Prints nothing on stdout but the path of kube-apiserver on success; the others sit beside it.
set -euo pipefail

version=v1.20.2
cache="${KUBE_APISERVER_CACHE:-$HOME/.cache/citrigger-kube}"
read -ra wanted <<<"${KUBE_BINARIES:-kube-apiserver kubelet kube-controller-manager kube-scheduler kube-proxy}"
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

missing() {
    local name
    for name in "${wanted[@]}"; do
        [ -x "$cache/$name-$version" ] || echo "$name"
    done
    if [[ " ${wanted[*]} " == *" kubelet "* ]] && [ ! -x "$cache/pause-$version" ]; then echo pause; fi
}

if ! command -v etcd >/dev/null 2>&1; then
    say "installing etcd-server"
    apt_install etcd-server
fi

if [ -z "$(missing)" ]; then
    echo "$cache/kube-apiserver-$version"
    exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
mapfile -t todo < <(missing)
if [ ${#todo[@]} -eq 0 ]; then
    echo "$cache/kube-apiserver-$version"
    exit 0
fi

say "not cached in $cache: ${todo[*]}; building from Debian's kubernetes source package (once)"
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
apt_install golang-go rsync make dpkg-dev gcc libc6-dev golang-github-modern-go-reflect2-dev

work="$cache/src"
rm -rf "$work"
mkdir -p "$work"
say "downloading the kubernetes source package"
(cd "$work" && apt-get source -qq --download-only kubernetes >/dev/null 2>&1 && dpkg-source -x --no-check kubernetes_*.dsc src >/dev/null) \
    || { say "could not get the kubernetes source package"; exit 1; }
tree="$work/src"

if [[ " ${todo[*]} " == *" pause "* ]]; then
    # What build/pause/Makefile does inside its cross-compiling container: one static C file.
    say "compiling build/pause/linux/pause.c (static)"
    gcc -Os -Wall -Werror -static -DVERSION="v3.4-$version" -o "$cache/pause-$version.tmp" "$tree/build/pause/linux/pause.c" \
        && mv "$cache/pause-$version.tmp" "$cache/pause-$version"
fi

targets=()
for name in "${todo[@]}"; do
    [ "$name" = pause ] || targets+=("cmd/$name")
done
if [ ${#targets[@]} -gt 0 ]; then
    # The vendored reflect2 1.0.1 crashes under Go >= 1.18 on the first object create; Debian's copy works.
    reflect2=$(dirname "$(find /usr/share/gocode/src/github.com/modern-go/reflect2 -name reflect2.go | head -1)")
    say "replacing vendored modern-go/reflect2 with $reflect2"
    rm -f "$tree/vendor/github.com/modern-go/reflect2/"*.go
    cp "$reflect2"/*.go "$tree/vendor/github.com/modern-go/reflect2/"
    rm -f "$tree/vendor/github.com/modern-go/reflect2/"*_test.go

    # go -v names every package as it is compiled: the ticker reports how many so far and the latest one.
    # (-v goes in WHAT: hack/lib/golang.sh passes WHAT's dashed words to go, but reads GOFLAGS as build tags.)
    say "compiling ${targets[*]} in one make (progress every 30 s)"
    log="$work/build.log"
    : >"$log"
    start=$SECONDS
    (while sleep 30; do
        packages=$(grep -c '^[a-z0-9].*/' "$log" 2>/dev/null || true)
        if [ "${packages:-0}" -gt 0 ]; then
            now="${packages} packages compiled (about 2,100 for the four node binaries), now $(grep '^[a-z0-9].*/' "$log" | tail -1)"
        else
            now="code generators first: $(grep -v '^+++' "$log" | tail -1 | tr -s ' ')"
        fi
        say "$(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s: $now"
    done) &
    ticker=$!
    trap 'kill $ticker 2>/dev/null || true' EXIT
    (cd "$tree" && CGO_ENABLED=0 KUBE_GIT_VERSION=$version KUBE_GIT_TREE_STATE=clean GOFLAGS=-mod=vendor \
        make WHAT="-v ${targets[*]}" >"$log" 2>&1) \
        || { kill $ticker 2>/dev/null; say "build failed; last lines of $log:"; tail -20 "$log" >&2; exit 1; }
    kill $ticker 2>/dev/null || true
    say "compiled in $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s"
    for target in "${targets[@]}"; do
        name=${target#cmd/}
        built=$(find "$tree/_output" -type f -name "$name" -perm -u+x | head -1)
        [ -n "$built" ] || { say "build finished but no $name binary was found"; exit 1; }
        cp "$built" "$cache/$name-$version.tmp" && mv "$cache/$name-$version.tmp" "$cache/$name-$version"
        say "built $cache/$name-$version"
    done
fi
rm -rf "$work"
echo "$cache/kube-apiserver-$version"
