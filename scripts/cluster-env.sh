# shellcheck shell=bash
# shellcheck disable=SC2034 # the scripts that source this file read the variables it does not export
# Source this file (do not execute it) for the local Kubernetes cluster that
# scripts/cluster.sh builds and runs (kwok + real control plane, all built from Go modules):
#
#   source scripts/cluster-env.sh && export KUBECONFIG="$LEANSTACK_KUBECONFIG"
#
# It only sets variables; it builds and starts nothing. See docs/cluster.md.
#
# Overridable before sourcing:
#   LEANSTACK_CLUSTER_DIR   binaries, cluster state, logs, kubeconfig (default below, outside the clone)
#   LEANSTACK_GO_DIR        Go module + build cache, shared with scripts/toolchain.sh
#   LEANSTACK_CLUSTER_NAME  kwokctl cluster name (default: leanstack)

# What is built. cluster.sh reads these; the pins live in tools/cluster/*/go.mod.
LEANSTACK_CLUSTER_K8S_VERSION=1.33.13    # kube-apiserver, -controller-manager, -scheduler, kubectl
LEANSTACK_CLUSTER_ETCD_VERSION=3.5.21    # what Kubernetes 1.33 is tested with
LEANSTACK_CLUSTER_KWOK_VERSION=0.8.0     # kwok (fake nodes/pods) and kwokctl (process orchestration)
LEANSTACK_COREDNS_VERSION=1.15.0         # cluster DNS, a pod in kube-system (scripts/node.sh)
LEANSTACK_KUBE_ROUTER_VERSION=2.1.0      # NetworkPolicy enforcer on the real node (firewall only)
LEANSTACK_LOCAL_PATH_VERSION=0.0.30      # the real node's volume provisioner (local-path-provisioner, as kind uses)
LEANSTACK_METRICS_SERVER_VERSION=0.8.0   # resource metrics API (kubectl top, HPAs), a pod in kube-system (scripts/node.sh)

# The real node (scripts/node.sh): its address on the project's own bridge, the pod and Service
# ranges (they exist only on this machine) and the cluster DNS Service's address.
LEANSTACK_NODE_NAME=leanstack-node-1
LEANSTACK_NODE_BRIDGE=lsbr0
LEANSTACK_NODE_IP=10.244.0.1
LEANSTACK_POD_CIDR=10.244.0.0/24
LEANSTACK_SERVICE_CIDR=10.96.0.0/16
LEANSTACK_DNS_IP=10.96.0.10

LEANSTACK_CLUSTER_ID="k8s-v${LEANSTACK_CLUSTER_K8S_VERSION}_etcd-v${LEANSTACK_CLUSTER_ETCD_VERSION}_kwok-v${LEANSTACK_CLUSTER_KWOK_VERSION}"
LEANSTACK_CLUSTER_DIR="${LEANSTACK_CLUSTER_DIR:-$HOME/.cache/leanstack/cluster/$LEANSTACK_CLUSTER_ID}"
LEANSTACK_CLUSTER_NAME="${LEANSTACK_CLUSTER_NAME:-leanstack}"
LEANSTACK_GO_DIR="${LEANSTACK_GO_DIR:-$HOME/.cache/leanstack/go}"
LEANSTACK_KUBECONFIG="$LEANSTACK_CLUSTER_DIR/kubeconfig"
export LEANSTACK_CLUSTER_DIR LEANSTACK_CLUSTER_NAME LEANSTACK_GO_DIR LEANSTACK_KUBECONFIG LEANSTACK_NODE_NAME LEANSTACK_NODE_IP
