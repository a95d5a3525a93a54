/**
 * `npm run platform -- <command>`: the entry point CI and operators call. Parses flags with
 * node's util.parseArgs, builds the real dependencies (Automation API, HTTP prober, ELBv2,
 * registry, Discord), turns SIGINT/SIGTERM into an AbortSignal, and maps every outcome to
 * an exit code (see ./exitCodes.ts). All behaviour lives in the command functions (./commands).
 */
import * as fs from "fs";
import * as path from "path";
import { Color } from "../infra/config/schema";
import { AlbRouting, Elbv2LoadBalancerRouting } from "./adapters/albRouting";
import { FileBackupStore, S3BackupStore } from "./adapters/backup";
import { systemClock } from "./adapters/clock";
import { DiscordNotifier, nullNotifier, secretValues } from "./adapters/discord";
import { CloudWatchCanaryMetrics } from "./adapters/cloudwatch";
import { Elbv2TargetHealthChecker } from "./adapters/elbv2";
import { HttpHealthProber } from "./adapters/httpProber";
import { createLogger, isLiveTerminal } from "./adapters/progress";
import { RegistryImageResolver } from "./adapters/registry";
import { FileStackCatalog } from "./adapters/catalog";
import { openLocalStack, REPO_ROOT, resolveWorkspaceSettings } from "./adapters/workspace";
import {
  ArgumentError,
  boolOpt,
  CliIo,
  CommandContext,
  commandHelp,
  CommandOutput,
  CommandSpec,
  DepsRequest,
  findCommand,
  globalHelp,
  OptionSpec,
  ParsedCommand,
  parseCommandArgs,
  registerCommand,
  requireOpt,
  stringOpt,
  stringsOpt,
} from "./cli/registry";
import { outcomeMarkdown, renderOutcome } from "./cli/render";
import * as validate from "./cli/validate";
import { flip, preview, promote, release, rollback, status, up } from "./commands";
import { DriverDeps, PolicyOptions, RunContext } from "./deps";
import { InterruptRelay } from "./cli/interrupts";
import { DriverError, messageOf } from "./errors";
import { ExitCode } from "./exitCodes";
import { Outcome } from "./outcome";
import { planCommand } from "./plan";

function toOutput(o: Outcome): CommandOutput {
  return { exitCode: o.exitCode, human: renderOutcome(o), json: o };
}

/* ----------------------------------------------------------------------------------------
 * Commands.
 * -------------------------------------------------------------------------------------- */

const POLICY_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  "policy-pack": { type: "string", multiple: true, valueName: "DIR", description: "policy pack directory (default: $PLATFORM_POLICY_PACK or ./policy when it holds PulumiPolicy.yaml)" },
  "policy-config": { type: "string", multiple: true, valueName: "FILE", description: "policy config JSON (default: <pack>/config/<stack>.json when present)" },
};

const CREATE: OptionSpec = {
  type: "boolean",
  description: "create the stack when the backend has none (otherwise a missing stack is an error: a wrong PULUMI_BACKEND_URL looks exactly like one)",
};

const ALLOW_REPLACE: OptionSpec = {
  type: "boolean",
  description: "allow planned replaces/deletes of stateful resources (RDS, EFS, EKS, OpenSearch, S3)",
};

function depsFor(ctx: CommandContext, args: ParsedCommand, create: boolean): DriverDeps {
  return ctx.deps({ create, policyPacks: stringsOpt(args.values, "policy-pack"), policyConfigs: stringsOpt(args.values, "policy-config") });
}

/** Mutating commands also leave a short record in the CI run's summary page. */
async function recorded(deps: DriverDeps, run: (deps: DriverDeps) => Promise<Outcome>): Promise<CommandOutput> {
  const o = await run(deps);
  deps.stepSummary?.(outcomeMarkdown(o));
  return toOutput(o);
}

function parseColor(text: string | undefined): Color | undefined {
  validate.color(text, "--to");
  return text === undefined ? undefined : (text as Color);
}

/** --policy-pack directories and --policy-config files exist. */
function validatePolicy(args: ParsedCommand): void {
  for (const dir of stringsOpt(args.values, "policy-pack")) {
    validate.existingDir(dir, "--policy-pack");
  }
  for (const file of stringsOpt(args.values, "policy-config")) {
    validate.existingFile(file, "--policy-config");
  }
}

function stackArg(args: ParsedCommand): string {
  return args.positionals[0] ?? "";
}

const previewCommand: CommandSpec = {
  name: "preview",
  summary: "policy-gated preview with a change summary",
  usage: "preview <stack> [--expect-no-changes] [--create] [--policy-pack DIR]...",
  description: [
    "Runs a real `pulumi preview` through the Automation API with the policy pack(s), streams progress,",
    "and ends with the change summary (creates, updates, replaces, deletes) and every policy violation.",
    "A mandatory violation exits 2; with --expect-no-changes any change exits 6 (drift check).",
    "Writes a Markdown summary to $GITHUB_STEP_SUMMARY when set.",
  ].join("\n"),
  options: { "expect-no-changes": { type: "boolean", description: "refresh, then exit 6 when the preview finds any change (drift)" }, create: CREATE, ...POLICY_OPTIONS },
  positionals: ["stack"],
  validate: (args, catalog) => {
    const d = validate.knownStack(catalog, stackArg(args), "<stack>");
    validatePolicy(args);
    return validate.deployable(d, "<stack>");
  },
  run: async (args, ctx) => {
    const stack = args.positionals[0] ?? "";
    return toOutput(await preview(depsFor(ctx, args, boolOpt(args.values, "create")), { stack, expectNoChanges: boolOpt(args.values, "expect-no-changes") }));
  },
};

const upCommand: CommandSpec = {
  name: "up",
  summary: "policy gate, stateful-resource guard, then up",
  usage: "up <stack> [--allow-replace] [--refresh] [--create] [--message TEXT] [--policy-pack DIR]...",
  description: [
    "Refuses when the state has pending operations from an interrupted update. Exports the stack to a",
    "timestamped backup, runs the policy-gated preview, refuses any planned replace or delete of a",
    "stateful resource unless --allow-replace, then runs `up` with a message that says what and why.",
    "A failed plain `up` is not rolled back automatically (exit 8). --refresh reads the live objects first",
    "(guard preview and update): what puts back drift that `preview --expect-no-changes` found.",
  ].join("\n"),
  options: {
    "allow-replace": ALLOW_REPLACE,
    refresh: { type: "boolean", description: "refresh before diffing, to re-apply the code over changes made outside Pulumi (drift)" },
    create: CREATE,
    message: { type: "string", valueName: "TEXT", description: "why: recorded in the stack history with the CI run link" },
    ...POLICY_OPTIONS,
  },
  positionals: ["stack"],
  validate: (args, catalog) => {
    const d = validate.knownStack(catalog, stackArg(args), "<stack>");
    validatePolicy(args);
    return validate.deployable(d, "<stack>");
  },
  run: async (args, ctx) => {
    const stack = args.positionals[0] ?? "";
    return recorded(depsFor(ctx, args, boolOpt(args.values, "create")), (deps) =>
      up(deps, { stack, allowReplace: boolOpt(args.values, "allow-replace"), refresh: boolOpt(args.values, "refresh"), message: stringOpt(args.values, "message") }),
    );
  },
};

const promoteCommand: CommandSpec = {
  name: "promote",
  summary: "promote verified images from one stack to the next (blue/green with automatic rollback)",
  usage: "promote --from STACK --to STACK [--service NAME]... [--allow-replace]",
  description: [
    "Takes the images live in --from by digest and refuses any digest --from has not verified",
    "(platform:releases). Into a blue/green stack: stages them into the idle color (config + one `up`,",
    "the Kubernetes provider awaiting readiness), checks them through the preview host, flips with one",
    "targeted `up` (checked by a targeted preview first), waits until the load balancer's live rule",
    "forwards to the new color, checks that color answers the live host and the ALB target health,",
    "and records the digests as verified.",
    "Into test: replaces the host's images, checks the live host, records. Any failure after the first",
    "change restores the previous colors and images with one more `up` and verifies them (exit 3, or 4",
    "when the restore cannot be verified). Sends one Discord notification when DISCORD_WEBHOOK_URL is set.",
  ].join("\n"),
  options: {
    from: { type: "string", valueName: "STACK", description: "source stack (e.g. test)" },
    to: { type: "string", valueName: "STACK", description: "target stack (e.g. staging)" },
    service: { type: "string", multiple: true, valueName: "NAME", description: "only these services (default: all of the source's)" },
    "allow-replace": ALLOW_REPLACE,
    ...POLICY_OPTIONS,
  },
  positionals: [],
  validate: (args, catalog) => {
    const { source, target } = validate.promotion(catalog, requireOpt(args.values, "from"), requireOpt(args.values, "to"));
    validate.knownServices(source, stringsOpt(args.values, "service"), "--service");
    validate.knownServices(target, stringsOpt(args.values, "service"), "--service");
    validatePolicy(args);
    return [...validate.deployable(source, "--from"), ...validate.deployable(target, "--to")];
  },
  run: async (args, ctx) => {
    const services = stringsOpt(args.values, "service");
    return recorded(depsFor(ctx, args, false), (deps) =>
      promote(deps, {
        from: requireOpt(args.values, "from"),
        to: requireOpt(args.values, "to"),
        services: services.length > 0 ? services : undefined,
        allowReplace: boolOpt(args.values, "allow-replace"),
      }),
    );
  },
};

const releaseCommand: CommandSpec = {
  name: "release",
  summary: "put freshly built images into the first stage (test) and record their digests",
  usage: "release <stack> --service NAME --image REF [--service NAME --image REF]... [--allow-replace]",
  description: [
    "The first stage of the pipeline: CI builds and pushes an image, then releases it by digest",
    "(a tag is resolved to its digest through the registry first). Same gates, restore and record as",
    "`promote`; the record's source is \"release\". --service and --image pair up in order.",
  ].join("\n"),
  options: {
    service: { type: "string", multiple: true, valueName: "NAME", description: "service to release" },
    image: { type: "string", multiple: true, valueName: "REF", description: "image for the service at the same position (repo@sha256:... preferred)" },
    "allow-replace": ALLOW_REPLACE,
    ...POLICY_OPTIONS,
  },
  positionals: ["stack"],
  validate: (args, catalog) => {
    const d = validate.releaseTarget(catalog, stackArg(args));
    const services = stringsOpt(args.values, "service");
    const images = stringsOpt(args.values, "image");
    if (services.length === 0 || services.length !== images.length) {
      throw new ArgumentError(`--service/--image: give them in pairs (got ${services.length} service(s), ${images.length} image(s))`);
    }
    validate.knownServices(d, services, "--service");
    images.forEach((i) => validate.imageRef(i, "--image"));
    validatePolicy(args);
    return validate.deployable(d, "<stack>");
  },
  run: async (args, ctx) => {
    const services = stringsOpt(args.values, "service");
    const images = stringsOpt(args.values, "image");
    return recorded(depsFor(ctx, args, false), (deps) =>
      release(deps, {
        stack: args.positionals[0] ?? "",
        items: services.map((service, i) => ({ service, image: images[i] ?? "" })),
        allowReplace: boolOpt(args.values, "allow-replace"),
      }),
    );
  },
};

const flipCommand: CommandSpec = {
  name: "flip",
  summary: "move a service's traffic to the other color (one targeted up, or canary steps)",
  usage: "flip <stack> --service NAME [--to blue|green] [--force] [--steps 10,50]",
  description: [
    "Checks the target color through the preview host (skip with --force), previews the targeted",
    "flip with the policy packs (refused, exit 5, when it would change more than the service's",
    "Ingress weights, preview backends and in-cluster Service selector: run a full up first), runs it",
    "as one targeted `up`, then waits until the load balancer's live rule forwards 100 to the new",
    "color, checks that color answers the live host (x-platform-color / x-platform-image) and the",
    "ALB target health. A failure flips back with one more (checked) targeted `up`, verified the same way.",
    "A service whose rollout is canary (or --steps) first moves its live weights step by step: per step one",
    "checked targeted `up` of its Ingress alone, the load balancer's rule read back until it forwards exactly",
    "the step's weights, then the analysis window on the load balancer's CloudWatch metrics. A failed step,",
    "or an interrupt, puts the weights back to the stable color (exit 3).",
  ].join("\n"),
  options: {
    service: { type: "string", valueName: "NAME", description: "the service to flip" },
    to: { type: "string", valueName: "COLOR", description: "blue or green (default: the idle color)" },
    force: { type: "boolean", description: "skip the preview-host check of the target color" },
    steps: { type: "string", valueName: "PCTS", description: "canary steps for this run, percent to the new color, e.g. 10,50 (overrides rollout.steps; a blueGreen service gets the default window and thresholds)" },
    ...POLICY_OPTIONS,
  },
  positionals: ["stack"],
  validate: (args, catalog) => {
    const d = validate.switchable(catalog, stackArg(args), "flip");
    validate.knownServices(d, [requireOpt(args.values, "service")], "--service");
    validate.color(stringOpt(args.values, "to"), "--to");
    validate.steps(stringOpt(args.values, "steps"), "--steps");
    validatePolicy(args);
    return validate.deployable(d, "<stack>");
  },
  run: (args, ctx) =>
    recorded(depsFor(ctx, args, false), (deps) =>
      flip(deps, {
        stack: args.positionals[0] ?? "",
        service: requireOpt(args.values, "service"),
        to: parseColor(stringOpt(args.values, "to")),
        force: boolOpt(args.values, "force"),
        steps: validate.steps(stringOpt(args.values, "steps"), "--steps"),
      }),
    ),
};

const rollbackCommand: CommandSpec = {
  name: "rollback",
  summary: "move a service back to the color that is still running",
  usage: "rollback <stack> --service NAME [--force]",
  description:
    "A flip to the idle color (the previous release keeps running there after every promotion), always at once, never in canary steps. Same checks as flip. On a service left mid canary rollout it returns all traffic to the active (stable) color.",
  options: {
    service: { type: "string", valueName: "NAME", description: "the service to roll back" },
    force: { type: "boolean", description: "skip the preview-host check of the previous color" },
    ...POLICY_OPTIONS,
  },
  positionals: ["stack"],
  validate: (args, catalog) => {
    const d = validate.switchable(catalog, stackArg(args), "rollback");
    validate.knownServices(d, [requireOpt(args.values, "service")], "--service");
    validatePolicy(args);
    return validate.deployable(d, "<stack>");
  },
  run: (args, ctx) =>
    recorded(depsFor(ctx, args, false), (deps) =>
      rollback(deps, {
        stack: args.positionals[0] ?? "",
        service: requireOpt(args.values, "service"),
        force: boolOpt(args.values, "force"),
      }),
    ),
};

const statusCommand: CommandSpec = {
  name: "status",
  summary: "per service: active color, images, last verified release",
  usage: "status <stack>",
  description: "Reads the stack config and the last update's outputs; changes nothing.",
  options: {},
  positionals: ["stack"],
  validate: (args, catalog) => {
    validate.knownStack(catalog, stackArg(args), "<stack>");
  },
  run: async (args, ctx) => toOutput(await status(depsFor(ctx, args, false), { stack: args.positionals[0] ?? "" })),
};

let registered = false;

/** Registers the driver's commands once. The offline `plan` command registers itself the same way. */
export function registerBuiltins(): void {
  if (registered) {
    return;
  }
  registered = true;
  // The offline `plan <stack>` (./plan.ts, built on test/stack.ts's evaluateStack) needs no
  // DriverDeps and never calls ctx.deps, so it runs without credentials or a Pulumi CLI.
  for (const spec of [planCommand, previewCommand, upCommand, promoteCommand, releaseCommand, flipCommand, rollbackCommand, statusCommand]) {
    registerCommand(spec);
  }
}

/* ----------------------------------------------------------------------------------------
 * Main.
 * -------------------------------------------------------------------------------------- */

/** The outcome of a command that failed before it ran (usage, validation): the same shape as every outcome. */
function errorOutcome(operation: string, stack: string, message: string, remediation: readonly string[], exitCode: number): Record<string, unknown> {
  return { operation, stack, exitCode, result: "failed", message, remediation, services: [], phases: [] };
}

export async function main(argv: readonly string[], ctx: CommandContext): Promise<number> {
  registerBuiltins();
  const [name, ...rest] = argv;
  const io = ctx.io;
  // Known before parsing: under --json every error, a usage error too, is one JSON object on stdout.
  const json = argv.includes("--json");
  const usage = (spec: CommandSpec | undefined, message: string, stack = ""): number => {
    const line = message.replace(/\s+/g, " ").trim();
    if (json) {
      io.stdout(`${JSON.stringify(errorOutcome(name ?? "", stack, line, spec !== undefined ? [`usage: npm run platform -- ${spec.usage}`] : [], ExitCode.Error), null, 2)}\n`);
    } else {
      io.stderr(`error: ${line}\n${spec !== undefined ? `Usage: npm run platform -- ${spec.usage}\n(--help for details)\n` : `\n${globalHelp()}`}`);
    }
    return ExitCode.Error;
  };
  if (name === undefined || name === "--json" || name === "--help" || name === "-h" || name === "help") {
    if (name === undefined || name === "--json") {
      return usage(undefined, "missing <command>");
    }
    io.stdout(globalHelp());
    return ExitCode.Ok;
  }
  const spec = findCommand(name);
  if (spec === undefined) {
    return usage(undefined, `unknown command "${name}"`);
  }
  let args: ParsedCommand;
  try {
    args = parseCommandArgs(spec, rest);
  } catch (err) {
    return usage(spec, messageOf(err));
  }
  if (boolOpt(args.values, "help")) {
    io.stdout(commandHelp(spec));
    return ExitCode.Ok;
  }
  const stack = args.positionals[0] ?? stringOpt(args.values, "to") ?? "";
  const failed = (err: unknown): number => {
    const code = err instanceof DriverError ? err.exitCode : ExitCode.Error;
    const remediation = err instanceof DriverError ? err.remediation : [];
    if (json) {
      io.stdout(`${JSON.stringify(errorOutcome(name, stack, messageOf(err), remediation, code), null, 2)}\n`);
    } else {
      io.stderr(`error: ${messageOf(err)}\n${remediation.map((r) => `  - ${r}\n`).join("")}`);
    }
    return code;
  };
  try {
    for (const warning of spec.validate?.(args, ctx.catalog ?? new FileStackCatalog(REPO_ROOT)) ?? []) {
      io.stderr(`warning: ${warning}\n`);
    }
  } catch (err) {
    if (err instanceof ArgumentError) {
      return usage(spec, err.message, stack);
    }
    // A check of the stack file itself (placeholders): its own message and what to change, no usage text.
    if (err instanceof DriverError) {
      return failed(err);
    }
    throw err;
  }
  try {
    const out = await spec.run(args, ctx);
    io.stdout(json ? `${JSON.stringify(out.json, null, 2)}\n` : out.human);
    return out.exitCode;
  } catch (err) {
    if (err instanceof ArgumentError) {
      return usage(spec, err.message, stack);
    }
    return failed(err);
  }
}

export function runContextFromEnv(env: NodeJS.ProcessEnv): RunContext {
  const server = env["GITHUB_SERVER_URL"];
  const repo = env["GITHUB_REPOSITORY"];
  const id = env["GITHUB_RUN_ID"];
  const runUrl = server !== undefined && repo !== undefined && id !== undefined ? `${server}/${repo}/actions/runs/${id}` : undefined;
  const actor = env["GITHUB_ACTOR"] ?? env["USER"];
  return { runUrl, actor };
}

/** Explicit flags win; else $PLATFORM_POLICY_PACK, else ./policy when it is a policy pack. */
export function resolvePolicy(repoRoot: string, stack: string, env: NodeJS.ProcessEnv, req: Pick<DepsRequest, "policyPacks" | "policyConfigs">): PolicyOptions {
  let packs = [...req.policyPacks];
  if (packs.length === 0) {
    const fromEnv = env["PLATFORM_POLICY_PACK"];
    const dflt = path.join(repoRoot, "infra", "policy");
    if (fromEnv !== undefined && fromEnv !== "") {
      packs = [fromEnv];
    } else if (fs.existsSync(path.join(dflt, "PulumiPolicy.yaml"))) {
      packs = [dflt];
    }
  }
  let configs = [...req.policyConfigs];
  if (configs.length === 0) {
    configs = packs.map((p) => path.join(p, "config", `${stack}.json`)).filter((f) => fs.existsSync(f));
  }
  return { packs: packs.map((p) => path.resolve(p)), configs: configs.map((c) => path.resolve(c)) };
}

/** The real dependencies for one CLI invocation. */
export function realDeps(io: CliIo, signal: AbortSignal, req: DepsRequest): DriverDeps {
  const settings = resolveWorkspaceSettings(io.env);
  const secrets = secretValues(io.env);
  const webhook = io.env["DISCORD_WEBHOOK_URL"];
  const summaryFile = io.env["GITHUB_STEP_SUMMARY"];
  return {
    openStack: (name) => openLocalStack(name, settings, { create: req.create }),
    prober: new HttpHealthProber(systemClock),
    targetHealth: new Elbv2TargetHealthChecker(),
    routing: new AlbRouting(new Elbv2LoadBalancerRouting()),
    metrics: new CloudWatchCanaryMetrics(),
    resolver: new RegistryImageResolver(),
    notifier: webhook !== undefined && webhook !== "" ? new DiscordNotifier(webhook, systemClock, secrets) : nullNotifier,
    clock: systemClock,
    log: createLogger({ write: io.stderr, live: io.isTTY && isLiveTerminal({ isTTY: io.isTTY }, io.env), clock: systemClock, columns: io.columns }),
    signal,
    backups: settings.backups.kind === "s3" ? new S3BackupStore(settings.backups.location) : new FileBackupStore(settings.backups.dir),
    run: runContextFromEnv(io.env),
    policyFor: (stack) => resolvePolicy(settings.repoRoot, stack, io.env, req),
    stepSummary: summaryFile !== undefined && summaryFile !== "" ? (md) => fs.appendFileSync(summaryFile, `${md}\n`) : undefined,
  };
}

function installSignalHandlers(relay: InterruptRelay): () => void {
  const onInt = (): void => relay.onSignal("SIGINT");
  const onTerm = (): void => relay.onSignal("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  return () => {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  };
}

async function runFromProcess(): Promise<void> {
  const io: CliIo = {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    isTTY: process.stderr.isTTY,
    columns: process.stderr.columns,
  };
  const relay = new InterruptRelay(process.stdin.isTTY === true, io.stderr, (sig) => process.exit(sig === "SIGINT" ? ExitCode.Interrupted : ExitCode.Terminated));
  const uninstall = installSignalHandlers(relay);
  try {
    const code = await main(process.argv.slice(2), {
      io,
      signal: relay.driver.signal,
      deps: (req) => ({ ...realDeps(io, relay.driver.signal, req), cliSignal: relay.cli.signal }),
    });
    process.exitCode = code;
  } finally {
    uninstall();
  }
}

if (require.main === module) {
  void runFromProcess();
}
