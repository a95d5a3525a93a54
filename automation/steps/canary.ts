/**
 * Canary steps: before the one switch (./switch.ts), a service whose rollout is `canary` moves its
 * live weights to the new color step by step. Each step is:
 * 1. the config with `canaryWeight` (the step's percentage to the idle color), written;
 * 2. a targeted, policy-gated preview that must plan only the service's Ingress, only its live
 *    forward action, to exactly the step's weights (guards/targeted.ts, `canary-ingress`);
 * 3. one `up` targeted at that Ingress;
 * 4. the routing gate until the load balancer's live rule forwards exactly those weights;
 * 5. the analysis window: `stepSeconds` after the rule was seen applied, the load balancer's own
 *    metrics of both colors (the metrics port) judged by `judgeWindow`; too little traffic extends
 *    the window (judging everything since the step applied) up to `maxExtensions` times.
 * A failed analysis throws (GateFailure): the command's one restore puts the weights back to
 * 100/0 on the stable color, verified at the load balancer. From the first step until the switch
 * is verified an interrupt restores too (`Tx.restoreOnInterrupt`): a canary must not keep serving
 * part of the traffic unattended.
 */
import { Color } from "../../infra/config/schema";
import { StackOutputs } from "../../infra/outputs";
import { CanaryAnalysis, CanaryRollout, defaultCanary, liveWeights, stepProblems } from "../../infra/lib/canary";
import { judgeWindow, WindowVerdict } from "../analysis";
import { DriverDeps, operationMessage } from "../deps";
import { runUp } from "../engine";
import { GateFailure, InterruptedError, interruptOf, UsageError } from "../errors";
import { formatWeights, routingGate } from "../gates/routing";
import { checkTargetedPlan } from "../guards/targeted";
import { canaryPlan } from "../planning";
import { PlatformStack, RoutingReading, StackState } from "../ports";
import { editServices, otherColor, rolloutOf, ServiceEntry } from "../stackConfig";
import { Tx } from "../tx";
import { Json } from "../types";

/** One service's canary: from `stable` to `canary`, through `steps`. */
export interface CanaryRun {
  readonly service: string;
  readonly stable: Color;
  readonly canary: Color;
  readonly steps: readonly number[];
  readonly stepSeconds: number;
  readonly analysis: CanaryAnalysis;
}

/**
 * The canary a service runs when traffic moves from `from` to `to`: its configured rollout, or the
 * per-run `steps` override (with the service's window and thresholds, or the defaults). Undefined:
 * blue/green (switch at once). Throws UsageError for an override the schedule rules refuse.
 */
export function canaryRunOf(service: ServiceEntry, from: Color, to: Color, steps?: readonly number[]): CanaryRun | undefined {
  const configured = rolloutOf(service);
  const rollout: CanaryRollout | undefined = configured.strategy === "canary" ? configured : steps !== undefined ? defaultCanary() : undefined;
  if (rollout === undefined) {
    return undefined;
  }
  const schedule = steps ?? rollout.steps;
  const problems = stepProblems(schedule);
  if (problems.length > 0) {
    throw new UsageError(`${service.name}: canary steps ${schedule.join(",")}: ${problems.join("; ")}`);
  }
  if (to !== otherColor(from)) {
    throw new UsageError(`${service.name}: a canary moves traffic from the active color to the idle one`);
  }
  return { service: service.name, stable: from, canary: to, steps: schedule, stepSeconds: rollout.stepSeconds, analysis: rollout.analysis };
}

export interface CanaryRequest {
  readonly stack: PlatformStack;
  readonly state: StackState;
  /** `platform:services` as the steps start from (after staging, when images were staged). */
  readonly base: Json;
  readonly runs: readonly CanaryRun[];
  readonly outputs: StackOutputs | undefined;
  readonly region: string | undefined;
  /** What the command is doing, for the `up`s' messages, e.g. "flip student". */
  readonly label: string;
}

/** The weights of step `weight` of `run`: `weight` to the canary color, the rest to the stable one. */
export function stepWeights(run: Pick<CanaryRun, "stable">, weight: number): Record<Color, number> {
  return liveWeights(run.stable, weight);
}

/**
 * Runs every step of every run, service after service. Returns the config after the last step
 * (each service at its last weight), which the switch then replaces. Throws GateFailure on a
 * failed analysis, with the numbers and the threshold in the message.
 */
export async function stepCanaries(deps: DriverDeps, tx: Tx, req: CanaryRequest): Promise<Json> {
  let current = req.base;
  for (const run of req.runs) {
    for (const [index, weight] of run.steps.entries()) {
      const n = `${index + 1}`;
      const weights = stepWeights(run, weight);
      const what = `${req.label}: canary ${run.service} step ${n}/${run.steps.length}, ${formatWeights(new Map(Object.entries(weights) as Array<[Color, number]>))}`;
      const message = operationMessage(deps, what);
      const plan = canaryPlan(req.state, run.service, weights);
      current = editServices(current, new Map([[run.service, { canaryWeight: weight }]]));
      const config = current;
      await tx.phase(`canary-${n}-config`, () => tx.writeServices(req.stack, config));
      const checked = await tx.phase(`canary-${n}-check`, () => checkTargetedPlan(deps, req.stack, plan, "canary step", message));
      // From the first step's up on, an interrupt restores the stable weights (settle).
      tx.restoreOnInterrupt = true;
      await tx.phase(`canary-${n}`, () => runUp(deps, tx, req.stack, "canary", { message, target: plan.urns, expectedSteps: checked.changedSteps }));
      const readings = await tx.phase(`canary-${n}-routing`, () =>
        routingGate(deps, "canary-routing", { stack: req.stack.name, region: req.region, outputs: req.outputs, serving: [{ service: run.service, color: run.canary, weights }] }),
      );
      const reading = readings.get(run.service);
      const verdict = await tx.phase(`canary-${n}-analysis`, () => analyseStep(deps, { stack: req.stack.name, region: req.region, run, weight, reading, label: `${run.service} step ${n}/${run.steps.length}` }));
      deps.log.info(`canary: ${run.service} step ${n}/${run.steps.length} (${run.canary} ${weight}%) passed: ${verdict.reason}`);
    }
  }
  return current;
}

interface StepAnalysis {
  readonly stack: string;
  readonly region: string | undefined;
  readonly run: CanaryRun;
  readonly weight: number;
  readonly reading: RoutingReading | undefined;
  readonly label: string;
}

/**
 * Waits out the window, then judges both colors' metrics since the load balancer was seen forwarding
 * the step's weights; an `extend` verdict waits one more window and judges the whole of it again.
 */
async function analyseStep(deps: DriverDeps, a: StepAnalysis): Promise<WindowVerdict> {
  const { run } = a;
  const lb = a.reading?.loadBalancerArn;
  const groups = a.reading?.targetGroupArns;
  if (lb === undefined || groups === undefined) {
    throw new GateFailure("canary-analysis", `${run.service}: the load-balancer reading names no load balancer or target groups, so there are no metrics to judge ${run.canary} by`);
  }
  // Counted from when the driver saw the rule applied: the traffic of this step's weights only.
  const from = deps.clock.now();
  for (let extensions = 0; ; extensions++) {
    await deps.clock.sleep(deps.canaryWindowMs ?? run.stepSeconds * 1000, deps.signal).catch(() => {
      throw new InterruptedError(interruptOf(deps.signal));
    });
    const windows = await deps.metrics.window(
      { stack: a.stack, region: a.region, service: run.service, loadBalancerArn: lb, targetGroupArns: groups, from, to: deps.clock.now() },
      deps.signal,
    );
    const verdict = judgeWindow({ canary: windows[run.canary], stable: windows[run.stable] }, run.analysis, extensions);
    if (verdict.verdict === "pass") {
      return verdict;
    }
    if (verdict.verdict === "fail") {
      throw new GateFailure("canary-analysis", `${run.service}: canary ${run.canary} at ${a.weight}% failed its analysis (${a.label}): ${verdict.reason}`);
    }
    deps.log.info(`canary: ${a.label}: ${verdict.reason}`);
  }
}
