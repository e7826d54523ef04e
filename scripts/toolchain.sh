#!/usr/bin/env bash
# Build and install leanstack's offline Pulumi toolchain from Go modules:
#   - pulumi CLI                     (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi, via a wrapper module)
#   - pulumi-language-python         (a minimal host on top of the upstream sdk/v3 python toolchain
#                                     package; the upstream host module is not served by the proxy)
#     + pulumi-language-python-exec and pulumi-resource-pulumi-python (copied from sdk/v3)
#   - pulumi-resource-kubernetes     (github.com/pulumi/pulumi-kubernetes/provider/v4)
#   - pulumi-resource-docker-build   (github.com/pulumi/pulumi-docker-build)
# into a cache outside the clone, and registers the providers in a PULUMI_HOME there.
#
# Idempotent: a second run finds every binary and stamp and returns in seconds.
# Usage: scripts/toolchain.sh          then: source scripts/toolchain-env.sh
# Env:   LEANSTACK_TOOLCHAIN_DIR, LEANSTACK_GO_DIR (see scripts/toolchain-env.sh),
#        LEANSTACK_TOOLCHAIN_FORCE=1 to rebuild everything.
# Docs:  docs/toolchain.md
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ORIG_PATH="$PATH"
ORIG_PULUMI_HOME="${PULUMI_HOME:-}"
# shellcheck source=toolchain-env.sh
source "$SCRIPT_DIR/toolchain-env.sh"

DIR="$LEANSTACK_TOOLCHAIN_DIR"
BIN="$DIR/bin"
STAMPS="$DIR/stamps"
LOGS="$DIR/logs"
WORK="$LEANSTACK_GO_DIR/work/$LEANSTACK_TOOLCHAIN_ID"
PV="$LEANSTACK_PULUMI_VERSION"
KV="$LEANSTACK_K8S_VERSION"
DBV="$LEANSTACK_DOCKER_BUILD_VERSION"
# Bump when a recipe below changes, so existing caches rebuild (HOST_REV: the language host only).
RECIPE_REV=1
HOST_REV=2

log() { echo "[toolchain] $*"; }
die() { echo "[toolchain] ERROR: $*" >&2; exit 1; }
T_START=$(date +%s)
err_trap() { trap 'echo "[toolchain] FAILED at line $LINENO (status $?)" >&2' ERR; }
err_trap

print_env() {
  local bindir="$1" home="$2" hint=""
  [ "$bindir" = "$BIN" ] && hint=" (or: source scripts/toolchain-env.sh)"
  cat <<EOF
[toolchain] ready. To use it$hint:
export PATH=$bindir:\$PATH
export PULUMI_HOME=$home
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
export PULUMI_DISABLE_REGISTRY_RESOLVE=true
EOF
}

# Does pulumi (with PULUMI_HOME=$2) have resource plugin $3 at exact version $4?
has_plugin() {
  local pulumi="$1" home="$2" name="$3" version="$4"
  PULUMI_HOME="$home" PULUMI_SKIP_UPDATE_CHECK=true "$pulumi" plugin ls --json 2>/dev/null |
    python3 -c '
import json, sys
name, version = sys.argv[1], sys.argv[2].lstrip("v")
try:
    plugins = json.load(sys.stdin) or []
except Exception:
    sys.exit(1)
ok = any(p.get("kind") == "resource" and p.get("name") == name and str(p.get("version", "")).lstrip("v") == version for p in plugins)
sys.exit(0 if ok else 1)' "$name" "$version"
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
COMPLETE_KEY="$LEANSTACK_TOOLCHAIN_ID rev$RECIPE_REV host$HOST_REV"
all_present() {
  local f
  for f in "$BIN/pulumi" "$BIN/pulumi-language-python" "$BIN/pulumi-language-python-exec" \
           "$BIN/pulumi-resource-pulumi-python" "$K8S_PLUGIN" "$DB_PLUGIN"; do
    [ -x "$f" ] || return 1
  done
}
if [ "${LEANSTACK_TOOLCHAIN_FORCE:-0}" != 1 ] && all_present &&
   [ "$(cat "$DIR/.complete" 2>/dev/null || true)" = "$COMPLETE_KEY" ]; then
  log "toolchain up to date in $DIR (pulumi v$PV, kubernetes v$KV, docker-build v$DBV)"
  print_env "$BIN" "$PULUMI_HOME"
  exit 0
fi

# ---------------------------------------------------------------------------
# Go environment (caches outside the clone).
# ---------------------------------------------------------------------------
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
  export PATH="$PATH:/usr/local/go/bin"
fi
command -v go >/dev/null || die "go not found (need Go >= 1.26 on PATH or in /usr/local/go)"
command -v python3 >/dev/null || die "python3 not found"
export GOTOOLCHAIN=local
export GOMODCACHE="$LEANSTACK_GO_DIR/mod"
export GOCACHE="$LEANSTACK_GO_DIR/build"
export GOPATH="$LEANSTACK_GO_DIR/gopath"
export GOFLAGS=-mod=mod
export CGO_ENABLED="${CGO_ENABLED:-0}"
go_minor="$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')"
[ "${go_minor:-0}" -ge 26 ] 2>/dev/null ||
  die "Go $(go env GOVERSION) is too old: pulumi-docker-build v$DBV needs go >= 1.26 and GOTOOLCHAIN=local forbids downloading one"
mkdir -p "$BIN" "$STAMPS" "$LOGS" "$WORK" "$PULUMI_HOME" "$GOMODCACHE" "$GOCACHE"

# Checksum database: keep it on if reachable, otherwise turn it off (offline sandbox).
if [ "$(go env GOSUMDB)" != off ]; then
  sumdb_host="$(go env GOSUMDB | awk '{print $1}' | cut -d+ -f1)"
  if command -v curl >/dev/null && curl -fsS -m 10 -o /dev/null "https://$sumdb_host/latest" 2>/dev/null; then
    log "checksum database $sumdb_host reachable: GOSUMDB left on"
  else
    log "checksum database $sumdb_host unreachable: GOSUMDB=off (go.sum files still pin what they list)"
    export GOSUMDB=off
  fi
fi
log "go $(go env GOVERSION), GOMODCACHE=$GOMODCACHE, GOCACHE=$GOCACHE, GOPROXY=$(go env GOPROXY)"

# run_step NAME KEY OUTPUT FUNCTION: runs FUNCTION in a subshell (output to a log) unless
# OUTPUT exists and the step's stamp holds KEY.
run_step() {
  local name="$1" key="$2" output="$3" fn="$4" t0 rc
  local stamp="$STAMPS/$fn" steplog="$LOGS/$fn.log"
  if [ "${LEANSTACK_TOOLCHAIN_FORCE:-0}" != 1 ] && [ -x "$output" ] &&
     [ "$(cat "$stamp" 2>/dev/null || true)" = "$key" ]; then
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
    echo "[toolchain] FAILED: '$name' exited with status $rc after $(( $(date +%s) - t0 ))s; last lines of $steplog:" >&2
    tail -n 40 "$steplog" >&2 || true
    exit "$rc"
  fi
  echo "$key" >"$stamp"
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
  cat >main.go <<'GO_EOF'
// leanstack minimal Python language host.
//
// The upstream pulumi-language-python module is not served by the Go module proxy
// this project can reach, so this small host is built instead. It implements the
// parts of the LanguageRuntime gRPC service the engine needs to run Python programs
// and policy packs (Run, RunPlugin, GetRequiredPackages/Plugins, InstallDependencies,
// About, GetProgramDependencies, GetPluginInfo, Handshake) on top of the upstream
// github.com/pulumi/pulumi/sdk/v3/python/toolchain package, which resolves the
// virtualenv / pip / uv / poetry options of Pulumi.yaml. Programs are executed by
// the upstream pulumi-language-python-exec script placed next to this binary.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Exit code the exec script uses after it has already reported an actionable error.
const bailExitCode = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
	tracing       string
	// Defaults from (legacy) command-line flags; ProgramInfo options win.
	flagRoot, flagVirtualenv, flagToolchain string
}

func strOption(info *pulumirpc.ProgramInfo, key string) string {
	if info == nil || info.GetOptions() == nil {
		return ""
	}
	if v, ok := info.GetOptions().GetFields()[key]; ok {
		return v.GetStringValue()
	}
	return ""
}

func (h *host) toolchainFor(info *pulumirpc.ProgramInfo) (toolchain.Toolchain, error) {
	opts := toolchain.PythonOptions{Root: h.flagRoot, ProgramDir: h.flagRoot, Virtualenv: h.flagVirtualenv}
	if info != nil {
		if info.GetRootDirectory() != "" {
			opts.Root = info.GetRootDirectory()
		}
		if info.GetProgramDirectory() != "" {
			opts.ProgramDir = info.GetProgramDirectory()
		}
	}
	if opts.ProgramDir == "" {
		opts.ProgramDir = opts.Root
	}
	if v := strOption(info, "virtualenv"); v != "" {
		opts.Virtualenv = v
	}
	tc := h.flagToolchain
	if v := strOption(info, "toolchain"); v != "" {
		tc = v
	}
	switch strings.ToLower(tc) {
	case "", "auto":
		// A project that names a virtualenv and no toolchain uses pip.
		if opts.Virtualenv != "" {
			opts.Toolchain = toolchain.Pip
		} else {
			opts.Toolchain = toolchain.Auto
		}
	case "pip":
		opts.Toolchain = toolchain.Pip
	case "poetry":
		opts.Toolchain = toolchain.Poetry
	case "uv":
		opts.Toolchain = toolchain.Uv
	default:
		return nil, fmt.Errorf("unsupported python toolchain %q (expected pip, poetry or uv)", tc)
	}
	return toolchain.ResolveToolchain(opts)
}

func (h *host) Handshake(ctx context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(ctx context.Context, _ *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// pluginSpec is the subset of a package's pulumi-plugin.json that matters here.
type pluginSpec struct {
	Dist             string `json:"dist"`
	DistVersion      string `json:"dist_version"`
	Resource         *bool  `json:"resource"`
	Name             string `json:"name"`
	Version          string `json:"version"`
	Server           string `json:"server"`
	Parameterization *struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Value   string `json:"value"`
	} `json:"parameterization"`
}

// Lists every installed distribution that ships a pulumi-plugin.json.
const listPluginsScript = `
import importlib.metadata as md, json, sys
out = []
for d in md.distributions():
    for f in (d.files or []):
        if f.name == "pulumi-plugin.json":
            try:
                with open(d.locate_file(f)) as fh:
                    spec = json.load(fh)
            except Exception:
                continue
            spec["dist"] = d.metadata["Name"] or ""
            spec["dist_version"] = d.version or ""
            out.append(spec)
json.dump(out, sys.stdout)
`

func (h *host) pluginSpecs(ctx context.Context, info *pulumirpc.ProgramInfo) ([]pluginSpec, error) {
	tc, err := h.toolchainFor(info)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, "-c", listPluginsScript)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing installed Pulumi packages: %w", err)
	}
	var specs []pluginSpec
	if err := json.Unmarshal(out, &specs); err != nil {
		return nil, fmt.Errorf("parsing installed Pulumi packages: %w", err)
	}
	var res []pluginSpec
	seen := map[string]bool{}
	for _, s := range specs {
		if s.Resource != nil && !*s.Resource {
			continue
		}
		if s.Name == "" {
			n := strings.ToLower(s.Dist)
			n = strings.TrimPrefix(strings.TrimPrefix(n, "pulumi-"), "pulumi_")
			s.Name = strings.ReplaceAll(n, "_", "-")
		}
		if s.Version == "" {
			s.Version = s.DistVersion
		}
		if s.Name == "" || s.Version == "" {
			continue
		}
		key := s.Name + "@" + s.Version
		if s.Parameterization != nil {
			key += "/" + s.Parameterization.Name
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		res = append(res, s)
	}
	return res, nil
}

func withV(v string) string {
	if v == "" || strings.HasPrefix(v, "v") {
		return v
	}
	return "v" + v
}

func (h *host) GetRequiredPackages(ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	specs, err := h.pluginSpecs(ctx, req.GetInfo())
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetRequiredPackagesResponse{}
	for _, s := range specs {
		pkg := &pulumirpc.PackageDependency{Kind: "resource", Name: s.Name, Version: withV(s.Version), Server: s.Server}
		if p := s.Parameterization; p != nil {
			value, err := base64.StdEncoding.DecodeString(p.Value)
			if err != nil {
				return nil, fmt.Errorf("parameterization value of %s: %w", s.Dist, err)
			}
			pkg.Parameterization = &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: value}
		}
		resp.Packages = append(resp.Packages, pkg)
	}
	return resp, nil
}

func (h *host) GetRequiredPlugins(ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	specs, err := h.pluginSpecs(ctx, req.GetInfo())
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetRequiredPluginsResponse{}
	for _, s := range specs {
		if s.Parameterization != nil {
			continue
		}
		resp.Plugins = append(resp.Plugins, &pulumirpc.PluginDependency{
			Kind: "resource", Name: s.Name, Version: withV(s.Version), Server: s.Server,
		})
	}
	return resp, nil
}

func execScriptPath() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	if r, err := filepath.EvalSymlinks(self); err == nil {
		self = r
	}
	p := filepath.Join(filepath.Dir(self), "pulumi-language-python-exec")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("pulumi-language-python-exec must sit next to %s: %w", self, err)
	}
	return p, nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	script, err := execScriptPath()
	if err != nil {
		return nil, err
	}
	tc, err := h.toolchainFor(req.GetInfo())
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}

	args := []string{"-u", script,
		"--monitor", req.GetMonitorAddress(),
		"--engine", h.engineAddress,
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", req.GetPwd(),
		"--parallel", strconv.Itoa(int(req.GetParallel())),
	}
	if req.GetInfo().GetRootDirectory() != "" {
		args = append(args, "--root_directory", req.GetInfo().GetRootDirectory())
	}
	if req.GetDryRun() {
		args = append(args, "--dry_run", "true")
	}
	if req.GetOrganization() != "" {
		args = append(args, "--organization", req.GetOrganization())
	}
	if h.tracing != "" {
		args = append(args, "--tracing", h.tracing)
	}
	program := req.GetProgram()
	if program == "" {
		program = "."
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	configMap := req.GetConfig()
	if configMap == nil {
		configMap = map[string]string{}
	}
	config, err := json.Marshal(configMap)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	keys, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(keys))
	if req.GetPwd() != "" {
		cmd.Dir = req.GetPwd()
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr

	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			code := exitErr.ExitCode()
			if code == bailExitCode {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", code)}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

type streamWriter struct {
	send   func(*pulumirpc.InstallDependenciesResponse) error
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	b := append([]byte(nil), p...)
	r := &pulumirpc.InstallDependenciesResponse{Stdout: b}
	if w.stderr {
		r = &pulumirpc.InstallDependenciesResponse{Stderr: b}
	}
	if err := w.send(r); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest, srv grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse]) error {
	tc, err := h.toolchainFor(req.GetInfo())
	if err != nil {
		return err
	}
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory()
	}
	if root := req.GetInfo().GetRootDirectory(); root != "" && dir != root {
		hasDeps := func(d string) bool {
			for _, f := range []string{"requirements.txt", "pyproject.toml"} {
				if _, err := os.Stat(filepath.Join(d, f)); err == nil {
					return true
				}
			}
			return false
		}
		if !hasDeps(dir) && hasDeps(root) {
			dir = root
		}
	}
	out := streamWriter{send: srv.Send}
	errw := streamWriter{send: srv.Send, stderr: true}
	return tc.InstallDependencies(srv.Context(), dir, req.GetUseLanguageVersionTools(), true, out, errw)
}

type pluginWriter struct {
	mu     *sync.Mutex
	send   func(*pulumirpc.RunPluginResponse) error
	stderr bool
}

func (w pluginWriter) Write(p []byte) (int, error) {
	b := append([]byte(nil), p...)
	r := &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	if w.stderr {
		r = &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.send(r); err != nil {
		return 0, err
	}
	return len(p), nil
}

// RunPlugin runs a plugin written in Python: a policy pack (kind "analyzer", through the
// pulumi.policy module of the SDK) or a provider/component (run as a program).
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, srv grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]) error {
	tc, err := h.toolchainFor(req.GetInfo())
	if err != nil {
		return err
	}
	if err := tc.ValidateVenv(srv.Context()); err != nil {
		return err
	}
	program := req.GetInfo().GetProgramDirectory()
	if program == "" {
		program = req.GetProgram()
	}
	if ep := req.GetInfo().GetEntryPoint(); ep != "" && ep != "." && program != "" {
		program = filepath.Join(program, ep)
	}
	var args []string
	if req.GetKind() == "analyzer" {
		args = append([]string{"-u", "-m", "pulumi.policy"}, req.GetArgs()...)
		args = append(args, program)
	} else {
		args = append([]string{"-u", program}, req.GetArgs()...)
	}
	cmd, err := tc.Command(srv.Context(), args...)
	if err != nil {
		return err
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, req.GetEnv()...)
	if req.GetPwd() != "" {
		cmd.Dir = req.GetPwd()
	}
	mu := &sync.Mutex{}
	cmd.Stdout = pluginWriter{mu: mu, send: srv.Send}
	cmd.Stderr = pluginWriter{mu: mu, send: srv.Send, stderr: true}
	code := 0
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return fmt.Errorf("running python plugin %s: %w", program, err)
		}
		code = exitErr.ExitCode()
	}
	mu.Lock()
	defer mu.Unlock()
	return srv.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	tc, err := h.toolchainFor(req.GetInfo())
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: info.PythonExecutable,
		Version:    info.PythonVersion.String(),
		Metadata:   map[string]string{"toolchain": "leanstack-minimal-host"},
	}, nil
}

func (h *host) GetProgramDependencies(ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest) (*pulumirpc.GetProgramDependenciesResponse, error) {
	tc, err := h.toolchainFor(req.GetInfo())
	if err != nil {
		return nil, err
	}
	deps, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, d := range deps {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: d.Name, Version: d.Version})
	}
	return resp, nil
}

func (h *host) RuntimeOptionsPrompts(ctx context.Context, req *pulumirpc.RuntimeOptionsRequest) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *host) Cancel(ctx context.Context, _ *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func main() {
	h := &host{}
	flag.StringVar(&h.tracing, "tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint")
	flag.StringVar(&h.flagRoot, "root", "", "Project root path to use")
	flag.StringVar(&h.flagVirtualenv, "virtualenv", "", "Virtual environment path to use")
	flag.StringVar(&h.flagToolchain, "toolchain", "", "Python toolchain: pip, poetry or uv")
	_ = flag.String("typechecker", "", "ignored")
	_ = flag.String("use-executor", "", "ignored")
	flag.Parse()
	if args := flag.Args(); len(args) > 0 {
		h.engineAddress = args[0]
	}
	if h.flagRoot == "" {
		h.flagRoot, _ = os.Getwd()
	}

	cancel := make(chan bool)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "fatal: could not start language host RPC server: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "fatal: language host RPC server stopped: %v\n", err)
		os.Exit(1)
	}
}
GO_EOF
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
#    copy the module out of the cache, drop that replace, go generate the embedded schema.
# ---------------------------------------------------------------------------
build_k8s() {
  local w="$WORK/k8s" mod="github.com/pulumi/pulumi-kubernetes/provider/v4"
  rm -rf "$w" && mkdir -p "$w" && cd "$w"
  local src
  src="$(go mod download -json "$mod@$LEANSTACK_K8S_MODULE_VERSION" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Dir") or sys.exit("go mod download: " + d.get("Error", "no Dir")))')"
  cp -r "$src" "$w/provider" && chmod -R u+w "$w/provider"
  cd "$w/provider"
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
#    schema. So: copy the module, drop those two imports and map entries, drop the two
#    requirements, build.
# ---------------------------------------------------------------------------
build_docker_build() {
  local w="$WORK/docker-build" mod="github.com/pulumi/pulumi-docker-build"
  rm -rf "$w" && mkdir -p "$w" && cd "$w"
  local src
  src="$(go mod download -json "$mod@v$DBV" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Dir") or sys.exit("go mod download: " + d.get("Error", "no Dir")))')"
  cp -r "$src" "$w/src" && chmod -R u+w "$w/src"
  cd "$w/src"
  python3 - provider/internal/provider.go <<'EOF'
import sys
p = sys.argv[1]
s = open(p).read()
for imp in ['\tcsgen "github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3/codegen"\n',
            '\t"github.com/pulumi/pulumi-java/pkg/codegen/java"\n']:
    if imp not in s:
        sys.exit("patch: import not found: " + imp.strip())
    s = s.replace(imp, "")
for key in ['"csharp": csgen.CSharpPackageInfo{', '"java": java.PackageInfo{']:
    i = s.find(key)
    if i < 0:
        sys.exit("patch: entry not found: " + key)
    j, depth = i + len(key), 1
    while depth:
        depth += (s[j] == "{") - (s[j] == "}")
        j += 1
    start = s.rindex("\n", 0, i) + 1
    end = s.index("\n", j) + 1
    s = s[:start] + s[end:]
open(p, "w").write(s)
EOF
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

export PULUMI_HOME PULUMI_SKIP_UPDATE_CHECK PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION
run_step "building pulumi CLI v$PV" "cli $PV rev$RECIPE_REV" "$BIN/pulumi" build_cli
run_step "building pulumi-language-python (sdk v$PV)" "langhost $PV rev$RECIPE_REV host$HOST_REV" "$BIN/pulumi-language-python" build_langhost
run_step "building + registering pulumi-resource-kubernetes v$KV ($LEANSTACK_K8S_MODULE_VERSION)" \
  "k8s $KV $LEANSTACK_K8S_MODULE_VERSION rev$RECIPE_REV" "$K8S_PLUGIN" build_k8s
run_step "building + registering pulumi-resource-docker-build v$DBV" "docker-build $DBV rev$RECIPE_REV" "$DB_PLUGIN" build_docker_build

all_present || die "some toolchain files are missing after the build (see $LOGS)"
echo "$COMPLETE_KEY" >"$DIR/.complete"
log "all steps done in $(( $(date +%s) - T_START ))s; toolchain: $(du -sh "$DIR" | cut -f1), go caches: $(du -sh "$LEANSTACK_GO_DIR" | cut -f1)"
print_env "$BIN" "$PULUMI_HOME"
