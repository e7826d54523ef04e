# shellcheck shell=bash
# shellcheck disable=SC2034 # the scripts that source this file read the variables it does not export
# Source this file (do not execute it) to use the offline Pulumi toolchain that
# scripts/toolchain.sh builds:
#
#   source scripts/toolchain-env.sh
#
# It only sets variables; it builds nothing. See docs/toolchain.md.
#
# Overridable before sourcing:
#   LEANSTACK_TOOLCHAIN_DIR  where the toolchain lives (default below, outside the clone)
#   LEANSTACK_GO_DIR         Go module + build cache used by toolchain.sh

# What is built: LEANSTACK_PULUMI_VERSION, LEANSTACK_K8S_VERSION, LEANSTACK_DOCKER_BUILD_VERSION, from
# versions.env, the one file that states them (CI installs the same versions with Pulumi's installer).
# shellcheck source=../versions.env
source "$(dirname "${BASH_SOURCE[0]}")/../versions.env"
# How the kubernetes provider is built here, so not in versions.env: the newest provider/v4 revision
# the Go module proxy serves (main-branch commit f47bc2d6f199 of 2026-01-15, after the 4.24.0 release),
# stamped and registered as LEANSTACK_K8S_VERSION (4.24.0) to match the pinned Python SDK.
LEANSTACK_K8S_MODULE_VERSION=v4.0.0-20260115033456-f47bc2d6f199

LEANSTACK_TOOLCHAIN_ID="pulumi-${LEANSTACK_PULUMI_VERSION}_k8s-${LEANSTACK_K8S_VERSION}_docker-build-${LEANSTACK_DOCKER_BUILD_VERSION}"
LEANSTACK_TOOLCHAIN_DIR="${LEANSTACK_TOOLCHAIN_DIR:-$HOME/.cache/leanstack/toolchain/$LEANSTACK_TOOLCHAIN_ID}"
LEANSTACK_GO_DIR="${LEANSTACK_GO_DIR:-$HOME/.cache/leanstack/go}"
export LEANSTACK_TOOLCHAIN_DIR LEANSTACK_GO_DIR

case ":${PATH}:" in
  *":${LEANSTACK_TOOLCHAIN_DIR}/bin:"*) ;;
  *) export PATH="${LEANSTACK_TOOLCHAIN_DIR}/bin:${PATH}" ;;
esac
export PULUMI_HOME="${LEANSTACK_TOOLCHAIN_DIR}/pulumi-home"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
export PULUMI_DISABLE_REGISTRY_RESOLVE=true
