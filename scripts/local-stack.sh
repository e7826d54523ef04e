#!/usr/bin/env bash
# Write Pulumi.local.yaml: the `local` stack, i.e. the dev stack's config (services, sizes, secrets,
# encryption salt) applied to the local cluster of scripts/cluster.sh instead of rendered to files.
# Generated (git-ignored), so it never drifts from Pulumi.dev.yaml; rerun after editing dev.
# Docker Hub cannot be reached here: dev's postgres and redis refs become the images that
# scripts/service-images.sh pushed to the local registry, pinned by the digest it serves now.
#   scripts/local-stack.sh            (scripts/setup runs it, then `pulumi up --stack local`)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LEANSTACK_ROOT"

kubeconfig="$(scripts/cluster.sh kubeconfig)"
[ -s "$kubeconfig" ] || die "no kubeconfig at $kubeconfig; run scripts/cluster.sh up"
images=()
for local in leanstack/postgres:15 leanstack/redis:7; do
  ref="${REGISTRY:-127.0.0.1:5000}/$local"
  digest="$(py_tool registry digest "$ref")" || die "no digest for $ref; run scripts/service-images.sh"
  repository="${local#leanstack/}"
  images+=(--image "${repository%%:*}=$ref@$digest")
done
.venv/bin/leanstack derive-stack --from dev --to local --kubeconfig "$kubeconfig" "${images[@]}"
