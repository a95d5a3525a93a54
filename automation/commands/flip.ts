/**
 * flip and rollback: one service's traffic to the other color with one targeted `up`. The
 * target color is proven healthy through the preview host first; a parked target is scaled up
 * (one full `up`) and gated before traffic moves; with `idle: parked` the color left idle is
 * parked afterwards. A service whose rollout is `canary` (or a flip with `steps`) moves its live
 * weights step by step first, each step verified at the load balancer and judged on its metrics
 * (../steps/canary.ts). A rollback is always immediate; on a service left mid-rollout it returns
 * all traffic to the active (stable) color.
 */
import { Color } from "../../infra/config/schema";
import { DriverDeps, operationMessage } from "../deps";
import { GateFailure, RefusedError, UsageError } from "../errors";
import { ExitCode } from "../exitCodes";
import { healthGate } from "../gates/health";
import { identityHeadersOf, ServingIdentity } from "../gates/identity";
import { checkConverged } from "../guards/convergence";
import { checkPending } from "../guards/pending";
import { shortImage } from "../images";
import { notifyOnce, Outcome, outcomeOf, Verdict } from "../outcome";
import { colorPlan, mergePlans, parkEdits, planFlip, switchPlan } from "../planning";
import { transact } from "../recovery/settle";
import { editServices, imageOf, ServiceEntry } from "../stackConfig";
import { backupState } from "../steps/backup";
import { LoadedStack, loadStack } from "../steps/load";
import { settleSwitch, unparkColor } from "../steps/park";
import { canaryRunOf, stepCanaries } from "../steps/canary";
import { switchServices } from "../steps/switch";
import { RestorePoint, Tx } from "../tx";

export interface FlipRequest {
  readonly stack: string;
  readonly service: string;
  /** Default: the idle color. */
  readonly to?: Color;
  /** Skip the preview-host check of the target color before the flip. */
  readonly force?: boolean;
  /**
   * Canary steps for this run (percent to the new color, e.g. [10, 50]), overriding the service's
   * `rollout.steps`; a blue/green service then runs a canary with the default window and thresholds.
   */
  readonly steps?: readonly number[];
}

type SwitchKind = "flip" | "rollback";

/** Moves one service's traffic to the other color (or to `to`). */
export function flip(deps: DriverDeps, req: FlipRequest): Promise<Outcome> {
  return switchColor(deps, "flip", req);
}

/** Moves traffic back to the color that is still running (the idle one). */
export function rollback(deps: DriverDeps, req: Omit<FlipRequest, "to">): Promise<Outcome> {
  return switchColor(deps, "rollback", req);
}

async function switchColor(deps: DriverDeps, kind: SwitchKind, req: FlipRequest): Promise<Outcome> {
  const started = deps.clock.now();
  const tx = new Tx(deps, [{ service: req.service }]);
  const verdict = await transact(deps, tx, req.stack, () => switchService(deps, tx, kind, req));
  return notifyOnce(deps, kind, undefined, started, outcomeOf(tx, kind, req.stack, verdict));
}

async function switchService(deps: DriverDeps, tx: Tx, kind: SwitchKind, req: FlipRequest): Promise<Verdict> {
  const target = await loadStack(deps, tx, req.stack);
  if (target.mode === "single") {
    throw new UsageError(`stack "${req.stack}" runs one color per service (test environment): there is nothing to ${kind}`);
  }
  const svc = target.services.services.find((x) => x.name === req.service);
  if (svc === undefined) {
    throw new UsageError(`stack "${req.stack}" has no service named ${req.service}`);
  }
  checkPending(req.stack, target.state, target.locks);
  if (svc.canaryWeight !== undefined) {
    if (kind === "flip") {
      throw new RefusedError(`${svc.name} is mid canary rollout (${svc.canaryWeight}% to ${otherColorOf(svc)} in Pulumi.${req.stack}.yaml): not starting another`, [
        `\`npm run platform -- rollback ${req.stack} --service ${svc.name}\` returns all traffic to ${svc.active}; then flip again`,
      ]);
    }
    return endRollout(deps, tx, target, svc);
  }
  const planned = planFlip(svc, req.to);
  tx.services = [{ service: svc.name, fromColor: planned.from, toColor: planned.to, oldImage: imageOf(svc, planned.from), newImage: planned.image }];
  if (planned.to === planned.from) {
    return { exitCode: ExitCode.Ok, result: "no-op", message: `${svc.name}: ${planned.to} is already active`, remediation: [] };
  }
  if (planned.image === undefined) {
    throw new RefusedError(`${svc.name}: ${planned.to} has no image; there is nothing running to ${kind} to`);
  }
  checkConverged(req.stack, [svc], target.outputs, () => [planned.from, planned.to]);
  // Decided before any change: a bad --steps is a usage error, not a restore.
  const canary = kind === "flip" ? canaryRunOf(svc, planned.from, planned.to, req.steps) : undefined;
  // Computed before any change: a missing target refuses here, not half-way.
  const forward = switchPlan(target.state, [{ service: svc.name, to: planned.to }]);
  const back = switchPlan(target.state, [{ service: svc.name, to: planned.from }]);
  const woken = planned.targetParked ? colorPlan(target.state, svc.name, planned.to) : undefined;
  if (planned.targetParked) {
    // A parked color runs no pods: nothing to probe yet. It is scaled up (and gated) below.
    deps.log.info(`${svc.name}: ${planned.to} is parked; it is scaled up and gated before traffic moves`);
  } else if (req.force !== true) {
    await refuseUnhealthyTarget(deps, tx, target, svc.name, { headers: identityHeadersOf(svc), color: planned.to, image: planned.image });
  }
  await backupState(deps, tx, req.stack, kind, target.state);
  const headers = identityHeadersOf(svc);
  const point: RestorePoint = {
    stack: target.stack,
    services: target.services.raw,
    serving: [{ service: svc.name, color: planned.from, image: imageOf(svc, planned.from), headers }],
    // After an unpark the restore parks the color again: its Deployment/HPA/PDB are targets too.
    plan: woken === undefined ? back : mergePlans(back, woken),
    gate: target.gate,
    reason: `restore ${svc.name} to ${planned.from} after failed ${kind}`,
    blueGreen: true,
    region: target.region,
    outputs: target.outputs,
  };
  tx.restorePoint = point;
  const label = `${kind} ${svc.name}`;
  const outputs = planned.targetParked
    ? await unparkColor(deps, tx, { target, service: svc.name, color: planned.to, plan: woken ?? colorPlan(target.state, svc.name, planned.to), label, force: req.force === true })
    : target.outputs;
  const unpark = planned.targetParked ? { parked: { [planned.to]: false } } : {};
  const switched = editServices(target.services.raw, new Map([[svc.name, { ...unpark, active: planned.to }]]));
  const what = `${label} ${planned.from}->${planned.to} (${shortImage(planned.image)})`;
  const switches = [{ service: svc.name, from: planned.from, to: planned.to, image: planned.image, headers }];
  if (canary !== undefined) {
    const base = editServices(target.services.raw, new Map([[svc.name, unpark]]));
    await stepCanaries(deps, tx, { stack: target.stack, state: target.state, base, runs: [canary], outputs, region: target.region, label });
  }
  await switchServices(deps, tx, { stack: target.stack, services: switched, switches, plan: forward, message: operationMessage(deps, what), outputs, region: target.region, gate: target.gate });
  tx.restoreOnInterrupt = false;
  const toPark = parkEdits(target.services.services, [{ service: svc.name, fromColor: planned.from, toColor: planned.to }]);
  const steps = canary !== undefined ? ` after canary steps ${canary.steps.join("/")}%` : "";
  return settleSwitch(deps, tx, target, switched, toPark, kind, `${what}${steps}: verified`);
}

function otherColorOf(svc: ServiceEntry): Color {
  return svc.active === "blue" ? "green" : "blue";
}

/**
 * A rollback of a service left mid canary rollout (its `canaryWeight` still in the stack file, e.g.
 * after the driver was killed): all live traffic back to `active`, the stable color, with one
 * targeted `up` (only the Ingress's forward action changes; the in-cluster Service never left
 * `active`), verified at the load balancer and the live host. No restore point: putting the canary
 * weight back would be the wrong direction, so a failure here asks for a human (exit 4).
 */
async function endRollout(deps: DriverDeps, tx: Tx, target: LoadedStack, svc: ServiceEntry): Promise<Verdict> {
  const image = imageOf(svc, svc.active);
  const idle = otherColorOf(svc);
  tx.services = [{ service: svc.name, fromColor: idle, toColor: svc.active, oldImage: imageOf(svc, idle), newImage: image }];
  const plan = switchPlan(target.state, [{ service: svc.name, to: svc.active }]);
  await backupState(deps, tx, target.stack.name, "rollback", target.state);
  const ended = editServices(target.services.raw, new Map([[svc.name, { canaryWeight: null }]]));
  const what = `rollback ${svc.name}: end the canary (${svc.canaryWeight ?? 0}% on ${idle}), all traffic to ${svc.active}`;
  const switches = [{ service: svc.name, from: idle, to: svc.active, image, headers: identityHeadersOf(svc) }];
  await switchServices(deps, tx, { stack: target.stack, services: ended, switches, plan, message: operationMessage(deps, what), outputs: target.outputs, region: target.region, gate: target.gate });
  return { exitCode: ExitCode.Ok, result: "succeeded", message: `${what}: verified`, remediation: [] };
}

/** Before any change, the idle color must answer through the preview host: a failed gate refuses the flip. */
async function refuseUnhealthyTarget(deps: DriverDeps, tx: Tx, target: LoadedStack, service: string, identity: ServingIdentity): Promise<void> {
  const color = identity.color;
  try {
    await tx.phase("preview-health", () => healthGate(deps, "preview-health", "preview", target.outputs, [service], target.gate, new Map([[service, identity]])));
  } catch (err) {
    if (err instanceof GateFailure) {
      throw new RefusedError(`${service}: ${color} is not healthy through the preview host, not flipping (${err.message})`, [
        `check ${color}'s pods; --force skips this check`,
      ]);
    }
    throw err;
  }
}
