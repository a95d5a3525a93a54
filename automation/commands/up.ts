/**
 * up: the same policy gate as `preview`, the stateful-resource guard, a backup, then `up`. A
 * failed plain `up` is not rolled back: there is no previous "good" config to return to, only
 * the state before it, which the backup keeps.
 */
import { formatSummary, summarize } from "../changes";
import { DriverDeps, operationMessage } from "../deps";
import { engineChanges, runUp } from "../engine";
import { InterruptedError, messageOf, UpFailure } from "../errors";
import { ExitCode } from "../exitCodes";
import { checkPending } from "../guards/pending";
import { violationsOf } from "../guards/policy";
import { guardedPreview } from "../guards/preview";
import { classify, Outcome, remediationOf } from "../outcome";
import { stateReport } from "../recovery/settle";
import { backupState } from "../steps/backup";
import { Tx } from "../tx";

export interface UpRequest {
  readonly stack: string;
  readonly allowReplace?: boolean;
  /**
   * Refresh before diffing, in the guard preview and in the update (`--refresh`): what re-applies
   * drift a refreshing check found. Without it both diff the last recorded state against the
   * program and never see a change made in the cluster (see commands/preview.ts driftRemediation).
   */
  readonly refresh?: boolean;
  /** Why: recorded in the stack history with the CI run link. */
  readonly message?: string;
}

type UpReport = Omit<Outcome, "operation" | "stack" | "services" | "phases" | "backup">;

export async function up(deps: DriverDeps, req: UpRequest): Promise<Outcome> {
  const tx = new Tx(deps);
  const report = await guardedUp(deps, tx, req).catch((err: unknown) => upFailure(tx, req.stack, err));
  return { operation: "up", stack: req.stack, services: [], ...report, phases: tx.phases, backup: tx.backup };
}

async function guardedUp(deps: DriverDeps, tx: Tx, req: UpRequest): Promise<UpReport> {
  const s = await tx.phase("load", () => deps.openStack(req.stack));
  tx.stack = s;
  const [state, locks] = await tx.phase("load-state", () => Promise.all([s.exportStack(), s.updateLocks()]));
  checkPending(req.stack, state, locks);
  const message = operationMessage(deps, `up ${req.stack}: ${req.message ?? "apply the program and config"}`);
  const pv = await tx.phase("policy", () => guardedPreview(deps, s, { label: `${req.stack} policy preview`, message, allowReplace: req.allowReplace === true, refresh: req.refresh === true }));
  if (engineChanges(pv.changes) === 0) {
    return { exitCode: ExitCode.Ok, result: "no-op", message: "no changes", remediation: [], changes: pv.summary, violations: pv.findings.violations };
  }
  await backupState(deps, tx, req.stack, "up", state);
  const result = await tx.phase("up", () => runUp(deps, tx, s, "up", { message, expectedSteps: pv.changedSteps, refresh: req.refresh === true }));
  const done = summarize(result.resourceChanges);
  return {
    exitCode: ExitCode.Ok,
    result: "succeeded",
    message: `updated: ${formatSummary(done)}`,
    remediation: [],
    changes: done,
    violations: pv.findings.violations,
    hazards: pv.hazards,
  };
}

async function upFailure(tx: Tx, stack: string, err: unknown): Promise<UpReport> {
  const remediation = [...remediationOf(err)];
  if (tx.backup !== undefined && tx.infraTouched) {
    remediation.push(`state backup: ${tx.backup}`);
  }
  if (err instanceof UpFailure) {
    remediation.push("a plain up is not rolled back automatically: fix the cause and re-run, or revert the change and re-run");
    return { exitCode: ExitCode.OperationFailed, result: "failed", message: err.message, remediation };
  }
  if (err instanceof InterruptedError && tx.infraTouched) {
    remediation.push(`the update was interrupted part-way; run \`npm run platform -- preview ${stack}\` to see what is left`, ...(await stateReport(stack, tx.stack)));
  }
  return { ...classify(err), message: messageOf(err), remediation, violations: violationsOf(err) };
}
