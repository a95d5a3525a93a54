/**
 * Staging: the new images go into their slots (the idle colors in blue/green, the active color on
 * the test host) with one guarded, full `up`; the Kubernetes provider awaits the new pods'
 * readiness before the `up` returns. In blue/green the staged colors are then checked through the
 * preview host before any traffic moves to them.
 */
import { StackOutputs } from "../../infra/outputs";
import { DriverDeps, operationMessage } from "../deps";
import { PreviewRun, runUp } from "../engine";
import { healthGate } from "../gates/health";
import { identityHeadersOf, ServingIdentity } from "../gates/identity";
import { guardedPreview } from "../guards/preview";
import { StagingPlan, stagingEdits } from "../planning";
import { editServices, readStackOutputs } from "../stackConfig";
import { Tx } from "../tx";
import { LoadedStack } from "./load";

export interface StageRequest {
  readonly target: LoadedStack;
  readonly plan: StagingPlan;
  /** What is deployed, for the preview's and the `up`'s message. */
  readonly what: string;
  readonly allowReplace: boolean;
}

export interface Staged {
  readonly outputs: StackOutputs | undefined;
  readonly preview: PreviewRun;
}

/** Phases `stage-config`, `policy`, `stage` (`deploy` on the test host) and, in blue/green, `preview-health`. */
export async function stageImages(deps: DriverDeps, tx: Tx, req: StageRequest): Promise<Staged> {
  const { stack, services, gate } = req.target;
  await tx.phase("stage-config", () => tx.writeServices(stack, editServices(services.raw, stagingEdits(req.plan))));
  const message = operationMessage(deps, req.what);
  const preview = await tx.phase("policy", () =>
    guardedPreview(deps, stack, { label: `${stack.name} policy preview`, message, allowReplace: req.allowReplace }),
  );
  const phase = req.plan.mode === "single" ? "deploy" : "stage";
  const up = await tx.phase(phase, () => runUp(deps, tx, stack, phase, { message, expectedSteps: preview.changedSteps }));
  // An up whose outputs could not be read after it succeeded returns none: the URLs read before still hold.
  const outputs = readStackOutputs(stack.name, up.outputs) ?? req.target.outputs;
  if (req.plan.mode === "blue-green") {
    const staged = req.plan.changes.map((c) => c.service);
    // The preview host must be answered by the staged color, running the new image.
    const identities = new Map<string, ServingIdentity>(
      req.plan.changes.map((c) => [c.service, { headers: identityHeadersOf(services.services.find((s) => s.name === c.service)), color: c.slot, image: c.newImage }]),
    );
    await tx.phase("preview-health", () => healthGate(deps, "preview-health", "preview", outputs, staged, gate, identities));
  }
  return { outputs, preview };
}
