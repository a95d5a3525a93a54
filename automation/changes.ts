/**
 * What a preview says, pure: planned steps and policy violations from the engine events,
 * the change summary, the stateful-resource guard, and the Markdown for the CI step summary.
 */
import type { EngineEvent, OpMap, OpType } from "@pulumi/pulumi/automation";

export interface PlannedStep {
  readonly op: OpType;
  readonly urn: string;
  readonly type: string;
  /**
   * The property paths that differ (the step's `detailedDiff` keys), when the provider sent them.
   * The Kubernetes provider sends no `diffs`, only `detailedDiff` (pulumi-kubernetes v4.25.0
   * pkg/provider/provider.go:1521-1529).
   */
  readonly paths?: readonly string[];
}

export interface PolicyViolation {
  readonly policyPack: string;
  readonly policy: string;
  readonly enforcement: "advisory" | "mandatory";
  readonly urn?: string;
  readonly message: string;
}

export interface PreviewFindings {
  readonly steps: readonly PlannedStep[];
  readonly violations: readonly PolicyViolation[];
  /** Error diagnostics, e.g. a config validation failure in the program. */
  readonly errors: readonly string[];
}

// Pulumi colors its messages with `<{%fg 1%}>`-style directives; strip them for logs and Markdown.
const COLOR_DIRECTIVE = /<\{%[^%]*%\}>/g;

export function plainText(message: string): string {
  return message.replace(COLOR_DIRECTIVE, "").trim();
}

export function collectFindings(events: readonly EngineEvent[]): PreviewFindings {
  const steps: PlannedStep[] = [];
  const violations: PolicyViolation[] = [];
  const errors: string[] = [];
  for (const e of events) {
    const pre = e.resourcePreEvent;
    if (pre !== undefined) {
      const paths = Object.keys(pre.metadata.detailedDiff ?? {}).sort();
      steps.push({ op: pre.metadata.op, urn: pre.metadata.urn, type: pre.metadata.type, ...(paths.length > 0 ? { paths } : {}) });
    }
    const policy = e.policyEvent;
    if (policy !== undefined) {
      violations.push({
        policyPack: policy.policyPackName,
        policy: policy.policyName,
        // The engine says "warning" for advisory policies.
        enforcement: policy.enforcementLevel === "mandatory" ? "mandatory" : "advisory",
        urn: policy.resourceUrn,
        message: plainText(policy.message),
      });
    }
    const diag = e.diagnosticEvent;
    if (diag !== undefined && diag.severity === "error") {
      errors.push(plainText(diag.message));
    }
  }
  return { steps, violations, errors };
}

export function mandatory(violations: readonly PolicyViolation[]): PolicyViolation[] {
  return violations.filter((v) => v.enforcement === "mandatory");
}

export interface ChangeSummary {
  readonly creates: number;
  readonly updates: number;
  readonly replaces: number;
  readonly deletes: number;
  readonly unchanged: number;
}

export function summarize(changes: OpMap): ChangeSummary {
  return {
    creates: changes.create ?? 0,
    updates: changes.update ?? 0,
    replaces: changes.replace ?? 0,
    deletes: changes.delete ?? 0,
    unchanged: changes.same ?? 0,
  };
}

export function hasChanges(s: ChangeSummary): boolean {
  return s.creates + s.updates + s.replaces + s.deletes > 0;
}

export function formatSummary(s: ChangeSummary): string {
  return `${s.creates} to create, ${s.updates} to update, ${s.replaces} to replace, ${s.deletes} to delete, ${s.unchanged} unchanged`;
}

/**
 * Resource types whose replacement or deletion loses data or takes the platform down for a
 * long time. A planned replace of one of these is almost always an accidental immutable-field
 * change (engine version, subnet group, cluster name) and must be a deliberate decision.
 */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set([
  "aws:rds/instance:Instance",
  "aws:efs/fileSystem:FileSystem",
  "eks:index:Cluster",
  "aws:eks/cluster:Cluster",
  "aws:opensearch/domain:Domain",
  "aws:s3/bucket:Bucket",
]);

const DESTRUCTIVE_OPS: ReadonlySet<OpType> = new Set<OpType>([
  "delete",
  "replace",
  "create-replacement",
  "delete-replaced",
  "discard",
  "discard-replaced",
]);

/** Planned replaces/deletes of stateful resources, one entry per resource. */
export function statefulHazards(steps: readonly PlannedStep[]): PlannedStep[] {
  const seen = new Map<string, PlannedStep>();
  for (const s of steps) {
    if (STATEFUL_TYPES.has(s.type) && DESTRUCTIVE_OPS.has(s.op) && !seen.has(s.urn)) {
      seen.set(s.urn, s);
    }
  }
  return [...seen.values()];
}

/**
 * Ops that do not change anything, as `engine.HasChanges` judges them for --expect-no-changes
 * (pulumi/pkg v3.276.0 engine/update.go:580-591): every other op in the summary is a change,
 * including an explicit provider's update, imports and replacements. Refresh steps are never
 * counted (step.go:1649), nor internal ones (default providers: update.go:1577-1585).
 */
export const NO_CHANGE_OPS: ReadonlySet<string> = new Set(["same", "read", "discard", "read-replacement"]);

/**
 * The steps that change something, one line each: op, type, name and the differing paths, e.g.
 * `update kubernetes:apps/v1:Deployment web-blue: spec.template.spec.containers[0].ports`. What a
 * drift report names. At most `limit` paths per step.
 */
export function describeChanges(steps: readonly PlannedStep[], limit = 6): string[] {
  return steps
    .filter((st) => !NO_CHANGE_OPS.has(st.op))
    .map((st) => {
      const paths = st.paths ?? [];
      const shown = paths.length > limit ? [...paths.slice(0, limit), `… ${paths.length - limit} more`] : paths;
      return `${st.op} ${st.type} ${urnName(st.urn)}${shown.length > 0 ? `: ${shown.join(", ")}` : ""}`;
    });
}

/** The `name` part of a URN (after the last `::`). */
export function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

export interface PreviewReport {
  readonly stack: string;
  readonly summary: ChangeSummary;
  readonly findings: PreviewFindings;
  readonly hazards: readonly PlannedStep[];
  readonly verdict: string;
}

/** Markdown for `$GITHUB_STEP_SUMMARY` (and pull-request comments). */
export function previewMarkdown(r: PreviewReport): string {
  const s = r.summary;
  const lines = [
    `### Pulumi preview: \`${r.stack}\``,
    "",
    `**${r.verdict}**`,
    "",
    "| create | update | replace | delete | unchanged |",
    "|---:|---:|---:|---:|---:|",
    `| ${s.creates} | ${s.updates} | ${s.replaces} | ${s.deletes} | ${s.unchanged} |`,
  ];
  const changed = r.findings.steps.filter((st) => st.op !== "same" && st.op !== "read");
  if (changed.length > 0) {
    lines.push("", "<details><summary>Planned steps</summary>", "", "| op | type | name |", "|---|---|---|");
    for (const st of changed) {
      lines.push(`| ${st.op} | \`${escapeCell(st.type)}\` | ${escapeCell(urnName(st.urn))} |`);
    }
    lines.push("", "</details>");
  }
  if (r.hazards.length > 0) {
    lines.push("", "#### Stateful resources to be replaced or deleted", "");
    for (const h of r.hazards) {
      lines.push(`- :warning: ${h.op} \`${h.type}\` **${escapeCell(urnName(h.urn))}**`);
    }
  }
  if (r.findings.violations.length > 0) {
    lines.push("", "#### Policy violations", "", "| level | pack | policy | resource | message |", "|---|---|---|---|---|");
    for (const v of r.findings.violations) {
      const resource = v.urn === undefined ? "(stack)" : urnName(v.urn);
      lines.push(`| ${v.enforcement} | ${escapeCell(v.policyPack)} | ${escapeCell(v.policy)} | ${escapeCell(resource)} | ${escapeCell(v.message)} |`);
    }
  }
  return `${lines.join("\n")}\n`;
}
