/**
 * `plan <stack>`: what a stack declares, checked offline. Runs the program (`buildPlatform`)
 * under the Pulumi SDK's mocks with the stack's own Pulumi.<stack>.yaml, exactly as the tests do
 * (./offline/evaluate.ts), then reports resource counts by component and type, the services with both
 * colors' images and their verified release, validates every Kubernetes object against the
 * upstream schemas and runs the policy pack's rules over the declared resources.
 *
 * No credentials, no Pulumi CLI, no network: it never builds the driver's dependencies
 * (`ctx.deps`), so it is the README's first command on a fresh machine after `npm ci`.
 */
import * as fs from "fs";
import * as path from "path";
import { opennessOfTexts } from "../infra/lib/cidr";
import { parseStackOutputs } from "../infra/outputs";
import { ENVIRONMENTS, Environment, environmentOfStack, Exemption, Violation } from "../infra/policy/engine";
import { configFile, evaluatePolicies, PolicyPackConfig } from "../infra/policy/offline";
import { RULES } from "../infra/policy/rules";
import { Evaluation, readStackConfig, REPO_ROOT, settleStack, StackConfig } from "./offline/evaluate";
import { NOT_OBJECTS, validateObject } from "./offline/k8sSchema";
import { DeclaredResource, mockedOutputs } from "./offline/mocks";
import { policyInput } from "./offline/policyInput";
import { CommandOutput, CommandSpec, stringOpt } from "./cli/registry";
import { existingFile, knownStack, writablePath } from "./cli/validate";
import { componentParts, DiagramComponent, DiagramRelation, INTERNET, renderMermaid } from "./diagram";
import { UsageError } from "./errors";
import { ExitCode } from "./exitCodes";
import { sameDigest, shortImage } from "./images";
import { bootstrapWarnings } from "./bootstrap";
import { describePlaceholder, findPlaceholders, Placeholder } from "./placeholders";
import { parseReleases, ReleaseEntry } from "./stackConfig";
import { Json } from "./types";

const STACK_TYPE = "pulumi:pulumi:Stack";

/* ----------------------------------------------------------------------------------------
 * Components: which platform component each declared resource belongs to.
 * -------------------------------------------------------------------------------------- */

export interface PlanComponent extends DiagramComponent {
  readonly area: string;
  /** The `<Name>` of `platform:<area>:<Name>`. */
  readonly kind: string;
  /** Its own resources plus those of the components nested in it. */
  readonly total: number;
  /** Its own resources by type. */
  readonly types: Readonly<Record<string, number>>;
}

export interface ComponentGraph {
  /** Platform components, parents before their children. */
  readonly components: readonly PlanComponent[];
  /** Resources that belong to no platform component (e.g. the stack's providers), by type. */
  readonly stackLevel: Readonly<Record<string, number>>;
  /** The id (`type::name`) of the nearest platform component of a resource, if any. */
  readonly ownerOf: (r: Pick<DeclaredResource, "type" | "name">) => string | undefined;
}

const keyOf = (r: Pick<DeclaredResource, "type" | "name">): string => `${r.type}::${r.name}`;
const isPlatform = (type: string): boolean => type.startsWith("platform:");
/** Counted as resources: custom resources and foreign components (awsx, eks: one resource each under mocks). */
const isCounted = (r: DeclaredResource): boolean => r.type !== STACK_TYPE && !isPlatform(r.type);

/**
 * The URNs the mocks mint name a resource's parent by type only, so the instance is found by the
 * house naming rule (children are named `${name}-<role>`): the component of that type whose name
 * is the longest prefix of the child's.
 */
function parentOf(r: DeclaredResource, byType: ReadonlyMap<string, readonly DeclaredResource[]>): DeclaredResource | undefined {
  if (r.parentType === undefined || r.parentType === STACK_TYPE) {
    return undefined;
  }
  const candidates = (byType.get(r.parentType) ?? []).filter((c) => c !== r);
  const named = candidates.filter((c) => r.name === c.name || r.name.startsWith(`${c.name}-`)).sort((a, b) => b.name.length - a.name.length);
  if (named.length > 0) {
    return named[0];
  }
  const common = (c: DeclaredResource): number => {
    let i = 0;
    while (i < c.name.length && c.name[i] === r.name[i]) i++;
    return i;
  };
  return [...candidates].sort((a, b) => common(b) - common(a) || a.name.localeCompare(b.name))[0];
}

export function componentGraph(resources: readonly DeclaredResource[]): ComponentGraph {
  const byType = new Map<string, DeclaredResource[]>();
  for (const r of resources) {
    if (!r.custom && r.type !== STACK_TYPE) {
      byType.set(r.type, [...(byType.get(r.type) ?? []), r]);
    }
  }
  const owner = new Map<string, string | undefined>();
  const nearestPlatform = (r: DeclaredResource): string | undefined => {
    const key = keyOf(r);
    if (owner.has(key)) {
      return owner.get(key);
    }
    owner.set(key, undefined); // a cycle (impossible in a real URN tree) ends at the stack
    const parent = parentOf(r, byType);
    const found = parent === undefined ? undefined : isPlatform(parent.type) ? keyOf(parent) : nearestPlatform(parent);
    owner.set(key, found);
    return found;
  };

  const own = new Map<string, Record<string, number>>();
  const stackLevel: Record<string, number> = {};
  for (const r of resources.filter(isCounted)) {
    const o = nearestPlatform(r);
    const bucket = o === undefined ? stackLevel : (own.get(o) ?? {});
    bucket[r.type] = (bucket[r.type] ?? 0) + 1;
    if (o !== undefined) {
      own.set(o, bucket);
    }
  }

  const platform = resources.filter((r) => isPlatform(r.type));
  const parentId = new Map(platform.map((c) => [keyOf(c), nearestPlatform(c)]));
  const count = (types: Record<string, number> | undefined): number => Object.values(types ?? {}).reduce((a, b) => a + b, 0);
  const totalOf = (id: string): number => count(own.get(id)) + platform.filter((c) => parentId.get(keyOf(c)) === id).reduce((n, c) => n + totalOf(keyOf(c)), 0);

  // Depth-first from the top-level components, so the human table reads as a tree.
  const ordered: PlanComponent[] = [];
  const visit = (parent: string | undefined): void => {
    const children = platform
      .filter((c) => parentId.get(keyOf(c)) === parent)
      .sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
    for (const c of children) {
      const id = keyOf(c);
      const { area, kind } = componentParts(c.type);
      const types = Object.fromEntries(Object.entries(own.get(id) ?? {}).sort(([a], [b]) => a.localeCompare(b)));
      ordered.push({ id, type: c.type, name: c.name, area, kind, parent, resources: count(types), total: totalOf(id), types });
      visit(id);
    }
  };
  visit(undefined);
  return { components: ordered, stackLevel, ownerOf: (r) => (isPlatform(r.type) ? keyOf(r) : owner.get(keyOf(r))) };
}

/* ----------------------------------------------------------------------------------------
 * Relations: the traffic security group rules let in between components.
 * -------------------------------------------------------------------------------------- */

const INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const LEGACY_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function portLabel(protocol: unknown, from: unknown, to: unknown): string {
  const proto = protocol === "-1" || protocol === "all" ? "all" : String(protocol ?? "tcp");
  if (proto === "all") {
    return "all traffic";
  }
  return from === to || to === undefined ? `${proto} ${String(from)}` : `${proto} ${String(from)}-${String(to)}`;
}

/**
 * Security group id -> owning component, from the ids the mocks give security groups and the
 * security groups components compute (e.g. the EKS cluster's); then each ingress rule that admits
 * another component's group (or the internet) into a group of a different component is an edge.
 */
export function securityGroupRelations(resources: readonly DeclaredResource[], graph: ComponentGraph): DiagramRelation[] {
  const groupOwner = new Map<string, string | undefined>();
  for (const r of resources.filter(isCounted)) {
    const outputs = mockedOutputs(r);
    const owner = graph.ownerOf(r);
    if (r.type === "aws:ec2/securityGroup:SecurityGroup") {
      groupOwner.set(String(outputs["id"]), owner);
    }
    for (const [key, value] of Object.entries(outputs)) {
      if (key.endsWith("SecurityGroupId") && !(key in r.inputs) && typeof value === "string") {
        groupOwner.set(value, owner);
      }
    }
  }
  const labels = new Map<string, Set<string>>();
  for (const r of resources) {
    const i = r.inputs;
    let source: string | undefined;
    let open = false;
    if (r.type === INGRESS_RULE) {
      source = str(i["referencedSecurityGroupId"]);
      open = opennessOfTexts([str(i["cidrIpv4"]), str(i["cidrIpv6"])].filter((c): c is string => c !== undefined)).level !== "restricted";
    } else if (r.type === LEGACY_RULE && i["type"] === "ingress") {
      source = str(i["sourceSecurityGroupId"]);
      open = Array.isArray(i["cidrBlocks"]) && opennessOfTexts(i["cidrBlocks"].filter((c): c is string => typeof c === "string")).level !== "restricted";
    } else {
      continue;
    }
    const target = str(i["securityGroupId"]);
    const to = (target !== undefined ? groupOwner.get(target) : undefined) ?? graph.ownerOf(r);
    const from = open ? INTERNET : source !== undefined ? groupOwner.get(source) : undefined;
    if (from === undefined || to === undefined || from === to) {
      continue;
    }
    const edge = `${from}\u0000${to}`;
    labels.set(edge, (labels.get(edge) ?? new Set()).add(portLabel(i["ipProtocol"] ?? i["protocol"], i["fromPort"], i["toPort"])));
  }
  return [...labels]
    .map(([edge, set]) => {
      const [from, to] = edge.split("\u0000");
      return { from: from ?? "", to: to ?? "", label: [...set].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).join(", ") };
    })
    .sort((a, b) => a.to.localeCompare(b.to) || a.from.localeCompare(b.from));
}

/* ----------------------------------------------------------------------------------------
 * The report.
 * -------------------------------------------------------------------------------------- */

export interface PlanService {
  readonly name: string;
  readonly active?: "blue" | "green";
  readonly blue?: string;
  readonly green?: string;
  /** Colors scaled to 0 (`<color>.parked`). */
  readonly parked: ReadonlyArray<"blue" | "green">;
  /** The digest this stack verified last (`platform:releases`), if any. */
  readonly release?: ReleaseEntry;
}

export interface SchemaProblem {
  readonly type: string;
  readonly name: string;
  readonly error: string;
}

export interface PlanPolicy {
  readonly environment: Environment;
  /** The policy config the levels and settings came from, relative to the repository. */
  readonly config: string;
  readonly rules: number;
  readonly mandatory: readonly Violation[];
  readonly advisory: readonly Violation[];
  readonly exempted: readonly Exemption[];
}

export interface PlanReport {
  readonly operation: "plan";
  readonly stack: string;
  readonly environment: string;
  readonly exitCode: number;
  readonly result: "ok" | "policy violation" | "invalid kubernetes objects";
  readonly evaluationMs: number;
  readonly resources: {
    /** Everything declared but the stack itself (as test/golden counts). */
    readonly declared: number;
    /** Custom resources and foreign components (awsx, eks): what the counts below add up to. */
    readonly counted: number;
    readonly components: number;
  };
  readonly components: readonly PlanComponent[];
  readonly stackLevel: Readonly<Record<string, number>>;
  readonly types: ReadonlyArray<{ readonly type: string; readonly count: number }>;
  readonly relations: readonly DiagramRelation[];
  readonly services: readonly PlanService[];
  readonly kubernetes: { readonly validated: number; readonly invalid: readonly SchemaProblem[] };
  readonly policy: PlanPolicy;
  /**
   * Documentation values in the stack file (example account ids, documentation address ranges,
   * example domains, template markers): the plan runs with them, the real operations refuse them.
   */
  readonly placeholders: readonly Placeholder[];
  /** Settings of the one-time bootstrap still on (e.g. the cluster's endpoint open to the operator's address). */
  readonly warnings: readonly string[];
  /** Where `--diagram` wrote the Mermaid file. */
  readonly diagram?: string;
}

export interface PlanOptions {
  readonly stack: string;
  /** Edits a copy of the stack's config before the evaluation (tests: invalid and violating configs). */
  readonly mutate?: (config: StackConfig) => void;
  /** Write the Mermaid diagram here. */
  readonly diagramFile?: string;
  /** A policy config JSON instead of infra/policy/config/<environment>.json. */
  readonly policyConfigFile?: string;
}

const STACK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function stackFiles(): string[] {
  return fs
    .readdirSync(REPO_ROOT)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

function checkStack(stack: string): void {
  if (!STACK_NAME.test(stack) || !fs.existsSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`))) {
    throw new UsageError(`no stack "${stack}": there is no Pulumi.${stack}.yaml in ${REPO_ROOT}`, [`stacks with a config file: ${stackFiles().join(", ")}`]);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The program's error under mocks: the config's own message, or what failed and where. */
function programError(stack: string, err: unknown): UsageError {
  // A ConfigError (by its name) already names the key, the value and the fix.
  if (err instanceof Error && err.name === "ConfigError") {
    return new UsageError(err.message, [`fix Pulumi.${stack}.yaml, then re-run \`npm run platform -- plan ${stack}\``]);
  }
  return new UsageError(`the program failed under mocks for stack "${stack}": ${messageOf(err)}`, [
    "run `PLATFORM_STACK_TRACES=1 npx mocha test/stacks.test.ts` for the full stack trace",
  ]);
}

function validateKubernetes(resources: readonly DeclaredResource[]): PlanReport["kubernetes"] {
  const objects = resources.filter((r) => r.type.startsWith("kubernetes:") && !NOT_OBJECTS.has(r.type));
  const invalid: SchemaProblem[] = [];
  for (const r of objects) {
    try {
      validateObject(r.type, r.name, r.inputs);
    } catch (err) {
      invalid.push({ type: r.type, name: r.name, error: messageOf(err) });
    }
  }
  return { validated: objects.length, invalid };
}

function readPolicyConfig(file: string): PolicyPackConfig {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as PolicyPackConfig;
  } catch (err) {
    throw new UsageError(`cannot read the policy config ${file}: ${messageOf(err)}`);
  }
}

function runPolicy(ev: Evaluation, environment: string, configOverride: string | undefined): PlanPolicy {
  if (!(ENVIRONMENTS as readonly string[]).includes(environment)) {
    throw new UsageError(`environment "${environment}" has no policy config (expected one of ${ENVIRONMENTS.join(", ")})`);
  }
  const env = environment as Environment;
  const file = configOverride !== undefined ? path.resolve(configOverride) : configFile(env);
  let report;
  try {
    report = evaluatePolicies(policyInput(ev), env, { config: readPolicyConfig(file) });
  } catch (err) {
    throw err instanceof UsageError ? err : new UsageError(`policy pack: ${messageOf(err)}`);
  }
  return {
    environment: env,
    config: path.relative(REPO_ROOT, file) || file,
    rules: RULES.length,
    mandatory: report.violations.filter((v) => v.enforcementLevel === "mandatory"),
    advisory: report.violations.filter((v) => v.enforcementLevel === "advisory"),
    exempted: report.exempted,
  };
}

function servicesOf(stack: string, ev: Evaluation): PlanService[] {
  const releases = parseReleases(stack, ev.outputs["releases"] as Json | undefined);
  return [...parseStackOutputs(ev.outputs).services.values()].map((s) => ({
    name: s.name,
    active: s.active,
    blue: s.blue?.image,
    green: s.green?.image,
    parked: (["blue", "green"] as const).filter((c) => s[c]?.parked === true),
    release: releases[s.name],
  }));
}

/** Evaluates the stack offline and checks it; throws UsageError (exit 1) when the program fails. */
export async function runPlan(options: PlanOptions): Promise<PlanReport> {
  const { stack } = options;
  checkStack(stack);
  const started = Date.now();
  // The stack file itself may be unreadable (not YAML, not a map): a ConfigError like any other.
  const settled = await settleStack(stack, options.mutate).catch((err: unknown) => {
    throw programError(stack, err);
  });
  const evaluationMs = Date.now() - started;
  if (settled.error !== undefined) {
    throw programError(stack, settled.error);
  }
  const ev = settled.evaluation;
  const config = readStackConfig(stack);
  options.mutate?.(config);
  const placeholders = findPlaceholders(config);
  const warnings = bootstrapWarnings(config);
  // The same value the real pack uses (the stack in each URN), never what the stack file claims;
  // config validation has already refused a platform:environment that disagrees.
  const environment = environmentOfStack(stack);

  const graph = componentGraph(ev.resources);
  const counted = ev.resources.filter(isCounted);
  const typeCounts = new Map<string, number>();
  for (const r of counted) {
    typeCounts.set(r.type, (typeCounts.get(r.type) ?? 0) + 1);
  }
  const relations = securityGroupRelations(ev.resources, graph);
  const kubernetes = validateKubernetes(ev.resources);
  const policy = runPolicy(ev, environment, options.policyConfigFile);

  let diagram: string | undefined;
  if (options.diagramFile !== undefined) {
    diagram = path.resolve(options.diagramFile);
    fs.mkdirSync(path.dirname(diagram), { recursive: true });
    fs.writeFileSync(diagram, renderMermaid({ stack, components: graph.components, relations }));
  }

  // A schema-invalid object would fail the real update: the stack is not deployable as declared.
  const exitCode = kubernetes.invalid.length > 0 ? ExitCode.Error : policy.mandatory.length > 0 ? ExitCode.PolicyViolation : ExitCode.Ok;
  return {
    operation: "plan",
    stack,
    environment,
    exitCode,
    result: kubernetes.invalid.length > 0 ? "invalid kubernetes objects" : policy.mandatory.length > 0 ? "policy violation" : "ok",
    evaluationMs,
    resources: { declared: ev.resources.filter((r) => r.type !== STACK_TYPE).length, counted: counted.length, components: graph.components.length },
    components: graph.components,
    stackLevel: graph.stackLevel,
    types: [...typeCounts].map(([type, count]) => ({ type, count })).sort((a, b) => b.count - a.count || a.type.localeCompare(b.type)),
    relations,
    services: servicesOf(stack, ev),
    kubernetes,
    policy,
    placeholders,
    warnings,
    ...(diagram !== undefined ? { diagram } : {}),
  };
}

/* ----------------------------------------------------------------------------------------
 * Rendering.
 * -------------------------------------------------------------------------------------- */

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>, rightAligned: ReadonlySet<number> = new Set()): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const cell = (text: string, i: number): string => (rightAligned.has(i) ? text.padStart(widths[i] ?? 0) : text.padEnd(widths[i] ?? 0));
  return [header, ...rows].map((r) => `  ${r.map(cell).join("  ")}`.trimEnd());
}

function where(v: Violation): string {
  return v.resource !== undefined ? ` on ${v.resource.type}::${v.resource.name}` : "";
}

export function renderPlan(report: PlanReport): string {
  const lines: string[] = [];
  const r = report.resources;
  lines.push(
    `plan ${report.stack} (environment ${report.environment}; offline under the SDK's mocks, evaluated in ${(report.evaluationMs / 1000).toFixed(1)} s)`,
    `  ${r.declared} declared: ${r.components} platform components, ${r.counted} resources`,
    "",
    "Resources by component (own resources; total includes nested components):",
  );
  const depth = new Map<string, number>();
  const rows = report.components.map((c) => {
    const d = c.parent === undefined ? 0 : (depth.get(c.parent) ?? 0) + 1;
    depth.set(c.id, d);
    return [`${"  ".repeat(d)}${c.type} ${c.name}`, String(c.resources), String(c.total)];
  });
  const stackLevel = Object.values(report.stackLevel).reduce((a, b) => a + b, 0);
  if (stackLevel > 0) {
    rows.push([`(stack level: ${Object.keys(report.stackLevel).join(", ")})`, String(stackLevel), String(stackLevel)]);
  }
  lines.push(...table(["COMPONENT", "OWN", "TOTAL"], rows, new Set([1, 2])), "", "Resources by type:");
  lines.push(...table(["TYPE", "COUNT"], report.types.map((t) => [t.type, String(t.count)]), new Set([1])), "");

  lines.push(`Services (${report.services.length}):`);
  for (const s of report.services) {
    lines.push(`  ${s.name}: active ${s.active ?? "?"}`);
    for (const color of ["blue", "green"] as const) {
      const image = s[color];
      const state = image === undefined ? "" : color === s.active ? "  (live)" : s.parked.includes(color) ? "  (idle, parked)" : "  (idle)";
      lines.push(`    ${color.padEnd(5)}  ${shortImage(image)}${state}`);
    }
    lines.push(`    verified: ${s.release !== undefined ? `${shortImage(s.release.image)} at ${s.release.verifiedAt} (${s.release.source})` : "no release recorded"}`);
    const live = s.active !== undefined ? s[s.active] : undefined;
    if (s.release !== undefined && live !== undefined && !sameDigest(live, s.release.image)) {
      // Not an error: a flip or rollback records nothing, and a promotion records after its switch.
      // A reviewer should still see that traffic runs something else than the last verified release.
      lines.push(`    ! the live color runs ${shortImage(live)}, not the verified release (a flip or rollback since, or a hand edit)`);
    }
  }
  lines.push("");

  const k = report.kubernetes;
  lines.push(`Kubernetes objects: ${k.validated} validated against the upstream schemas, ${k.invalid.length} invalid`);
  for (const p of k.invalid) {
    lines.push(`  ✘ ${p.error}`);
  }
  lines.push("");

  const p = report.policy;
  lines.push(
    `Policy pack (${p.rules} rules, config ${p.config}): ${p.mandatory.length} mandatory, ${p.advisory.length} advisory, ${p.exempted.length} exempted`,
  );
  for (const v of p.mandatory) {
    lines.push(`  ⛔ mandatory ${v.policy}${where(v)}: ${v.message}`);
  }
  for (const v of p.advisory) {
    lines.push(`  ! advisory ${v.policy}${where(v)}: ${v.message}`);
  }
  for (const e of p.exempted) {
    lines.push(`  ~ exempted ${e.policy} on ${e.resource.type}::${e.resource.name}: ${e.exception.reason}`);
  }
  if (report.warnings.length > 0) {
    lines.push("", `Warnings (${report.warnings.length}):`, ...report.warnings.map((w) => `  ⚠ ${w}`));
  }
  if (report.placeholders.length > 0) {
    lines.push(
      "",
      `Placeholders (${report.placeholders.length}): documentation values AWS would reject; preview, up, release, promote, flip and rollback refuse this stack until they are replaced:`,
      ...report.placeholders.map((ph) => `  ! ${describePlaceholder(ph)}`),
    );
  }
  if (report.diagram !== undefined) {
    lines.push("", `Diagram: ${report.diagram} (Mermaid flowchart, ${report.components.length} components, ${report.relations.length} security-group paths)`);
  }
  const icon = report.exitCode === ExitCode.Ok ? "✔" : "⛔";
  lines.push("", `${icon} plan ${report.stack}: ${report.result} (exit ${report.exitCode})`);
  return `${lines.join("\n")}\n`;
}

/** What the CLI prints and returns for a plan; the tests call it with `mutate`. */
export async function plan(options: PlanOptions): Promise<CommandOutput> {
  const report = await runPlan(options);
  return { exitCode: report.exitCode, human: renderPlan(report), json: report };
}

export const planCommand: CommandSpec = {
  name: "plan",
  summary: "offline: what a stack declares, schema-checked and policy-checked (no credentials, no Pulumi CLI)",
  usage: "plan <stack> [--diagram FILE] [--policy-config FILE]",
  description: [
    "Runs the program under the Pulumi SDK's mocks with Pulumi.<stack>.yaml (nothing is contacted:",
    "no cloud, no Pulumi CLI, no backend) and prints the resource counts by component and by type,",
    "the services with their active color, both colors' images and the verified release. Validates",
    "every Kubernetes object against the upstream schemas and runs the policy pack's rules over the",
    "declared resources with the stack's policy config (advisory findings and exemptions are listed).",
    "Exits 1 on an invalid config, a program error or a schema-invalid Kubernetes object, and 2 on a",
    "mandatory policy violation.",
  ].join("\n"),
  options: {
    diagram: { type: "string", valueName: "FILE", description: "write a Mermaid architecture diagram (flowchart) of the stack to FILE" },
    "policy-config": { type: "string", valueName: "FILE", description: "policy config JSON (default: infra/policy/config/<environment>.json)" },
  },
  positionals: ["stack"],
  validate: (args, catalog) => {
    knownStack(catalog, args.positionals[0] ?? "", "<stack>");
    const diagram = stringOpt(args.values, "diagram");
    if (diagram !== undefined) {
      writablePath(diagram, "--diagram");
    }
    const config = stringOpt(args.values, "policy-config");
    if (config !== undefined) {
      existingFile(config, "--policy-config");
    }
  },
  // Never calls ctx.deps: that would build the Automation API dependencies (Pulumi CLI lookup).
  run: (args) =>
    plan({ stack: args.positionals[0] ?? "", diagramFile: stringOpt(args.values, "diagram"), policyConfigFile: stringOpt(args.values, "policy-config") }),
};
