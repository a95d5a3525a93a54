// The integration tier's harness for driver tests: the fixture project (test/integration/fixture)
// in a Pulumi sandbox, its stacks opened through the driver's own `openLocalStack`, one
// load-balancer double per stack watching the local control plane, and `DriverDeps` made of the
// real adapters pointed at loopback (ELBv2 through the double's endpoint, probes through its
// router). Assertions read the live API server (`kube`), never the driver's view.

import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { AlbRouting, Elbv2LoadBalancerRouting } from "../../automation/adapters/albRouting";
import { FileBackupStore } from "../../automation/adapters/backup";
import { systemClock } from "../../automation/adapters/clock";
import { Elbv2TargetHealthChecker } from "../../automation/adapters/elbv2";
import { HttpHealthProber } from "../../automation/adapters/httpProber";
import { createLogger } from "../../automation/adapters/progress";
import { openLocalStack, resolveWorkspaceSettings } from "../../automation/adapters/workspace";
import { DriverDeps } from "../../automation/deps";
import { DeploymentReport, EngineEvent, Logger } from "../../automation/ports";
import { isJsonObject, Json } from "../../automation/types";
import { stackHosts } from "../../infra/lib/hosts";
import { repoRoot } from "../../tools/tools";
import { controlPlane } from "./fixture";
import { Kube } from "./kube";
import { KubeClient } from "./lbDouble/kube";
import { DoubleMode, LoadBalancerDouble } from "./lbDouble/double";
import { PulumiSandbox, pulumiSandbox } from "./pulumi";

export type FixtureStack = "staging" | "prod";

export const REGION = "ap-northeast-2";
/** The first node group of the repository's staging and prod stack files (the fixture reads them). */
export const NODE_GROUP = "general";
const FIXTURE_DIR = path.join(repoRoot, "test", "integration", "fixture");

/** Image of a fixture color: the platform's own registry, as prod's config requires. */
export function image(service: string, tag: string): string {
  return `123456789012.dkr.ecr.${REGION}.amazonaws.com/${service}:${tag}`;
}

/** `platform:services` of the fixture: `web` on "/" and `api` on "/api", prod shape (2 replicas, HPA, PDB, both colors). */
export function fixtureServices(overrides: { readonly idle?: "warm" | "parked" } = {}): Json {
  const svc = (name: string, paths: string[], healthPath: string): Json => ({
    name,
    port: 8080,
    healthPath,
    paths,
    active: "blue",
    blue: { image: image(name, "1.0.0") },
    green: { image: image(name, "1.1.0") },
    replicas: 2,
    autoscaling: { minReplicas: 2, maxReplicas: 4, targetCpuUtilization: 70 },
    ...(overrides.idle !== undefined ? { idle: overrides.idle } : {}),
  });
  return [svc("web", ["/"], "/healthz"), svc("api", ["/api"], "/api/healthz")];
}

/** `services` (a `platform:services` value) with one color's image of service `name` set to `img`; the rest as it was. */
export function withImage(services: Json, name: string, color: "blue" | "green", img: string): Json {
  if (!Array.isArray(services)) throw new Error("platform:services is not a list");
  return services.map((s) => (isJsonObject(s) && s["name"] === name ? { ...s, [color]: { ...(isJsonObject(s[color]) ? s[color] : {}), image: img } } : s));
}

/** `platform:healthGate` sized for loopback: a handful of probes, seconds not minutes (the config's shape, `healthGateSchema`). */
export const FAST_GATE = { successes: 3, latencyMs: 2_000, timeoutSeconds: 20, intervalMs: 200 } as const;

export interface HarnessOptions {
  readonly stacks: readonly FixtureStack[];
  /** The doubles' initial lag before applying an observed Ingress change. Default 500 ms. */
  readonly lagMs?: number;
  readonly mode?: DoubleMode;
  /** `platform:services` of every stack. Default: `fixtureServices()`. */
  readonly services?: Json;
}

export interface DepsOptions {
  /** How long the routing gate polls the double's listener rule. Default 30 s, every 250 ms. */
  readonly routingWait?: { readonly timeoutMs: number; readonly intervalMs: number };
}

/** One Pulumi operation the driver ran, with every engine event it received from the CLI, in order. */
export interface RecordedOperation {
  /** The driver's label, e.g. "prod park check" (the targeted preview) or "prod park" (its up). */
  readonly label: string;
  readonly events: EngineEvent[];
  /** Date.now() when the driver started it, and when it ended (undefined while it runs). */
  readonly startedAt: number;
  endedAt?: number;
}

export interface Harness {
  readonly sandbox: PulumiSandbox;
  readonly projectDir: string;
  /** The live API server. */
  readonly kube: Kube;
  /** Kept when a test fails (always with PLATFORM_INT_KEEP_LOGS=1, for profiling): the driver's log and every engine event of its operations. */
  readonly logDir: string;
  /** The Automation API stack (for state exports and config the driver does not own). */
  readonly stacks: ReadonlyMap<FixtureStack, Stack>;
  readonly doubles: ReadonlyMap<FixtureStack, LoadBalancerDouble>;
  /** What the driver sent its notifier. */
  readonly notifications: DeploymentReport[];
  /** Every Pulumi operation of the driver, in the order they started (the engine's own record of what each did). */
  readonly operations: RecordedOperation[];
  namespace(stack: FixtureStack): string;
  /** Real adapters over loopback; one set per command run is fine (they hold no state beyond clients). */
  deps(opts?: DepsOptions): DriverDeps;
  /** Stops the doubles, destroys the stacks, removes the sandbox; keeps the logs when `failed`. */
  stop(failed: boolean): Promise<void>;
}

/** Every kwok node joins the fixture's node group (the pods' required node affinity) in a zone. */
async function labelNodes(kube: Kube, nodes: readonly string[]): Promise<void> {
  for (const [i, node] of nodes.entries()) {
    await kube.mergePatch(`/api/v1/nodes/${node}`, {
      metadata: { labels: { "platform.io/node-group": NODE_GROUP, "topology.kubernetes.io/zone": `${REGION}${"ac"[i % 2]}` } },
    });
  }
}

/** The fixture copied into the sandbox: Pulumi.yaml as committed, an index.ts re-exporting ./program.ts. */
function fixtureProject(sandbox: PulumiSandbox): string {
  const program = path.join(FIXTURE_DIR, "program");
  return sandbox.project("fixture", {
    "Pulumi.yaml": fs.readFileSync(path.join(FIXTURE_DIR, "Pulumi.yaml"), "utf8"),
    "package.json": JSON.stringify({ name: "platform-fixture", version: "0.0.0", private: true, main: "index.ts" }),
    // noCheck: @pulumi/pulumi 3.276.0 cmd/run/run.js makes ts-node transpile-only when the tsconfig
    // says so; the repository's `tsc --noEmit` type-checks program.ts already.
    // "ts-node": { swc: true }: run.js:299-310 registers the ts-node it finds in node_modules (tsutils.js:49-73:
    // the repository's ts-node 10.9.2) with `project: <this tsconfig>`, and ts-node 10.9.2 takes the
    // tsconfig's "ts-node" options (dist/configuration.js:150-177), so the program is transpiled by
    // @swc/core instead of TypeScript: about a second less for each of the tier's Pulumi operations.
    "tsconfig.json": JSON.stringify({
      compilerOptions: { target: "ES2022", module: "commonjs", moduleResolution: "node", strict: true, skipLibCheck: true, noCheck: true, types: ["node"] },
      "ts-node": { swc: true },
    }),
    "index.ts": `export * from ${JSON.stringify(program)};\n`,
  });
}

/** Engine events and driver lines to files in `dir`; each operation's events also to `operations`. */
function fileLogger(dir: string, operations: RecordedOperation[]): Logger {
  const events = path.join(dir, "engine-events.jsonl");
  const base = createLogger({ write: (t) => fs.appendFileSync(path.join(dir, "driver.log"), t), live: false, clock: systemClock });
  return {
    info: (m) => base.info(m),
    warn: (m) => base.warn(m),
    operation(label, expected) {
      const op = base.operation(label, expected);
      const recorded: RecordedOperation = { label, events: [], startedAt: Date.now() };
      operations.push(recorded);
      return {
        onEvent: (e: EngineEvent) => {
          recorded.events.push(e);
          fs.appendFileSync(events, `${JSON.stringify({ label, ...e })}\n`);
          op.onEvent(e);
        },
        end: () => {
          recorded.endedAt = Date.now();
          op.end();
        },
      };
    },
  };
}

const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;

let harnessRuns = 0;

export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const started = Date.now();
  const cp = controlPlane();
  const sandbox = await pulumiSandbox();
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "platform-int-logs-"));
  const doubles = new Map<FixtureStack, LoadBalancerDouble>();
  const stacks = new Map<FixtureStack, Stack>();
  const kubeClient = KubeClient.fromKubeconfig(cp.kubeconfig);
  const notifications: DeploymentReport[] = [];
  const operations: RecordedOperation[] = [];
  // A namespace per harness: teardown deletes it without waiting for the namespace controller, so
  // the next file's harness must not reuse the name, nor may a file running beside it in another
  // mocha worker (MOCHA_WORKER_ID, set by mocha's parallel mode).
  const run = `${process.env.MOCHA_WORKER_ID ?? "0"}-${++harnessRuns}`;
  const namespace = (s: FixtureStack): string => `apps-${s}-${run}`;
  const stop = async (failed: boolean): Promise<void> => {
    await Promise.all([...doubles.values()].map((d) => d.close()));
    fs.writeFileSync(path.join(logDir, "doubles.json"), JSON.stringify([...doubles].map(([s, d]) => ({ stack: s, history: d.history })), null, 1));
    // Teardown deletes each stack's namespace (the namespace controller removes what is in it) and
    // drops the sandbox with its file backend, rather than a `pulumi destroy` per stack: destroy
    // waits for every deletion (about 10 s a stack, a minute over the tier) and is proven once, in
    // smoke.test.ts. The control plane itself is stopped at the end of the run.
    for (const name of stacks.keys()) {
      const res = await cp.kube.request("DELETE", `/api/v1/namespaces/${namespace(name)}`).catch((err: unknown) => ({ status: 0, body: err instanceof Error ? err.message : String(err) }));
      if (res.status !== 200 && res.status !== 202 && res.status !== 404) {
        console.error(`[harness] deleting namespace ${namespace(name)}: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
        failed = true;
      }
    }
    kubeClient.close();
    sandbox.cleanup();
    if (failed || process.env.PLATFORM_INT_KEEP_LOGS === "1") {
      console.error(`[harness] kept the driver log, engine events and the doubles' history in ${logDir}`);
    } else {
      fs.rmSync(logDir, { recursive: true, force: true });
    }
  };
  try {
    await labelNodes(cp.kube, cp.nodes);
    const projectDir = fixtureProject(sandbox);
    for (const name of opts.stacks) {
      doubles.set(name, await LoadBalancerDouble.start({ kube: kubeClient, groupName: name, clusterName: `${name}-local`, region: REGION, namespace: namespace(name), lagMs: opts.lagMs ?? 500, mode: opts.mode }));
      const stack = await LocalWorkspace.createStack({ stackName: name, workDir: projectDir }, { pulumiCommand: sandbox.command, envVars: sandbox.envVars });
      stacks.set(name, stack);
      await stack.setAllConfig({
        "aws:region": { value: REGION },
        "platform:services": { value: JSON.stringify(opts.services ?? fixtureServices()) },
        "platform:releases": { value: "{}" },
        "platform:healthGate": { value: JSON.stringify(FAST_GATE) },
        "fixture:kubeconfig": { value: cp.kubeconfigContent, secret: true },
        "fixture:namespace": { value: namespace(name) },
        "fixture:clusterName": { value: `${name}-local` },
      });
    }
    const settings = resolveWorkspaceSettings({ ...process.env, ...sandbox.envVars }, projectDir);
    console.log(`[timing] harness: ${opts.stacks.join(", ")} ready in ${seconds(started)}`);
    const deps = (d: DepsOptions = {}): DriverDeps => driverDeps({ sandbox, settings, doubles, logDir, notifications, operations }, d);
    return { sandbox, projectDir, kube: cp.kube, logDir, stacks, doubles, notifications, operations, namespace, deps, stop };
  } catch (err) {
    await stop(true);
    throw err;
  }
}

interface DepsContext {
  readonly sandbox: PulumiSandbox;
  readonly settings: ReturnType<typeof resolveWorkspaceSettings>;
  readonly doubles: ReadonlyMap<FixtureStack, LoadBalancerDouble>;
  readonly logDir: string;
  readonly notifications: DeploymentReport[];
  readonly operations: RecordedOperation[];
}

/** The live and preview hosts of a fixture stack (the fixture program derives them the same way). */
export function hostsOf(stack: FixtureStack): { readonly live: string; readonly preview: string } {
  return stackHosts(stack, domainOf(stack));
}

/** `platform:domain` of the repository's stack file, which the fixture program reads too. */
function domainOf(stack: FixtureStack): string {
  const doc = YAML.parse(fs.readFileSync(path.join(repoRoot, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> };
  const domain = doc.config?.["platform:domain"];
  if (typeof domain !== "string") throw new Error(`Pulumi.${stack}.yaml has no platform:domain`);
  return domain;
}

/** The AWS SDK's endpoint override and dummy credentials: the double does not check signatures. */
function elbv2Config(double: LoadBalancerDouble) {
  return { endpoint: double.elbv2Endpoint, credentials: { accessKeyId: "integration", secretAccessKey: "integration" } };
}

function driverDeps(ctx: DepsContext, opts: DepsOptions): DriverDeps {
  const doubleOf = (stack: string): LoadBalancerDouble => {
    const d = ctx.doubles.get(stack as FixtureStack);
    if (d === undefined) throw new Error(`no load-balancer double for stack ${stack}`);
    return d;
  };
  const per = <T>(make: (d: LoadBalancerDouble) => T): ((stack: string) => T) => {
    const made = new Map<string, T>();
    return (stack) => made.get(stack) ?? made.set(stack, make(doubleOf(stack))).get(stack) as T;
  };
  const routing = per((d) => new AlbRouting(new Elbv2LoadBalancerRouting(elbv2Config(d))));
  const health = per((d) => new Elbv2TargetHealthChecker(elbv2Config(d)));
  // Live and preview hosts of each stack reach its double's router (plain HTTP on loopback).
  const connectTo = new Map<string, string>();
  for (const [s, d] of ctx.doubles) {
    const hosts = hostsOf(s);
    connectTo.set(`https://${hosts.live}`, d.routerUrl);
    connectTo.set(`https://${hosts.preview}`, d.routerUrl);
  }
  const refuse = (what: string) => () => Promise.reject(new Error(`${what} is not part of this integration test`));
  return {
    openStack: (name) => openLocalStack(name, ctx.settings, { create: false }, ctx.sandbox.command),
    prober: new HttpHealthProber(systemClock, connectTo),
    targetHealth: { check: (q, signal) => health(q.stack).check(q, signal) },
    routing: { liveWeights: (q, signal) => routing(q.stack).liveWeights(q, signal) },
    metrics: { window: refuse("canary metrics") },
    resolver: { resolve: refuse("tag resolution") },
    notifier: { notify: (r) => (ctx.notifications.push(r), Promise.resolve({ delivered: true, detail: "recorded" })) },
    backups: new FileBackupStore(path.join(ctx.sandbox.dir, "backups")),
    clock: systemClock,
    log: fileLogger(ctx.logDir, ctx.operations),
    signal: new AbortController().signal,
    run: { actor: "integration" },
    policyFor: () => ({ packs: [], configs: [] }),
    routingWait: opts.routingWait ?? { timeoutMs: 30_000, intervalMs: 250 },
    targetHealthWait: { timeoutMs: 20_000, intervalMs: 250 },
  };
}
