/**
 * The rule model shared by the real policy pack (./index.ts, run by `pulumi preview/up
 * --policy-pack`) and the offline runner (./offline.ts, run by the driver's `plan` and the tests).
 *
 * A rule is plain data plus a pure `check`. Everything around it that both runners must do the
 * same way lives here: which environments a rule applies to, the per-stack settings (defaults
 * from the schema, then the stack's policy config file), documented exceptions, and the wording
 * of the violation message. The two runners only adapt their inputs to `PolicyResource` and
 * their outputs to their own reporting.
 */
import { globMatch, Props } from "./values";

export const ENVIRONMENTS = ["test", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The subset of CrossGuard's levels this pack uses; `remediate` is never used (rules only report). */
export type EnforcementLevel = "advisory" | "mandatory" | "disabled";
export type Severity = "low" | "medium" | "high" | "critical";

/** The provider a resource is managed by, when known (tags come from its `defaultTags`). */
export interface ProviderView {
  readonly type: string;
  readonly name: string;
  readonly props: Props;
}

/**
 * One resource as a rule sees it. `props` are its inputs (camelCase, as in the Pulumi SDK;
 * Kubernetes objects are the object itself). `outputs` are its known outputs where the runner
 * has them (the real pack's stack validation; the offline runner's mocked state), used only to
 * follow references between resources (an ARN, an id, a generated name).
 */
export interface PolicyResource {
  readonly type: string;
  readonly name: string;
  readonly urn?: string;
  readonly props: Props;
  readonly outputs?: Props;
  readonly provider?: ProviderView;
  /** The `protect` resource option, where the runner knows it (CrossGuard's `opts.protect`; the offline runner's recorded options). */
  readonly protect?: boolean;
  /**
   * URNs each input property depends on (the real pack's stack validation has them). They follow
   * a reference even while its value is unknown during a preview.
   */
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
}

/**
 * A documented exception, in the stack's policy config file. `resource` is a logical name or
 * `<type>::<name>`, with `*` globs; `reason` is mandatory so every exception is reviewable.
 */
export interface RuleException {
  readonly resource: string;
  readonly reason: string;
  /** Only for `ec2-imds-hop-limit`: the highest hop limit the exception allows (at most 2). */
  readonly maxHopLimit?: number;
}

/** A rule's settings for one stack: its schema defaults overlaid with the policy config file. */
export interface RuleSettings {
  readonly exceptions: readonly RuleException[];
  readonly [key: string]: unknown;
}

/** What a check found: what is wrong, and how to fix it. The runner adds where, and the docs link. */
export interface Finding {
  readonly problem: string;
  readonly fix: string;
  /** The offending resource. Resource rules default it to the checked resource; stack rules set it. */
  readonly resource?: Pick<PolicyResource, "type" | "name" | "urn">;
}

export interface RuleContext {
  readonly environment: Environment;
  readonly settings: RuleSettings;
  /** The documented exception covering `resource`, if any (only `exceptionAware` rules need it). */
  exceptionFor(resource: Pick<PolicyResource, "type" | "name">): RuleException | undefined;
  /** Records that an exception let `resource` pass, so the offline plan lists it (exceptionAware rules). */
  recordExemption(resource: Pick<PolicyResource, "type" | "name">, exception: RuleException): void;
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A JSON-schema fragment for a rule's own settings (CrossGuard validates the config against it). */
export interface SettingSchema {
  type?: "string" | "number" | "integer" | "boolean" | "object" | "array";
  description?: string;
  default?: Json;
  items?: SettingSchema;
  properties?: Record<string, SettingSchema>;
  required?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  /** An ECMAScript regular expression the string must match (JSON Schema's `pattern`). */
  pattern?: string;
  enum?: Json[];
}

interface RuleBase {
  /** Unique, kebab-case; it is the key in the policy config files. */
  readonly name: string;
  readonly description: string;
  /** The authoritative AWS / Kubernetes documentation for the control. */
  readonly docs: string;
  /** Checkov / Security Hub ids a reviewer can map the rule to. */
  readonly scannerIds: readonly string[];
  /** Level when no policy config says otherwise (the config files set every level explicitly). */
  readonly enforcementLevel: EnforcementLevel;
  readonly severity: Severity;
  /** Environments the control applies to; default: all. Elsewhere the rule is not applicable. */
  readonly environments?: readonly Environment[];
  /** Extra settings beyond `exceptions`. */
  readonly settings?: Readonly<Record<string, SettingSchema>>;
  /** When true the rule reads exceptions itself (`ctx.exceptionFor`); otherwise they suppress its findings. */
  readonly exceptionAware?: boolean;
}

export interface ResourceRule extends RuleBase {
  readonly kind: "resource";
  /** Type tokens the rule checks, e.g. `aws:rds/instance:Instance`. */
  readonly resourceTypes: readonly string[];
  check(resource: PolicyResource, ctx: RuleContext): Finding[];
}

export interface StackRule extends RuleBase {
  readonly kind: "stack";
  check(resources: readonly PolicyResource[], ctx: RuleContext): Finding[];
}

export type Rule = ResourceRule | StackRule;

/** A finding as reported: the rule, its level in this stack, the full message, the resource. */
export interface Violation {
  readonly policy: string;
  readonly enforcementLevel: Exclude<EnforcementLevel, "disabled">;
  readonly message: string;
  readonly resource?: { readonly type: string; readonly name: string };
  readonly urn?: string;
  readonly scannerIds: readonly string[];
  readonly docs: string;
}

/** A finding suppressed by a documented exception (shown by the offline plan, never enforced). */
export interface Exemption {
  readonly policy: string;
  readonly resource: { readonly type: string; readonly name: string };
  readonly exception: RuleException;
}

// ---------------------------------------------------------------------------------------------
// Settings: one JSON schema per rule, used by CrossGuard to validate and default the config file
// and by the offline runner to compute the same defaults.

const EXCEPTIONS_SCHEMA: SettingSchema = {
  type: "array",
  description: "Documented exceptions: resources (logical name or <type>::<name>, `*` globs) this rule does not apply to, each with its reason.",
  default: [],
  items: {
    type: "object",
    properties: {
      resource: { type: "string", minLength: 1 },
      reason: { type: "string", minLength: 20 },
      maxHopLimit: { type: "integer", minimum: 1, maximum: 2 },
    },
    required: ["resource", "reason"],
  },
};

export function settingsSchema(rule: Rule): Record<string, SettingSchema> {
  return { exceptions: EXCEPTIONS_SCHEMA, ...(rule.settings ?? {}) };
}

/** Schema defaults overlaid with the configured properties (CrossGuard's own reconciliation). */
export function resolveSettings(rule: Rule, configured: Readonly<Record<string, unknown>> | undefined): RuleSettings {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(settingsSchema(rule))) {
    if (schema.default !== undefined) {
      out[key] = structuredClone(schema.default);
    }
  }
  for (const [key, value] of Object.entries(configured ?? {})) {
    if (key !== "enforcementLevel") {
      out[key] = value;
    }
  }
  const exceptions = Array.isArray(out["exceptions"]) ? (out["exceptions"] as RuleException[]) : [];
  return { ...out, exceptions };
}

// ---------------------------------------------------------------------------------------------
// Environment.

/**
 * The environment of a stack, decided by its name alone: `test`, `staging` and `prod` are
 * themselves, `<env>-<anything>` (a scratch copy such as `test-alice`) is `<env>`, and any other
 * name is checked as prod, the strictest. The real pack learns the stack only from the URNs it is
 * given, the offline `plan` from its argument, and the program from `pulumi.getStack()`; all three
 * call this one function, and the config refuses a `platform:environment` that says otherwise
 * (infra/config/load.ts), so a `Pulumi.prod.yaml` claiming to be staging never gets staging's rules.
 */
export function environmentOfStack(stack: string): Environment {
  const exact = ENVIRONMENTS.find((e) => e === stack);
  return exact ?? ENVIRONMENTS.find((e) => stack.startsWith(`${e}-`)) ?? "prod";
}

/** The environment a resource belongs to: its stack's (`urn:pulumi:<stack>::<project>::...`); unknown is prod. */
export function environmentOf(urn: string | undefined): Environment {
  const stack = urn?.startsWith("urn:pulumi:") ? urn.slice("urn:pulumi:".length).split("::")[0] : undefined;
  return stack === undefined ? "prod" : environmentOfStack(stack);
}

export function appliesIn(rule: Rule, environment: Environment): boolean {
  return rule.environments === undefined || rule.environments.includes(environment);
}

// ---------------------------------------------------------------------------------------------
// Exceptions and messages.

export function exceptionMatches(exception: RuleException, resource: Pick<PolicyResource, "type" | "name">): boolean {
  const pattern = exception.resource;
  return pattern.includes("::") ? globMatch(pattern, `${resource.type}::${resource.name}`) : globMatch(pattern, resource.name);
}

function contextFor(rule: Rule, environment: Environment, settings: RuleSettings, used: Exemption[]): RuleContext {
  return {
    environment,
    settings,
    exceptionFor: (resource) => settings.exceptions.find((e) => exceptionMatches(e, resource)),
    recordExemption: (resource, exception) => {
      used.push({ policy: rule.name, resource: { type: resource.type, name: resource.name }, exception });
    },
  };
}

/** `<type> "<name>": <problem>. Fix: <fix>. Docs: <url>` */
export function formatMessage(rule: Rule, finding: Finding): string {
  const where = finding.resource !== undefined ? `${finding.resource.type} "${finding.resource.name}"` : "stack";
  return `${where}: ${finding.problem}. Fix: ${finding.fix}. Docs: ${rule.docs}`;
}

export interface RuleOutcome {
  /** Findings not covered by an exception, as messages with their resource. */
  readonly reported: ReadonlyArray<{ message: string; resource?: Pick<PolicyResource, "type" | "name" | "urn"> }>;
  readonly exempted: readonly Exemption[];
}

function settle(rule: Rule, findings: readonly Finding[], ctx: RuleContext, used: readonly Exemption[]): RuleOutcome {
  const reported: Array<{ message: string; resource?: Pick<PolicyResource, "type" | "name" | "urn"> }> = [];
  const exempted: Exemption[] = [...used];
  for (const f of findings) {
    const exception = rule.exceptionAware || f.resource === undefined ? undefined : ctx.exceptionFor(f.resource);
    if (exception !== undefined && f.resource !== undefined) {
      exempted.push({ policy: rule.name, resource: { type: f.resource.type, name: f.resource.name }, exception });
    } else {
      reported.push({ message: formatMessage(rule, f), resource: f.resource });
    }
  }
  return { reported, exempted };
}

/** Runs a resource rule on one resource (skipping other types and other environments). */
export function applyResourceRule(rule: ResourceRule, resource: PolicyResource, environment: Environment, settings: RuleSettings): RuleOutcome {
  if (!rule.resourceTypes.includes(resource.type) || !appliesIn(rule, environment)) {
    return { reported: [], exempted: [] };
  }
  const used: Exemption[] = [];
  const ctx = contextFor(rule, environment, settings, used);
  const where = { type: resource.type, name: resource.name, urn: resource.urn };
  const findings = rule.check(resource, ctx).map((f) => ({ ...f, resource: f.resource ?? where }));
  return settle(rule, findings, ctx, used);
}

/** Runs a stack rule over every resource of the stack. */
export function applyStackRule(rule: StackRule, resources: readonly PolicyResource[], environment: Environment, settings: RuleSettings): RuleOutcome {
  if (!appliesIn(rule, environment)) {
    return { reported: [], exempted: [] };
  }
  const used: Exemption[] = [];
  const ctx = contextFor(rule, environment, settings, used);
  const findings = rule.check(resources, ctx);
  return settle(rule, findings, ctx, used);
}

/** The description CrossGuard shows above every message of the rule. */
export function describeRule(rule: Rule): string {
  const ids = rule.scannerIds.length > 0 ? ` [${rule.scannerIds.join(", ")}]` : "";
  return `${rule.description}${ids}`;
}
