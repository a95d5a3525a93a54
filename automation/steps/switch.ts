/**
 * Moving traffic. `switchServices` is the one guarded, targeted switch of a set of services
 * that every traffic-moving command composes (promote and release into blue/green, flip,
 * rollback): the config with the new active colors, one `up` targeted at exactly the resources
 * a switch changes (each service's Ingress and in-cluster active Service, plus the stack's
 * outputs), then `verifyServing` through the live host and the ALB's target health. A check
 * added to a switch (a targeted guard preview before the `up`, the listener rule read back
 * through ELBv2 after it) belongs here, and then applies to every command.
 */
import { Color } from "../../infra/config/schema";
import { StackOutputs } from "../../infra/outputs";
import { DriverDeps } from "../deps";
import { runUp } from "../engine";
import { healthGate } from "../gates/health";
import { targetHealthGate } from "../gates/targetHealth";
import { HealthGateSettings, PlatformStack } from "../ports";
import { readStackOutputs } from "../stackConfig";
import { Tx } from "../tx";
import { Json } from "../types";

export interface Switch {
  readonly service: string;
  readonly from: Color;
  readonly to: Color;
}

export interface SwitchRequest {
  readonly stack: PlatformStack;
  /** `platform:services` as it must be after the switch (new active colors, and any other edit of this run). */
  readonly services: Json;
  readonly switches: readonly Switch[];
  /** What the targeted `up` changes; see `switchTargets`. */
  readonly targets: readonly string[];
  /** The `up`'s message: what and why. */
  readonly message: string;
  /** The outputs before the switch, for a targeted `up` that returns none. */
  readonly outputs: StackOutputs | undefined;
  readonly region: string | undefined;
  readonly gate: HealthGateSettings;
}

/** Phases `flip-config`, `flip`, `live-health`, `target-health`. Returns the outputs after the switch. */
export async function switchServices(deps: DriverDeps, tx: Tx, req: SwitchRequest): Promise<StackOutputs | undefined> {
  await tx.phase("flip-config", () => tx.writeServices(req.stack, req.services));
  const up = await tx.phase("flip", () => runUp(deps, tx, req.stack, "flip", { message: req.message, target: req.targets }));
  const outputs = readStackOutputs(req.stack.name, up.outputs) ?? req.outputs;
  await verifyServing(deps, tx, {
    stack: req.stack.name,
    outputs,
    serving: req.switches.map((s) => ({ service: s.service, color: s.to })),
    region: req.region,
    gate: req.gate,
    targetHealth: true,
  });
  return outputs;
}

export interface ServingCheck {
  readonly stack: string;
  readonly outputs: StackOutputs | undefined;
  readonly serving: ReadonlyArray<{ readonly service: string; readonly color: Color }>;
  readonly region: string | undefined;
  readonly gate: HealthGateSettings;
  /** The ALB's target health of the serving colors; not on the test host, which has no blue/green target groups. */
  readonly targetHealth: boolean;
}

/** Phases `live-health` and (blue/green) `target-health`: the colors that now serve traffic really do. */
export async function verifyServing(deps: DriverDeps, tx: Tx, check: ServingCheck): Promise<void> {
  const services = check.serving.map((s) => s.service);
  await tx.phase("live-health", () => healthGate(deps, "live-health", "live", check.outputs, services, check.gate));
  if (check.targetHealth) {
    await tx.phase("target-health", () => targetHealthGate(deps, { stack: check.stack, region: check.region, outputs: check.outputs, serving: check.serving }));
  }
}
