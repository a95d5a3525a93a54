/**
 * Runs the pack's rules without the Pulumi engine, over what a program declares (e.g. under the
 * SDK's mocks): the driver's offline `plan` and the tests use it. Same rule objects, same
 * settings and enforcement resolution as the real pack (./pack.ts) with the same config files.
 *
 *   const violations = runPolicies(resources, "prod");
 *   const blocking = violations.filter((v) => v.enforcementLevel === "mandatory");
 */
import * as fs from "fs";
import * as path from "path";
import {
  applyResourceRule,
  applyStackRule,
  EnforcementLevel,
  Environment,
  ENVIRONMENTS,
  Exemption,
  PolicyResource,
  ProviderView,
  resolveSettings,
  Rule,
  settingsSchema,
  SettingSchema,
  Violation,
} from "./engine";
import { RULES } from "./rules";
import type { Props } from "./values";

/** A resource as the offline runner takes it. */
export interface OfflineResource {
  readonly type: string;
  readonly name: string;
  /** The declared inputs (camelCase; JSON-valued inputs may be JSON strings). */
  readonly props: Props;
  /** Known outputs (ids, ARNs, names) used to follow references between resources. */
  readonly outputs?: Props;
  /** The provider reference (`<provider urn>::<id>`, as the SDK records it) or the provider itself. */
  readonly provider?: string | ProviderView;
  readonly urn?: string;
  /** The `protect` resource option it was declared with. */
  readonly protect?: boolean;
}

/** One stack's policy config file, as CrossGuard reads it (`--policy-pack-config`). */
export type PolicyPackConfig = Readonly<Record<string, EnforcementLevel | Readonly<Record<string, unknown>>>>;

export const CONFIG_DIR = path.join(__dirname, "config");

export function configFile(environment: Environment): string {
  return path.join(CONFIG_DIR, `${environment}.json`);
}

export function loadPolicyConfig(environment: Environment): PolicyPackConfig {
  return JSON.parse(fs.readFileSync(configFile(environment), "utf8")) as PolicyPackConfig;
}

const LEVELS: readonly string[] = ["advisory", "mandatory", "remediate", "disabled"];

function levelOf(entry: unknown): EnforcementLevel | undefined {
  const level = typeof entry === "string" ? entry : entry !== null && typeof entry === "object" ? (entry as Record<string, unknown>)["enforcementLevel"] : undefined;
  if (level === undefined) {
    return undefined;
  }
  if (typeof level !== "string" || !LEVELS.includes(level)) {
    throw new Error(`policy config: "${String(level)}" is not an enforcement level (${LEVELS.join(", ")})`);
  }
  // The pack never remediates; CrossGuard treats remediate as mandatory for validation-only policies.
  return level === "remediate" ? "mandatory" : (level as EnforcementLevel);
}

/** The level CrossGuard would use: the rule's default, overridden by `all`, overridden by the rule's own entry. */
export function enforcementLevel(rule: Rule, config: PolicyPackConfig): EnforcementLevel {
  return levelOf(config[rule.name]) ?? levelOf(config["all"]) ?? rule.enforcementLevel;
}

function propertiesOf(entry: unknown): Record<string, unknown> | undefined {
  return entry !== null && typeof entry === "object" ? { ...(entry as Record<string, unknown>) } : undefined;
}

/** A JSON-schema check of the subset `SettingSchema` uses; CrossGuard rejects the same mistakes. */
function schemaErrors(schema: SettingSchema, value: unknown, at: string): string[] {
  const errors: string[] = [];
  const actual = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
  if (schema.type !== undefined) {
    const ok = schema.type === "integer" ? Number.isInteger(value) : schema.type === actual;
    if (!ok) {
      return [`${at} must be ${schema.type}, got ${actual}`];
    }
  }
  if (typeof value === "string" && schema.minLength !== undefined && value.length < schema.minLength) {
    errors.push(`${at} must be at least ${schema.minLength} characters`);
  }
  if (typeof value === "string" && schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value)) {
    errors.push(`${at} must match ${schema.pattern}`);
  }
  if (typeof value === "number" && ((schema.minimum !== undefined && value < schema.minimum) || (schema.maximum !== undefined && value > schema.maximum))) {
    errors.push(`${at} must be within [${schema.minimum ?? "-inf"}, ${schema.maximum ?? "inf"}]`);
  }
  if (Array.isArray(value) && schema.items !== undefined) {
    value.forEach((item, i) => errors.push(...schemaErrors(schema.items as SettingSchema, item, `${at}[${i}]`)));
  }
  if (actual === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (record[key] === undefined) {
        errors.push(`${at}.${key} is required`);
      }
    }
    for (const [key, sub] of Object.entries(schema.properties ?? {})) {
      if (record[key] !== undefined) {
        errors.push(...schemaErrors(sub, record[key], `${at}.${key}`));
      }
    }
  }
  return errors;
}

/** Rejects a config that names unknown rules or breaks a rule's settings schema. */
export function validatePolicyConfig(config: PolicyPackConfig, rules: readonly Rule[] = RULES): void {
  const errors: string[] = [];
  for (const [key, entry] of Object.entries(config)) {
    if (key === "all") {
      levelOf(entry);
      continue;
    }
    const rule = rules.find((r) => r.name === key);
    if (rule === undefined) {
      errors.push(`"${key}" is not a rule of the pack`);
      continue;
    }
    levelOf(entry);
    const properties = propertiesOf(entry) ?? {};
    delete properties["enforcementLevel"];
    const schema = settingsSchema(rule);
    for (const [prop, value] of Object.entries(properties)) {
      const sub = schema[prop];
      if (sub === undefined) {
        errors.push(`${key}.${prop} is not a setting of the rule (settings: ${Object.keys(schema).join(", ")})`);
      } else {
        errors.push(...schemaErrors(sub, value, `${key}.${prop}`));
      }
    }
  }
  if (errors.length > 0) {
    throw new Error(`invalid policy config: ${errors.join("; ")}`);
  }
}

/** `urn:pulumi:<stack>::<project>::<parent types$>type::name` -> type and name. */
function parseUrn(urn: string): { type: string; name: string } | undefined {
  const parts = urn.split("::");
  if (parts.length < 4) {
    return undefined;
  }
  const qualified = parts[2];
  return { type: qualified.split("$").pop() ?? qualified, name: parts.slice(3).join("::") };
}

function resolveProviders(resources: readonly OfflineResource[]): PolicyResource[] {
  const providers = resources.filter((r) => r.type.startsWith("pulumi:providers:"));
  return resources
    .filter((r) => r.type !== "pulumi:pulumi:Stack")
    .map((r) => {
      let provider: ProviderView | undefined;
      if (typeof r.provider === "string" && r.provider !== "") {
        const ref = parseUrn(r.provider.split("::").slice(0, -1).join("::"));
        const found = ref === undefined ? undefined : providers.find((p) => p.type === ref.type && p.name === ref.name);
        provider = found === undefined ? undefined : { type: found.type, name: found.name, props: found.props };
      } else if (typeof r.provider === "object") {
        provider = r.provider;
      }
      return { type: r.type, name: r.name, urn: r.urn, props: r.props, outputs: r.outputs, provider, protect: r.protect };
    });
}

export interface PolicyReport {
  readonly environment: Environment;
  readonly violations: readonly Violation[];
  /** Findings suppressed by documented exceptions, with the exception that covers them. */
  readonly exempted: readonly Exemption[];
}

export interface RunOptions {
  /** Default: the stack's file in infra/policy/config. */
  readonly config?: PolicyPackConfig;
  /** Default: every rule of the pack. */
  readonly rules?: readonly Rule[];
}

/** Every finding of every rule, with its enforcement level in `environment`, and the exemptions. */
export function evaluatePolicies(resources: readonly OfflineResource[], environment: Environment, options: RunOptions = {}): PolicyReport {
  if (!(ENVIRONMENTS as readonly string[]).includes(environment)) {
    throw new Error(`unknown environment "${String(environment)}"; expected one of ${ENVIRONMENTS.join(", ")}`);
  }
  const rules = options.rules ?? RULES;
  const config = options.config ?? loadPolicyConfig(environment);
  validatePolicyConfig(config, rules);
  const declared = resolveProviders(resources);
  const violations: Violation[] = [];
  const exempted: Exemption[] = [];
  for (const rule of rules) {
    const level = enforcementLevel(rule, config);
    if (level === "disabled") {
      continue;
    }
    const settings = resolveSettings(rule, propertiesOf(config[rule.name]));
    const outcomes = rule.kind === "resource" ? declared.map((r) => applyResourceRule(rule, r, environment, settings)) : [applyStackRule(rule, declared, environment, settings)];
    for (const outcome of outcomes) {
      exempted.push(...outcome.exempted);
      for (const v of outcome.reported) {
        violations.push({
          policy: rule.name,
          enforcementLevel: level,
          message: v.message,
          resource: v.resource === undefined ? undefined : { type: v.resource.type, name: v.resource.name },
          urn: v.resource?.urn,
          scannerIds: rule.scannerIds,
          docs: rule.docs,
        });
      }
    }
  }
  return { environment, violations, exempted };
}

/** The violations of `evaluatePolicies` (what `plan` prints; mandatory ones fail it). */
export function runPolicies(resources: readonly OfflineResource[], environment: Environment, options: RunOptions = {}): Violation[] {
  return [...evaluatePolicies(resources, environment, options).violations];
}

/**
 * Adapts resources recorded under the SDK's mocks (`{ type, name, inputs, provider }`) to the
 * runner. `outputsOf` supplies what the mocks computed for a resource (ids, ARNs), so references
 * between resources can be followed.
 */
export function fromDeclared(
  declared: ReadonlyArray<{ readonly type: string; readonly name: string; readonly inputs: Props; readonly provider?: string }>,
  outputsOf?: (r: { readonly type: string; readonly name: string; readonly inputs: Props }) => Props,
  protectOf?: (r: { readonly type: string; readonly name: string }) => boolean | undefined,
): OfflineResource[] {
  return declared.map((r) => ({ type: r.type, name: r.name, props: r.inputs, provider: r.provider, outputs: outputsOf?.(r), protect: protectOf?.(r) }));
}
