#!/usr/bin/env bash
# Write Pulumi.local.yaml: the `local` stack, i.e. the dev stack's config (services, sizes, secrets,
# encryption salt) applied to the local cluster of scripts/cluster.sh instead of rendered to files.
# Generated (git-ignored), so it never drifts from Pulumi.dev.yaml; rerun after editing dev.
#   scripts/local-stack.sh            (scripts/setup runs it, then `pulumi up --stack local`)
set -euo pipefail
cd "$(dirname "$0")/.."

kubeconfig="$(scripts/cluster.sh kubeconfig)"
[ -s "$kubeconfig" ] || { echo "local-stack: no kubeconfig at $kubeconfig; run scripts/cluster.sh up" >&2; exit 1; }
.venv/bin/leanstack derive-stack --from dev --to local --kubeconfig "$kubeconfig"
