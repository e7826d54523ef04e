# shellcheck shell=bash
# The one library of scripts/: log and die, the Go environment, build stamps, Debian packages and the
# Python helpers in tools/. A script sources it first thing after `set -euo pipefail`:
#   # shellcheck source=lib.sh
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Not the *-env.sh files: people source those into their own shell, where die would end it.

# The clone's root: the scripts run from any directory, the Python helpers need it on PYTHONPATH.
LEANSTACK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The cache outside the clone that the image and Docker scripts keep their work in (debs, base/,
# service-images/, docker/, registry/): LEANSTACK_CACHE, default ~/.cache/leanstack.
LEANSTACK_CACHE="${LEANSTACK_CACHE:-$HOME/.cache/leanstack}"
# Every line says which script wrote it: [toolchain], [node], ... (a script may set log_tag first).
log_tag="${log_tag:-$(basename "$0" .sh)}"

# log MESSAGE...: one line on stderr, so a script's stdout carries only its answers
# (`cyclonus.sh path`, `cluster.sh kubeconfig`) and $(...) around a function never captures a log line.
log() { printf '[%s] %s\n' "$log_tag" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# py_tool NAME ARG...: python3 -m tools.NAME. The host's python3, as the tools use the standard
# library only and run before any venv exists.
py_tool() { PYTHONPATH="$LEANSTACK_ROOT" python3 -m "tools.$1" "${@:2}"; }
# venv_tool NAME ARG...: the same on .venv's python, for a tool that needs a package of
# requirements.lock (tools/s3: boto3); the caller runs scripts/python-env.sh first.
venv_tool() { PYTHONPATH="$LEANSTACK_ROOT" "$LEANSTACK_ROOT/.venv/bin/python" -m "tools.$1" "${@:2}"; }

# go_env: the environment of every Go build here, exported.
#   - caches outside the clone, shared by all builds: LEANSTACK_GO_DIR/{mod,build,gopath};
#   - the Go on PATH or in /usr/local/go, never a downloaded one (GOTOOLCHAIN=local);
#   - modules from GOPROXY as go defaults it, requirements resolved as needed (-mod=mod);
#   - the checksum database (sum.golang.org) does not answer here, so GOSUMDB=off: the go.sum files
#     (tools/*/go.sum, and those `go mod tidy` writes for the wrapper modules) pin what they list.
#     Where it answers, set GOSUMDB to use it.
# CGO_ENABLED is each build's own choice (the cluster's binaries are static, buildkitd is not).
go_env() {
  export LEANSTACK_GO_DIR="${LEANSTACK_GO_DIR:-$HOME/.cache/leanstack/go}"
  export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOSUMDB="${GOSUMDB:-off}"
  export GOMODCACHE="$LEANSTACK_GO_DIR/mod" GOCACHE="$LEANSTACK_GO_DIR/build" GOPATH="$LEANSTACK_GO_DIR/gopath"
  command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
  command -v go >/dev/null || die "go not found (need Go >= 1.26 on PATH or in /usr/local/go)"
}

# Build stamps: a file holding the key of what was built (versions, source hashes, the recipe's
# revision). A build is skipped while its outputs exist and its stamp holds the key it would write,
# so a changed key rebuilds and an unchanged one never does: keep keys and files as they are.
# stamp_current STAMP KEY OUTPUT...: every OUTPUT is executable and STAMP holds KEY.
stamp_current() {
  local stamp="$1" key="$2" output; shift 2
  for output in "$@"; do [ -x "$output" ] || return 1; done
  [ "$(cat "$stamp" 2>/dev/null || true)" = "$key" ]
}
# stamp_write STAMP KEY: after the build, when its outputs are in place.
stamp_write() { echo "$2" >"$1"; }

# wrapper_key DIR RECIPE_REV: the stamp key of a build from the wrapper module in DIR (tools/cyclonus,
# tools/cluster/*): its go.mod, go.sum and tools.go, the recipe's revision and the Go version.
wrapper_key() {
  echo "$(cat "$1/go.mod" "$1/go.sum" "$1/tools.go" | sha256sum | cut -c1-16)-r$2-$(go env GOVERSION)"
}

# wrapper_version DIR MODULE: the version of MODULE that the wrapper module in DIR requires (dies
# when it requires none).
wrapper_version() {
  local version
  version="$(awk -v m="$2" '$1 == m { print $2 } $1 == "require" && $2 == m { print $3 }' "$1/go.mod" | head -1)"
  [ -n "$version" ] || die "no $2 requirement in $1/go.mod"
  echo "$version"
}

# wrapper_build DIR PACKAGE BIN LDFLAGS LOG: `go build` PACKAGE of the wrapper module in DIR (built in
# a copy under LEANSTACK_GO_DIR/work, as `go build` writes go.sum) into BIN, which appears only
# complete; a failure shows the end of LOG and dies. Needs go_env.
wrapper_build() {
  local src="$1" package="$2" bin="$3" ldflags="$4" build_log="$5" name work tmp
  name="$(basename "$bin")"
  work="$LEANSTACK_GO_DIR/work/$(basename "$src")"
  mkdir -p "$work" "$(dirname "$bin")" "$(dirname "$build_log")"
  cp "$src/go.mod" "$src/go.sum" "$src/tools.go" "$work/"
  tmp="$(mktemp "$(dirname "$bin")/.$name.XXXX")"
  if ! (cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$tmp" "$package") >"$build_log" 2>&1; then
    rm -f "$tmp"; tail -20 "$build_log" >&2; die "$name build failed (log: $build_log)"
  fi
  mv -f "$tmp" "$bin"
}

# registry_hash HOST/REPO:TAG: the label org.leanstack.base.hash of that image in the registry (the
# image scripts' recipe hash), empty when the tag is absent; a registry that does not answer is an error.
registry_hash() { py_tool registry label "$1" org.leanstack.base.hash; }

# apt_install_missing PACKAGE...: install those not installed yet (apt lists fetched once if absent);
# LEANSTACK_NO_INSTALL=1 makes a missing package an error instead.
apt_install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  [ "${LEANSTACK_NO_INSTALL:-0}" = 1 ] && die "missing packages: ${missing[*]} (LEANSTACK_NO_INSTALL=1)"
  [ "$(id -u)" -eq 0 ] || die "installing ${missing[*]} needs root"
  log "apt-get install -y ${missing[*]}"
  # Update the lists once if apt has none yet (fresh machine).
  if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then
    apt-get update -qq
  fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    log "install failed; retrying after apt-get update"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}
