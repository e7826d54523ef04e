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
