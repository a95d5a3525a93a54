// Command pulumi-language-nodejs is THIS PROJECT'S OWN Node.js language host for the Pulumi engine.
// It is not Pulumi's host and is not built from Pulumi's source.
//
// Why it exists: the integration tier builds the Pulumi CLI and the Kubernetes provider from Go
// modules at the versions package.json pins (@pulumi/pulumi 3.276.0). Pulumi's own Node.js host
// lives in the module github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, which has
// no release tags, and the module proxy this project may use refuses it at every version (for
// example `go mod download github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3@v3.276.0`
// answers "403 Forbidden: This module version is not available"). The engine cannot run a Node.js
// program without a host, so this one implements the LanguageRuntime gRPC service of
// github.com/pulumi/pulumi/sdk/v3/proto/go at v3.276.0, written from what the engine at
// pkg/v3 v3.276.0 calls (pkg/resource/plugin/langruntime_plugin.go, plugin.go, analyzer_plugin.go)
// and from reading what Pulumi's host does; no code of Pulumi's host is copied.
//
// What it implements (host.go): Handshake, GetPluginInfo, GetRequiredPackages (GetRequiredPlugins
// answers Unimplemented, as Pulumi's host does, and the engine uses GetRequiredPackages), Run,
// RunPlugin (policy packs and Node.js plugins), GetProgramDependencies, About, Cancel, and an
// InstallDependencies that refuses with the npm command to run instead.
//
// What it omits, compared with Pulumi's host at v3.259/v3.276:
//   - InstallDependencies: this project installs with `npm ci`; the host never runs a package manager.
//   - The resource-monitor proxy and the synchronous-invoke pipes (--sync): @pulumi/pulumi 3.276.0
//     never opens the pipes (runtime/settings.js tryGetSyncInvokes has no caller), so the program
//     talks to the engine's monitor directly. The engine's Node.js alias compatibility check
//     (pkg/resource/deploy/source_eval.go requestFromNodeJS) still recognises it through the
//     "grpc-node-js/<version>" user agent of @grpc/grpc-js (build/src/transport.js at 1.14.7), in
//     place of the proxy's "pulumi-runtime: nodejs" header.
//   - Debugger attachment (attachDebugger), the bun runtime, fnm/.nvmrc Node.js version switching,
//     the out-of-memory hint on a crashed program, and OpenTelemetry/Zipkin spans of its own
//     (--tracing is accepted and handed on to the Node.js program, as Pulumi's host does).
//   - Code generation and packaging: GenerateProgram, GenerateProject, GeneratePackage, Pack, Link,
//     RuntimeOptionsPrompts and Template answer Unimplemented (`pulumi convert`, `pulumi package add`,
//     `pulumi new` are not used by this project).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// version is set by `npm run tools` (-ldflags -X main.version=...): the Pulumi version whose
// protocol this host speaks, with "+platform" build metadata so it is never mistaken for Pulumi's.
var version = "0.0.0+dev"

func main() {
	// The engine passes --logtostderr, -v=N and --tracing before the engine address
	// (pkg/resource/plugin/plugin.go buildPluginArguments); the logging package registers the first two.
	tracing := flag.String("tracing", "", "Zipkin-compatible tracing endpoint, handed on to the Node.js program")
	runtimeName := flag.String("runtime", "nodejs", "the runtime to use; this host supports only nodejs")
	showVersion := flag.Bool("version", false, "print the plugin version and exit")
	flag.Parse()

	if *showVersion {
		fmt.Println(version)
		return
	}
	logging.InitLogging(false, 0, false)
	if *runtimeName != "nodejs" {
		cmdutil.Exit(fmt.Errorf("unsupported runtime %q: this project's language host runs only nodejs", *runtimeName))
	}

	// The engine address is the positional argument; empty when the host is started by hand and the
	// engine attaches to it and calls Handshake instead.
	var engineAddress string
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[0]
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cancelServer := make(chan bool)
	go func() {
		<-ctx.Done()
		stop()
		close(cancelServer)
	}()

	h := newHost(engineAddress, *tracing)
	if engineAddress != "" {
		// Exit when the engine has gone away, so an orphaned host does not linger.
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, stop); err != nil {
			cmdutil.Exit(fmt.Errorf("could not start health check host RPC server: %w", err))
		}
	}

	// rpcutil.ServeWithOptions listens on 127.0.0.1 with a port the kernel chooses.
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancelServer,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start language host RPC server: %w", err))
	}

	// The engine reads the first line of stdout as the port to dial.
	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		h.cancelAll()
		cmdutil.Exit(fmt.Errorf("language host RPC stopped serving: %w", err))
	}
	h.cancelAll()
}
