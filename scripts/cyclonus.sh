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

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$REPO/tools/cyclonus"
MODULE=github.com/mattfenwick/cyclonus
# Bump when the recipe below changes, so existing builds are redone.
RECIPE_REV=1

die() { echo "[cyclonus] ERROR: $*" >&2; exit 1; }
log() { echo "[cyclonus] $*"; }

VERSION="$(awk -v m="$MODULE" '$1 == m { print $2 } $1 == "require" && $2 == m { print $3 }' "$SRC/go.mod" | head -1)"
[ -n "$VERSION" ] || die "no $MODULE requirement in $SRC/go.mod"
LEANSTACK_GO_DIR="${LEANSTACK_GO_DIR:-$HOME/.cache/leanstack/go}"
DIR="${LEANSTACK_CYCLONUS_DIR:-$HOME/.cache/leanstack/cyclonus-$VERSION}"
BIN="$DIR/bin/cyclonus"

if [ "${1:-}" = path ]; then echo "$BIN"; exit 0; fi
[ $# -eq 0 ] || die "unknown argument '$1' (usage: scripts/cyclonus.sh [path])"

export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
export GOMODCACHE="$LEANSTACK_GO_DIR/mod" GOCACHE="$LEANSTACK_GO_DIR/build" GOPATH="$LEANSTACK_GO_DIR/gopath"
# The checksum database is not reachable here; tools/cyclonus/go.sum pins every module.
export GOSUMDB="${GOSUMDB:-off}"
command -v go >/dev/null || export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || die "go not found (install Go in /usr/local/go)"

key="$(cat "$SRC/go.mod" "$SRC/go.sum" "$SRC/tools.go" | sha256sum | cut -c1-16)-r$RECIPE_REV-$(go env GOVERSION)"
stamp="$DIR/stamp"
if [ "${LEANSTACK_CYCLONUS_FORCE:-0}" != 1 ] && [ -x "$BIN" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$key" ]; then
  exit 0
fi

work="$LEANSTACK_GO_DIR/work/cyclonus-$VERSION"
mkdir -p "$work" "$DIR/bin" "$DIR/logs"
cp "$SRC/go.mod" "$SRC/go.sum" "$SRC/tools.go" "$work/"
log "building cyclonus $VERSION (log: $DIR/logs/build.log)"
t0=$(date +%s)
tmp="$(mktemp "$DIR/bin/.cyclonus.XXXX")"
if ! (cd "$work" && go build -trimpath -ldflags "-s -w -X $MODULE/pkg/cli.version=$VERSION" \
      -o "$tmp" "$MODULE/cmd/cyclonus") >"$DIR/logs/build.log" 2>&1; then
  rm -f "$tmp"; tail -20 "$DIR/logs/build.log" >&2; die "build failed"
fi
mv -f "$tmp" "$BIN"
# (capture first: `cmd | grep -q` fails under pipefail when grep exits before cmd is done)
v="$("$BIN" version 2>&1)" || die "built binary does not run: $v"
case "$v" in *"\"Version\":\"$VERSION\""* | *"\"Version\": \"$VERSION\""*) ;; *) die "cyclonus reports '$v', not $VERSION" ;; esac
echo "$key" >"$stamp"
log "built cyclonus $VERSION in $(( $(date +%s) - t0 )) s: $BIN ($(du -h "$BIN" | cut -f1))"
