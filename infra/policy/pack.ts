/**
 * The rules of ./rules as CrossGuard policies. Kept apart from ./index.ts (which starts the policy
 * server) so tests can drive these exact policy objects with hand-made arguments.
 */
import type {
  Policies,
  PolicyConfigSchema,
  PolicyResource as SdkStackResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import {
  applyResourceRule,
  applyStackRule,
  describeRule,
  environmentOf,
  PolicyResource,
  resolveSettings,
  ResourceRule,
  Rule,
  RuleOutcome,
  settingsSchema,
  StackRule,
} from "./engine";
import { RULES } from "./rules";

function configSchema(rule: Rule): PolicyConfigSchema {
  return { properties: settingsSchema(rule) };
}

function report(outcome: RuleOutcome, reportViolation: ReportViolation, urnOf: (r: { urn?: string } | undefined) => string | undefined): void {
  for (const v of outcome.reported) {
    reportViolation(v.message, urnOf(v.resource));
  }
}

function common(rule: Rule): Omit<ResourceValidationPolicy, "validateResource"> {
  return {
    name: rule.name,
    description: describeRule(rule),
    enforcementLevel: rule.enforcementLevel,
    severity: rule.severity,
    url: rule.docs,
    tags: rule.scannerIds.length > 0 ? [...rule.scannerIds] : undefined,
    configSchema: configSchema(rule),
  };
}

export function resourcePolicy(rule: ResourceRule): ResourceValidationPolicy {
  return {
    ...common(rule),
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
      if (!rule.resourceTypes.includes(args.type)) {
        return;
      }
      const resource: PolicyResource = {
        type: args.type,
        name: args.name,
        urn: args.urn,
        props: args.props,
        provider: args.provider === undefined ? undefined : { type: args.provider.type, name: args.provider.name, props: args.provider.props },
        protect: args.opts?.protect,
      };
      const outcome = applyResourceRule(rule, resource, environmentOf(args.urn), resolveSettings(rule, args.getConfig<Record<string, unknown>>()));
      // Resource policies always report against the validated resource.
      report(outcome, reportViolation, () => undefined);
    },
  };
}

function fromSdk(r: SdkStackResource): PolicyResource {
  const propertyDependencies: Record<string, string[]> = {};
  for (const [key, deps] of Object.entries(r.propertyDependencies)) {
    propertyDependencies[key] = deps.map((d) => d.urn);
  }
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    // Stack validation sees the resources' outputs, which echo their inputs.
    props: r.props,
    outputs: r.props,
    provider: r.provider === undefined ? undefined : { type: r.provider.type, name: r.provider.name, props: r.provider.props },
    protect: r.opts?.protect,
    propertyDependencies,
  };
}

export function stackPolicy(rule: StackRule): StackValidationPolicy {
  return {
    ...common(rule),
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
      const resources = args.resources.map(fromSdk);
      const environment = environmentOf(resources.find((r) => r.urn !== undefined)?.urn);
      const outcome = applyStackRule(rule, resources, environment, resolveSettings(rule, args.getConfig<Record<string, unknown>>()));
      report(outcome, reportViolation, (r) => r?.urn);
    },
  };
}

export function buildPolicies(rules: readonly Rule[] = RULES): Policies {
  return rules.map((rule) => (rule.kind === "resource" ? resourcePolicy(rule) : stackPolicy(rule)));
}
