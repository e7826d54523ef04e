#!/usr/bin/env bash
# The provider plugins at versions.env's versions, installed by the engine itself (`pulumi plugin
# install`, from Pulumi's releases) into the PULUMI_HOME of scripts/toolchain-env.sh, for a pulumi
# installed the usual way: pulumi/actions in CI, Pulumi's installer on a laptop. The online
# counterpart of scripts/toolchain.sh, which builds all of it from Go modules where only those can be
# fetched (docs/toolchain.md). Idempotent: the engine keeps an installed plugin.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=toolchain-env.sh
source "$LEANSTACK_ROOT/scripts/toolchain-env.sh"

want="v$LEANSTACK_PULUMI_VERSION"
command -v pulumi >/dev/null ||
  die "pulumi is not on PATH: install Pulumi $want (pulumi/actions, Pulumi's installer) or build it offline with scripts/toolchain.sh"
have=$(pulumi version)
[[ $have == "$want" ]] || die "$(command -v pulumi) is pulumi $have; versions.env: LEANSTACK_PULUMI_VERSION wants $want"
# Pulumi's installers put the language hosts next to the CLI; a bare binary would fail at the first preview.
command -v pulumi-language-python >/dev/null || die "pulumi-language-python is not on PATH next to $(command -v pulumi)"
mkdir -p "$PULUMI_HOME"
pulumi plugin install resource kubernetes "$LEANSTACK_K8S_VERSION"
pulumi plugin install resource docker-build "$LEANSTACK_DOCKER_BUILD_VERSION"
log "pulumi $have, kubernetes v$LEANSTACK_K8S_VERSION, docker-build v$LEANSTACK_DOCKER_BUILD_VERSION in PULUMI_HOME=$PULUMI_HOME"
