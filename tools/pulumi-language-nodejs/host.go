package main

// The LanguageRuntime service of this project's own Node.js host (see main.go for why it exists and
// what it leaves out). Facts about the engine cited below were read in pkg/v3 v3.276.0; facts about
// the Node.js side were read in @pulumi/pulumi 3.276.0 (node_modules/@pulumi/pulumi).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const (
	// The program runner and the policy-pack/plugin runners shipped in @pulumi/pulumi 3.276.0 (cmd/run,
	// cmd/run-policy-pack, cmd/run-plugin). PULUMI_LANGUAGE_NODEJS_RUN_PATH overrides the program
	// runner, as it does for Pulumi's host.
	defaultRunPath        = "@pulumi/pulumi/cmd/run"
	defaultPolicyPackPath = "@pulumi/pulumi/cmd/run-policy-pack"
	defaultPluginRunPath  = "@pulumi/pulumi/cmd/run-plugin"

	// cmd/run exits with this code after it has printed an actionable message of its own
	// (@pulumi/pulumi 3.276.0 cmd/run/run.js nodeJSProcessExitedAfterLoggingUserActionableMessage);
	// the engine then stops without adding an error of its own (RunResponse.bail).
	exitAfterActionableMessage = 32
)

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	tracing       string

	// Cancelled by the Cancel RPC and when the server stops: every Node.js process this host started
	// gets SIGINT, then SIGKILL after killDelay.
	cancelCtx context.Context
	cancel    context.CancelFunc
}

// killDelay is how long a Node.js process has after SIGINT before it is killed.
const killDelay = 5 * time.Second

func newHost(engineAddress, tracing string) *host {
	ctx, cancel := context.WithCancel(context.Background())
	return &host{engineAddress: engineAddress, tracing: tracing, cancelCtx: ctx, cancel: cancel}
}

func (h *host) cancelAll() { h.cancel() }

func (h *host) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

// Handshake is called by the engine only when it attaches to an already running host
// (PULUMI_DEBUG_LANGUAGES, langruntime_plugin.go NewLanguageRuntime); a launched host gets the
// engine address as its argument instead.
func (h *host) Handshake(
	ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	h.engineAddress = req.GetEngineAddress()
	h.mu.Unlock()
	if err := rpcutil.Healthcheck(h.cancelCtx, req.GetEngineAddress(), 5*time.Minute, h.cancel); err != nil {
		return nil, fmt.Errorf("could not start health check of the engine: %w", err)
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// GetRequiredPlugins is deprecated: the engine calls GetRequiredPackages and falls back to this
// method only when that one is Unimplemented (langruntime_plugin.go GetRequiredPackages).
func (h *host) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return nil, status.Error(codes.Unimplemented, "GetRequiredPlugins is superseded by GetRequiredPackages")
}

// GetRequiredPackages reports the resource plugins of the program's installed Node.js packages
// (packages.go). The engine installs missing ones before the run (engine/update.go installPlugins,
// best effort: with PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION it only logs them) and loads
// providers lazily when the program registers a resource, so a package whose plugin is not
// installed fails only if the program uses it.
func (h *host) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	packages, err := requiredPackages(req.GetInfo().GetProgramDirectory())
	if err != nil {
		// Like Pulumi's host: what could be read is still reported; the rest is logged.
		logging.V(3).Infof("one or more errors while discovering plugins: %v", err)
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

// Run runs the program: node <@pulumi/pulumi/cmd/run> <flags> <entry point> <args>, resolved from
// the program directory, with the config and the TypeScript settings in the environment.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if req.GetAttachDebugger() {
		return &pulumirpc.RunResponse{Error: "attaching a debugger is not supported by this project's Node.js language host"}, nil
	}
	info := req.GetInfo()
	opts, err := parseOptions(info.GetOptions().AsMap())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "could not find node on the $PATH: " + err.Error()}, nil
	}
	runPath := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH")
	if runPath == "" {
		runPath = defaultRunPath
	}
	runPath, err = locateModule(ctx, runPath, info.GetProgramDirectory(), nodeBin)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	configJSON, err := configEnv(req.GetConfig())
	if err != nil {
		return &pulumirpc.RunResponse{Error: "failed to serialize configuration: " + err.Error()}, nil
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return &pulumirpc.RunResponse{Error: "failed to serialize configuration secret keys: " + err.Error()}, nil
	}

	env := append(os.Environ(),
		"PULUMI_CONFIG="+configJSON,
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON))
	env = append(env, opts.env()...)

	args := append([]string{}, opts.nodeArgs...)
	args = append(args, runArguments(req, runPath, h.engine(), h.tracing)...)
	logging.V(5).Infof("launching %s %s", nodeBin, strings.Join(args, " "))

	// The program stops on the Cancel RPC and when the engine abandons the Run call.
	cmdCtx, cmdCancel := context.WithCancel(h.cancelCtx)
	defer cmdCancel()
	stop := context.AfterFunc(ctx, cmdCancel)
	defer stop()
	cmd := interruptible(exec.CommandContext(cmdCtx, nodeBin, args...))
	cmd.Env = env
	// Node.js may set its stdio to non-blocking mode, so the process gets pipes (copied by exec's
	// goroutines, which Run waits for) rather than this process's own descriptors.
	cmd.Stdout = struct{ io.Writer }{os.Stdout}
	cmd.Stderr = struct{ io.Writer }{os.Stderr}

	return runResponse(cmd.Run()), nil
}

// runResponse maps the program's end to the engine's contract (langruntime_plugin.go Run): an
// empty error is success; bail ends the update without another message; otherwise the error text
// is shown as the program's failure.
func runResponse(err error) *pulumirpc.RunResponse {
	if err == nil {
		return &pulumirpc.RunResponse{}
	}
	// Flush whatever the program wrote before the engine prints the failure.
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		switch code := exitErr.ExitCode(); code {
		case exitAfterActionableMessage:
			return &pulumirpc.RunResponse{Bail: true}
		case -1:
			return &pulumirpc.RunResponse{Error: "Program exited unexpectedly: " + exitErr.Error()}
		default:
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", code)}
		}
	}
	return &pulumirpc.RunResponse{Error: "Problem executing program (could not run language executor): " + err.Error()}
}

// runArguments builds cmd/run's command line. Its flags are the ones @pulumi/pulumi 3.276.0
// cmd/run/index.js parses; the entry point comes after the flags, the program's own args last.
func runArguments(req *pulumirpc.RunRequest, runPath, engineAddress, tracing string) []string {
	args := []string{runPath}
	flag := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flag("monitor", req.GetMonitorAddress())
	flag("engine", engineAddress)
	flag("organization", req.GetOrganization())
	flag("project", req.GetProject())
	flag("root-directory", req.GetInfo().GetRootDirectory())
	flag("stack", req.GetStack())
	flag("pwd", req.GetInfo().GetProgramDirectory())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	flag("parallel", strconv.Itoa(int(req.GetParallel())))
	flag("tracing", tracing)
	// The engine always names an entry point, "." for the program directory itself.
	args = append(args, req.GetInfo().GetEntryPoint())
	return append(args, req.GetArgs()...)
}

// configEnv is PULUMI_CONFIG: the engine sends keys as "<namespace>:<name>"; @pulumi/pulumi reads
// both that and the older "<namespace>:config:<name>" form, and Pulumi's host sends the older one
// so that old SDKs work too. This host does the same.
func configEnv(cfg map[string]string) (string, error) {
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		key, err := config.ParseKey(k)
		if err != nil {
			return "", err
		}
		out[key.Namespace()+":config:"+key.Name()] = v
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// RunPlugin runs a Node.js plugin; for a policy pack (kind "analyzer") this is how
// `pulumi preview --policy-pack <dir>` starts it: the engine finds PulumiPolicy.yaml with runtime
// nodejs and asks the language host (pkg/resource/plugin/plugin.go ExecPlugin). The stream carries
// the plugin's stdout/stderr; its first stdout line must be the gRPC port the engine dials.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	ctx := server.Context()
	if req.GetAttachDebugger() {
		return errors.New("attaching a debugger is not supported by this project's Node.js language host")
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	info := req.GetInfo()
	opts, err := parseOptions(info.GetOptions().AsMap())
	if err != nil {
		return err
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on the $PATH: %w", err)
	}

	isPolicyPack := req.GetKind() == string(apitype.AnalyzerPlugin)
	runPath := defaultPolicyPackPath
	if !isPolicyPack {
		runPath = os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH")
		if runPath == "" {
			runPath = defaultPluginRunPath
		}
	}
	runPath, err = locateModule(ctx, runPath, info.GetProgramDirectory(), nodeBin)
	if err != nil {
		return err
	}

	// The engine sends the whole environment the plugin gets (plugin.go ExecPlugin: os.Environ plus
	// its own variables).
	env := append(append([]string{}, req.GetEnv()...), opts.env()...)
	// For plugins Pulumi's host places runtime.options.nodeargs after the runner script (so node hands
	// them to the script, not to itself); kept so a plugin sees the same command line.
	args := append([]string{runPath}, opts.nodeArgs...)
	if isPolicyPack {
		// cmd/run-policy-pack takes the engine's arguments first and the pack directory last.
		args = append(append(args, req.GetArgs()...), info.GetProgramDirectory())
	} else {
		args = append(append(args, info.GetProgramDirectory()), req.GetArgs()...)
	}

	// A policy pack written against @pulumi/policy reads its stack (organization, project, stack,
	// config, dry-run) from the environment when it starts, but the engine sends them afterwards in
	// Analyzer.ConfigureStack (analyzer_plugin.go NewPolicyAnalyzer). sdk.PolicyProxy (a library in
	// github.com/pulumi/pulumi/sdk/v3 v3.276.0, made for language hosts) answers the engine first,
	// receives ConfigureStack, and then forwards every call to the pack once it is running.
	var proxy *sdk.PolicyProxy
	if isPolicyPack {
		proxy, stdout, err = sdk.NewPolicyProxy(ctx, stdout)
		if err != nil {
			return fmt.Errorf("could not start policy pack proxy: %w", err)
		}
		stack, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("could not get stack configuration: %w", err)
		}
		if stack != nil {
			env, err = appendPolicyStackEnv(env, stack)
			if err != nil {
				return err
			}
		}
	}

	cmd := interruptible(exec.CommandContext(ctx, nodeBin, args...))
	// Policy packs run in their own directory (cmd/run-policy-pack resolves the pack from there);
	// other plugins in the engine's working directory.
	if isPolicyPack {
		cmd.Dir = info.GetProgramDirectory()
	} else {
		cmd.Dir = req.GetPwd()
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	logging.V(5).Infof("launching plugin %s %s in %s", nodeBin, strings.Join(args, " "), cmd.Dir)

	if err := cmd.Start(); err != nil {
		if proxy != nil {
			proxy.Abort(err)
		}
		return fmt.Errorf("Problem executing plugin program (could not run language executor): %w", err)
	}
	if proxy != nil {
		// Attach reads the pack's port from its stdout, connects, and waits for the pack to exit.
		err = proxy.Attach(ctx, cmd)
	} else {
		err = cmd.Wait()
	}
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok {
				return fmt.Errorf("Program exited with non-zero exit code: %d", ws.ExitStatus())
			}
			return fmt.Errorf("Program exited unexpectedly: %w", exitErr)
		}
		return err
	}
	return closer.Close()
}

// appendPolicyStackEnv sets the variables @pulumi/pulumi's runtime reads for the stack a policy
// pack runs against (runtime/state.js nodeEnvKeys; PULUMI_CONFIG as for a program).
func appendPolicyStackEnv(env []string, stack *pulumirpc.AnalyzerStackConfigureRequest) ([]string, error) {
	set := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	set("PULUMI_NODEJS_ORGANIZATION", stack.GetOrganization())
	set("PULUMI_NODEJS_PROJECT", stack.GetProject())
	set("PULUMI_NODEJS_STACK", stack.GetStack())
	set("PULUMI_NODEJS_DRY_RUN", strconv.FormatBool(stack.GetDryRun()))
	if stack.GetConfig() != nil {
		b, err := json.Marshal(stack.GetConfig())
		if err != nil {
			return nil, fmt.Errorf("could not marshal stack configuration: %w", err)
		}
		set("PULUMI_CONFIG", string(b))
	}
	return env, nil
}

// InstallDependencies refuses: this project installs Node.js dependencies with npm from its lock
// file (`npm ci`), and the host never runs a package manager. The engine calls this for
// `pulumi install`, `pulumi new` and `pulumi policy new`, none of which the project uses; an
// `up`, `preview` or `destroy` never calls it.
func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, _ pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	return status.Errorf(codes.FailedPrecondition,
		"this project's Node.js language host does not install dependencies: run `npm ci` in %s",
		req.GetInfo().GetProgramDirectory())
}

// GetProgramDependencies lists the program's installed packages from its lock file, through the
// package-manager library of github.com/pulumi/pulumi/sdk/v3 v3.276.0 (nodejs/npm), as Pulumi's
// host does (`pulumi about`, update metadata).
func (h *host) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	opts, err := parseOptions(req.GetInfo().GetOptions().AsMap())
	if err != nil {
		return nil, err
	}
	pm, err := npm.ResolvePackageManager(opts.packageManager, req.GetInfo().GetProgramDirectory())
	if err != nil {
		return nil, fmt.Errorf("failed to determine package manager: %w", err)
	}
	packages, err := pm.ListPackages(ctx, req.GetInfo().GetProgramDirectory(), req.GetTransitiveDependencies())
	if err != nil {
		return nil, fmt.Errorf("failed to get node dependencies: %w", err)
	}
	deps := make([]*pulumirpc.DependencyInfo, len(packages))
	for i, p := range packages {
		deps[i] = &pulumirpc.DependencyInfo{Name: p.Name, Version: p.Version}
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

// About reports node, the package manager and the TypeScript the program would load (`pulumi about`).
func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	opts, err := parseOptions(req.GetInfo().GetOptions().AsMap())
	if err != nil {
		return nil, err
	}
	dir := req.GetInfo().GetProgramDirectory()
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	metadata := map[string]string{"languageHost": "platform's own (tools/pulumi-language-nodejs)"}
	if pm, err := npm.ResolvePackageManager(opts.packageManager, dir); err == nil {
		metadata["packagemanager"] = pm.Name()
		if v, err := pm.Version(); err == nil {
			metadata["packagemanagerVersion"] = v.String()
		}
	}
	nodeVersion := ""
	if out, err := exec.CommandContext(ctx, nodeBin, "--version").Output(); err == nil {
		nodeVersion = strings.TrimSpace(string(out))
	}
	tsCmd := exec.CommandContext(ctx, nodeBin, "-e", "console.log(require('typescript/package.json').version)")
	tsCmd.Dir = dir
	if out, err := tsCmd.Output(); err == nil {
		metadata["typescriptVersion"] = strings.TrimSpace(string(out))
	}
	return &pulumirpc.AboutResponse{Executable: nodeBin, Version: nodeVersion, Metadata: metadata}, nil
}

// Cancel stops every Node.js process this host started (SIGINT, then SIGKILL after killDelay).
func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.cancel()
	return &emptypb.Empty{}, nil
}

// interruptible makes a context cancellation send SIGINT first (the Node.js runtime then flushes and
// shuts down its gRPC clients), and SIGKILL only if the process is still there after killDelay.
func interruptible(cmd *exec.Cmd) *exec.Cmd {
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = killDelay
	return cmd
}

// locateModule resolves a module (such as @pulumi/pulumi/cmd/run) with node's own resolution from
// the program directory, so the runner of the program's own @pulumi/pulumi is used.
func locateModule(ctx context.Context, module, dir, nodeBin string) (string, error) {
	script := fmt.Sprintf("try { console.log(require.resolve(%q)); } catch (e) { "+
		"console.error(e.code === 'MODULE_NOT_FOUND' ? %q : e.message); process.exit(1); }",
		module, "could not resolve "+module+" from "+dir+
			": the program's Node.js dependencies are not installed (this project installs them with `npm ci`)")
	cmd := exec.CommandContext(ctx, nodeBin, "-e", script)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) && len(exitErr.Stderr) > 0 {
			return "", errors.New(strings.TrimSpace(string(exitErr.Stderr)))
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
