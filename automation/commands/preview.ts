/** preview: the policy-gated preview CI runs on pull requests (and for drift checks). */
import { describeChanges, formatSummary, previewMarkdown, summarize } from "../changes";
import { DriverDeps, operationMessage } from "../deps";
import { engineChanges, PreviewRun, runPreview } from "../engine";
import { messageOf, OperationError } from "../errors";
import { ExitCode } from "../exitCodes";
import { violationsOf } from "../guards/policy";
import { classify, Outcome, remediationOf } from "../outcome";
import { PhaseReport } from "../ports";

export interface PreviewRequest {
  readonly stack: string;
  readonly expectNoChanges?: boolean;
}

export async function preview(deps: DriverDeps, req: PreviewRequest): Promise<Outcome> {
  const started = deps.clock.now();
  const phase = (ok: boolean): PhaseReport[] => [{ name: "preview", durationMs: deps.clock.now() - started, ok }];
  try {
    const s = await deps.openStack(req.stack);
    // A drift check compares with the cloud, not with the last state: without a refresh the
    // Kubernetes provider diffs the stored state against the program (pulumi-kubernetes v4.25.0
    // pkg/provider/provider.go:1409-1440) and an out-of-band change is invisible. `refresh: true`
    // refreshes in memory before diffing (pulumi/pkg v3.276.0 resource/deploy/deployment_executor.go:181-183).
    const drift = req.expectNoChanges === true;
    const run = await runPreview(deps, s, `${req.stack} preview`, operationMessage(deps, `preview ${req.stack}`), { refresh: drift });
    return { ...reportPreview(deps, req, run), phases: phase(true) };
  } catch (err) {
    const phases = phase(false);
    const conflict = req.expectNoChanges === true && err instanceof OperationError ? fieldConflictOf(err.message) : undefined;
    if (conflict !== undefined) {
      return { ...conflictDrift(req.stack, conflict), phases };
    }
    const { result, exitCode } = classify(err);
    const violations = violationsOf(err);
    if (violations !== undefined) {
      const findings = { steps: [], violations, errors: [] };
      deps.stepSummary?.(previewMarkdown({ stack: req.stack, summary: summarize({}), findings, hazards: [], verdict: "Mandatory policy violations" }));
    }
    return { operation: "preview", stack: req.stack, exitCode, result, message: messageOf(err), remediation: remediationOf(err), services: [], phases, violations };
  }
}

function reportPreview(deps: DriverDeps, req: PreviewRequest, run: PreviewRun): Omit<Outcome, "phases"> {
  // Counted as the engine counts for --expect-no-changes: every op but same/read/discard/read-replacement.
  const drift = req.expectNoChanges === true && engineChanges(run.changes) > 0;
  const verdict = drift
    ? "Changes found where none were expected (drift)"
    : run.hazards.length > 0
      ? "Stateful resources would be replaced or deleted: `up` will refuse without --allow-replace"
      : engineChanges(run.changes) > 0
        ? "Preview passed"
        : "No changes";
  deps.stepSummary?.(previewMarkdown({ stack: req.stack, summary: run.summary, findings: run.findings, hazards: run.hazards, verdict }));
  const changed = drift ? describeChanges(run.findings.steps) : [];
  return {
    operation: "preview",
    stack: req.stack,
    exitCode: drift ? ExitCode.Drift : ExitCode.Ok,
    result: drift ? "drift" : "succeeded",
    message: `${verdict}: ${formatSummary(run.summary)}${changed.length > 0 ? `; ${changed.join("; ")}` : ""}`,
    remediation: drift ? driftRemediation(req.stack) : [],
    services: [],
    changes: run.summary,
    violations: run.findings.violations,
    hazards: run.hazards,
  };
}

/**
 * What to do about drift a refreshing check found. The check's refresh stays in memory (a preview
 * persists nothing), so the state still holds what the last update recorded; a plain `up` diffs
 * that state against the program (pulumi-kubernetes v4.25.0 pkg/provider/provider.go:1353-1413:
 * old state pruned to the inputs' shape vs the new inputs) and finds nothing to do. `up --refresh`
 * reads the live objects first (Read returns them as the new state, provider.go:1930-1992), so the
 * same difference the check saw is applied. `pulumi refresh` alone records the live objects; the
 * program still differs from them, so the next check reports the same difference.
 */
export function driftRemediation(stack: string): string[] {
  return [
    `to put the cluster back to the code: \`npm run platform -- up ${stack} --refresh\` (a plain \`up\` diffs the last recorded state, which this check did not change, and would find nothing to do)`,
    "to keep the out-of-band change: take it into the code/config, then the check is clean",
  ];
}

/** What a server-side apply conflict in a preview says: the object and the apiserver's own words. */
export interface FieldConflict {
  /** `<namespace>/<name>` of the live object, when the message names it. */
  readonly object?: string;
  /** The apiserver's conflict clause, e.g. `conflict with "kubectl-edit" using apps/v1: .spec.replicas`. */
  readonly detail: string;
}

/**
 * The server-side apply conflict in a failed preview's message, if that is why it failed. The
 * Kubernetes provider previews with a dry-run apply without force (pulumi-kubernetes v4.25.0
 * pkg/await/await.go:579-581, patchForce 905-941), so a field another manager changed on the live
 * object (kubectl edit/set/patch) fails the preview with handleSSAErr's text (await.go:700-716):
 * "Server-Side Apply field conflict detected. ... had an apply conflict: Apply failed with N
 * conflict(s): conflict(s) with "<manager>" ...". Pure.
 */
export function fieldConflictOf(message: string): FieldConflict | undefined {
  if (!/Server-Side Apply field conflict detected|had an apply conflict/.test(message)) {
    return undefined;
  }
  const object = /reported that "([^"]+)" failed to fully initialize/.exec(message)?.[1];
  const detail = /(conflicts? with "[^"]*"[^\n]*)/.exec(message)?.[1]?.trim() ?? "a field manager other than Pulumi owns a field Pulumi sets";
  return { object, detail };
}

/**
 * A drift check whose preview hit a field conflict found drift: someone changed, outside Pulumi, a
 * field Pulumi manages. It is reported as drift (exit 6), not as a failed preview, with what the
 * next `up` would do about it: fail on the same conflict, since real updates do not force either.
 */
function conflictDrift(stack: string, c: FieldConflict): Omit<Outcome, "phases"> {
  const what = c.object !== undefined ? `"${c.object}"` : "a live object";
  return {
    operation: "preview",
    stack,
    exitCode: ExitCode.Drift,
    result: "drift",
    message: `Changes found where none were expected (drift): ${what} was changed outside Pulumi by another field manager (${c.detail})`,
    remediation: [
      `\`npm run platform -- up ${stack}\` would fail on the same conflict (updates apply without force): revert the change with the tool that made it, or take it into the code/config and remove that manager's ownership of the field`,
    ],
    services: [],
  };
}
