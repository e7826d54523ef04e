#!/usr/bin/env bash
# A local S3-compatible server for team state (docs/state.md): versitygw, built from its Go module
# (Apache-2.0; not MinIO, whose licence is AGPL), with its posix backend: buckets are directories
# under the data dir, object metadata lives in xattrs, and older versions in a versioning directory.
# It listens on 127.0.0.1 only and is started and stopped by the pid in its pid file.
#
# Usage: scripts/s3.sh build    build unless built (the stamp holds the module pins and the recipe)
#        scripts/s3.sh up       build unless built, start unless running, make the bucket with
#                               versioning on (idempotent)
#        scripts/s3.sh down     stop the server this script started (by pid); data is kept
#        scripts/s3.sh status   the server's pid, endpoint and the bucket's versioning; exit 1 when down
#        scripts/s3.sh env      the environment for pulumi: `eval "$(scripts/s3.sh env)"`
# Env:   LEANSTACK_S3_DIR (data, pid and log; default ~/.cache/leanstack/s3),
#        LEANSTACK_S3_PORT (default 9010), LEANSTACK_S3_BUCKET (default leanstack-state),
#        LEANSTACK_VERSITYGW_DIR (the build; default ~/.cache/leanstack/versitygw-<version>),
#        LEANSTACK_GO_DIR (the Go caches shared with every build here).
# The pin lives in tools/versitygw/go.mod (+ go.sum, generated once with `go mod tidy`).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC="$LEANSTACK_ROOT/tools/versitygw"
MODULE=github.com/versity/versitygw
# Bump when the build recipe below changes, so existing builds are redone.
RECIPE_REV=1

VERSION="$(wrapper_version "$SRC" "$MODULE")"
BUILD_DIR="${LEANSTACK_VERSITYGW_DIR:-$HOME/.cache/leanstack/versitygw-$VERSION}"
BIN="$BUILD_DIR/bin/versitygw"
DATA="${LEANSTACK_S3_DIR:-$HOME/.cache/leanstack/s3}"
PORT="${LEANSTACK_S3_PORT:-9010}"
BUCKET="${LEANSTACK_S3_BUCKET:-leanstack-state}"
PID_FILE="$DATA/versitygw.pid"
ENDPOINT="127.0.0.1:$PORT"
# The server's root credentials: local-only, like the default passphrase (docs/state.md says what a
# team uses instead).
export AWS_ACCESS_KEY_ID=leanstack AWS_SECRET_ACCESS_KEY=leanstack-local-only AWS_REGION=us-east-1

build() {
  go_env
  export CGO_ENABLED=0
  local key stamp="$BUILD_DIR/stamp" t0 v
  key="$(wrapper_key "$SRC" "$RECIPE_REV")"
  stamp_current "$stamp" "$key" "$BIN" && return 0
  log "building versitygw $VERSION (log: $BUILD_DIR/logs/build.log)"
  t0=$(date +%s)
  wrapper_build "$SRC" "$MODULE/cmd/versitygw" "$BIN" "-s -w -X main.Version=$VERSION -X main.Build=leanstack-r$RECIPE_REV" \
    "$BUILD_DIR/logs/build.log"
  v="$("$BIN" --version 2>&1)" || die "built binary does not run: $v"
  case "$v" in *"Version  : $VERSION"*) ;; *) die "versitygw reports '$v', not $VERSION" ;; esac
  stamp_write "$stamp" "$key"
  log "built versitygw $VERSION in $(( $(date +%s) - t0 )) s: $BIN ($(du -h "$BIN" | cut -f1))"
}

# The pid in the pid file when that process is alive and is our versitygw, else nothing.
running_pid() {
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null || true)" = "$BIN" ] && echo "$pid"
  return 0
}

s3() { venv_tool s3 --endpoint "http://$ENDPOINT" "$@"; }

up() {
  build
  "$LEANSTACK_ROOT/scripts/python-env.sh"  # boto3 for tools/s3
  if [ -z "$(running_pid)" ]; then
    s3 free
    mkdir -p "$DATA/root" "$DATA/versions"
    # The posix backend refuses a versioning dir inside its root, so they are siblings.
    nohup "$BIN" --port "$ENDPOINT" --access "$AWS_ACCESS_KEY_ID" --secret "$AWS_SECRET_ACCESS_KEY" \
      --region "$AWS_REGION" posix --versioning-dir "$DATA/versions" "$DATA/root" >"$DATA/versitygw.log" 2>&1 &
    echo $! >"$PID_FILE"
    s3 wait --pid "$!" --log "$DATA/versitygw.log"
    log "versitygw $VERSION listening on $ENDPOINT (pid $(cat "$PID_FILE"), data $DATA)"
  fi
  s3 ensure-bucket "$BUCKET"
}

down() {
  local pid
  pid="$(running_pid)"
  if [ -n "$pid" ]; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && die "versitygw (pid $pid) did not stop"
    log "stopped versitygw (pid $pid)"
  fi
  rm -f "$PID_FILE"
}

status() {
  local pid
  pid="$(running_pid)"
  [ -n "$pid" ] || { echo "versitygw: down (no live pid in $PID_FILE)"; exit 1; }
  echo "versitygw $VERSION: pid $pid, endpoint http://$ENDPOINT, data $DATA"
  s3 versioning "$BUCKET"
}

case "${1:-}" in
  build) build ;;
  up) up ;;
  down) down ;;
  status) status ;;
  env)
    # The host's python3 will do: backend-url needs no boto3. (Assigned first, so a bad name fails here.)
    url="$(py_tool s3 --endpoint "http://$ENDPOINT" backend-url "$BUCKET")"
    printf 'export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_REGION=%s\n' \
      "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_REGION"
    printf "export PULUMI_BACKEND_URL='%s'\n" "$url"
    ;;
  *) die "unknown command '${1:-}' (usage: scripts/s3.sh build|up|down|status|env)" ;;
esac
