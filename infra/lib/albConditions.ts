/**
 * The listener-rule conditions the AWS Load Balancer Controller builds from an Ingress, and ELBv2's
 * limits on them. No Pulumi imports; tested table-driven (test/albConditions.test.ts).
 *
 * ELBv2: "up to three match evaluations per condition" and "up to five match evaluations per
 * rule" (ALB user guide, rule-condition-types; repeated in the controller's
 * docs/guide/ingress/annotations.md at v2.12.0). The controller (v2.12.0,
 * pkg/ingress/model_build_listener_rules.go buildRuleConditions) does not check either: ELBv2
 * rejects the rule, and since one IngressGroup is one reconcile that stops at the first error
 * (controllers/ingress/group_controller.go), no Ingress of the group changes any more, blue/green
 * flips included.
 */

export const MAX_VALUES_PER_CONDITION = 3;
export const MAX_VALUES_PER_RULE = 5;

const CONDITIONS_PREFIX = "alb.ingress.kubernetes.io/conditions.";

/** The parts of an Ingress (networking.k8s.io/v1) the rule conditions come from. */
export interface IngressRules {
  readonly metadata: { readonly name?: string; readonly annotations?: Readonly<Record<string, unknown>> };
  readonly spec: {
    readonly rules?: ReadonlyArray<{
      readonly host?: string;
      readonly http?: {
        readonly paths: ReadonlyArray<{
          readonly path?: string;
          readonly pathType?: string;
          readonly backend: { readonly service?: { readonly name?: string } };
        }>;
      };
    }>;
  };
}

export interface RuleCondition {
  readonly field: string;
  readonly values: readonly string[];
}

export interface BuiltRule {
  readonly host: string;
  readonly path: string;
  readonly backend: string;
  readonly conditions: readonly RuleCondition[];
}

/**
 * Path patterns of one Ingress path: Prefix `/` -> `/*`; Prefix `/x` (or `/x/`) -> `/x`, `/x/*`;
 * Exact and ImplementationSpecific -> the path itself (buildPathPatterns).
 */
export function pathPatterns(path: string, pathType: string | undefined): string[] {
  if (pathType === "Prefix") {
    if (path === "/") {
      return ["/*"];
    }
    const normalised = path.replace(/\/$/, "");
    return [normalised, `${normalised}/*`];
  }
  return [path];
}

/** The values each annotation condition contributes, per its field (host/path conditions merge into the spec's). */
function annotationConditions(raw: unknown): Array<{ field: string; values: string[] }> {
  if (typeof raw !== "string") {
    return [];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) {
    return [];
  }
  const configKey: Record<string, string> = {
    "host-header": "hostHeaderConfig",
    "path-pattern": "pathPatternConfig",
    "http-header": "httpHeaderConfig",
    "http-request-method": "httpRequestMethodConfig",
    "query-string": "queryStringConfig",
    "source-ip": "sourceIpConfig",
  };
  return (parsed as Array<Record<string, unknown>>).map((c) => {
    const field = String(c["field"]);
    const config = c[configKey[field] ?? ""] as { values?: unknown[] } | undefined;
    const values = (config?.values ?? []).map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
    return { field, values };
  });
}

/**
 * The rules the controller builds from `ingress`: one per host and path, with the annotation's
 * conditions first, then one host-header condition (the rule's host plus any host-header values
 * of the annotation) and one path-pattern condition, as buildRuleConditions orders them.
 */
export function ruleConditions(ingress: IngressRules): BuiltRule[] {
  const annotations = ingress.metadata.annotations ?? {};
  const out: BuiltRule[] = [];
  for (const rule of ingress.spec.rules ?? []) {
    for (const p of rule.http?.paths ?? []) {
      const backend = p.backend.service?.name ?? "";
      const hosts = rule.host !== undefined && rule.host !== "" ? [rule.host] : [];
      const paths = p.path !== undefined && p.path !== "" ? pathPatterns(p.path, p.pathType) : [];
      const conditions: RuleCondition[] = [];
      for (const c of annotationConditions(annotations[`${CONDITIONS_PREFIX}${backend}`])) {
        if (c.field === "host-header") {
          hosts.push(...c.values);
        } else if (c.field === "path-pattern") {
          paths.push(...c.values);
        } else {
          conditions.push(c);
        }
      }
      if (hosts.length > 0) {
        conditions.push({ field: "host-header", values: hosts });
      }
      if (paths.length > 0) {
        conditions.push({ field: "path-pattern", values: paths });
      }
      out.push({ host: rule.host ?? "", path: p.path ?? "", backend, conditions });
    }
  }
  return out;
}

/** Every rule of `ingress` that ELBv2 would reject, with the limit it exceeds; empty when all fit. */
export function conditionBudgetProblems(ingress: IngressRules): string[] {
  return ruleConditions(ingress).flatMap((r) => {
    const issues: string[] = [];
    for (const c of r.conditions) {
      if (c.values.length > MAX_VALUES_PER_CONDITION) {
        issues.push(`${c.field} has ${c.values.length} values (at most ${MAX_VALUES_PER_CONDITION} per condition)`);
      }
    }
    const total = r.conditions.reduce((n, c) => n + c.values.length, 0);
    if (total > MAX_VALUES_PER_RULE) {
      issues.push(`${total} values in the rule (at most ${MAX_VALUES_PER_RULE})`);
    }
    return issues.length > 0 ? [`rule ${r.host} "${r.path}" -> ${r.backend}: ${issues.join("; ")}`] : [];
  });
}

/** One host-and-path rule of an Ingress, as its component declares it. */
export interface RuleShape {
  readonly host: boolean;
  readonly path: string;
  readonly pathType: string;
}

/** Condition values a rule's host and path patterns use. */
export function valuesUsed(rule: RuleShape): number {
  return (rule.host ? 1 : 0) + pathPatterns(rule.path, rule.pathType).length;
}

/** How many source CIDRs fit in one rule beside its host and its path patterns. */
export function sourceIpBudget(rule: RuleShape): number {
  return Math.max(0, Math.min(MAX_VALUES_PER_CONDITION, MAX_VALUES_PER_RULE - valuesUsed(rule)));
}
