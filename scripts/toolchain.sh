#!/usr/bin/env bash
# Build and install leanstack's offline Pulumi toolchain from Go modules:
#   - pulumi CLI                     (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi, via a wrapper module)
#   - pulumi-language-python         (a minimal host on top of the upstream sdk/v3 python toolchain
#                                     package; the upstream host module is not served by the proxy)
#     + pulumi-language-python-exec and pulumi-resource-pulumi-python (copied from sdk/v3)
#   - pulumi-resource-kubernetes     (github.com/pulumi/pulumi-kubernetes/provider/v4)
#   - pulumi-resource-docker-build   (github.com/pulumi/pulumi-docker-build)
#   - pulumi-language-yaml           (github.com/pulumi/pulumi-yaml, the wrapper module tools/yaml-host)
# into a cache outside the clone, and registers the providers in a PULUMI_HOME there.
#
# Idempotent: a second run finds every binary and stamp and returns in seconds.
# Usage: scripts/toolchain.sh          then: source scripts/toolchain-env.sh
# Env:   LEANSTACK_TOOLCHAIN_DIR, LEANSTACK_GO_DIR (see scripts/toolchain-env.sh),
#        LEANSTACK_TOOLCHAIN_FORCE=1 to rebuild everything.
# Docs:  docs/toolchain.md
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ORIG_PATH="$PATH"
ORIG_PULUMI_HOME="${PULUMI_HOME:-}"
# shellcheck source=toolchain-env.sh
source "$LEANSTACK_ROOT/scripts/toolchain-env.sh"

DIR="$LEANSTACK_TOOLCHAIN_DIR"
BIN="$DIR/bin"
STAMPS="$DIR/stamps"
LOGS="$DIR/logs"
WORK="$LEANSTACK_GO_DIR/work/$LEANSTACK_TOOLCHAIN_ID"
PV="$LEANSTACK_PULUMI_VERSION"
KV="$LEANSTACK_K8S_VERSION"
DBV="$LEANSTACK_DOCKER_BUILD_VERSION"
# Bump when a recipe below changes, so existing caches rebuild (HOST_REV: the language host's source hash).
RECIPE_REV=1
# The docker-build recipe's own revision: its source patch moved to tools/gopatch.
DB_RECIPE=gopatch1
HOST_REV="$(sha256sum "$LEANSTACK_ROOT/tools/langhost/main.go" | cut -c1-12)"
# The source patches carried on the kubernetes provider (tools/k8s-provider, each says why).
K8S_PATCHES=("$LEANSTACK_ROOT"/tools/k8s-provider/*.patch)
K8S_REV="$(cat "${K8S_PATCHES[@]}" | sha256sum | cut -c1-12)"
# The YAML language host's wrapper module (its version is the one its go.mod requires), the file it
# adds and the patch it carries.
YAML_SRC="$LEANSTACK_ROOT/tools/yaml-host"
YAML_REV="$(cat "$YAML_SRC"/go.mod "$YAML_SRC"/go.sum "$YAML_SRC"/*.go "$YAML_SRC"/*.patch | sha256sum | cut -c1-12)"

T_START=$(date +%s)
err_trap() { trap 'log "FAILED at line $LINENO (status $?)"' ERR; }
err_trap

print_env() {
  local bindir="$1" home="$2"
  if [ "$bindir" = "$BIN" ]; then
    log "ready. To use it: source scripts/toolchain-env.sh"
  else
    log "ready: PATH=$bindir:\$PATH PULUMI_HOME=$home (plus the PULUMI_* settings in scripts/toolchain-env.sh)"
  fi
}

# JSON answers of go and pulumi are read by a small tested Python module, not inline snippets.
helper() { py_tool toolchain "$@"; }

# Does pulumi (with PULUMI_HOME=$2) have resource plugin $3 at exact version $4?
has_plugin() {
  local pulumi="$1" home="$2" name="$3" version="$4"
  PULUMI_HOME="$home" PULUMI_SKIP_UPDATE_CHECK=true "$pulumi" plugin ls --json 2>/dev/null | helper has-plugin "$name" "$version"
}

# ---------------------------------------------------------------------------
# 0. A complete toolchain already on PATH (not ours)? Use it.
# ---------------------------------------------------------------------------
if [ "${LEANSTACK_TOOLCHAIN_FORCE:-0}" != 1 ]; then
  existing="$(PATH="$ORIG_PATH" command -v pulumi || true)"
  if [ -n "$existing" ] && [ "$(cd "$(dirname "$existing")" && pwd)" != "$BIN" ]; then
    ex_version="$("$existing" version 2>/dev/null || true)"
    ex_home="${ORIG_PULUMI_HOME:-$HOME/.pulumi}"
    if [ "$ex_version" = "v$PV" ] &&
       { [ -x "$(dirname "$existing")/pulumi-language-python" ] || PATH="$ORIG_PATH" command -v pulumi-language-python >/dev/null; } &&
       { [ -x "$(dirname "$existing")/pulumi-language-yaml" ] || PATH="$ORIG_PATH" command -v pulumi-language-yaml >/dev/null; } &&
       has_plugin "$existing" "$ex_home" kubernetes "$KV" &&
       has_plugin "$existing" "$ex_home" docker-build "$DBV"; then
      log "using the pulumi $ex_version already on PATH ($existing) with PULUMI_HOME=$ex_home: nothing to build"
      print_env "$(dirname "$existing")" "$ex_home"
      exit 0
    fi
  fi
fi

# ---------------------------------------------------------------------------
# Fast path: everything present and stamped.
# ---------------------------------------------------------------------------
K8S_PLUGIN="$PULUMI_HOME/plugins/resource-kubernetes-v$KV/pulumi-resource-kubernetes"
DB_PLUGIN="$PULUMI_HOME/plugins/resource-docker-build-v$DBV/pulumi-resource-docker-build"
COMPLETE_KEY="$LEANSTACK_TOOLCHAIN_ID rev$RECIPE_REV host$HOST_REV db$DB_RECIPE k8s$K8S_REV yaml$YAML_REV"
all_present() {
  local f
  for f in "$BIN/pulumi" "$BIN/pulumi-language-python" "$BIN/pulumi-language-python-exec" \
           "$BIN/pulumi-resource-pulumi-python" "$BIN/pulumi-language-yaml" "$K8S_PLUGIN" "$DB_PLUGIN"; do
    [ -x "$f" ] || return 1
  done
}
if [ "${LEANSTACK_TOOLCHAIN_FORCE:-0}" != 1 ] && all_present && stamp_current "$DIR/.complete" "$COMPLETE_KEY"; then
  log "toolchain up to date in $DIR (pulumi v$PV, kubernetes v$KV, docker-build v$DBV)"
  print_env "$BIN" "$PULUMI_HOME"
  exit 0
fi

# ---------------------------------------------------------------------------
# Go environment (caches outside the clone).
# ---------------------------------------------------------------------------
go_env
command -v python3 >/dev/null || die "python3 not found"
export CGO_ENABLED="${CGO_ENABLED:-0}"
go_minor="$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')"
[ "${go_minor:-0}" -ge 26 ] 2>/dev/null ||
  die "Go $(go env GOVERSION) is too old: pulumi-docker-build v$DBV needs go >= 1.26 and GOTOOLCHAIN=local forbids downloading one"
mkdir -p "$BIN" "$STAMPS" "$LOGS" "$WORK" "$PULUMI_HOME" "$GOMODCACHE" "$GOCACHE"
log "go $(go env GOVERSION), GOMODCACHE=$GOMODCACHE, GOCACHE=$GOCACHE, GOPROXY=$(go env GOPROXY), GOSUMDB=$GOSUMDB"

# run_step NAME KEY OUTPUT FUNCTION: runs FUNCTION in a subshell (output to a log) unless
# OUTPUT exists and the step's stamp holds KEY.
run_step() {
  local name="$1" key="$2" output="$3" fn="$4" t0 rc
  local stamp="$STAMPS/$fn" steplog="$LOGS/$fn.log"
  if [ "${LEANSTACK_TOOLCHAIN_FORCE:-0}" != 1 ] && stamp_current "$stamp" "$key" "$output"; then
    log "$name ... already built"
    return 0
  fi
  log "$name ... (log: $steplog)"
  rm -f "$stamp"
  t0=$(date +%s)
  trap - ERR
  set +e
  ( set -e; "$fn" ) >"$steplog" 2>&1
  rc=$?
  set -e
  err_trap
  if [ "$rc" -eq 0 ] && [ ! -x "$output" ]; then
    echo "expected output $output is missing" >>"$steplog"
    rc=1
  fi
  if [ "$rc" -ne 0 ]; then
    log "FAILED: '$name' exited with status $rc after $(( $(date +%s) - t0 ))s; last lines of $steplog:"
    tail -n 40 "$steplog" >&2 || true
    exit "$rc"
  fi
  stamp_write "$stamp" "$key"
  log "$name ... done in $(( $(date +%s) - t0 ))s"
}

# ---------------------------------------------------------------------------
# 1. pulumi CLI. pkg/go.mod replaces sdk/v3 => ../sdk, so `go install pkg@v` is refused:
#    build from a wrapper module that requires pkg/v3 and sdk/v3 at the same version and
#    copies pkg's clipboard replace.
# ---------------------------------------------------------------------------
build_cli() {
  local w="$WORK/cli"
  rm -rf "$w" && mkdir -p "$w" && cd "$w"
  cat >go.mod <<EOF
module leanstack.local/pulumi-cli

go 1.25.11

require (
	github.com/pulumi/pulumi/pkg/v3 v$PV
	github.com/pulumi/pulumi/sdk/v3 v$PV
)

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
EOF
  cat >tools.go <<'EOF'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
EOF
  go mod tidy
  go build -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PV" \
    -o "$BIN/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  [ "$("$BIN/pulumi.tmp" version)" = "v$PV" ] || { echo "pulumi version is '$("$BIN/pulumi.tmp" version)', expected v$PV"; return 1; }
  mv -f "$BIN/pulumi.tmp" "$BIN/pulumi"
}

# ---------------------------------------------------------------------------
# 2. Python language host + the two scripts it needs next to it.
# ---------------------------------------------------------------------------
write_langhost_source() {
  # The source lives in tools/langhost/main.go (see its header for why this host exists).
  cp "$LEANSTACK_ROOT/tools/langhost/main.go" main.go
}

build_langhost() {
  local w="$WORK/langhost"
  rm -rf "$w" && mkdir -p "$w" && cd "$w"
  cat >go.mod <<EOF
module leanstack.local/pulumi-language-python

go 1.25.11

require github.com/pulumi/pulumi/sdk/v3 v$PV
EOF
  write_langhost_source
  go mod tidy
  go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PV" \
    -o "$BIN/pulumi-language-python.tmp" .
  # The host runs programs through the exec script, which must sit next to its binary;
  # dynamic providers use pulumi-resource-pulumi-python. The module cache stores both
  # read-only and not executable: install them with mode 755.
  local sdk
  sdk="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
  install -m 755 "$sdk/python/cmd/pulumi-language-python-exec" "$BIN/pulumi-language-python-exec"
  install -m 755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$BIN/pulumi-resource-pulumi-python"
  mv -f "$BIN/pulumi-language-python.tmp" "$BIN/pulumi-language-python"
}

# ---------------------------------------------------------------------------
# 3. pulumi-resource-kubernetes. provider/go.mod replaces sdk/v4 => ../sdk (not in the zip):
#    copy the module out of the cache, apply tools/k8s-provider's patches, drop that replace,
#    go generate the embedded schema.
# ---------------------------------------------------------------------------
build_k8s() {
  local w="$WORK/k8s" mod="github.com/pulumi/pulumi-kubernetes/provider/v4"
  rm -rf "$w" && mkdir -p "$w" && cd "$w"
  local src
  src="$(go mod download -json "$mod@$LEANSTACK_K8S_MODULE_VERSION" | helper module-dir)"
  cp -r "$src" "$w/provider" && chmod -R u+w "$w/provider"
  cd "$w/provider"
  local p
  for p in "${K8S_PATCHES[@]}"; do
    patch -p1 --forward --batch --fuzz=0 < "$p"
  done
  go mod edit -dropreplace github.com/pulumi/pulumi-kubernetes/sdk/v4
  (cd cmd/pulumi-resource-kubernetes && VERSION="$KV" go generate ./)
  go build -trimpath \
    -ldflags "-s -w -X $mod/pkg/version.Version=$KV" \
    -o "$w/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes
  rm -rf "$w/provider"
  PULUMI_HOME="$PULUMI_HOME" "$BIN/pulumi" plugin install resource kubernetes "v$KV" \
    --file "$w/pulumi-resource-kubernetes" --reinstall
  rm -f "$w/pulumi-resource-kubernetes"
}

# ---------------------------------------------------------------------------
# 4. pulumi-resource-docker-build. `go install ...@v` is refused (the proxy denies the module's
#    version list, which go install reads for deprecations), and provider/internal/provider.go
#    imports the C# and Java codegen modules (pulumi-dotnet language host v3.107.0, pulumi-java
#    v1.29.0) whose zips the proxy denies, only to fill the csharp/java language sections of the
#    schema. So: copy the module, drop those two imports and map entries (tools/gopatch, through
#    go/ast), drop the two requirements, build.
# ---------------------------------------------------------------------------
build_docker_build() {
  local w="$WORK/docker-build" mod="github.com/pulumi/pulumi-docker-build"
  rm -rf "$w" && mkdir -p "$w" && cd "$w"
  local src
  src="$(go mod download -json "$mod@v$DBV" | helper module-dir)"
  cp -r "$src" "$w/src" && chmod -R u+w "$w/src"
  cd "$w/src"
  (cd "$LEANSTACK_ROOT/tools/gopatch" && go build -o "$w/gopatch" .)
  "$w/gopatch" -file provider/internal/provider.go \
    -import github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3/codegen \
    -import github.com/pulumi/pulumi-java/pkg/codegen/java \
    -key '"csharp"' -key '"java"'
  go mod edit -droprequire github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3 \
    -droprequire github.com/pulumi/pulumi-java
  go build -trimpath \
    -ldflags "-s -w -X $mod/provider.Version=$DBV" \
    -o "$w/pulumi-resource-docker-build" ./provider/cmd/pulumi-resource-docker-build
  rm -rf "$w/src"
  PULUMI_HOME="$PULUMI_HOME" "$BIN/pulumi" plugin install resource docker-build "v$DBV" \
    --file "$w/pulumi-resource-docker-build" --reinstall
  rm -f "$w/pulumi-resource-docker-build"
}

# ---------------------------------------------------------------------------
# 5. pulumi-language-yaml: runs Pulumi YAML programs (examples/yaml-consumer). Built from the wrapper
#    module tools/yaml-host with the pulumi pkg/sdk pulumi-yaml requires (against the CLI's it does not
#    compile; see its go.mod), from a copy of the module with tools/yaml-host/link.go added (the Link call
#    of `pulumi package add`, which v1.25.0 predates) and its patches applied (each says why). A language
#    host is found on PATH, like the Python one.
# ---------------------------------------------------------------------------
build_yaml_host() {
  local w="$WORK/yaml-host" mod=github.com/pulumi/pulumi-yaml version src
  rm -rf "$w" && mkdir -p "$w" && cd "$w"
  cp "$YAML_SRC/go.mod" "$YAML_SRC/go.sum" "$YAML_SRC/tools.go" .
  version="$(wrapper_version "$YAML_SRC" "$mod")"
  src="$(go mod download -json "$mod@$version" | helper module-dir)"
  cp -r "$src" pulumi-yaml && chmod -R u+w pulumi-yaml
  cp "$YAML_SRC/link.go" pulumi-yaml/pkg/server/
  local p
  for p in "$YAML_SRC"/*.patch; do
    patch -d pulumi-yaml -p1 --forward --batch --fuzz=0 < "$p"
  done
  go mod edit -replace "$mod=./pulumi-yaml"
  go build -trimpath -ldflags "-s -w -X $mod/pkg/version.Version=${version#v}" \
    -o "$BIN/pulumi-language-yaml.tmp" "$mod/cmd/pulumi-language-yaml"
  mv -f "$BIN/pulumi-language-yaml.tmp" "$BIN/pulumi-language-yaml"
  rm -rf "$w/pulumi-yaml"
}

export PULUMI_HOME PULUMI_SKIP_UPDATE_CHECK PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION
run_step "building pulumi CLI v$PV" "cli $PV rev$RECIPE_REV" "$BIN/pulumi" build_cli
run_step "building pulumi-language-python (sdk v$PV)" "langhost $PV rev$RECIPE_REV host$HOST_REV" "$BIN/pulumi-language-python" build_langhost
run_step "building + registering pulumi-resource-kubernetes v$KV ($LEANSTACK_K8S_MODULE_VERSION)" \
  "k8s $KV $LEANSTACK_K8S_MODULE_VERSION rev$RECIPE_REV patches$K8S_REV" "$K8S_PLUGIN" build_k8s
run_step "building + registering pulumi-resource-docker-build v$DBV" "docker-build $DBV rev$RECIPE_REV $DB_RECIPE" "$DB_PLUGIN" build_docker_build
run_step "building pulumi-language-yaml ($(wrapper_version "$YAML_SRC" github.com/pulumi/pulumi-yaml))" \
  "yaml $YAML_REV rev$RECIPE_REV $(go env GOVERSION)" "$BIN/pulumi-language-yaml" build_yaml_host

all_present || die "some toolchain files are missing after the build (see $LOGS)"
stamp_write "$DIR/.complete" "$COMPLETE_KEY"
log "all steps done in $(( $(date +%s) - T_START ))s; toolchain: $(du -sh "$DIR" | cut -f1), go caches: $(du -sh "$LEANSTACK_GO_DIR" | cut -f1)"
print_env "$BIN" "$PULUMI_HOME"
