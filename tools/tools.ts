// The integration tier's toolchain: what `npm run tools` (tools/build.ts) builds from Go modules,
// where the binaries land, and how each one states its version. The integration tests import the
// paths and the version check from here, so the build and the tests agree on one list.
//
// Each tool is a small Go module of this project's own under tools/<dir>/ whose go.mod requires
// the upstream module at its pinned version (mirroring upstream `replace` directives there) and
// names the commands with `tool` directives; the build is `go build <package path>` in that module.

import * as grpc from "@grpc/grpc-js";
import { LanguageRuntimeClient } from "@pulumi/pulumi/proto/language_grpc_pb";
import { PluginInfo } from "@pulumi/pulumi/proto/plugin_pb";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import * as path from "path";

export const repoRoot = path.resolve(__dirname, "..");
/** Git-ignored output root: bin/ (binaries), share/ (data files), stamps/ (build keys). */
export const cacheDir = path.join(repoRoot, ".cache", "tools");
export const binDir = path.join(cacheDir, "bin");
export const shareDir = path.join(cacheDir, "share");
export const stampDir = path.join(cacheDir, "stamps");

/** kwok's stages (the ones kwokctl v0.8.0 applies by default), gathered from the kwok module. */
export const kwokStagesPath = path.join(shareDir, "kwok", "stages.yaml");

export interface GoTool {
  /** Step name, also the stamp file name. */
  readonly name: string;
  /** The Go module of this project that pins the upstream module: tools/<dir>. */
  readonly dir: string;
  /** The pinned upstream version, printed with the step. */
  readonly version: string;
  /** Package paths given to `go build`, each with the binary it produces in bin/. */
  readonly builds: readonly { readonly pkg: string; readonly bin: string }[];
  /** Linker flags (-X version variables, as upstream's release builds set them). */
  readonly ldflags: readonly string[];
  readonly tags: readonly string[];
  /** Upstream builds these statically (CGO_ENABLED=0). */
  readonly cgo: boolean;
  /** Sources of this project's own in the module (they change the build key). */
  readonly ownSources?: readonly string[];
  /** Runs before `go build` (inside the module directory); may write git-ignored inputs. */
  readonly prepare?: (run: GoRunner) => void;
  /** Runs after a successful build: data files the tests read. */
  readonly after?: (run: GoRunner) => void;
}

/** Runs `go` in a tool's module directory and returns its stdout. */
export type GoRunner = (args: readonly string[]) => string;

export const kubernetesVersion = "v1.35.4";
const k8sMinor = kubernetesVersion.split(".")[1];

/** -X flags for Kubernetes' version variables, as hack/lib/version.sh (v1.35.4) sets them. */
const k8sVersionFlags = ["k8s.io/client-go/pkg/version", "k8s.io/component-base/version"].flatMap((pkg) => [
  `-X ${pkg}.gitVersion=${kubernetesVersion}`,
  `-X ${pkg}.gitMajor=1`,
  `-X ${pkg}.gitMinor=${k8sMinor}`,
  `-X ${pkg}.gitTreeState=clean`,
]);

/**
 * The directory of `module` at the version the tool's go.mod selects. `go mod download` fetches it
 * first if needed (`go list -m` alone reports an empty Dir for a module not yet in the cache).
 */
function moduleDir(run: GoRunner, module: string): string {
  const info = JSON.parse(run(["mod", "download", "-json", module])) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${module}: ${info.Error ?? "no directory reported"}`);
  return info.Dir;
}

export const tools: readonly GoTool[] = [
  {
    // github.com/pulumi/pulumi/pkg/v3 v3.276.0: the CLI and engine. Release flags from upstream's
    // .goreleaser.yml: -trimpath, tags osusergo,grpcnotrace, -X .../version.Version=v<version>.
    name: "pulumi",
    dir: "tools/pulumi",
    version: "v3.276.0",
    builds: [{ pkg: "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi", bin: "pulumi" }],
    ldflags: ["-s", "-w", "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v3.276.0"],
    tags: ["osusergo", "grpcnotrace"],
    cgo: true,
  },
  {
    // This project's own Node.js language host (Pulumi's is not served by the module proxy; see
    // tools/pulumi-language-nodejs/main.go). Built against sdk/v3 v3.276.0.
    name: "pulumi-language-nodejs",
    dir: "tools/pulumi-language-nodejs",
    version: "3.276.0+platform",
    builds: [{ pkg: ".", bin: "pulumi-language-nodejs" }],
    ldflags: ["-s", "-w", "-X main.version=3.276.0+platform"],
    tags: ["osusergo", "grpcnotrace"],
    cgo: true,
    ownSources: ["main.go", "host.go", "options.go", "packages.go"],
  },
  {
    // github.com/pulumi/pulumi-kubernetes/provider/v4 at the commit tagged v4.25.0, served by a main
    // of this project's own (upstream's needs a generated schema-embed.json the module lacks). The
    // version variable is the one upstream's Makefile sets: -X .../provider/v4/pkg/version.Version.
    name: "pulumi-resource-kubernetes",
    dir: "tools/pulumi-kubernetes",
    version: "4.25.0",
    builds: [{ pkg: "./cmd/pulumi-resource-kubernetes", bin: "pulumi-resource-kubernetes" }],
    ldflags: ["-s", "-w", "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=4.25.0"],
    tags: [],
    cgo: false,
    ownSources: ["cmd/pulumi-resource-kubernetes/main.go"],
    prepare: (run) => {
      // go:embed reads only files inside the package: copy the module's schema and mapping next to
      // main.go (git-ignored). Their content is fixed by the pinned module version in go.mod.
      const src = path.join(moduleDir(run, "github.com/pulumi/pulumi-kubernetes/provider/v4"), "cmd", "pulumi-resource-kubernetes");
      const dst = path.join(repoRoot, "tools/pulumi-kubernetes/cmd/pulumi-resource-kubernetes");
      for (const f of ["schema.json", "terraform-mapping.json"]) {
        fs.copyFileSync(path.join(src, f), path.join(dst, f));
        fs.chmodSync(path.join(dst, f), 0o644);
      }
    },
  },
  {
    // k8s.io/kubernetes v1.35.4 (the newest served 1.35 patch; the stacks deploy EKS 1.35). Flags as
    // hack/lib/golang.sh builds server binaries: CGO_ENABLED=0, -trimpath, tags
    // selinux,notest,grpcnotrace, -s -w, and the version variables of hack/lib/version.sh.
    name: "kubernetes",
    dir: "tools/kubernetes",
    version: kubernetesVersion,
    builds: [
      { pkg: "k8s.io/kubernetes/cmd/kube-apiserver", bin: "kube-apiserver" },
      { pkg: "k8s.io/kubernetes/cmd/kube-controller-manager", bin: "kube-controller-manager" },
      { pkg: "k8s.io/kubernetes/cmd/kube-scheduler", bin: "kube-scheduler" },
    ],
    ldflags: ["-s", "-w", ...k8sVersionFlags],
    tags: ["selinux", "notest", "grpcnotrace"],
    cgo: false,
  },
  {
    // go.etcd.io/etcd/server/v3 v3.6.6: kubeadm's DefaultEtcdVersion for Kubernetes 1.35
    // (cmd/kubeadm/app/constants/constants.go at v1.35.4; its minimum is 3.5.24-0, so Debian's
    // etcd-server 3.4.23 is too old). Upstream builds it with CGO_ENABLED=0 and -trimpath.
    name: "etcd",
    dir: "tools/etcd",
    version: "v3.6.6",
    builds: [{ pkg: "go.etcd.io/etcd/server/v3", bin: "etcd" }],
    ldflags: ["-s", "-w"],
    tags: [],
    cgo: false,
  },
  {
    // sigs.k8s.io/kwok v0.8.0 (its client-go is v0.36.1: one minor newer than the API server, within
    // client-go's supported skew; v0.7.0's is v0.33, two behind). Release flags from hack/releases.sh:
    // -X sigs.k8s.io/kwok/pkg/consts.Version.
    name: "kwok",
    dir: "tools/kwok",
    version: "v0.8.0",
    builds: [{ pkg: "sigs.k8s.io/kwok/cmd/kwok", bin: "kwok" }],
    ldflags: ["-s", "-w", "-X sigs.k8s.io/kwok/pkg/consts.Version=0.8.0"],
    tags: [],
    cgo: false,
    after: (run) => {
      // The kwok controller alone starts with no stages ("no stages found"); kwokctl v0.8.0 passes
      // it node-initialize, node-heartbeat-with-lease (leases on) and pod-ready, pod-complete,
      // pod-delete (pkg/kwokctl/runtime/cluster.go getDefaultNodeStages/getDefaultPodStages).
      // The same files, from the pinned module, as one config file.
      const stage = path.join(moduleDir(run, "sigs.k8s.io/kwok"), "kustomize", "stage");
      const files = [
        "node/fast/node-initialize.yaml",
        "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
        "pod/fast/pod-ready.yaml",
        "pod/fast/pod-complete.yaml",
        "pod/fast/pod-delete.yaml",
      ];
      fs.mkdirSync(path.dirname(kwokStagesPath), { recursive: true });
      fs.writeFileSync(kwokStagesPath, files.map((f) => fs.readFileSync(path.join(stage, f), "utf8").trim()).join("\n---\n") + "\n");
    },
  },
];

/** Absolute path of a built binary. */
export function bin(name: string): string {
  return path.join(binDir, name);
}

/** Every binary the tools produce. */
export const allBinaries: readonly string[] = tools.flatMap((t) => t.builds.map((b) => b.bin));

/** Throws a clear error naming the fix when a binary is missing. */
export function requireBinaries(): void {
  const missing = allBinaries.filter((b) => !fs.existsSync(bin(b)));
  if (missing.length > 0) {
    throw new Error(`missing integration tools in ${binDir}: ${missing.join(", ")}. Build them with: npm run tools`);
  }
}

function firstLine(s: string): string {
  return s.split("\n").find((l) => l.trim() !== "")?.trim() ?? "";
}

/**
 * A plugin's own answer to GetPluginInfo over gRPC: the binary is started without an engine
 * address (attach mode: it prints its port and serves until killed), asked, and stopped. The
 * engine asks the same thing (pkg/resource/plugin/provider_plugin.go GetPluginInfo).
 */
export async function pluginVersion(binary: string, kind: "provider" | "language"): Promise<string> {
  const child = spawn(binary, [], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  try {
    const port = await new Promise<string>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`${binary} printed no port within 30s: ${stderr}`)), 30_000);
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) {
          clearTimeout(timer);
          resolve(out.split("\n")[0].trim());
        }
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`${binary} exited (${code}) before printing its port: ${stderr}`));
      });
    });
    // The generated stubs of the installed @pulumi/pulumi 3.276.0 (proto/*_grpc_pb).
    const address = `127.0.0.1:${port}`;
    const client =
      kind === "provider"
        ? new ResourceProviderClient(address, grpc.credentials.createInsecure())
        : new LanguageRuntimeClient(address, grpc.credentials.createInsecure());
    try {
      return await new Promise<string>((resolve, reject) => {
        const done = (err: grpc.ServiceError | null, info: PluginInfo) => (err ? reject(err) : resolve(info.getVersion()));
        if (client instanceof ResourceProviderClient) client.getPluginInfo(new Empty(), done);
        else client.getPluginInfo(new Empty(), done);
      });
    } finally {
      client.close();
    }
  } finally {
    child.kill("SIGKILL");
  }
}

/** One line per binary: the version it reports itself. */
export async function toolVersions(): Promise<string[]> {
  const run = (b: string, args: string[]) =>
    execFileSync(bin(b), args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  lines.push(`pulumi                      ${firstLine(run("pulumi", ["version"]))}`);
  lines.push(`pulumi-language-nodejs      ${await pluginVersion(bin("pulumi-language-nodejs"), "language")} (this project's own host)`);
  lines.push(`pulumi-resource-kubernetes  ${await pluginVersion(bin("pulumi-resource-kubernetes"), "provider")}`);
  for (const k of ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]) {
    lines.push(`${k.padEnd(28)}${firstLine(run(k, ["--version"]))}`);
  }
  lines.push(`etcd                        ${firstLine(run("etcd", ["--version"]))}`);
  lines.push(`kwok                        ${firstLine(run("kwok", ["--version"]))}`);
  return lines;
}
