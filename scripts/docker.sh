#!/usr/bin/env bash
# Make a Docker engine and a local image registry (127.0.0.1:5000) available.
#
# Idempotent:
#   * if `docker info` already answers, that engine is used as is;
#   * otherwise Debian's docker.io (+ docker-registry, debootstrap) is installed
#     (only the missing packages) and dockerd is started in the background,
#     logs and pid under ~/.cache/leanstack/docker/;
#   * a registry is started on 127.0.0.1:5000 (Debian's docker-registry binary,
#     storage under ~/.cache/leanstack/registry, no auth) unless
#     http://127.0.0.1:5000/v2/ already answers.
#
# Prints a short summary of what works (engine version, BuildKit, buildx).
# Environment knobs:
#   LEANSTACK_CACHE          default ~/.cache/leanstack
#   LEANSTACK_DOCKER_TIMEOUT seconds to wait for dockerd (default 60)
#   LEANSTACK_REGISTRY_PORT  default 5000
#   LEANSTACK_NO_INSTALL=1   never apt-get install (fail instead)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOCKER_DIR="$LEANSTACK_CACHE/docker"
REG_DIR="$LEANSTACK_CACHE/registry"
TIMEOUT="${LEANSTACK_DOCKER_TIMEOUT:-60}"
REG_PORT="${LEANSTACK_REGISTRY_PORT:-5000}"
REG_ADDR="127.0.0.1:${REG_PORT}"

# --- which client ------------------------------------------------------------
# Prefer a client on PATH (e.g. /usr/local/bin/docker); Debian's is /usr/bin/docker.
pick_client() {
  if [ -n "${DOCKER:-}" ]; then echo "$DOCKER"; return; fi
  if command -v docker >/dev/null 2>&1; then command -v docker; return; fi
  if [ -x /usr/bin/docker ]; then echo /usr/bin/docker; return; fi
  echo ""
}

engine_up() {
  local c
  c="$(pick_client)"
  [ -n "$c" ] && "$c" info >/dev/null 2>&1
}

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    die "$1 needs root (run as root or start a Docker engine yourself)"
  fi
}

# wait_answers WHAT PIDFILE LOGFILE LIMIT CHECK...: until CHECK succeeds; dies with the log's tail
# when the process exits or LIMIT seconds pass.
wait_answers() {
  local what="$1" pidf="$2" logf="$3" limit="$4" t0=$SECONDS; shift 4
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$pidf")" 2>/dev/null; then
      log "$what exited; last log lines:"; tail -n 30 "$logf" >&2 || true
      die "$what failed to start"
    fi
    if (( SECONDS - t0 > limit )); then
      log "$what did not answer within ${limit}s; last log lines:"; tail -n 30 "$logf" >&2 || true
      die "timeout waiting for $what"
    fi
    sleep 0.5
  done
  log "$what answers after $((SECONDS - t0))s"
}

# --- engine --------------------------------------------------------------------
# Docker's own containerd, at an address nobody else uses. Without --containerd, dockerd takes
# whatever socket file exists at /run/containerd/containerd.sock (it checks only that the file
# exists): that is the real node's CRI containerd (scripts/node.sh), or its stale socket after a
# reboot or a kill, and dockerd then fails with "failed to dial /run/containerd/containerd.sock".
# These are the paths dockerd's own managed containerd uses, so images and containers carry over.
CONTAINERD_SOCK=/var/run/docker/containerd/containerd.sock
start_docker_containerd() {
  local pidf="$DOCKER_DIR/containerd.pid" logf="$DOCKER_DIR/containerd.log" cfg="$DOCKER_DIR/containerd.toml"
  if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
    log "Docker's containerd already running (pid $(cat "$pidf"))"
    return 0
  fi
  mkdir -p "$(dirname "$CONTAINERD_SOCK")"
  cat >"$cfg" <<TOML
version = 2
root = "/var/lib/docker/containerd/daemon"
state = "/var/run/docker/containerd/daemon"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CONTAINERD_SOCK"
TOML
  log "starting Docker's containerd on $CONTAINERD_SOCK (log: $logf)"
  setsid containerd --config "$cfg" >>"$logf" 2>&1 </dev/null &
  echo $! >"$pidf"
  wait_answers "Docker's containerd" "$pidf" "$logf" "$TIMEOUT" ctr --address "$CONTAINERD_SOCK" version
}

start_dockerd() {
  need_root "starting dockerd"
  mkdir -p "$DOCKER_DIR"
  local pidf="$DOCKER_DIR/dockerd.pid" logf="$DOCKER_DIR/dockerd.log"
  if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
    log "dockerd already running (pid $(cat "$pidf")), waiting for it to answer"
  else
    # A stale pid file left by a killed dockerd blocks the next start.
    rm -f /var/run/docker.pid
    # Docker's own config: 127.0.0.1:5000 is plain HTTP. Loopback registries are
    # insecure by default (127.0.0.0/8 is in the default insecure CIDR list),
    # but listing it makes that explicit and survives other daemon.json settings.
    local cfg="$DOCKER_DIR/daemon.json"
    cat >"$cfg" <<EOF
{
  "insecure-registries": ["${REG_ADDR}", "localhost:${REG_PORT}"],
  "storage-driver": "overlay2",
  "log-driver": "json-file",
  "log-opts": {"max-size": "10m", "max-file": "2"},
  "features": {"buildkit": true}
}
EOF
    start_docker_containerd
    log "starting dockerd (log: $logf)"
    # setsid: detach from this shell's job control so the daemon outlives it.
    setsid dockerd --config-file "$cfg" --pidfile "$pidf.daemon" --containerd "$CONTAINERD_SOCK" \
      >>"$logf" 2>&1 </dev/null &
    echo $! >"$pidf"
  fi
  wait_answers dockerd "$pidf" "$logf" "$TIMEOUT" engine_up
}

# --- registry ------------------------------------------------------------------
registry_up() {
  curl -fsS -m 3 -o /dev/null "http://${REG_ADDR}/v2/" 2>/dev/null
}

start_registry() {
  local bin=""
  for b in docker-registry /usr/bin/docker-registry registry; do
    if command -v "$b" >/dev/null 2>&1; then bin="$(command -v "$b")"; break; fi
  done
  if [ -z "$bin" ]; then
    apt_install_missing docker-registry
    bin=/usr/bin/docker-registry
  fi
  # The Debian package may start its own systemd unit on :5000 (not on machines
  # without systemd); if so it already answers and we never get here.
  mkdir -p "$REG_DIR/data"
  local cfg="$REG_DIR/config.yml" logf="$REG_DIR/registry.log" pidf="$REG_DIR/registry.pid"
  cat >"$cfg" <<EOF
version: 0.1
log:
  level: warn
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: ${REG_DIR}/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: ${REG_ADDR}
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
EOF
  if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
    log "registry process $(cat "$pidf") exists but does not answer; restarting it"
    kill "$(cat "$pidf")" 2>/dev/null || true
    sleep 1
  fi
  log "starting registry on ${REG_ADDR} (storage: $REG_DIR/data, log: $logf)"
  setsid "$bin" serve "$cfg" >>"$logf" 2>&1 </dev/null &
  echo $! >"$pidf"
  wait_answers "registry on http://${REG_ADDR}/v2/" "$pidf" "$logf" 20 registry_up
}

# --- main ----------------------------------------------------------------------
main() {
  if engine_up; then
    log "Docker engine reachable: using it"
  else
    # debootstrap is needed by base-images.sh; install it together.
    apt_install_missing docker.io docker-registry debootstrap
    command -v dockerd >/dev/null 2>&1 || die "dockerd not found after install"
    start_dockerd
  fi
  # Tools base-images.sh needs, even if the engine was already there.
  command -v debootstrap >/dev/null 2>&1 || apt_install_missing debootstrap

  if registry_up; then
    log "registry already answers on ${REG_ADDR}"
  else
    start_registry
  fi

  local c; c="$(pick_client)"
  local sv cv
  sv="$("$c" version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null || echo '?')"
  cv="$("$c" version --format '{{.Client.Version}}' 2>/dev/null || echo '?')"
  local bx="missing"
  "$c" buildx version >/dev/null 2>&1 && bx="$("$c" buildx version 2>/dev/null | head -1)"
  local bk="no"
  # BuildKit without buildx: Debian's 20.10 client carries its own BuildKit
  # session code; newer clients (>=23) refuse DOCKER_BUILDKIT=1 without buildx.
  if "$c" buildx version >/dev/null 2>&1; then
    bk="yes (docker buildx build)"
  elif [ -x /usr/bin/docker ] && DOCKER_BUILDKIT=1 /usr/bin/docker build -q -t leanstack-buildkit-probe - >/dev/null 2>&1 <<<'FROM scratch
LABEL probe=1' ; then
    bk="yes (via /usr/bin/docker, DOCKER_BUILDKIT=1; plain 'docker build' of a newer client falls back to the legacy builder)"
  fi
  "$c" rmi leanstack-buildkit-probe >/dev/null 2>&1 || true
  local ins
  # shellcheck disable=SC2016 # $k and $v are the Go template's variables, not the shell's
  ins="$("$c" info --format '{{range $k, $v := .RegistryConfig.IndexConfigs}}{{if not $v.Secure}}{{$k}} {{end}}{{end}}' 2>/dev/null || true)"
  cat >&2 <<EOF
[$log_tag] summary
  client            : $c ($cv)
  engine            : $sv
  registry          : http://${REG_ADDR}/v2/ ($(registry_up && echo up || echo DOWN))
  insecure registries: ${ins:-?} (plus CIDRs: $("$c" info --format '{{range .RegistryConfig.InsecureRegistryCIDRs}}{{.}} {{end}}' 2>/dev/null))
  buildx plugin     : $bx
  BuildKit          : $bk
EOF
}

main "$@"
