#!/usr/bin/env bash
# Builds the images the real node runs, without a Docker engine, as docker-archive files, and imports them
# into containerd's k8s.io namespace (the CRI's) at the socket given:
#
#   localhost/pause:3.4                   the pod sandbox: build/pause/linux/pause.c compiled static (build-apiserver.sh)
#   localhost/busybox:dev                 Debian's busybox-static: sh, echo, sleep and the other applets
#   localhost/redis:dev                   Debian's redis-server and redis-cli with the libraries they load
#   localhost/k8s-webhook-handler:dev     the service: `dotnet publish src/Silo -r linux-x64 --self-contained`
#                                         on a minimal root filesystem (the libraries .NET loads, the dotnet
#                                         muxer, /etc/passwd with the non-root "app" user 1654, /tmp, /app/data);
#                                         entry point `dotnet Silo.dll` in /app, as the Dockerfile's
#
#   tests/kube/images.sh [CONTAINERD_SOCKET]     build what changed; import what containerd lacks or has older
#
# An archive is rebuilt only when its inputs changed (the service's: every file under src/ and the build
# props, hashed), so a warm run costs seconds. Archives and their input hashes are cached in
# $KUBE_APISERVER_CACHE/images. DOTNET names the dotnet command (default: dotnet).
set -euo pipefail
cd "$(dirname "$0")/../.."

version=v1.20.2
cache="${KUBE_APISERVER_CACHE:-$HOME/.cache/citrigger-kube}"
images="$cache/images"
dotnet_cmd="${DOTNET:-dotnet}"
socket="${1:-}"
say() { echo "images: $*" >&2; }
mkdir -p "$images"

# Files and the libraries they link, with the dynamic loader, copied into a root filesystem.
copy_with_libraries() {
    local root=$1
    shift
    local file library
    for file in "$@"; do
        mkdir -p "$root$(dirname "$file")"
        cp -aL "$file" "$root$file"
        for library in $(ldd "$file" 2>/dev/null | grep -oE '/[^ ]+' | sort -u); do
            [ -e "$root$library" ] && continue
            mkdir -p "$root$(dirname "$library")"
            cp -aL "$library" "$root$library"
        done
    done
}

# docker-archive: one layer (the root filesystem), an image config, and manifest.json naming the tag.
write_archive() {
    local tag=$1 root=$2 config=$3 out=$4
    local work layer diff
    work=$(mktemp -d)
    tar --numeric-owner --sort=name --mtime=@0 -C "$root" -cf "$work/layer.tar" .
    diff=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
    mkdir "$work/$diff" && mv "$work/layer.tar" "$work/$diff/layer.tar"
    printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"tests/kube/images.sh"}]}' \
        "$config" "$diff" >"$work/config.json"
    layer=$(sha256sum "$work/config.json" | cut -d' ' -f1)
    mv "$work/config.json" "$work/$layer.json"
    printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$layer" "$tag" "$diff" >"$work/manifest.json"
    tar --numeric-owner -C "$work" -cf "$out.tmp" manifest.json "$layer.json" "$diff"
    mv "$out.tmp" "$out"
    rm -rf "$work"
}

# Builds <name>.tar when its inputs hash differs from the one recorded with it.
build() {
    local name=$1 inputs=$2 builder=$3
    if [ -f "$images/$name.tar" ] && [ "$(cat "$images/$name.inputs" 2>/dev/null)" = "$inputs" ]; then
        return 0
    fi
    say "building $name"
    local root
    root=$(mktemp -d)
    chmod 755 "$root"
    "$builder" "$root"
    rm -rf "$root"
    echo "$inputs" >"$images/$name.inputs"
}

pause_image() {
    local root=$1
    cp "$cache/pause-$version" "$root/pause"
    write_archive localhost/pause:3.4 "$root" '{"Entrypoint":["/pause"],"User":"65535:65535"}' "$images/pause.tar"
}

busybox_image() {
    local root=$1 applet
    mkdir -p "$root/bin" "$root/tmp" "$root/etc"
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    for applet in $(/bin/busybox --list); do
        [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    write_archive localhost/busybox:dev "$root" '{"Cmd":["sh"],"Env":["PATH=/bin"]}' "$images/busybox.tar"
}

redis_image() {
    local root=$1
    copy_with_libraries "$root" /usr/bin/redis-server /usr/bin/redis-cli
    mkdir -p "$root/data" "$root/tmp" "$root/etc"
    chmod 1777 "$root/tmp"
    chown 999:1000 "$root/data"
    printf 'root:x:0:0:root:/root:/bin/false\nredis:x:999:1000::/data:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nredis:x:1000:\n' >"$root/etc/group"
    # As the official image: the arguments (k8s/redis.yaml's "--appendonly yes ...") go to redis-server, and
    # protected mode is off, since in a pod the other silos' connections never come from loopback.
    write_archive localhost/redis:dev "$root" \
        '{"Entrypoint":["redis-server","--protected-mode","no"],"WorkingDir":"/data","Env":["PATH=/usr/bin"],"ExposedPorts":{"6379/tcp":{}}}' \
        "$images/redis.tar"
}

service_inputs() {
    { find src -type f -not -path '*/bin/*' -not -path '*/obj/*' | LC_ALL=C sort | xargs sha256sum
      sha256sum global.json Directory.Build.props Directory.Packages.props .editorconfig tests/kube/images.sh; } | sha256sum | cut -d' ' -f1
}

service_image() {
    local root=$1 build="$cache/silo-build"
    # Published from a copy of the sources, so a RID-specific restore never touches the worktree's obj/.
    mkdir -p "$build"
    rsync -a --delete --exclude bin/ --exclude obj/ src/ "$build/src/"
    cp global.json Directory.Build.props Directory.Packages.props .editorconfig "$build/"
    say "dotnet publish src/Silo -c Release -r linux-x64 --self-contained"
    (cd "$build" && "$dotnet_cmd" publish src/Silo -c Release -r linux-x64 --self-contained -o "$build/app" -nologo -v quiet >"$build/publish.log" 2>&1) \
        || { say "publish failed; its log ($build/publish.log) ends:"; tail -20 "$build/publish.log" >&2; exit 1; }
    mkdir -p "$root/app" "$root/tmp" "$root/etc"
    chmod 1777 "$root/tmp"
    cp -a "$build/app/." "$root/app/"
    # The .NET host and the native libraries it ships, plus OpenSSL, which the runtime loads with dlopen
    # (cryptography: the App's RS256 JWT, HMAC). No ICU: Directory.Build.props sets InvariantGlobalization.
    local libraries=("$root/app/Silo") lib dependency
    while IFS= read -r lib; do libraries+=("$lib"); done < <(find "$root/app" -name '*.so')
    libraries+=(/usr/lib/x86_64-linux-gnu/libssl.so.3 /usr/lib/x86_64-linux-gnu/libcrypto.so.3)
    for lib in "${libraries[@]}"; do
        case "$lib" in "$root"/*) ;; *) mkdir -p "$root$(dirname "$lib")"; cp -aL "$lib" "$root$lib" ;; esac
        for dependency in $(ldd "$lib" 2>/dev/null | grep -oE '/[^ ]+' | sort -u); do
            case "$dependency" in "$root"/*) continue ;; esac
            [ -e "$root$dependency" ] && continue
            mkdir -p "$root$(dirname "$dependency")"
            cp -aL "$dependency" "$root$dependency"
        done
    done
    # The `dotnet` muxer, as on Microsoft's images (/usr/bin/dotnet -> /usr/share/dotnet/dotnet), so the entry
    # point is the Dockerfile's own, `dotnet Silo.dll`: for a self-contained app the muxer's hostfxr loads the
    # runtime the app carries.
    local host_version
    host_version=$(grep -oE '"version": *"[^"]+' "$root/app/Silo.runtimeconfig.json" | head -1 | cut -d'"' -f4)
    mkdir -p "$root/usr/share/dotnet/host/fxr/$host_version" "$root/usr/bin"
    cp "$(dirname "$(readlink -f "$(command -v dotnet)")")/dotnet" "$root/usr/share/dotnet/dotnet"
    cp "$root/app/libhostfxr.so" "$root/usr/share/dotnet/host/fxr/$host_version/"
    ln -s ../share/dotnet/dotnet "$root/usr/bin/dotnet"
    # Only the embedded mode writes ./data; in a pod /tmp is a volume and the root read-only.
    mkdir -p "$root/app/data"
    chown 1654:1654 "$root/app/data"
    printf 'root:x:0:0:root:/root:/bin/false\napp:x:1654:1654::/home/app:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\napp:x:1654:\n' >"$root/etc/group"
    write_archive localhost/k8s-webhook-handler:dev "$root" \
        '{"Entrypoint":["dotnet","Silo.dll"],"WorkingDir":"/app","User":"1654","Env":["PATH=/usr/bin:/bin","ASPNETCORE_URLS=http://+:8080","APP_UID=1654","DOTNET_RUNNING_IN_CONTAINER=true"],"ExposedPorts":{"8080/tcp":{},"11111/tcp":{},"30000/tcp":{}}}' \
        "$images/k8s-webhook-handler.tar"
}

build pause "$(sha256sum "$cache/pause-$version" | cut -d' ' -f1)" pause_image
build busybox "$(sha256sum /bin/busybox tests/kube/images.sh | sha256sum | cut -d' ' -f1)" busybox_image
build redis "$(sha256sum /usr/bin/redis-server /usr/bin/redis-cli tests/kube/images.sh | sha256sum | cut -d' ' -f1)" redis_image
build k8s-webhook-handler "$(service_inputs)" service_image

[ -n "$socket" ] || exit 0
for name in pause busybox redis k8s-webhook-handler; do
    inputs=$(cat "$images/$name.inputs")
    tag=$(grep -oE '"RepoTags":\["[^"]+' <(tar -xOf "$images/$name.tar" manifest.json) | cut -d'"' -f4)
    # The input hash rides along as a label of the image in containerd: a changed image is imported again.
    if ctr --address "$socket" -n k8s.io images ls "name==$tag" 2>/dev/null | grep -q "citrigger.inputs=$inputs"; then
        continue
    fi
    say "importing $tag"
    ctr --address "$socket" -n k8s.io images rm "$tag" >/dev/null 2>&1 || true
    ctr --address "$socket" -n k8s.io images import "$images/$name.tar" >/dev/null
    ctr --address "$socket" -n k8s.io images label "$tag" "citrigger.inputs=$inputs" >/dev/null
done
