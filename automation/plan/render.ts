/** `plan`'s human rendering: the tables, services, schema problems, policy findings and warnings. */
import { Violation } from "../../infra/policy/engine";
import { ExitCode } from "../exitCodes";
import { sameDigest, shortImage } from "../images";
import { describePlaceholder } from "../placeholders";
import { PlanReport } from "./report";

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

