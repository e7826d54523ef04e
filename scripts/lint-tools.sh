#!/usr/bin/env bash
# Build actionlint from its Go module (the Python wheel downloads a binary, which can't work offline)
# into ~/.cache/leanstack/tools/bin. Idempotent.
set -euo pipefail
ACTIONLINT_VERSION=v1.7.12
TOOLS="${LEANSTACK_TOOLS_DIR:-$HOME/.cache/leanstack/tools}"
if [[ -x "$TOOLS/bin/actionlint" ]] && "$TOOLS/bin/actionlint" -version 2>/dev/null | grep -q "${ACTIONLINT_VERSION#v}"; then
  exit 0
fi
start=$SECONDS
echo "[tools] building actionlint $ACTIONLINT_VERSION ..."
GOTOOLCHAIN=local GOBIN="$TOOLS/bin" GOFLAGS=-mod=mod \
  GOMODCACHE="${LEANSTACK_GO_DIR:-$HOME/.cache/leanstack/go}/mod" GOCACHE="${LEANSTACK_GO_DIR:-$HOME/.cache/leanstack/go}/build" \
  go install -trimpath -ldflags "-s -w -X github.com/rhysd/actionlint.version=${ACTIONLINT_VERSION#v}" \
  "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
echo "[tools] actionlint done in $((SECONDS - start))s"
