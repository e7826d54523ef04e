#!/usr/bin/env bash
# A local Kubernetes control plane, built from Go modules and run offline:
#   etcd + kube-apiserver + kube-controller-manager + kube-scheduler (real, v1.33) and
#   kwok (fake nodes and pods: no kubelet, no containers), orchestrated by kwokctl
#   ("binary" runtime: plain processes, local binaries only, nothing downloaded).
#
#   plus one real node (scripts/node.sh: kubelet, containerd, kube-proxy, kube-router, CoreDNS) whose
#   pods really run; the kwok nodes are tainted, so only pods that tolerate it land there.
#
# Usage: scripts/cluster.sh build       build the binaries into the cache (idempotent)
#        scripts/cluster.sh up          build if needed, start, wait until ready (no-op when up)
#        scripts/cluster.sh down        stop exactly the processes `up` started (by pid); data kept
#        scripts/cluster.sh down --purge   ... and delete the cluster (etcd data, certificates)
#        scripts/cluster.sh status      running? pids, listeners, nodes
#        scripts/cluster.sh kubeconfig  print the kubeconfig path
#        scripts/cluster.sh config      print the kwokctl configuration and the objects up applies
# Env:   see scripts/cluster-env.sh; LEANSTACK_CLUSTER_FORCE=1 rebuilds the binaries.
# Docs:  docs/cluster.md
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SCRIPT_DIR="$LEANSTACK_ROOT/scripts"
# shellcheck source=cluster-env.sh
source "$SCRIPT_DIR/cluster-env.sh"

DIR="$LEANSTACK_CLUSTER_DIR"
BIN="$DIR/bin"
LOGS="$DIR/logs"
STAMPS="$DIR/stamps"
KWOK_HOME="$DIR/kwok"                       # kwokctl's work dir (KWOK_WORKDIR): certs, pids, logs
CLUSTER_WORKDIR="$KWOK_HOME/clusters/$LEANSTACK_CLUSTER_NAME"
KUBECONFIG_PATH="$LEANSTACK_KUBECONFIG"
WORK="$LEANSTACK_GO_DIR/work/cluster-$LEANSTACK_CLUSTER_ID"
KV="$LEANSTACK_CLUSTER_K8S_VERSION"
EV="$LEANSTACK_CLUSTER_ETCD_VERSION"
WV="$LEANSTACK_CLUSTER_KWOK_VERSION"
# Bump when a build recipe below changes, so existing caches rebuild.
RECIPE_REV=1
# The ingress controller's namespace and IngressClass a stack gets by default (leanstack/config/schema.py:
# ingress_namespace, ingress_class); tests/unit/test_shell.py keeps these in step with the schema.
INGRESS_NAMESPACE=ingress-nginx
INGRESS_CLASS=nginx

# ---------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------
# The binary a main package builds to (etcd's main package is its module root, ".../server/v3").
binname() { case "$1" in go.etcd.io/etcd/server/v3) echo etcd ;; *) basename "$1" ;; esac; }

# build_group NAME "LDFLAGS" PKG...: build PKGs of tools/cluster/NAME into $BIN, unless the
# stamp (hash of the wrapper module + recipe) says they are already there.
build_group() {
  # One build per group at a time: a second `up` meanwhile waits, then finds the stamp. The lock's
  # fd is closed right after: processes `up` starts later must not inherit (and hold) it.
  mkdir -p "$STAMPS"
  local lock status=0; exec {lock}>"$STAMPS/build-$1.lock"; flock "$lock"
  build_group_locked "$@" || status=$?
  exec {lock}>&-
  return "$status"
}

build_group_locked() {
  local name="$1" ldflags="$2"; shift 2
  local src="$LEANSTACK_ROOT/tools/cluster/$name" wd="$WORK/$name"
  local key stamp="$STAMPS/build-$name" b outputs=()
  key="$(wrapper_key "$src" "$RECIPE_REV")"
  for b in "$@"; do outputs+=("$BIN/$(binname "$b")"); done
  if [ "${LEANSTACK_CLUSTER_FORCE:-0}" != 1 ] && stamp_current "$stamp" "$key" "${outputs[@]}"; then
    return 0
  fi
  log "building $name: $* (log: $LOGS/build-$name.log)"
  mkdir -p "$wd" "$BIN" "$LOGS" "$STAMPS"
  cp "$src/go.mod" "$src/go.sum" "$src/tools.go" "$wd/"
  local t0 tmp; t0=$(date +%s); tmp="$(mktemp -d "$BIN/.build-$name.XXXX")"
  local out="$tmp/"; [ $# -gt 1 ] || out="$tmp/$(binname "$1")"   # go names .../server/v3 "server"
  if ! (cd "$wd" && go build -trimpath -ldflags "-s -w $ldflags" -o "$out" "$@") >"$LOGS/build-$name.log" 2>&1; then
    rm -rf "$tmp"; tail -20 "$LOGS/build-$name.log" >&2; die "build of $name failed"
  fi
  for b in "$@"; do mv -f "$tmp/$(binname "$b")" "$BIN/"; done
  rm -rf "$tmp"
  stamp_write "$stamp" "$key"
  log "built $name in $(( $(date +%s) - t0 )) s: $(cd "$BIN" && for b in "$@"; do printf '%s %s  ' "$(binname "$b")" "$(du -h "$(binname "$b")" | cut -f1)"; done)"
}

cmd_build() {
  go_env
  export CGO_ENABLED=0
  local kmaj="${KV%%.*}" kmin; kmin="${KV#*.}"; kmin="${kmin%%.*}"
  local kflags="" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    kflags+=" -X $p.gitVersion=v$KV -X $p.gitMajor=$kmaj -X $p.gitMinor=$kmin -X $p.gitTreeState=clean"
  done
  build_group kwok "-X sigs.k8s.io/kwok/pkg/consts.Version=$WV -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$KV" \
    sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl
  build_group etcd "-X go.etcd.io/etcd/api/v3/version.GitSHA=v$EV" go.etcd.io/etcd/server/v3
  # One go build: the commands share the compile of ~2,000 packages.
  build_group kubernetes "$kflags" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/test/images/agnhost
  build_group coredns "-X github.com/coredns/coredns/coremain.GitCommit=v$LEANSTACK_COREDNS_VERSION" github.com/coredns/coredns
  build_group kube-router "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=v$LEANSTACK_KUBE_ROUTER_VERSION" \
    github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
  build_group local-path-provisioner "" github.com/rancher/local-path-provisioner
  build_group metrics-server "-X k8s.io/client-go/pkg/version.gitVersion=v$LEANSTACK_METRICS_SERVER_VERSION" sigs.k8s.io/metrics-server/cmd/metrics-server
  # (capture first: `cmd | grep -q` fails under pipefail when grep exits before cmd is done)
  local v
  v="$("$BIN/kube-apiserver" --version)"; [ "$v" = "Kubernetes v$KV" ] || die "kube-apiserver reports '$v', not v$KV"
  v="$("$BIN/etcd" --version)"; case "$v" in *"etcd Version: $EV"*) ;; *) die "etcd does not report $EV: $v" ;; esac
}

# ---------------------------------------------------------------------------
# run (kwokctl, binary runtime)
# ---------------------------------------------------------------------------
CONFIG="$DIR/kwokctl.yaml"                  # written by up (template below)
NODES="${LEANSTACK_CLUSTER_NODES:-3}"       # fake nodes, one per zone a, b, c, ...

# KUBECACHEDIR: kwokctl (client-go) would otherwise create ~/.kube/cache.
kwokctl() { KWOK_WORKDIR="$KWOK_HOME" KUBECACHEDIR="$DIR/kube-cache" "$BIN/kwokctl" --name "$LEANSTACK_CLUSTER_NAME" "$@"; }
kc() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_PATH" --cache-dir "$DIR/kube-cache" "$@"; }

# "component pid" for every pid file kwokctl wrote (one per process it forked).
pid_files() { ls "$CLUSTER_WORKDIR"/pids/*.pid 2>/dev/null || true; }
pids() { local f; for f in $(pid_files); do echo "$(basename "$f" .pid) $(cat "$f")"; done; }
alive() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != Z ]; }
all_alive() {
  local n=0 c p
  while read -r c p; do [ -n "$p" ] || continue; n=$((n + 1)); alive "$p" || return 1; done < <(pids)
  [ "$n" -ge 5 ]
}
is_up() { all_alive && [ -s "$KUBECONFIG_PATH" ] && [ "$(kc get --raw /readyz 2>/dev/null)" = ok ]; }

write_config() {
  local pki="$CLUSTER_WORKDIR/pki"
  cat >"$1" <<YAML
# Written by scripts/cluster.sh (template in the script); passed to kwokctl --config.
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  bindAddress: 127.0.0.1          # kwokctl's default is 0.0.0.0; there is no flag for it
  kubeVersion: v$KV
  etcdVersion: $EV
  kwokVersion: v$WV
  securePort: true                # TLS, client certificates
  kubeAuthorization: true         # --authorization-mode=Node,RBAC
  kubeAdmission: true             # default admission chain (+ enable-admission-plugins below)
  # The names and addresses pods use for the API server (the kubernetes Service, the node's relay).
  kubeApiserverCertSANs: [${LEANSTACK_SERVICE_CIDR%.*/*}.1, $LEANSTACK_NODE_IP, kubernetes, kubernetes.default,
                          kubernetes.default.svc, kubernetes.default.svc.cluster.local]
  quietPull: true
  # kwokctl scales every heartbeat setting by 5 by default (node-monitor-grace-period 3m20s), which
  # suits thousands of fake nodes; the real node's faults should play out as on a stock 1.33 cluster:
  # NotReady 50 s (the kube-controller-manager default since 1.32) after the kubelet stops posting.
  heartbeatFactor: 1
  kubeControllerManagerNodeMonitorGracePeriodMilliseconds: 50000
  cacheDir: $KWOK_HOME/cache
  # Local binaries only: kwokctl would otherwise download from dl.k8s.io / GitHub.
  kubeApiserverBinary: $BIN/kube-apiserver
  kubeControllerManagerBinary: $BIN/kube-controller-manager
  kubeSchedulerBinary: $BIN/kube-scheduler
  kubectlBinary: $BIN/kubectl
  etcdBinary: $BIN/etcd
  kwokControllerBinary: $BIN/kwok
componentsPatches:
- name: kube-apiserver
  extraArgs:
  - key: enable-admission-plugins
    value: NodeRestriction,PodSecurity,LimitRanger,ResourceQuota,DefaultStorageClass,ServiceAccount
  # Front-proxy (aggregation) CA: without it the controller-manager and scheduler log
  # "unable to load configmap based request-header-client-ca-file" errors.
  - key: requestheader-client-ca-file
    value: $pki/ca.crt
  - key: requestheader-allowed-names
    value: kwok-admin
  - key: requestheader-username-headers
    value: X-Remote-User
  - key: requestheader-group-headers
    value: X-Remote-Group
  - key: requestheader-extra-headers-prefix
    value: X-Remote-Extra-
  # The real node (scripts/node.sh): the kubernetes Service's endpoint is the node's relay; logs and
  # exec reach the kubelet at its InternalIP with a client certificate.
  - key: advertise-address
    value: $LEANSTACK_NODE_IP
  - key: service-cluster-ip-range
    value: $LEANSTACK_SERVICE_CIDR
  - key: kubelet-preferred-address-types
    value: InternalIP,Hostname
  - key: kubelet-client-certificate
    value: $pki/admin.crt
  - key: kubelet-client-key
    value: $pki/admin.key
- name: kwok-controller
  extraArgs:
  # kwok fakes only its own nodes; by default it would fake the status of the real node's pods too.
  - key: manage-all-nodes
    value: "false"
  - key: manage-nodes-with-annotation-selector
    value: kwok.x-k8s.io/node=fake
- name: kube-controller-manager
  extraArgs:
  # Authenticate callers of its secure port via the apiserver (as kubeadm does); without
  # these it warns that client-certificate / request-header authentication won't work.
  - key: authentication-kubeconfig
    value: $CLUSTER_WORKDIR/kubeconfig.yaml
  - key: authorization-kubeconfig
    value: $CLUSTER_WORKDIR/kubeconfig.yaml
  # In-tree dynamic provisioner for StorageClass "standard" (kubernetes.io/host-path):
  # creates an empty /tmp/hostpath_pv/<uid> per claim, removes it on delete. Dev/test only.
  - key: enable-hostpath-provisioner
    value: "true"
- name: kube-scheduler
  extraArgs:
  - key: authentication-kubeconfig
    value: $CLUSTER_WORKDIR/kubeconfig.yaml
  - key: authorization-kubeconfig
    value: $CLUSTER_WORKDIR/kubeconfig.yaml
YAML
}

# Objects every `up` (re)applies: fake nodes, the default StorageClass, the ingress namespace.
cluster_objects() {
  local i zones=(a b c d e f g h)
  for ((i = 0; i < NODES; i++)); do
    cat <<YAML
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    topology.kubernetes.io/region: local
    topology.kubernetes.io/zone: local-${zones[$((i % 8))]}
spec:
  # Only for scheduling-only tests that tolerate it (leanstack:kubernetes.tolerations): a pod that
  # must run never lands here.
  taints: [{key: kwok.x-k8s.io/node, value: fake, effect: NoSchedule}]
status:
  # kwok's default fake node declares no ephemeral-storage; our pods request it.
  capacity: {cpu: "32", memory: 128Gi, ephemeral-storage: 500Gi, pods: "110"}
  allocatable: {cpu: "32", memory: 128Gi, ephemeral-storage: 500Gi, pods: "110"}
YAML
  done
  # kwok-hostpath: claims of the kwok-only tests (bound at once, nothing mounted); the default class
  # `standard` is the real node's (scripts/node.sh: local-path-provisioner).
  cat <<YAML
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: kwok-hostpath
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
allowVolumeExpansion: false
---
apiVersion: v1
kind: Namespace
metadata:
  name: $INGRESS_NAMESPACE
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: $INGRESS_CLASS
spec:
  controller: k8s.io/ingress-nginx
YAML
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll every 0.2 s.
wait_for() {
  local limit="$1" what="$2" end; shift 2
  end=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || die "timed out after ${limit}s waiting for $what (logs: $CLUSTER_WORKDIR/logs)"
    sleep 0.2
  done
}
readyz() { [ "$(kc get --raw /readyz 2>/dev/null)" = ok ]; }
# A restarted controller-manager or scheduler acts only once it holds its leader lease: the old
# process's lease must run out first (15 s), and until then nothing reconciles (no ReplicaSet, no pod).
leases_renewed_since() {
  local since=$1 lease renewed
  for lease in kube-controller-manager kube-scheduler; do
    renewed=$(kc -n kube-system get lease "$lease" -o jsonpath='{.spec.renewTime}' 2>/dev/null) || return 1
    [ -n "$renewed" ] && [ "$(date -d "$renewed" +%s)" -ge "$since" ] || return 1
  done
}
nodes_ready() {
  [ "$(kc get nodes -l type=kwok -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')" -ge "$NODES" ]
}

cmd_up() {
  cmd_build
  if is_up; then
    log "already up (kubeconfig: $KUBECONFIG_PATH)"
    cluster_objects | kc apply -f - >/dev/null   # what an older version of this script did not apply yet
    "$SCRIPT_DIR/node.sh" up
    return 0
  fi
  local t0 cfg_new; t0=$(date +%s%N)
  mkdir -p "$DIR" "$KWOK_HOME"
  cfg_new="$(mktemp "$DIR/.kwokctl.XXXX.yaml")"
  write_config "$cfg_new"
  if [ -d "$CLUSTER_WORKDIR" ] && cmp -s "$cfg_new" "$CONFIG" && [ -s "$KUBECONFIG_PATH" ]; then
    # Stopped by `down` (data kept): start the same processes again.
    rm -f "$cfg_new"
    log "starting the stopped cluster $LEANSTACK_CLUSTER_NAME"
    kwokctl stop cluster >/dev/null 2>&1 || true      # whatever half of it still runs
    kwokctl start cluster >"$LOGS/kwokctl.log" 2>&1 || { cat "$LOGS/kwokctl.log" >&2; die "kwokctl start cluster failed"; }
  else
    if [ -d "$CLUSTER_WORKDIR" ]; then
      log "configuration changed or state incomplete: deleting the old cluster"
      kwokctl delete cluster --kubeconfig "$KUBECONFIG_PATH" >/dev/null 2>&1 || true
      rm -rf "$CLUSTER_WORKDIR"
    fi
    mv -f "$cfg_new" "$CONFIG"
    rm -f "$KUBECONFIG_PATH"
    log "creating cluster $LEANSTACK_CLUSTER_NAME (kwokctl, binary runtime, 127.0.0.1)"
    mkdir -p "$LOGS"
    kwokctl --config "$CONFIG" create cluster --runtime binary --kubeconfig "$KUBECONFIG_PATH" \
      >"$LOGS/kwokctl.log" 2>&1 || { cat "$LOGS/kwokctl.log" >&2; die "kwokctl create cluster failed"; }
  fi
  chmod 600 "$KUBECONFIG_PATH"
  wait_for 60 "kube-apiserver /readyz" readyz
  cluster_objects | kc apply -f - >/dev/null
  wait_for 60 "$NODES Ready node(s)" nodes_ready
  wait_for 60 "the default service account" kc -n default get serviceaccount default
  wait_for 60 "the controller-manager and scheduler holding their leases" leases_renewed_since "$((t0 / 1000000000))"
  "$SCRIPT_DIR/node.sh" up
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  log "ready in $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s: Kubernetes v$KV, $NODES fake node(s), StorageClass standard (default)"
  log "kubeconfig: $KUBECONFIG_PATH"
}

# stop_pids: kill exactly the recorded pids that kwokctl did not stop (TERM, then KILL).
stop_leftovers() {
  local c p i
  for ((i = 0; i < 50; i++)); do
    local left=0
    for p in "$@"; do alive "$p" && left=1; done
    [ "$left" = 0 ] && return 0
    sleep 0.1
  done
  for p in "$@"; do alive "$p" && { log "pid $p still running: SIGTERM"; kill -TERM "$p" 2>/dev/null || true; }; done
  sleep 2
  for p in "$@"; do alive "$p" && { log "pid $p still running: SIGKILL"; kill -KILL "$p" 2>/dev/null || true; }; done
  for p in "$@"; do alive "$p" && die "pid $p survived SIGKILL"; done
  return 0
}

cmd_down() {
  local purge=0; [ "${1:-}" = --purge ] && purge=1
  [ -d "$CLUSTER_WORKDIR" ] || { log "not created; nothing to stop"; return 0; }
  "$SCRIPT_DIR/node.sh" down "$@"
  local started; started="$(pids | awk '{print $2}' | xargs)"
  if [ "$purge" = 1 ] && readyz; then
    # The empty directories the hostPath provisioner made for still-bound volumes.
    local d
    for d in $(kc get pv -o jsonpath='{range .items[*]}{.spec.hostPath.path}{"\n"}{end}' 2>/dev/null); do
      case "$d" in /tmp/hostpath_pv/?*) rm -rf -- "$d" ;; esac
    done
  fi
  if [ "$purge" = 1 ]; then
    kwokctl delete cluster --kubeconfig "$KUBECONFIG_PATH" >"$LOGS/kwokctl-down.log" 2>&1 || true
  else
    kwokctl stop cluster >"$LOGS/kwokctl-down.log" 2>&1 || true
  fi
  # shellcheck disable=SC2086
  stop_leftovers $started
  if [ "$purge" = 1 ]; then
    rm -rf "$CLUSTER_WORKDIR" "$CONFIG" "$KUBECONFIG_PATH"
    log "deleted (pids stopped: ${started:-none}; data removed)"
  else
    log "stopped (pids: ${started:-none}); data kept, \`up\` resumes it, \`down --purge\` deletes it"
  fi
}

cmd_status() {
  if [ ! -d "$CLUSTER_WORKDIR" ]; then echo "cluster $LEANSTACK_CLUSTER_NAME: not created"; return 3; fi
  local c p state=up
  echo "cluster $LEANSTACK_CLUSTER_NAME ($LEANSTACK_CLUSTER_ID), kubeconfig: $KUBECONFIG_PATH"
  while read -r c p; do
    [ -n "$p" ] || continue
    if alive "$p"; then
      printf '  %-24s pid %-7s running  rss %s KiB  listens %s\n' "$c" "$p" "$(ps -o rss= -p "$p" | tr -d ' ')" \
        "$(ss -ltnpH 2>/dev/null | grep "pid=$p," | awk '{print $4}' | xargs)"
    else
      printf '  %-24s pid %-7s stopped\n' "$c" "$p"; state=down
    fi
  done < <(pids)
  [ -n "$(pids)" ] || state=down
  "$SCRIPT_DIR/node.sh" status || state=down
  if [ "$state" = up ] && readyz; then
    kc get nodes -o wide 2>/dev/null | sed 's/^/  /'
    echo "state: up"; return 0
  fi
  echo "state: down"; return 3
}

case "${1:-}" in
  build) cmd_build ;;
  up) cmd_up ;;
  down) shift; cmd_down "$@" ;;
  status) cmd_status ;;
  kubeconfig) echo "$KUBECONFIG_PATH" ;;
  config) t="$(mktemp)"; write_config "$t"; cat "$t"; rm -f "$t"; cluster_objects ;;   # what up passes to kwokctl and applies
  *) die "usage: $0 build|up|down [--purge]|status|kubeconfig" ;;
esac
