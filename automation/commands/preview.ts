/** preview: the policy-gated preview CI runs on pull requests (and for drift checks). */
import { formatSummary, previewMarkdown, summarize } from "../changes";
import { DriverDeps, operationMessage } from "../deps";
import { engineChanges, PreviewRun, runPreview } from "../engine";
import { messageOf } from "../errors";
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
  return {
    operation: "preview",
    stack: req.stack,
    exitCode: drift ? ExitCode.Drift : ExitCode.Ok,
    result: drift ? "drift" : "succeeded",
    message: `${verdict}: ${formatSummary(run.summary)}`,
    remediation: drift ? [`inspect the difference; \`npm run platform -- up ${req.stack}\` applies the code, \`pulumi refresh\` adopts out-of-band changes`] : [],
    services: [],
    changes: run.summary,
    violations: run.findings.violations,
    hazards: run.hazards,
  };
}
