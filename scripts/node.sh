#!/usr/bin/env bash
# The local cluster's real node, beside kwok's fake ones: pods on it really run.
#   containerd (a second, CRI-enabled instance; Docker's own is untouched) + runc,
#   CNI bridge (lsbr0, host-local IPAM) + portmap, kubelet, kube-proxy (iptables mode),
#   kube-router (NetworkPolicy enforcement only: iptables + ipset), a TCP relay so pods reach the
#   API server through the `kubernetes` Service, and CoreDNS as a pod in kube-system (k8s-app: kube-dns);
#   metrics-server as a pod in kube-system behind the v1beta1.metrics.k8s.io APIService (kubectl top, HPAs).
# Every process is started in the background with a pid file and stopped by that pid.
#
# Usage (scripts/cluster.sh calls it; the control plane must be up):
#   scripts/node.sh up               start what is not running, wait until the node and CoreDNS are Ready
#   scripts/node.sh down [--purge]   stop the pods' containers and the node's processes (by pid); with
#                                    --purge also delete its state, the bridge, its iptables chains and netns
#   scripts/node.sh status           pids, RSS, listeners
# Addresses (scripts/cluster-env.sh): node 10.244.0.1 on bridge lsbr0, pods 10.244.0.0/24, Services
# 10.96.0.0/16, cluster DNS 10.96.0.10. Pods reach only pods, Services and the node (mangle rule below).
# Docs: docs/cluster.md
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SCRIPT_DIR="$LEANSTACK_ROOT/scripts"
# shellcheck source=cluster-env.sh
source "$SCRIPT_DIR/cluster-env.sh"

BIN="$LEANSTACK_CLUSTER_DIR/bin"
CLUSTER_WORKDIR="$LEANSTACK_CLUSTER_DIR/kwok/clusters/$LEANSTACK_CLUSTER_NAME"
PKI="$CLUSTER_WORKDIR/pki"
NODE_DIR="$LEANSTACK_CLUSTER_DIR/node"
PIDS="$NODE_DIR/pids"
LOGS="$NODE_DIR/logs"
RUN_DIR=/run/leanstack-node                     # containerd state (sockets, mounts): tmpfs, gone at reboot
# kubelet's root (pod volumes, its sockets): a short path, as a unix socket's path is at most 107 bytes.
KUBELET_ROOT=/var/lib/leanstack-node/kubelet
# cAdvisor (inside kubelet) finds containerd's container stats only at this socket, and Docker's
# dockerd runs its own containerd elsewhere (/var/run/docker/containerd), so it is free.
CRI_SOCKET=/run/containerd/containerd.sock
NAME="$LEANSTACK_NODE_NAME"
BRIDGE="$LEANSTACK_NODE_BRIDGE"
NODE_IP="$LEANSTACK_NODE_IP"
POD_CIDR="$LEANSTACK_POD_CIDR"
SERVICE_CIDR="$LEANSTACK_SERVICE_CIDR"
REGISTRY="${REGISTRY:-127.0.0.1:5000}"
PAUSE_IMAGE="$REGISTRY/leanstack/pause:3.10"
COREDNS_IMAGE="$REGISTRY/leanstack/coredns:$LEANSTACK_COREDNS_VERSION"
AGNHOST_IMAGE="$REGISTRY/leanstack/agnhost:v$LEANSTACK_CLUSTER_K8S_VERSION"
LOCAL_PATH_IMAGE="$REGISTRY/leanstack/local-path-provisioner:v$LEANSTACK_LOCAL_PATH_VERSION"
METRICS_SERVER_IMAGE="$REGISTRY/leanstack/metrics-server:v$LEANSTACK_METRICS_SERVER_VERSION"
# Its helper pods create and remove volume directories with a shell: the Debian build base has one.
HELPER_IMAGE="$REGISTRY/leanstack/python:3.11-build"
VOLUMES_DIR=/var/lib/leanstack-node/volumes
PACKAGES=(containerd runc containernetworking-plugins iptables ipset conntrack socat openssl)

kc() { "$BIN/kubectl" --kubeconfig "$LEANSTACK_KUBECONFIG" --cache-dir "$LEANSTACK_CLUSTER_DIR/kube-cache" "$@"; }
ctr_() { ctr --address "$CRI_SOCKET" --namespace k8s.io "$@"; }
alive() { [ -s "$PIDS/$1.pid" ] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null && [ "$(ps -o stat= -p "$(cat "$PIDS/$1.pid")" | cut -c1)" != Z ]; }

wait_for() {   # wait_for SECONDS DESCRIPTION COMMAND...
  local limit="$1" what="$2" end; shift 2
  end=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || die "timed out after ${limit}s waiting for $what (logs: $LOGS)"
    sleep 0.5
  done
}

# start NAME COMMAND...: run in the background (own session, so it outlives this shell), pid file.
start() {
  local name="$1"; shift
  if alive "$name"; then return 0; fi
  log "starting $name (log: $LOGS/$name.log)"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid"
}

# write_config FILE: stdin into FILE only when it differs (kube-proxy exits when its file changes).
write_config() {
  local tmp; tmp="$(mktemp "$1.XXXX")"
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv -f "$tmp" "$1"; fi
}

stop() {   # stop NAME: TERM, then KILL after 10 s, by the recorded pid only
  local name="$1" pid i
  alive "$name" || { rm -f "$PIDS/$name.pid"; return 0; }
  pid="$(cat "$PIDS/$name.pid")"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do alive "$name" || break; sleep 0.1; done
  if alive "$name"; then log "$name (pid $pid) ignored SIGTERM: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; fi
  rm -f "$PIDS/$name.pid"
  log "stopped $name (pid $pid)"
}

# --- network -------------------------------------------------------------------------------------
network_up() {
  modprobe br_netfilter 2>/dev/null || true
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
  fi
  ip addr show dev "$BRIDGE" | grep -q " $NODE_IP/" || ip addr add "$NODE_IP/${POD_CIDR#*/}" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # Service IPs route to the bridge: a connection the host opens before kube-proxy programmed a new
  # Service (the API server's to an aggregated API) otherwise left by the default route, and the
  # API server kept reusing it (found with metrics-server: its APIService saw 404s from outside).
  ip route replace "$SERVICE_CIDR" dev "$BRIDGE" src "$NODE_IP"
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 "net.ipv6.conf.$BRIDGE.disable_ipv6=1"
  # Pods may reach other pods, Services (before kube-proxy's DNAT) and the node; anything else,
  # the machine's own network included, is dropped before routing.
  iptables -t mangle -N LEANSTACK-PODS 2>/dev/null || iptables -t mangle -F LEANSTACK-PODS
  iptables -t mangle -A LEANSTACK-PODS -d "$POD_CIDR" -j RETURN
  iptables -t mangle -A LEANSTACK-PODS -d "$SERVICE_CIDR" -j RETURN
  iptables -t mangle -A LEANSTACK-PODS -j DROP
  iptables -t mangle -C PREROUTING -i "$BRIDGE" -j LEANSTACK-PODS 2>/dev/null ||
    iptables -t mangle -I PREROUTING -i "$BRIDGE" -j LEANSTACK-PODS
  # Docker sets FORWARD's policy to DROP; bridged pod traffic passes br_netfilter's FORWARD hook.
  # Appended, so kube-router's policy chain (inserted first) has already dropped what it denies.
  iptables -N LEANSTACK-FORWARD 2>/dev/null || iptables -F LEANSTACK-FORWARD
  iptables -A LEANSTACK-FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
  iptables -C FORWARD -j LEANSTACK-FORWARD 2>/dev/null || iptables -A FORWARD -j LEANSTACK-FORWARD
}

network_purge() {
  local ns
  # The pod network namespaces containerd made: their eth0 holds an address of the pod CIDR.
  for ns in $(ip netns list 2>/dev/null | awk '/^cni-/{print $1}'); do
    ip netns exec "$ns" ip -4 -o addr show 2>/dev/null | grep -q " ${POD_CIDR%.*}\." && ip netns delete "$ns"
  done
  iptables -t mangle -D PREROUTING -i "$BRIDGE" -j LEANSTACK-PODS 2>/dev/null || true
  { iptables -t mangle -F LEANSTACK-PODS 2>/dev/null && iptables -t mangle -X LEANSTACK-PODS 2>/dev/null; } || true
  iptables -D FORWARD -j LEANSTACK-FORWARD 2>/dev/null || true
  { iptables -F LEANSTACK-FORWARD 2>/dev/null && iptables -X LEANSTACK-FORWARD 2>/dev/null; } || true
  # kube-proxy's and kube-router's own chains: they remove them themselves.
  { [ -x "$BIN/kube-proxy" ] && "$BIN/kube-proxy" --cleanup >/dev/null 2>&1; } || true
  { [ -x "$BIN/kube-router" ] && "$BIN/kube-router" --cleanup-config >/dev/null 2>&1; } || true
  ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE"
  return 0
}

# --- credentials: client certificates signed by the cluster's CA ---------------------------------
# cert NAME CN [O]: $NODE_DIR/pki/NAME.{key,crt} and a kubeconfig $NODE_DIR/NAME.kubeconfig.
cert() {
  local name="$1" cn="$2" org="${3:-}" dir="$NODE_DIR/pki" server
  mkdir -p "$dir"
  if [ ! -s "$dir/$name.crt" ] || ! openssl verify -CAfile "$PKI/ca.crt" "$dir/$name.crt" >/dev/null 2>&1; then
    openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/$name.key" -subj "/CN=$cn${org:+/O=$org}" \
      -out "$dir/$name.csr" 2>/dev/null
    openssl x509 -req -in "$dir/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
      -days 365 -out "$dir/$name.crt" 2>/dev/null
    rm -f "$dir/$name.csr"
  fi
  server="$(kc config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
  write_config "$NODE_DIR/$name.kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "$server", certificate-authority: "$PKI/ca.crt"}}]
users: [{name: $name, user: {client-certificate: "$dir/$name.crt", client-key: "$dir/$name.key"}}]
contexts: [{name: $name, context: {cluster: local, user: $name}}]
current-context: $name
YAML
  chmod 600 "$NODE_DIR/$name.kubeconfig" "$dir/$name.key"
}

# --- containerd ----------------------------------------------------------------------------------
containerd_up() {
  mkdir -p "$NODE_DIR/containerd" "$NODE_DIR/cni/net.d" "$NODE_DIR/cni/ipam" "$RUN_DIR" "$(dirname "$CRI_SOCKET")"
  write_config "$NODE_DIR/cni/net.d/10-leanstack.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "leanstack",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$NODE_DIR/cni/ipam",
              "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
  write_config "$NODE_DIR/containerd/config.toml" <<TOML
# Written by scripts/node.sh. A second containerd, for the kubelet only (CRI); Docker's is untouched.
version = 2
root = "$NODE_DIR/containerd/root"
state = "$RUN_DIR/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$CRI_SOCKET"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Root here lacks CAP_SYS_RESOURCE: a sandbox's oom_score_adj of -998 would fail in runc.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$NODE_DIR/cni/net.d"
  # The local registry speaks plain HTTP on loopback.
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."$REGISTRY"]
    endpoint = ["http://$REGISTRY"]
TOML
  start containerd containerd --config "$NODE_DIR/containerd/config.toml"
  wait_for 30 "containerd on $CRI_SOCKET" ctr --address "$CRI_SOCKET" version
}

# Kill the pods' containers (their shims outlive containerd otherwise); kubelet recreates them on up.
containerd_stop_pods() {
  [ -S "$CRI_SOCKET" ] && alive containerd || return 0
  local task
  for task in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s KILL "$task" >/dev/null 2>&1 || true; done
  sleep 1
  for task in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$task" >/dev/null 2>&1 || true; done
}

# --- images the node needs and cannot pull: built here, pushed to the local registry -------------
registry_digest() {   # the digest the registry holds for IMAGE (registry/repo:tag); empty when none
  py_tool registry digest "$1" 2>/dev/null || true
}

# import_image IMAGE DIR USER ENTRYPOINT: a one-layer image of DIR (no base, no shell), pushed.
import_image() {
  local image="$1" dir="$2" user="$3" entrypoint="$4"
  tar -C "$dir" --owner=0 --group=0 --numeric-owner -c . |
    docker import --change "USER $user" --change "ENTRYPOINT [\"$entrypoint\"]" - "$image" >/dev/null
  docker push -q "$image" >/dev/null
  log "pushed $image ($(du -sh "$dir" | cut -f1))"
}

images_up() {
  local work="$NODE_DIR/images/pause" src
  if [ -z "$(registry_digest "$PAUSE_IMAGE")" ]; then
    # The pause image cannot be pulled; its source ships in the k8s.io/kubernetes module.
    src="$LEANSTACK_GO_DIR/mod/k8s.io/kubernetes@v$LEANSTACK_CLUSTER_K8S_VERSION/build/pause/linux/pause.c"
    rm -rf "$work" && mkdir -p "$work"
    gcc -Os -static -Wall -Werror -DVERSION=v3.10-leanstack -o "$work/pause" "$src"
    strip "$work/pause"
    import_image "$PAUSE_IMAGE" "$work" 65535:65535 /pause
  fi
  binary_image "$COREDNS_IMAGE" coredns 65532:65532
  # agnhost (Kubernetes' own e2e test tool): the tests' connectivity probes (`agnhost connect`).
  binary_image "$AGNHOST_IMAGE" agnhost 65532:65532
  binary_image "$LOCAL_PATH_IMAGE" local-path-provisioner 65532:65532
  binary_image "$METRICS_SERVER_IMAGE" metrics-server 65532:65532
}

binary_image() {   # binary_image IMAGE BINARY USER: an image holding only $BIN/BINARY, unless pushed already
  local image="$1" binary="$2" dir="$NODE_DIR/images/$2"
  [ -z "$(registry_digest "$image")" ] || return 0
  rm -rf "$dir" && mkdir -p "$dir/tmp" && chmod 1777 "$dir/tmp"
  cp "$BIN/$binary" "$dir/$binary"
  import_image "$image" "$dir" "$3" "/$binary"
}

# --- kubelet, kube-proxy, kube-router, the API server relay --------------------------------------
api_port() { kc config view --minify -o jsonpath='{.clusters[0].cluster.server}' | sed 's/.*://'; }

kubelet_up() {
  mkdir -p "$NODE_DIR/kubelet"
  write_config "$NODE_DIR/kubelet/config.yaml" <<YAML
# Written by scripts/node.sh.
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$CRI_SOCKET
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
clusterDNS: [$LEANSTACK_DNS_IP]
clusterDomain: cluster.local
# Pods get the cluster's resolver only, never this machine's search domains or nameservers.
resolvConf: ""
podCIDR: $POD_CIDR
maxPods: 110
serializeImagePulls: false
rotateCertificates: false
serverTLSBootstrap: false
evictionHard: {memory.available: 100Mi, nodefs.available: 5%, imagefs.available: 5%}
YAML
  start kubelet "$BIN/kubelet" --config "$NODE_DIR/kubelet/config.yaml" --kubeconfig "$NODE_DIR/kubelet.kubeconfig" \
    --hostname-override "$NAME" --node-ip "$NODE_IP" --root-dir "$KUBELET_ROOT" \
    --cert-dir "$NODE_DIR/kubelet/pki" --node-labels "leanstack.dev/node=real"
}

kube_proxy_up() {
  write_config "$NODE_DIR/kube-proxy.yaml" <<YAML
# Written by scripts/node.sh.
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $NODE_DIR/kube-proxy.kubeconfig}
hostnameOverride: $NAME
mode: iptables
clusterCIDR: $POD_CIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: [$NODE_IP/32]
iptables: {localhostNodePorts: false}
# 0: leave the kernel's conntrack table settings alone (a VM may refuse them).
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
  start kube-proxy "$BIN/kube-proxy" --config "$NODE_DIR/kube-proxy.yaml"
}

kube_router_up() {
  start kube-router "$BIN/kube-router" --kubeconfig "$NODE_DIR/kube-router.kubeconfig" --hostname-override "$NAME" \
    --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
    --service-cluster-ip-range "$SERVICE_CIDR" --health-port 0 --metrics-port 0
}

# The API server listens on 127.0.0.1 only; the `kubernetes` Service's endpoint is the node address
# (--advertise-address), relayed here byte for byte (TLS end to end) so pods reach it as on any cluster.
relay_up() {
  local port; port="$(api_port)"
  start apiserver-relay socat "TCP-LISTEN:$port,bind=$NODE_IP,fork,reuseaddr" "TCP:127.0.0.1:$port"
}

node_ready() {
  [ "$(kc get node "$NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

cluster_objects() {
  cat <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "leanstack:kube-router"}
rules:
- apiGroups: [""]
  resources: [namespaces, pods, services, endpoints, nodes]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "leanstack:kube-router"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "leanstack:kube-router"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "leanstack:kube-router"}]
---
apiVersion: v1
kind: Namespace
metadata: {name: local-path-storage}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: local-path-provisioner, namespace: local-path-storage}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: local-path-provisioner, namespace: local-path-storage}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, create, patch, update, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: local-path-provisioner, namespace: local-path-storage}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: local-path-provisioner}
subjects: [{kind: ServiceAccount, name: local-path-provisioner, namespace: local-path-storage}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "leanstack:local-path-provisioner"}
rules:
- apiGroups: [""]
  resources: [nodes, persistentvolumeclaims, configmaps, pods, pods/log]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [persistentvolumes]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [storage.k8s.io]
  resources: [storageclasses]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "leanstack:local-path-provisioner"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "leanstack:local-path-provisioner"}
subjects: [{kind: ServiceAccount, name: local-path-provisioner, namespace: local-path-storage}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: local-path-config, namespace: local-path-storage}
data:
  config.json: '{"nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["$VOLUMES_DIR"]}]}'
  # 0777: a pod's non-root UID writes its volume (hostPath volumes get no fsGroup ownership).
  setup: |-
    set -eu
    mkdir -m 0777 -p "\$VOL_DIR"
  teardown: |-
    set -eu
    rm -rf "\$VOL_DIR"
  helperPod.yaml: |-
    apiVersion: v1
    kind: Pod
    metadata: {name: helper-pod}
    spec:
      priorityClassName: system-node-critical
      containers:
      - name: helper-pod
        image: $HELPER_IMAGE@$(registry_digest "$HELPER_IMAGE")
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: local-path-provisioner, namespace: local-path-storage}
spec:
  replicas: 1
  selector: {matchLabels: {app: local-path-provisioner}}
  template:
    metadata: {labels: {app: local-path-provisioner}}
    spec:
      serviceAccountName: local-path-provisioner
      nodeSelector: {kubernetes.io/hostname: $NAME}
      securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: local-path-provisioner
        image: $LOCAL_PATH_IMAGE@$(registry_digest "$LOCAL_PATH_IMAGE")
        args: [start, --config, /etc/config/config.json, --service-account-name, local-path-provisioner]
        env:
        - name: POD_NAMESPACE
          valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
        - {name: CONFIG_MOUNT_PATH, value: /etc/config/}
        resources:
          requests: {cpu: 10m, memory: 32Mi}
          limits: {memory: 128Mi}
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
        volumeMounts: [{name: config, mountPath: /etc/config/, readOnly: true}]
      volumes: [{name: config, configMap: {name: local-path-config}}]
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: rancher.io/local-path
reclaimPolicy: Delete
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects: [{kind: ServiceAccount, name: coredns, namespace: kube-system}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  # No forward plugin: names outside the cluster are not resolved (nothing leaves this machine).
  Corefile: |
    .:53 {
        errors
        health {
            lameduck 5s
        }
        ready
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
            ttl 30
        }
        prometheus :9153
        cache 30
        reload
        loadbalance
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      serviceAccountName: coredns
      priorityClassName: system-cluster-critical
      nodeSelector: {kubernetes.io/hostname: $NAME}
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        seccompProfile: {type: RuntimeDefault}
        # Port 53 without any capability (a namespaced, "safe" sysctl).
        sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "53"}]
      containers:
      - name: coredns
        image: $COREDNS_IMAGE@$(registry_digest "$COREDNS_IMAGE")
        args: [-conf, /etc/coredns/Corefile]
        ports:
        - {name: dns, containerPort: 53, protocol: UDP}
        - {name: dns-tcp, containerPort: 53, protocol: TCP}
        - {name: metrics, containerPort: 9153, protocol: TCP}
        resources:
          requests: {cpu: 50m, memory: 32Mi}
          limits: {memory: 128Mi}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
        volumeMounts: [{name: config, mountPath: /etc/coredns, readOnly: true}]
        livenessProbe: {httpGet: {path: /health, port: 8080}, initialDelaySeconds: 5, periodSeconds: 10}
        readinessProbe: {httpGet: {path: /ready, port: 8181}, periodSeconds: 2}
      volumes: [{name: config, configMap: {name: coredns}}]
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  selector: {k8s-app: kube-dns}
  clusterIP: $LEANSTACK_DNS_IP
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
  - {name: metrics, port: 9153, protocol: TCP}
YAML
}

# metrics-server, as its upstream manifests (manifests/base in the module) deploy it. The API server
# reaches it through the aggregation layer with the front-proxy client certificate kwokctl already
# passes (--proxy-client-cert-file, CN kwok-admin, allowed by --requestheader-allowed-names: see
# cluster.sh); it reaches the kubelet at the node's InternalIP with its service account's token.
# metrics_server_binding KIND NAME ROLE_KIND ROLE: grant ROLE to metrics-server's service account
# (a RoleBinding lives in kube-system, where the role it binds is).
metrics_server_binding() {
  local namespace=""; [ "$1" = RoleBinding ] && namespace=", namespace: kube-system"
  cat <<YAML
---
apiVersion: rbac.authorization.k8s.io/v1
kind: $1
metadata: {name: "$2"$namespace, labels: {k8s-app: metrics-server}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: $3, name: "$4"}
subjects: [{kind: ServiceAccount, name: metrics-server, namespace: kube-system}]
YAML
}

metrics_server_objects() {
  cat <<YAML
apiVersion: v1
kind: ServiceAccount
metadata: {name: metrics-server, namespace: kube-system, labels: {k8s-app: metrics-server}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: "system:aggregated-metrics-reader"
  labels:
    k8s-app: metrics-server
    rbac.authorization.k8s.io/aggregate-to-view: "true"
    rbac.authorization.k8s.io/aggregate-to-edit: "true"
    rbac.authorization.k8s.io/aggregate-to-admin: "true"
rules:
- apiGroups: [metrics.k8s.io]
  resources: [pods, nodes]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:metrics-server", labels: {k8s-app: metrics-server}}
rules:
- apiGroups: [""]
  resources: [nodes/metrics]
  verbs: [get]
- apiGroups: [""]
  resources: [pods, nodes]
  verbs: [get, list, watch]
$(metrics_server_binding ClusterRoleBinding system:metrics-server ClusterRole system:metrics-server)
$(metrics_server_binding ClusterRoleBinding metrics-server:system:auth-delegator ClusterRole system:auth-delegator)
$(metrics_server_binding RoleBinding metrics-server-auth-reader Role extension-apiserver-authentication-reader)
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: metrics-server, namespace: kube-system, labels: {k8s-app: metrics-server}}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: metrics-server}}
  template:
    metadata: {labels: {k8s-app: metrics-server}}
    spec:
      serviceAccountName: metrics-server
      priorityClassName: system-cluster-critical
      nodeSelector: {kubernetes.io/hostname: $NAME}
      securityContext: {runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: metrics-server
        image: $METRICS_SERVER_IMAGE@$(registry_digest "$METRICS_SERVER_IMAGE")
        args:
        - --cert-dir=/tmp
        - --secure-port=10250
        - --kubelet-preferred-address-types=InternalIP
        - --kubelet-use-node-status-port
        - --metric-resolution=15s
        # The kubelet serves a self-signed certificate (no tlsCertFile) naming only the node's name,
        # which does not resolve here, while metrics-server dials the InternalIP: nothing could verify
        # it. The connection is still TLS on the node's bridge and authenticated by token.
        - --kubelet-insecure-tls
        ports: [{name: https, containerPort: 10250, protocol: TCP}]
        resources: {requests: {cpu: 20m, memory: 32Mi}, limits: {memory: 128Mi}}
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
        # Ready once it has scraped the kubelet (one metric resolution).
        readinessProbe: {httpGet: {path: /readyz, port: https, scheme: HTTPS}, periodSeconds: 2, failureThreshold: 3}
        livenessProbe: {httpGet: {path: /livez, port: https, scheme: HTTPS}, initialDelaySeconds: 10, periodSeconds: 10}
        volumeMounts: [{name: tmp, mountPath: /tmp}]
      volumes: [{name: tmp, emptyDir: {}}]
---
apiVersion: v1
kind: Service
metadata: {name: metrics-server, namespace: kube-system, labels: {k8s-app: metrics-server}}
spec:
  selector: {k8s-app: metrics-server}
  ports: [{name: https, port: 443, protocol: TCP, targetPort: https, appProtocol: https}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io, labels: {k8s-app: metrics-server}}
spec:
  service: {name: metrics-server, namespace: kube-system}
  group: metrics.k8s.io
  version: v1beta1
  # Its serving certificate is self-signed in /tmp at start (upstream's choice too).
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 100
  versionPriority: 100
YAML
}

api_service_available() {
  [ "$(kc get apiservice v1beta1.metrics.k8s.io -o jsonpath='{.status.conditions[?(@.type=="Available")].status}' 2>/dev/null)" = True ]
}

ready_replicas() {   # ready_replicas NAMESPACE DEPLOYMENT: true when its one replica is ready
  [ "$(kc -n "$1" get deployment "$2" -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ]
}

cmd_up() {
  local t0; t0=$(date +%s%N)
  [ "$(id -u)" = 0 ] || die "the real node needs root (network namespaces, cgroups, iptables)"
  kc get --raw /readyz >/dev/null 2>&1 || die "the control plane is not up (scripts/cluster.sh up starts it)"
  apt_install_missing "${PACKAGES[@]}"
  mkdir -p "$PIDS" "$LOGS"
  network_up
  cert kubelet "system:node:$NAME" system:nodes
  cert kube-proxy system:kube-proxy
  cert kube-router "leanstack:kube-router"
  containerd_up
  # The node's images live in the local registry; after a reboot nothing serves it yet.
  python3 -c "import urllib.request; urllib.request.urlopen('http://$REGISTRY/v2/', timeout=2)" 2>/dev/null ||
    "$LEANSTACK_ROOT/scripts/docker.sh" >/dev/null
  images_up
  # RBAC first: kube-router exits when it cannot list what it enforces within a minute.
  { cluster_objects; echo ---; metrics_server_objects; } | kc apply -f - >/dev/null
  kubelet_up
  kube_proxy_up
  # kube-router exits at once if its node object does not exist yet (a cold start: the kubelet
  # registers it a few seconds after it starts), and pods then resolve no names.
  wait_for 60 "node $NAME registered" kc get node "$NAME"
  kube_router_up
  relay_up
  wait_for 120 "node $NAME Ready" node_ready
  wait_for 180 "CoreDNS Ready in kube-system" ready_replicas kube-system coredns
  wait_for 180 "local-path-provisioner Ready" ready_replicas local-path-storage local-path-provisioner
  wait_for 180 "metrics-server Ready, v1beta1.metrics.k8s.io Available" api_service_available
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  log "node $NAME ready in $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s: $NODE_IP on $BRIDGE, pods $POD_CIDR, services $SERVICE_CIDR, DNS $LEANSTACK_DNS_IP"
}

cmd_down() {
  local purge=0; [ "${1:-}" = --purge ] && purge=1
  [ -d "$NODE_DIR" ] || { log "no node state; nothing to stop"; return 0; }
  stop apiserver-relay
  stop kube-router
  stop kube-proxy
  stop kubelet
  containerd_stop_pods
  stop containerd
  if [ "$purge" = 1 ]; then
    network_purge
    # Mounts left under the state and root dirs by killed containers.
    # kubelet also bind-mounts its root onto itself (for mount propagation): that mount goes too.
    grep -E " ($RUN_DIR|$NODE_DIR|$KUBELET_ROOT)[/ ]" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$RUN_DIR" "$NODE_DIR" "${KUBELET_ROOT%/*}"   # the kubelet's root and the volumes beside it
    log "purged: state, bridge $BRIDGE, iptables chains, pod network namespaces"
  fi
}

cmd_status() {
  local name pid state=up
  for name in containerd kubelet kube-proxy kube-router apiserver-relay; do
    if alive "$name"; then
      pid="$(cat "$PIDS/$name.pid")"
      printf '  %-24s pid %-7s running  rss %s KiB  listens %s\n' "$name" "$pid" "$(ps -o rss= -p "$pid" | tr -d ' ')" \
        "$(ss -ltnpH 2>/dev/null | grep "pid=$pid," | awk '{print $4}' | xargs)"
    else
      printf '  %-24s stopped\n' "$name"; state=down
    fi
  done
  [ "$state" = up ]
}

case "${1:-}" in
  up) cmd_up ;;
  down) shift; cmd_down "$@" ;;
  status) cmd_status ;;
  *) die "usage: $0 up|down [--purge]|status" ;;
esac
