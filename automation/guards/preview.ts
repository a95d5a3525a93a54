/**
 * The guard preview that runs before a guarded `up`: the policy-gated preview (mandatory
 * violations stop it) and the stateful-resource refusal on what it plans.
 */
import { formatSummary } from "../changes";
import { DriverDeps } from "../deps";
import { PreviewRun, runPreview } from "../engine";
import { PlatformStack } from "../ports";
import { refuseStatefulChanges } from "./stateful";

export interface GuardRequest {
  /** Progress label, e.g. `staging policy preview`. */
  readonly label: string;
  /** Recorded with the preview: what the guarded `up` is for. */
  readonly message: string;
  readonly allowReplace: boolean;
  /** Refresh before diffing, as the `up --refresh` it guards will (see engine.ts PreviewOptions). */
  readonly refresh?: boolean;
}

export async function guardedPreview(deps: DriverDeps, stack: PlatformStack, req: GuardRequest): Promise<PreviewRun> {
  const run = await runPreview(deps, stack, req.label, req.message, { refresh: req.refresh === true });
  deps.log.info(`preview of "${stack.name}": ${formatSummary(run.summary)}`);
  refuseStatefulChanges(run.hazards, req.allowReplace);
  return run;
}
