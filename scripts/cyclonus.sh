#!/usr/bin/env bash
# cyclonus (github.com/mattfenwick/cyclonus), built from its Go module: offline network policy
# analysis. tests/e2e/test_reachability.py runs `cyclonus analyze --mode probe` on every stack's
# rendered NetworkPolicies (docs/cluster.md, "Network policy reachability").
#
# Usage: scripts/cyclonus.sh          build into the cache unless already built (idempotent)
#        scripts/cyclonus.sh path     print the binary's path (builds nothing)
# Env:   LEANSTACK_GO_DIR (Go module + build cache, shared with scripts/toolchain.sh),
#        LEANSTACK_CYCLONUS_DIR (default ~/.cache/leanstack/cyclonus-<version>),
#        LEANSTACK_CYCLONUS_FORCE=1 rebuilds.
# The pin lives in tools/cyclonus/go.mod (+ go.sum, generated once with `go mod tidy`).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC="$LEANSTACK_ROOT/tools/cyclonus"
MODULE=github.com/mattfenwick/cyclonus
# Bump when the recipe below changes, so existing builds are redone.
RECIPE_REV=1

VERSION="$(wrapper_version "$SRC" "$MODULE")"
DIR="${LEANSTACK_CYCLONUS_DIR:-$HOME/.cache/leanstack/cyclonus-$VERSION}"
BIN="$DIR/bin/cyclonus"

if [ "${1:-}" = path ]; then echo "$BIN"; exit 0; fi
[ $# -eq 0 ] || die "unknown argument '$1' (usage: scripts/cyclonus.sh [path])"

go_env
export CGO_ENABLED=0

key="$(wrapper_key "$SRC" "$RECIPE_REV")"
stamp="$DIR/stamp"
if [ "${LEANSTACK_CYCLONUS_FORCE:-0}" != 1 ] && stamp_current "$stamp" "$key" "$BIN"; then
  exit 0
fi

log "building cyclonus $VERSION (log: $DIR/logs/build.log)"
t0=$(date +%s)
wrapper_build "$SRC" "$MODULE/cmd/cyclonus" "$BIN" "-s -w -X $MODULE/pkg/cli.version=$VERSION" "$DIR/logs/build.log"
# (capture first: `cmd | grep -q` fails under pipefail when grep exits before cmd is done)
v="$("$BIN" version 2>&1)" || die "built binary does not run: $v"
case "$v" in *"\"Version\":\"$VERSION\""* | *"\"Version\": \"$VERSION\""*) ;; *) die "cyclonus reports '$v', not $VERSION" ;; esac
stamp_write "$stamp" "$key"
log "built cyclonus $VERSION in $(( $(date +%s) - t0 )) s: $BIN ($(du -h "$BIN" | cut -f1))"
