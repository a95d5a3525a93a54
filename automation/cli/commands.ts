/**
 * The driver's commands as the CLI registers them: each one's usage, help, argument checks
 * (`validate`, pure and fast, against the stack files) and `run`, which builds the driver's
 * dependencies through the context and calls the command function (../commands). The offline
 * `plan` (../plan.ts) is registered alongside; it never builds the dependencies.
 */
import { Color } from "../../infra/config/schema";
import { flip, preview, promote, release, rollback, status, up } from "../commands";
import { DriverDeps } from "../deps";
import { Outcome } from "../outcome";
import { StackCatalog } from "../ports";
import { planCommand } from "../plan";
import {
  ArgumentError,
  boolOpt,
  CommandContext,
  CommandOutput,
  CommandSpec,
  OptionSpec,
  ParsedCommand,
  registerCommand,
  requireOpt,
  stringOpt,
  stringsOpt,
} from "./registry";
import { outcomeMarkdown, renderOutcome } from "./render";
import * as validate from "./validate";

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
    validate.jsonFile(file, "--policy-config");
  }
}

/** preview and up: a known stack, policy inputs that exist, and a stack file fit for the real operations (its warnings). */
function deployableStack(args: ParsedCommand, catalog: StackCatalog): readonly string[] {
  const d = validate.knownStack(catalog, stackArg(args), "<stack>");
  validatePolicy(args);
  return validate.deployable(d, "<stack>");
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
  validate: deployableStack,
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
  validate: deployableStack,
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
    validate.promotedServices(source, target, stringsOpt(args.values, "service"), "--service");
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
  // The offline `plan <stack>` (../plan.ts, over ../offline/evaluate.ts) needs no
  // DriverDeps and never calls ctx.deps, so it runs without credentials or a Pulumi CLI.
  for (const spec of [planCommand, previewCommand, upCommand, promoteCommand, releaseCommand, flipCommand, rollbackCommand, statusCommand]) {
    registerCommand(spec);
  }
}
