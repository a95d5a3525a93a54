/**
 * `plan <stack>`'s evaluation: runs the program under the SDK's mocks with the stack's own file
 * (../offline/evaluate.ts), then checks what it declared (Kubernetes schemas, the policy pack,
 * placeholders, bootstrap warnings) and returns the report that ./render.ts prints and `--json` emits.
 */
import * as fs from "fs";
import * as path from "path";
import { parseStackOutputs } from "../../infra/outputs";
import { ENVIRONMENTS, Environment, environmentOfStack, Exemption, Violation } from "../../infra/policy/engine";
import { configFile, evaluatePolicies, PolicyPackConfig } from "../../infra/policy/offline";
import { RULES } from "../../infra/policy/rules";
import { Evaluation, readStackConfig, REPO_ROOT, settleStack, StackConfig } from "../offline/evaluate";
import { NOT_OBJECTS, validateObject } from "../offline/k8sSchema";
import { DeclaredResource } from "../offline/mocks";
import { policyInput } from "../offline/policyInput";
import { DiagramRelation, renderMermaid } from "../diagram";
import { UsageError } from "../errors";
import { ExitCode } from "../exitCodes";
import { bootstrapWarnings } from "../bootstrap";
import { findPlaceholders, Placeholder } from "../placeholders";
import { parseReleases, ReleaseEntry } from "../stackConfig";
import { Json } from "../types";
import { componentGraph, isCounted, PlanComponent, securityGroupRelations, STACK_TYPE } from "./graph";

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
    try {
      fs.mkdirSync(path.dirname(diagram), { recursive: true });
      fs.writeFileSync(diagram, renderMermaid({ stack, components: graph.components, relations }));
    } catch (err) {
      throw new UsageError(`--diagram "${options.diagramFile}": cannot be written (${messageOf(err)})`, ["give a path in a writable directory"]);
    }
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
