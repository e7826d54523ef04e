#!/usr/bin/env bash
# A local BuildKit daemon for image builds, registered as the buildx builder "leanstack".
#
# Why: pulumi-docker-build drives BuildKit through buildx and supports docker-container, remote and
# kubernetes builders, not the Docker engine's built-in (docker driver) one. Its default starts a
# docker-container builder from a public image, which can't be pulled here. So buildkitd is built
# from its Go module, runs on a unix socket (OCI worker, runc from Debian's docker.io), and a buildx
# "remote" builder instance points at it. Builds pull bases from and push to the loopback registry.
# Idempotent: a running daemon and an existing binary are reused.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILDKIT_VERSION=v0.34.2
TOOLS="${LEANSTACK_TOOLS_DIR:-$HOME/.cache/leanstack/tools}"
STATE="${LEANSTACK_BUILDKIT_DIR:-$HOME/.cache/leanstack/buildkit}"
SOCKET_DIR=/run/leanstack-buildkit
SOCKET="$SOCKET_DIR/buildkitd.sock"
BIN="$TOOLS/bin/buildkitd-$BUILDKIT_VERSION"

if [[ ! -x $BIN ]]; then
  start=$SECONDS
  log "building buildkitd $BUILDKIT_VERSION from its Go module (a few minutes on 2 cores) ..."
  go_env
  work="$LEANSTACK_GO_DIR/work/buildkit-$BUILDKIT_VERSION"
  mkdir -p "$work" "$TOOLS/bin"
  # buildkit's go.mod has exclude directives, so `go install pkg@version` refuses it: use a wrapper module.
  cat > "$work/go.mod" <<MOD
module leanstack.local/buildkit

go 1.24
MOD
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/moby/buildkit/cmd/buildkitd"\n' > "$work/tools.go"
  (
    cd "$work"
    go get "github.com/moby/buildkit@$BUILDKIT_VERSION" >"$work/build.log" 2>&1
    go build -trimpath -tags osusergo -ldflags "-s -w -X github.com/moby/buildkit/version.Version=$BUILDKIT_VERSION" \
      -o "$BIN.tmp" github.com/moby/buildkit/cmd/buildkitd >>"$work/build.log" 2>&1
  ) || { tail -n 40 "$work/build.log" >&2; die "buildkitd build failed (log: $work/build.log)"; }
  mv "$BIN.tmp" "$BIN"
  log "built in $((SECONDS - start))s"
fi

command -v runc >/dev/null || die "runc is missing (it comes with Debian's docker.io: run scripts/docker.sh)"

"$BIN" --version >/dev/null 2>&1 || die "$BIN does not run"
if [[ -S $SOCKET ]] && python3 - "$SOCKET" <<'PY' 2>/dev/null; then
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect(sys.argv[1])
PY
  :
else
  mkdir -p "$STATE/root" "$SOCKET_DIR"
  cat > "$STATE/buildkitd.toml" <<TOML
# leanstack's local BuildKit: OCI worker, plain HTTP to the loopback registry.
[worker.oci]
  enabled = true
  gc = true
  gckeepstorage = "10GB"
[worker.containerd]
  enabled = false
[registry."127.0.0.1:5000"]
  http = true
  insecure = true
TOML
  rm -f "$SOCKET"
  nohup "$BIN" --config "$STATE/buildkitd.toml" --root "$STATE/root" --addr "unix://$SOCKET" \
    >"$STATE/buildkitd.log" 2>&1 &
  echo $! >"$STATE/buildkitd.pid"
  for _ in $(seq 1 50); do [[ -S $SOCKET ]] && break; sleep 0.2; done
  [[ -S $SOCKET ]] || { tail -n 20 "$STATE/buildkitd.log" >&2; die "buildkitd did not start"; }
  log "buildkitd listening on $SOCKET"
fi

# The buildx store entry that `builder: leanstack` resolves to (buildx's own instance file format).
instances="${DOCKER_CONFIG:-$HOME/.docker}/buildx/instances"
mkdir -p "$instances"
cat > "$instances/leanstack" <<JSON
{"Name":"leanstack","Driver":"remote","Nodes":[{"Name":"leanstack0","Endpoint":"unix://$SOCKET","Platforms":null,"DriverOpts":null,"Flags":null,"Files":null}],"Dynamic":false}
JSON
