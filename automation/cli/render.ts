/** How the CLI shows an outcome: a short human report, and Markdown for the CI run's summary page. */
import { formatSummary } from "../changes";
import { formatDuration } from "../format";
import { shortImage } from "../images";
import { Outcome, ServiceStatus } from "../outcome";

const ICON: Record<string, string> = {
  succeeded: "✔",
  "no-op": "✔",
  "rolled back": "↩",
  "manual intervention": "✘",
  failed: "✘",
  refused: "⛔",
  "policy violation": "⛔",
  locked: "🔒",
  drift: "≠",
  interrupted: "■",
};

export function renderOutcome(o: Outcome): string {
  const lines = [`${ICON[o.result] ?? "*"} ${o.operation} ${o.stack}: ${o.result} (exit ${o.exitCode})`, `  ${o.message}`];
  if (o.status !== undefined) {
    const header = ["SERVICE", "ACTIVE", "BLUE", "GREEN", "TRAFFIC", "VERIFIED", "STATE"];
    const rows = o.status.map((s) => [
      s.service,
      s.deployedActive !== undefined && s.deployedActive !== s.active ? `${s.active} (deployed: ${s.deployedActive})` : s.active,
      `${shortImage(s.blue)}${s.parked.includes("blue") ? " (parked)" : ""}`,
      `${shortImage(s.green)}${s.parked.includes("green") ? " (parked)" : ""}`,
      trafficOf(s),
      s.release !== undefined ? `${shortImage(s.release.image)} ${s.release.verifiedAt} (${s.release.source})` : "-",
      s.converged ? "in sync" : "config differs",
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    lines.push("", ...[header, ...rows].map((r) => `  ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ")}`.trimEnd()));
  } else if (o.services.length > 0) {
    lines.push("  services:");
    for (const s of o.services) {
      const colors = s.fromColor !== undefined && s.toColor !== undefined ? ` ${s.fromColor} -> ${s.toColor}` : "";
      const images = s.oldImage !== undefined || s.newImage !== undefined ? `  ${shortImage(s.oldImage)} -> ${shortImage(s.newImage)}` : "";
      lines.push(`    ${s.service}${colors}${images}`);
    }
  }
  if (o.changes !== undefined) {
    lines.push(`  changes: ${formatSummary(o.changes)}`);
  }
  for (const h of o.hazards ?? []) {
    lines.push(`  stateful: ${h.op} ${h.type} ${h.urn}`);
  }
  for (const v of o.violations ?? []) {
    lines.push(`  policy ${v.enforcement}: ${v.policyPack}/${v.policy}${v.urn !== undefined ? ` on ${v.urn}` : ""}: ${v.message}`);
  }
  if (o.phases.length > 0) {
    lines.push(`  phases: ${o.phases.map((p) => `${p.name} ${formatDuration(p.durationMs)}${p.ok ? "" : " (failed)"}`).join(", ")}`);
  }
  if (o.backup !== undefined) {
    lines.push(`  backup: ${o.backup}`);
  }
  if (o.notification !== undefined) {
    lines.push(`  notification: ${o.notification.detail}`);
  }
  if (o.remediation.length > 0) {
    lines.push("  next steps:", ...o.remediation.map((r) => `    - ${r}`));
  }
  return `${lines.join("\n")}\n`;
}

/** "blue 100", or mid canary rollout "blue 75 / green 25, canary step 1 of 2" (and what the last update deployed when it differs). */
export function trafficOf(s: ServiceStatus): string {
  const c = s.canary;
  if (c === undefined) {
    return `${s.active} 100`;
  }
  const weights = (w: Readonly<Record<"blue" | "green", number>>): string => `blue ${w.blue} / green ${w.green}`;
  const step = c.step !== undefined && c.steps !== undefined ? `, canary step ${c.step} of ${c.steps.length}` : c.steps !== undefined ? `, canary (not one of the steps ${c.steps.join("/")}: a per-run schedule)` : ", canary (per-run steps)";
  const deployed = c.deployedWeights !== undefined && (c.deployedWeights.blue !== c.weights.blue || c.deployedWeights.green !== c.weights.green) ? ` (deployed: ${weights(c.deployedWeights)})` : "";
  return `${weights(c.weights)}${step}${deployed}`;
}

/** A short Markdown record of a deployment for `$GITHUB_STEP_SUMMARY`. */
export function outcomeMarkdown(o: Outcome): string {
  const lines = [`### ${o.operation} \`${o.stack}\`: ${o.result} (exit ${o.exitCode})`, "", o.message.replace(/\r?\n/g, " "), ""];
  if (o.services.length > 0) {
    lines.push("| service | colors | image |", "|---|---|---|");
    for (const s of o.services) {
      lines.push(`| ${s.service} | ${s.fromColor ?? ""} → ${s.toColor ?? ""} | \`${shortImage(s.oldImage)}\` → \`${shortImage(s.newImage)}\` |`);
    }
  }
  if (o.remediation.length > 0) {
    lines.push("", ...o.remediation.map((r) => `- ${r}`));
  }
  return `${lines.join("\n")}\n`;
}
