#!/usr/bin/env bash
# The engine on one stack, exactly as CI and scripts/setup run it: run it locally to see what CI will say.
#   scripts/stack.sh preview STACK [ARGS]   pulumi preview with the policy pack (creates a missing stack)
#   scripts/stack.sh up STACK [ARGS]        pulumi up --yes with the policy pack
#   scripts/stack.sh cost STACK [ARGS]      leanstack cost --stack STACK, e.g. --format comment
# The policy pack's config is policies/config/STACK.json, or LEANSTACK_POLICY_STACK's (the local stack: dev).
# Pulumi as scripts/toolchain-env.sh sets it up: the offline build of scripts/toolchain.sh, or a pulumi
# installed the usual way with the plugins of scripts/plugins.sh; state defaults from scripts/pulumi-env.sh.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LEANSTACK_ROOT"

[[ $# -ge 2 ]] || die "usage: scripts/stack.sh preview|up|cost STACK [ARGS]"
verb=$1 stack=$2
shift 2
# shellcheck source=toolchain-env.sh
source scripts/toolchain-env.sh
# shellcheck source=pulumi-env.sh
source scripts/pulumi-env.sh

case $verb in
  cost) exec .venv/bin/leanstack cost --stack "$stack" "$@" ;;
  preview) ;;
  up) set -- --yes "$@" ;;
  *) die "$verb: not a verb of scripts/stack.sh (preview, up or cost)" ;;
esac
policy="policies/config/${LEANSTACK_POLICY_STACK:-$stack}.json"
[[ -f $policy ]] || die "$policy: no policy config for stack $stack (LEANSTACK_POLICY_STACK names the stack whose config applies)"
pulumi stack select "$stack" --create --non-interactive >/dev/null
exec pulumi "$verb" --stack "$stack" --non-interactive --diff=false \
  --policy-pack policies --policy-pack-config "$policy" "$@"
