/**
 * After a switch, the ALB's view of each newly active color: every registered target of its
 * target group(s) must be `healthy`. The HTTP gate proves one path works from outside; this
 * proves every pod behind the listener passed the ALB's own health checks, so no request is
 * routed to a pod that is still starting. Polled until a deadline, since targets register and
 * pass their checks some seconds after the pods become ready.
 */
import { Color } from "../../infra/config/schema";
import { StackOutputs } from "../../infra/outputs";
import { DriverDeps } from "../deps";
import { GateFailure, InterruptedError, interruptOf, messageOf, throwIfInterrupted } from "../errors";
import { TargetHealthQuery } from "../ports";
import { colorServiceName } from "../stackConfig";

export const DEFAULT_TARGET_WAIT = { timeoutMs: 180_000, intervalMs: 5_000 };

export interface TargetHealthCheck {
  readonly stack: string;
  readonly region: string | undefined;
  readonly outputs: StackOutputs | undefined;
  /** The colors that now serve traffic. */
  readonly serving: ReadonlyArray<{ readonly service: string; readonly color: Color }>;
}

export async function targetHealthGate(deps: DriverDeps, check: TargetHealthCheck): Promise<void> {
  const wait = deps.targetHealthWait ?? DEFAULT_TARGET_WAIT;
  const deadline = deps.clock.now() + wait.timeoutMs;
  for (const { service, color } of check.serving) {
    const out = check.outputs?.services.get(service);
    const query: TargetHealthQuery = {
      stack: check.stack,
      service,
      color,
      region: check.region,
      clusterName: check.outputs?.clusterName,
      namespace: out?.namespace,
      serviceName: colorServiceName(service, color, out),
    };
    await untilHealthy(deps, query, deadline, wait.intervalMs);
  }
}

async function untilHealthy(deps: DriverDeps, query: TargetHealthQuery, deadline: number, intervalMs: number): Promise<void> {
  const what = `${query.service} (${query.color})`;
  for (;;) {
    throwIfInterrupted(deps.signal);
    const r = await deps.targetHealth.check(query, deps.signal).catch((err: unknown) => {
      throwIfInterrupted(deps.signal);
      return { healthy: false, detail: `target health check failed: ${messageOf(err)}` };
    });
    if (r.healthy) {
      deps.log.info(`target-health: ${what}: ${r.detail}`);
      return;
    }
    if (deps.clock.now() + intervalMs > deadline) {
      throw new GateFailure("target-health", `${what}: ${r.detail}`);
    }
    deps.log.info(`target-health: ${what} not yet healthy: ${r.detail}`);
    await deps.clock.sleep(intervalMs, deps.signal).catch(() => {
      throw new InterruptedError(interruptOf(deps.signal));
    });
  }
}
