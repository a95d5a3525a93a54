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
import { checkTargetedPlan } from "../guards/targeted";
import { TargetPlan } from "../planning";
import { healthGate } from "../gates/health";
import { IdentityHeaders, ServingIdentity } from "../gates/identity";
import { routingGate } from "../gates/routing";
import { targetHealthGate } from "../gates/targetHealth";
import { HealthGateSettings, PlatformStack } from "../ports";
import { readStackOutputs } from "../stackConfig";
import { Tx } from "../tx";
import { Json } from "../types";

export interface Switch {
  readonly service: string;
  readonly from: Color;
  readonly to: Color;
  /** The image `to` runs, which the live host must answer with. */
  readonly image: string | undefined;
  /** The identity headers the service answers with (`healthGate.colorHeader`/`imageHeader`). */
  readonly headers: IdentityHeaders;
}

export interface SwitchRequest {
  readonly stack: PlatformStack;
  /** `platform:services` as it must be after the switch (new active colors, and any other edit of this run). */
  readonly services: Json;
  readonly switches: readonly Switch[];
  /** What the targeted `up` changes and may change; see `switchPlan`. */
  readonly plan: TargetPlan;
  /** The `up`'s message: what and why. */
  readonly message: string;
  /** The outputs before the switch, for a targeted `up` that returns none. */
  readonly outputs: StackOutputs | undefined;
  readonly region: string | undefined;
  readonly gate: HealthGateSettings;
}

/**
 * Phases `flip-config`, `flip-check` (the targeted, policy-gated preview must plan exactly the
 * flip), `flip`, `routing`, `live-health`, `target-health`. Returns the outputs after the switch.
 */
export async function switchServices(deps: DriverDeps, tx: Tx, req: SwitchRequest): Promise<StackOutputs | undefined> {
  await tx.phase("flip-config", () => tx.writeServices(req.stack, req.services));
  const checked = await tx.phase("flip-check", () => checkTargetedPlan(deps, req.stack, req.plan, "flip", req.message));
  const up = await tx.phase("flip", () => runUp(deps, tx, req.stack, "flip", { message: req.message, target: req.plan.urns, expectedSteps: checked.changedSteps }));
  const outputs = readStackOutputs(req.stack.name, up.outputs) ?? req.outputs;
  await verifyServing(deps, tx, {
    stack: req.stack.name,
    outputs,
    serving: req.switches.map((s) => ({ service: s.service, color: s.to, image: s.image, headers: s.headers })),
    region: req.region,
    gate: req.gate,
    blueGreen: true,
  });
  return outputs;
}

export interface ServingCheck {
  readonly stack: string;
  readonly outputs: StackOutputs | undefined;
  readonly serving: ReadonlyArray<{ readonly service: string; readonly color: Color; readonly image: string | undefined; readonly headers: IdentityHeaders }>;
  readonly region: string | undefined;
  readonly gate: HealthGateSettings;
  /**
   * Blue/green: the listener rule is read back through the load balancer first, and the ALB's
   * target health checked last. Not on the test host, which has one color and no weighted rule.
   */
  readonly blueGreen: boolean;
}

/** The identity each serving service must answer the live host with. */
export function identitiesOf(serving: ServingCheck["serving"]): Map<string, ServingIdentity> {
  return new Map(serving.map((s) => [s.service, { headers: s.headers, color: s.color, image: s.image }] as const));
}

/**
 * Phases (blue/green) `routing`, then `live-health` and (blue/green) `target-health`: the load
 * balancer forwards to the colors that should serve, those colors are the ones answering the
 * live host, and every target behind them is healthy.
 */
export async function verifyServing(deps: DriverDeps, tx: Tx, check: ServingCheck): Promise<void> {
  const services = check.serving.map((s) => s.service);
  if (check.blueGreen) {
    await tx.phase("routing", () => routingGate(deps, "routing", { stack: check.stack, region: check.region, outputs: check.outputs, serving: check.serving }));
  }
  await tx.phase("live-health", () => healthGate(deps, "live-health", "live", check.outputs, services, check.gate, identitiesOf(check.serving)));
  if (check.blueGreen) {
    await tx.phase("target-health", () => targetHealthGate(deps, { stack: check.stack, region: check.region, outputs: check.outputs, serving: check.serving }));
  }
}
