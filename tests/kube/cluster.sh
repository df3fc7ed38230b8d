#!/usr/bin/env bash
# A single-node Kubernetes v1.20.2 cluster on this machine, from Debian's packages and the binaries
# build-apiserver.sh builds: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet over
# containerd's CRI (cgroupfs), kube-proxy (iptables), CNI bridge + host-local + loopback on a bridge of its
# own with no uplink, and dnsmasq answering the Services' names (fed from the API by a watch).
#
#   tests/kube/cluster.sh up [--owner PID]   start it (building and importing what is missing); the last
#                                            line printed is the path of an admin kubeconfig. With --owner,
#                                            a watchdog runs `down` when that process ends, however it ends.
#   tests/kube/cluster.sh down               stop every process it started, by PID, and remove every mount,
#                                            network device, iptables chain, conntrack entry, sysctl change
#                                            and file it made. `up` runs it first, so a killed run's leftovers
#                                            go too.
#
# Needs root (containers, a bridge, iptables). Everything lives in CITRIGGER_KUBE_STATE (default
# /var/lib/citrigger-kube), removed by `down`; binaries and image archives are cached in
# KUBE_APISERVER_CACHE (default ~/.cache/citrigger-kube). Addresses: node and bridge 10.244.0.1, pods
# 10.244.0.0/24, Services 10.96.0.0/24 (the API at 10.96.0.1), DNS at 10.244.0.1:53, the API server at
# https://10.244.0.1:6443; nothing listens on another interface and nothing is routed off the bridge.
# Why dnsmasq: see docs/testing.md ("A DNS answer for Services").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
version=v1.20.2
cache="${KUBE_APISERVER_CACHE:-$HOME/.cache/citrigger-kube}"
state="${CITRIGGER_KUBE_STATE:-/var/lib/citrigger-kube}"
bridge=citrigger0
gateway=10.244.0.1
pod_cidr=10.244.0.0/24
service_cidr=10.96.0.0/24
api_service_ip=10.96.0.1
node=citrigger-node
api_port=6443
# Every process `up` starts carries this in its environment; `down` finds leftovers (a containerd shim, a
# watch of the DNS feeder) by it, and kills nothing that lacks it.
marker="CITRIGGER_KUBE_STATE=$state"
# Settings kubelet and kube-proxy change on the host; `down` puts back what they were.
sysctls=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys
    kernel.keys.root_maxbytes net.ipv4.conf.all.route_localnet net.bridge.bridge-nf-call-iptables net.ipv4.ip_forward)

say() { echo "cluster: $*" >&2; }
die() { say "$*"; exit 1; }
bin() { echo "$cache/$1-$version"; }
kubectl_admin() { kubectl --kubeconfig "$state/admin.kubeconfig" --cache-dir "$state/kubectl-cache" "$@"; }
ctr_k8s() { ctr --address "$state/containerd/containerd.sock" -n k8s.io "$@"; }

# Whether PID is a process `up` started (its environment carries the marker).
ours() {
    local pid=$1
    { tr '\0' '\n' <"/proc/$pid/environ" | grep -qxF "$marker"; } 2>/dev/null
}

# Starts a daemon in a session (and process group) of its own, its output in logs/NAME.log, its PID in pids/NAME.
start() {
    local name=$1
    shift
    env "$marker" setsid "$@" </dev/null >>"$state/logs/$name.log" 2>&1 9>&- &
    echo $! >"$state/pids/$name"
}

# Waits until COMMAND succeeds; on timeout shows the end of the component's log and fails.
wait_for() {
    local what=$1 seconds=$2 log=$3
    shift 3
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then
            say "$what not ready after ${seconds} s; $log ends:"
            tail -15 "$state/logs/$log.log" >&2 2>/dev/null || true
            return 1
        fi
        sleep 0.5
    done
}

# Stops a daemon by its PID (its whole process group), TERM first, KILL after a few seconds.
stop() {
    local name=$1 pid
    pid=$(cat "$state/pids/$name" 2>/dev/null) || return 0
    if [ "$pid" != "$$" ] && ours "$pid"; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 40); do ours "$pid" || break; sleep 0.25; done
        if ours "$pid"; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$state/pids/$name"
}

# Deletes the rules that jump to CHAIN-PREFIX chains from other chains, then flushes and deletes those chains.
remove_chains() {
    local tool=$1 prefix=$2 table rule chain
    command -v "$tool" >/dev/null 2>&1 || return 0
    for table in filter nat mangle raw; do
        "$tool" -t "$table" -S >/dev/null 2>&1 || continue
        while IFS= read -r rule; do
            eval "set -- $rule"
            [ "$1" = "-A" ] || continue
            case "$2" in "$prefix"*) continue ;; esac
            shift
            "$tool" -t "$table" -D "$@" 2>/dev/null || true
        done < <("$tool" -t "$table" -S 2>/dev/null | grep -E -- "-j $prefix|-g $prefix")
        for chain in $("$tool" -t "$table" -S 2>/dev/null | awk -v p="^$prefix" '$1 == "-N" && $2 ~ p {print $2}'); do
            "$tool" -t "$table" -F "$chain" 2>/dev/null || true
        done
        for chain in $("$tool" -t "$table" -S 2>/dev/null | awk -v p="^$prefix" '$1 == "-N" && $2 ~ p {print $2}'); do
            "$tool" -t "$table" -X "$chain" 2>/dev/null || true
        done
    done
}

down() {
    [ -d "$state" ] || return 0
    say "stopping the cluster in $state"
    stop watchdog
    stop dns-feeder
    # The kubelet first, so that nothing starts a container again; then every container, through containerd
    # while it runs, and by the pods' cgroups for whatever is left.
    stop kubelet
    if [ -S "$state/containerd/containerd.sock" ] && [ -n "$(cat "$state/pids/containerd" 2>/dev/null)" ]; then
        local task
        for task in $(ctr_k8s tasks ls -q 2>/dev/null); do
            ctr_k8s tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
        done
        sleep 0.5
        for task in $(ctr_k8s tasks ls -q 2>/dev/null); do
            ctr_k8s tasks delete -f "$task" >/dev/null 2>&1 || true
        done
    fi
    local subsystem pid
    for subsystem in /sys/fs/cgroup/*/; do
        [ -d "${subsystem}kubepods" ] || continue
        for pid in $(cat $(find "${subsystem}kubepods" -name cgroup.procs) 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null || true
        done
    done
    stop containerd
    stop kube-proxy
    stop kube-scheduler
    stop kube-controller-manager
    stop kube-apiserver
    stop etcd
    stop dnsmasq
    # Anything else that carries the marker: containerd shims, a feeder's kubectl.
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        [ "$pid" != "$$" ] && [ "$pid" != "$BASHPID" ] && ours "$pid" && kill -KILL "$pid" 2>/dev/null || true
    done
    for subsystem in /sys/fs/cgroup/*/; do
        [ -d "${subsystem}kubepods" ] || continue
        find "${subsystem}kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done

    # kube-proxy's own rules (KUBE-SERVICES, KUBE-POSTROUTING, ...), then what is left of kubelet's
    # (KUBE-MARK-*, KUBE-FIREWALL, canaries) and the guard of this script.
    if [ -x "$(bin kube-proxy)" ]; then
        "$(bin kube-proxy)" --cleanup >/dev/null 2>&1 || true
    fi
    local tool table
    for tool in iptables ip6tables; do
        remove_chains "$tool" KUBE-
        remove_chains "$tool" CITRIGGER-
    done
    # With the nftables backend the first rule made its table; one that did not exist before and is empty
    # again goes too.
    if [ -f "$state/nft-tables" ] && command -v nft >/dev/null 2>&1; then
        while read -r _ family table; do
            grep -qxF "table $family $table" "$state/nft-tables" && continue
            tool=iptables
            [ "$family" = ip6 ] && tool=ip6tables
            [ "$family" = ip ] || [ "$family" = ip6 ] || continue
            if [ -z "$("$tool" -t "$table" -S 2>/dev/null | grep -vE '^-P ')" ]; then
                nft delete table "$family" "$table" 2>/dev/null || true
            fi
        done < <(nft list tables 2>/dev/null)
    fi

    # Mounts: pods' volumes, containers' root filesystems and shm, network namespaces, etcd's tmpfs.
    local mount
    for mount in $(awk -v s="$state" 'index($2, s) == 1 {print $2}' /proc/self/mounts | sort -r); do
        umount "$mount" 2>/dev/null || umount -l "$mount" 2>/dev/null || true
    done
    if ip link show "$bridge" >/dev/null 2>&1; then
        local port
        for port in $(ip -o link show master "$bridge" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
            ip link delete "$port" 2>/dev/null || true
        done
        ip link delete "$bridge" 2>/dev/null || true
    fi
    if command -v conntrack >/dev/null 2>&1; then
        conntrack -D -s "$pod_cidr" >/dev/null 2>&1 || true
        conntrack -D -d "$pod_cidr" >/dev/null 2>&1 || true
        conntrack -D -d "$service_cidr" >/dev/null 2>&1 || true
    fi
    if [ -f "$state/sysctl.saved" ]; then
        local setting
        while IFS= read -r setting; do
            sysctl -q -w "$setting" >/dev/null 2>&1 || true
        done <"$state/sysctl.saved"
    fi
    # Files the kubelet and the CNI plugins write outside the state directory.
    local created
    if [ -f "$state/created" ]; then
        while IFS= read -r created; do rm -rf "$created"; done <"$state/created"
    fi
    find /var/lib/cni/results -name "citrigger-*" -delete 2>/dev/null || true
    rm -rf "$HOME/.kube/cache/discovery/${gateway}_$api_port"
    if [ -d "$state/logs" ]; then
        rm -rf "$cache/last-run-logs"
        cp -a "$state/logs" "$cache/last-run-logs" 2>/dev/null || true
    fi
    rm -rf "$state"
    say "stopped; the last run's logs are in $cache/last-run-logs"
}

# Directories the node components create outside the state directory, when they do not exist yet.
remember_created() {
    local path
    for path in "$@"; do
        [ -e "$path" ] || echo "$path" >>"$state/created"
    done
}

certificates() {
    local pki=$state/pki
    mkdir -p "$pki"
    (
        cd "$pki"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt \
            -subj /CN=citrigger-kube-ca -days 3650 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
        issue() {
            local name=$1 subject=$2 extensions=$3
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subject" 2>/dev/null
            printf '%s\n' "$extensions" >"$name.ext"
            openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -out "$name.crt" -extfile "$name.ext" 2>/dev/null
            rm -f "$name.csr" "$name.ext"
        }
        issue apiserver /CN=kube-apiserver "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:$gateway,IP:$api_service_ip,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
        # The API server's identity towards the kubelet (logs, exec), which trusts this CA for clients.
        issue kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
        openssl genrsa -out sa.key 2048 2>/dev/null
    )
}

# A kubeconfig for one identity of tokens.csv.
kubeconfig() {
    local file=$1 user=$2 token=$3
    cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: citrigger
  cluster:
    server: https://$gateway:$api_port
    certificate-authority: $state/pki/ca.crt
users:
- name: $user
  user:
    token: $token
contexts:
- name: citrigger
  context:
    cluster: citrigger
    user: $user
current-context: citrigger
EOF
}

identities() {
    local name user groups token
    : >"$state/pki/tokens.csv"
    while read -r name user groups; do
        token=$(openssl rand -hex 24)
        echo "$token,$user,$user,\"$groups\"" >>"$state/pki/tokens.csv"
        kubeconfig "$state/$name.kubeconfig" "$user" "$token"
    done <<EOF
admin admin system:masters
controller-manager system:kube-controller-manager -
scheduler system:kube-scheduler -
kubelet system:node:$node system:nodes
kube-proxy system:kube-proxy -
EOF
    sed -i 's/,"-"$/,""/' "$state/pki/tokens.csv"
}

# The bridge exists (with the node's address) before anything binds to it; forwarding is switched on for
# it alone (packets coming in from pods, e.g. to a Service address whose endpoint is another pod; the CNI
# plugin is no gateway, so it leaves the host's ip_forward alone), and the guard drops whatever would leave
# the bridge for another interface, or come in from one.
network() {
    ip link add "$bridge" type bridge
    ip addr add "$gateway/24" dev "$bridge"
    ip link set "$bridge" up
    # The host reaches Service addresses through the bridge too (kube-proxy rewrites them to pod addresses).
    ip route add "$service_cidr" dev "$bridge" src "$gateway"
    sysctl -q -w "net.ipv4.conf.$bridge.forwarding=1"
    iptables -N CITRIGGER-GUARD
    iptables -A CITRIGGER-GUARD -i "$bridge" ! -o "$bridge" -j DROP
    iptables -A CITRIGGER-GUARD -o "$bridge" ! -i "$bridge" -j DROP
    iptables -I FORWARD 1 -j CITRIGGER-GUARD
    mkdir -p "$state/cni/net.d" "$state/cni/ipam"
    # Pods get a route to the Service range only (no default route): nothing in a pod can reach beyond.
    cat >"$state/cni/net.d/10-citrigger.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "citrigger",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",
      "isGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$pod_cidr", "gateway": "$gateway"}]],
        "routes": [{"dst": "$service_cidr"}],
        "dataDir": "$state/cni/ipam"
      }
    }
  ]
}
EOF
}

start_containerd() {
    mkdir -p "$state/containerd/root" "$state/containerd/state"
    cat >"$state/containerd/config.toml" <<EOF
version = 2
root = "$state/containerd/root"
state = "$state/containerd/state"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$state/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:3.4"
  # This VM denies a negative oom_score_adj: without this every sandbox fails ("can't get final child's PID from pipe: EOF").
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$state/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$state/cni/net.d"
EOF
    start containerd containerd --config "$state/containerd/config.toml"
    wait_for containerd 30 containerd ctr_k8s version
}

start_control_plane() {
    local etcd_port
    # etcd on loopback only, on a free port, its data on a tmpfs (fsync costs nothing there).
    etcd_port=$(comm -23 <(seq 23790 23990 | sort) <(ss -Htan | awk '{print $4}' | grep -oE '[0-9]+$' | sort -u) | head -1)
    mkdir -p "$state/etcd"
    mount -t tmpfs -o size=1g tmpfs "$state/etcd"
    start etcd etcd --name=citrigger --data-dir="$state/etcd/data" \
        --listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
        --listen-peer-urls="http://127.0.0.1:$((etcd_port + 1000))" --initial-advertise-peer-urls="http://127.0.0.1:$((etcd_port + 1000))" \
        --initial-cluster="citrigger=http://127.0.0.1:$((etcd_port + 1000))" --logger=zap --log-level=warn
    wait_for etcd 30 etcd curl -fsS "http://127.0.0.1:$etcd_port/health"

    start kube-apiserver "$(bin kube-apiserver)" \
        --etcd-servers="http://127.0.0.1:$etcd_port" \
        --bind-address="$gateway" --advertise-address="$gateway" --secure-port="$api_port" --insecure-port=0 \
        --tls-cert-file="$state/pki/apiserver.crt" --tls-private-key-file="$state/pki/apiserver.key" \
        --client-ca-file="$state/pki/ca.crt" --token-auth-file="$state/pki/tokens.csv" \
        --authorization-mode=Node,RBAC --anonymous-auth=false --enable-admission-plugins=NodeRestriction \
        --service-account-key-file="$state/pki/sa.key" --service-account-signing-key-file="$state/pki/sa.key" \
        --service-account-issuer=https://kubernetes.default.svc.cluster.local \
        --service-cluster-ip-range="$service_cidr" \
        --kubelet-client-certificate="$state/pki/kubelet-client.crt" --kubelet-client-key="$state/pki/kubelet-client.key" \
        --kubelet-preferred-address-types=InternalIP \
        --profiling=false
    wait_for kube-apiserver 90 kube-apiserver kubectl_admin get --raw /readyz

    start kube-controller-manager "$(bin kube-controller-manager)" \
        --kubeconfig="$state/controller-manager.kubeconfig" --leader-elect=false \
        --use-service-account-credentials=true \
        --service-account-private-key-file="$state/pki/sa.key" --root-ca-file="$state/pki/ca.crt" \
        --bind-address=127.0.0.1 --secure-port=0 --port=0 \
        --cluster-name=citrigger --profiling=false
    start kube-scheduler "$(bin kube-scheduler)" \
        --kubeconfig="$state/scheduler.kubeconfig" --leader-elect=false \
        --bind-address=127.0.0.1 --secure-port=0 --port=0 --profiling=false
}

# dnsmasq answers <service>.<namespace>.svc.cluster.local (and, for headless Services, the endpoints'
# addresses and <hostname>.<service>...) from a hosts file; the feeder rewrites that file from a watch of
# Services and Endpoints and tells dnsmasq to read it again. Names outside cluster.local get no answer:
# dnsmasq has no upstream server.
start_dns() {
    mkdir -p "$state/dns"
    : >"$state/dns/hosts"
    start dnsmasq dnsmasq --keep-in-foreground --log-facility=- --conf-file=/dev/null --no-resolv --no-hosts \
        --addn-hosts="$state/dns/hosts" --listen-address="$gateway" --bind-interfaces --port=53 \
        --local=/cluster.local/ --domain-needed --bogus-priv --no-negcache --pid-file=
    start dns-feeder bash "$here/cluster.sh" feed-dns
    wait_for "DNS for kubernetes.default" 30 dns-feeder grep -q " kubernetes.default.svc.cluster.local" "$state/dns/hosts"
}

feed_dns() {
    local dnsmasq
    dnsmasq=$(cat "$state/pids/dnsmasq")
    render() {
        kubectl_admin get services,endpoints -A -o json | jq -r '
            [.items[] | select(.kind == "Service" and .spec.clusterIP == "None") | "\(.metadata.namespace)/\(.metadata.name)"] as $headless
            | .items[]
            | if .kind == "Service" then
                select(.spec.clusterIP != null and .spec.clusterIP != "None")
                | "\(.spec.clusterIP) \(.metadata.name).\(.metadata.namespace).svc.cluster.local"
              else
                select("\(.metadata.namespace)/\(.metadata.name)" as $key | $headless | index($key) != null)
                | .metadata as $m | .subsets[]?.addresses[]?
                | "\(.ip) \($m.name).\($m.namespace).svc.cluster.local"
                  + (if .hostname then " \(.hostname).\($m.name).\($m.namespace).svc.cluster.local" else "" end)
              end' >"$state/dns/hosts.new" && mv "$state/dns/hosts.new" "$state/dns/hosts" && kill -HUP "$dnsmasq"
    }
    while true; do
        # Every change of a Service or its Endpoints prints a line; a burst is rendered once.
        { kubectl_admin get services -A --watch -o name & kubectl_admin get endpoints -A --watch -o name; wait; } 2>/dev/null |
            while read -r _; do
                while read -r -t 0.2 _; do :; done
                render || true
            done
        sleep 1
    done
}

start_node() {
    mkdir -p "$state/kubelet" "$state/logs"
    printf 'nameserver %s\n' "$gateway" >"$state/resolv.conf"
    cat >"$state/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $gateway
port: 10250
readOnlyPort: 0
healthzBindAddress: $gateway
healthzPort: 10248
cgroupDriver: cgroupfs
failSwapOn: false
clusterDomain: cluster.local
clusterDNS: [$gateway]
resolvConf: $state/resolv.conf
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $state/pki/ca.crt}
authorization: {mode: Webhook}
# The images cannot be pulled again: never collect them; evict only when the machine is really short.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
maxPods: 110
serializeImagePulls: false
EOF
    # The kubelet's device-plugin directory and the containerd shims' socket directory are fixed paths.
    remember_created /var/log/pods /var/log/containers /var/lib/cni /var/lib/kubelet /run/containerd
    start kubelet "$(bin kubelet)" \
        --config="$state/kubelet/config.yaml" --kubeconfig="$state/kubelet.kubeconfig" \
        --root-dir="$state/kubelet" --cert-dir="$state/kubelet/pki" --volume-plugin-dir="$state/kubelet/volume-plugins" \
        --seccomp-profile-root="$state/kubelet/seccomp" \
        --container-runtime=remote --container-runtime-endpoint="unix://$state/containerd/containerd.sock" \
        --hostname-override="$node" --node-ip="$gateway" --oom-score-adj=0 --v=1
    start kube-proxy "$(bin kube-proxy)" \
        --kubeconfig="$state/kube-proxy.kubeconfig" --proxy-mode=iptables --cluster-cidr="$pod_cidr" \
        --hostname-override="$node" --bind-address="$gateway" \
        --healthz-bind-address="$gateway:10256" --metrics-bind-address="$gateway:10249" \
        --nodeport-addresses="$gateway/32" --oom-score-adj=0 \
        --conntrack-max-per-core=0 --conntrack-tcp-timeout-established=0 --conntrack-tcp-timeout-close-wait=0
    # kube-proxy puts its FORWARD rules first; the guard goes back in front of them (kube-proxy only adds
    # its jumps when they are missing, so it stays there).
    wait_for "kube-proxy's rules" 30 kube-proxy iptables -C FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
    iptables -D FORWARD -j CITRIGGER-GUARD
    iptables -I FORWARD 1 -j CITRIGGER-GUARD
    node_ready() { [ "$(kubectl_admin get node "$node" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
    wait_for "node $node" 90 kubelet node_ready
    # The controller manager's service-account controller makes "default" in each namespace; pods need it.
    wait_for "service account default/default" 60 kube-controller-manager kubectl_admin -n default get serviceaccount default
    volumes
}

# Storage, as kind's local-path provisioner gives it: a few hostPath PersistentVolumes without a storage
# class (a claim without one binds to them), each a directory anyone may write, under the state directory.
volumes() {
    local n
    for n in 0 1 2 3; do
        mkdir -p "$state/volumes/pv$n"
        chmod 0777 "$state/volumes/pv$n"
        cat <<EOF
apiVersion: v1
kind: PersistentVolume
metadata: {name: local-pv$n}
spec:
  capacity: {storage: 5Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: $state/volumes/pv$n, type: Directory}
---
EOF
    done | kubectl_admin apply -f - >/dev/null
}

install_packages() {
    local missing=() command package
    while read -r command package; do
        command -v "$command" >/dev/null 2>&1 || missing+=("$package")
    done <<EOF
containerd containerd
runc runc
conntrack conntrack
socat socat
dnsmasq dnsmasq-base
iptables iptables
jq jq
curl curl
etcd etcd-server
EOF
    [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
    [ -x /bin/busybox ] || missing+=(busybox-static)
    command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

up() {
    local owner=""
    if [ "${1:-}" = "--owner" ]; then owner=$2; fi
    [ "$(id -u)" = 0 ] || die "needs root (containers, a bridge, iptables)"
    install_packages
    # Binaries (one make when any is missing) and image archives, before anything starts.
    KUBE_BINARIES="kube-apiserver kubelet kube-controller-manager kube-scheduler kube-proxy" "$here/build-apiserver.sh" >/dev/null
    "$here/images.sh"
    down
    trap 'status=$?; trap - EXIT INT TERM; say "up failed or was interrupted; cleaning up"; down; exit $status' EXIT
    trap 'exit 130' INT TERM
    mkdir -p "$state/pids" "$state/logs"
    nft list tables >"$state/nft-tables" 2>/dev/null || true
    local setting
    for setting in "${sysctls[@]}"; do
        echo "$setting=$(sysctl -n "$setting" 2>/dev/null)" >>"$state/sysctl.saved"
    done
    say "certificates and identities"
    certificates
    identities
    say "network: bridge $bridge $gateway/24, Services $service_cidr"
    network
    say "containerd, and the images"
    start_containerd
    "$here/images.sh" "$state/containerd/containerd.sock"
    say "etcd, kube-apiserver, kube-controller-manager, kube-scheduler"
    start_control_plane
    say "DNS"
    start_dns
    say "kubelet, kube-proxy"
    start_node
    if [ -n "$owner" ]; then
        start watchdog bash -c 'while kill -0 "$0" 2>/dev/null; do sleep 1; done; exec "$1" down' "$owner" "$here/cluster.sh"
    fi
    trap - EXIT INT TERM
    say "up: node $node Ready, API https://$gateway:$api_port"
    echo "$state/admin.kubeconfig"
}

# One `up` or `down` at a time on this machine (a watchdog's `down` waits for an `up` in progress).
lock() { mkdir -p "$cache"; exec 9>"$cache/.cluster.lock"; flock 9; }

case "${1:-}" in
    up) shift; lock; up "$@" ;;
    down) [ "$(id -u)" = 0 ] || die "needs root"; lock; down ;;
    feed-dns) feed_dns ;;
    *) echo "usage: $0 up [--owner PID] | down" >&2; exit 2 ;;
esac
