/**
 * Parking (`services[].idle: parked`): a parked color runs no pods. `unparkColor` scales a parked
 * target up and gates it before traffic moves to it; `settleSwitch` ends a verified switch by
 * parking the colors it left idle, and a failed park never undoes the switch.
 */
import { Color, COLORS } from "../../infra/config/schema";
import { StackOutputs } from "../../infra/outputs";
import { DriverDeps, operationMessage } from "../deps";
import { InterruptedError, interruptOf, messageOf } from "../errors";
import { runUp } from "../engine";
import { checkTargetedPlan } from "../guards/targeted";
import { colorPlan, mergePlans, TargetPlan } from "../planning";
import { ExitCode } from "../exitCodes";
import { healthGate } from "../gates/health";
import { identityHeadersOf } from "../gates/identity";
import { Verdict } from "../outcome";
import { PlatformStack } from "../ports";
import { editServices, imageOf, readStackOutputs, ServiceEdit, SERVICES_KEY } from "../stackConfig";
import { Tx } from "../tx";
import { Json } from "../types";
import { LoadedStack } from "./load";

export interface UnparkRequest {
  readonly target: LoadedStack;
  readonly service: string;
  readonly color: Color;
  /** The color's Deployment, HPA and PDB (`colorPlan`): the unpark's only targets. */
  readonly plan: TargetPlan;
  /** For the `up`'s message, e.g. "flip student". */
  readonly label: string;
  /** Skip the preview-host check of the woken color. */
  readonly force: boolean;
}

/**
 * Phases `unpark-config`, `unpark-check`, `unpark` and (unless forced) `preview-health`. Returns
 * the outputs after the unpark.
 *
 * Targeted at the color's Deployment, HPA and PDB rather than a full up behind the guard
 * preview: the resource set is known, and a full up would carry every other pending program
 * change (an RDS modification, say) into a flip. The targeted preview still runs first, with the
 * policy packs, and refuses anything beyond those three (a provider change rides along with any
 * targeted up). The Kubernetes provider awaits the new pods' readiness before the up returns.
 */
export async function unparkColor(deps: DriverDeps, tx: Tx, req: UnparkRequest): Promise<StackOutputs | undefined> {
  const { stack, services, gate } = req.target;
  const woken = editServices(services.raw, new Map([[req.service, { parked: { [req.color]: false } }]]));
  await tx.phase("unpark-config", () => tx.writeServices(stack, woken));
  const message = operationMessage(deps, `${req.label}: unpark ${req.color} before moving traffic to it`);
  const checked = await tx.phase("unpark-check", () => checkTargetedPlan(deps, stack, req.plan, "unpark", message));
  const woke = await tx.phase("unpark", () => runUp(deps, tx, stack, "unpark", { message, target: req.plan.urns, expectedSteps: checked.changedSteps }));
  const outputs = readStackOutputs(stack.name, woke.outputs) ?? req.target.outputs;
  if (!req.force) {
    // Past the first change, so a failure here restores (parks it again) instead of refusing.
    const entry = services.services.find((s) => s.name === req.service);
    const identity = { headers: identityHeadersOf(entry), color: req.color, image: entry === undefined ? undefined : imageOf(entry, req.color) };
    await tx.phase("preview-health", () => healthGate(deps, "preview-health", "preview", outputs, [req.service], gate, new Map([[req.service, identity]])));
  }
  return outputs;
}

interface ParkResult {
  readonly ok: boolean;
  readonly detail: string;
  /** Set when the park step was interrupted. */
  readonly interrupted?: InterruptedError;
}

/**
 * The end of a verified switch: parks the colors it left idle where the service's `idle` is
 * `parked` (`edits`, from `parkEdits`; empty: nothing to park) and says how it went.
 * `base` is the switched config; `done` what was verified.
 */
export async function settleSwitch(deps: DriverDeps, tx: Tx, target: LoadedStack, base: Json, edits: ReadonlyMap<string, ServiceEdit>, label: string, done: string): Promise<Verdict> {
  const stack = target.stack;
  if (edits.size === 0) {
    return { exitCode: ExitCode.Ok, result: "succeeded", message: done, remediation: [] };
  }
  const parked = await parkIdle(deps, tx, target, base, edits, label);
  if (parked.ok) {
    return { exitCode: ExitCode.Ok, result: "succeeded", message: `${done}; ${parked.detail}`, remediation: [] };
  }
  return {
    exitCode: parked.interrupted?.exitCode ?? ExitCode.OperationFailed,
    result: parked.interrupted !== undefined ? "interrupted" : "failed",
    message: `${done}; ${parked.detail}`,
    remediation: [
      "traffic is on the verified color; nothing was rolled back",
      `\`npm run platform -- up ${stack.name}\` converges the idle color back to warm (or re-run the command after fixing the cause)`,
    ],
  };
}

/**
 * Scales the colors in `edits` to 0 (config + one `up` targeted at their Deployments, HPAs and
 * PDBs, checked by a targeted preview first; the HPA is deleted). It never undoes the switch:
 * traffic already runs on verified pods, so a failed park puts the config back to `base` (idle
 * color warm) and reports, and the next `up` converges to that.
 */
async function parkIdle(deps: DriverDeps, tx: Tx, target: LoadedStack, base: Json, edits: ReadonlyMap<string, ServiceEdit>, label: string): Promise<ParkResult> {
  const stack: PlatformStack = target.stack;
  const what = [...edits].map(([svc, e]) => `${svc} ${COLORS.filter((c) => e.parked?.[c] === true).join("+")}`).join(", ");
  try {
    await tx.phase("park", async () => {
      const plan = mergePlans(...[...edits].flatMap(([svc, e]) => COLORS.filter((c) => e.parked?.[c] === true).map((c) => colorPlan(target.state, svc, c))));
      const message = operationMessage(deps, `${label}: park idle ${what}`);
      await stack.setConfig({ [SERVICES_KEY]: editServices(base, edits) });
      const checked = await checkTargetedPlan(deps, stack, plan, "park", message);
      await runUp(deps, tx, stack, "park", { message, target: plan.urns, expectedSteps: checked.changedSteps });
    });
    return { ok: true, detail: `parked ${what}` };
  } catch (err) {
    const configNote = await stack.setConfig({ [SERVICES_KEY]: base }).then(
      () => "the config keeps the idle color warm",
      (configErr: unknown) => `the config could not be put back (${messageOf(configErr)}): \`git checkout Pulumi.${stack.name}.yaml\``,
    );
    const interrupted = err instanceof InterruptedError ? err : deps.signal.aborted ? new InterruptedError(interruptOf(deps.signal)) : undefined;
    return { ok: false, detail: `parking ${what} failed: ${messageOf(err)}; ${configNote}`, interrupted };
  }
}
