#!/usr/bin/env bash
# Write Pulumi.local.yaml: the `local` stack, i.e. the dev stack's config (services, sizes, secrets,
# encryption salt) applied to the local cluster of scripts/cluster.sh instead of rendered to files.
# Generated (git-ignored), so it never drifts from Pulumi.dev.yaml; rerun after editing dev.
# Docker Hub cannot be reached here: dev's postgres and redis refs become the images that
# scripts/service-images.sh pushed to the local registry, pinned by the digest it serves now.
#   scripts/local-stack.sh            (scripts/setup runs it, then `pulumi up --stack local`)
set -euo pipefail
cd "$(dirname "$0")/.."

kubeconfig="$(scripts/cluster.sh kubeconfig)"
[ -s "$kubeconfig" ] || { echo "local-stack: no kubeconfig at $kubeconfig; run scripts/cluster.sh up" >&2; exit 1; }
images=()
for local in leanstack/postgres:15 leanstack/redis:7; do
  ref="${REGISTRY:-127.0.0.1:5000}/$local"
  digest="$(PYTHONPATH=. python3 -m tools.registry digest "$ref")" \
    || { echo "local-stack: no digest for $ref; run scripts/service-images.sh" >&2; exit 1; }
  repository="${local#leanstack/}"
  images+=(--image "${repository%%:*}=$ref@$digest")
done
.venv/bin/leanstack derive-stack --from dev --to local --kubeconfig "$kubeconfig" "${images[@]}"
