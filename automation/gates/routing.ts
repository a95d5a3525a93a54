/**
 * After a switch's `up`, the load balancer's own view: the service's live listener rule must
 * forward 100 to the new color (and 0 to the other). `up` returning says only that the
 * Kubernetes API accepted the Ingress: the pulumi-kubernetes 4.25.0 Ingress awaiter succeeds as
 * soon as the Ingress has a load-balancer address and its backends' Endpoints objects exist
 * (pkg/await/ingress.go:97-143, 324, 351-415), and the AWS Load Balancer Controller rewrites the
 * listener rule afterwards, asynchronously. Polled until a deadline; a rule that never moves
 * fails the gate, and the command restores.
 */
import { Color, COLORS } from "../../infra/config/schema";
import { StackOutputs } from "../../infra/outputs";
import { DriverDeps } from "../deps";
import { GateFailure, InterruptedError, interruptOf, messageOf, throwIfInterrupted } from "../errors";
import { RoutingQuery, RoutingReading } from "../ports";
import { colorServiceName } from "../stackConfig";

/** The controller usually reconciles within seconds; a busy one (many Ingresses in the group) within minutes. */
export const DEFAULT_ROUTING_WAIT = { timeoutMs: 300_000, intervalMs: 5_000 };

export interface RoutingCheck {
  readonly stack: string;
  readonly region: string | undefined;
  readonly outputs: StackOutputs | undefined;
  /** The color each service must now be routed to. */
  readonly serving: ReadonlyArray<{ readonly service: string; readonly color: Color }>;
}

/** True when `reading` forwards all traffic to `color` and none elsewhere. Pure. */
export function routesTo(reading: Pick<RoutingReading, "weights">, color: Color): boolean {
  const total = [...reading.weights.values()].reduce((a, b) => a + b, 0);
  return (reading.weights.get(color) ?? 0) > 0 && reading.weights.get(color) === total;
}

export function formatWeights(weights: ReadonlyMap<Color, number>): string {
  return COLORS.map((c) => `${c} ${weights.get(c) ?? 0}`).join(" / ");
}

/** The query for one service's live rule, from the stack's outputs; a message when they lack what it needs. */
export function routingQuery(check: Pick<RoutingCheck, "stack" | "region" | "outputs">, service: string): RoutingQuery | string {
  const out = check.outputs?.services.get(service);
  if (check.outputs === undefined || out === undefined) {
    return `${service}: the stack outputs do not list the service`;
  }
  const url = new URL(out.liveHealthUrl);
  return {
    stack: check.stack,
    region: check.region,
    clusterName: check.outputs.clusterName,
    // The program joins every Ingress of a stack to the IngressGroup named after its environment.
    ingressGroup: check.outputs.environment,
    namespace: out.namespace,
    service,
    liveHost: url.hostname,
    livePath: url.pathname,
    paths: out.paths,
    colorServices: { blue: colorServiceName(service, "blue", out), green: colorServiceName(service, "green", out) },
  };
}

export async function routingGate(deps: DriverDeps, phase: string, check: RoutingCheck): Promise<void> {
  const wait = deps.routingWait ?? DEFAULT_ROUTING_WAIT;
  const deadline = deps.clock.now() + wait.timeoutMs;
  for (const { service, color } of check.serving) {
    const query = routingQuery(check, service);
    if (typeof query === "string") {
      throw new GateFailure(phase, query);
    }
    await untilRouted(deps, phase, query, color, deadline, wait);
  }
}

async function untilRouted(deps: DriverDeps, phase: string, query: RoutingQuery, color: Color, deadline: number, wait: { readonly timeoutMs: number; readonly intervalMs: number }): Promise<void> {
  let last = "not read yet";
  for (;;) {
    throwIfInterrupted(deps.signal);
    const reading = await deps.routing.liveWeights(query, deps.signal).then(
      (r) => r,
      (err: unknown) => {
        throwIfInterrupted(deps.signal);
        return `the live rule could not be read: ${messageOf(err)}`;
      },
    );
    if (typeof reading !== "string" && routesTo(reading, color)) {
      deps.log.info(`${phase}: ${query.service}: the load balancer forwards ${formatWeights(reading.weights)} (${reading.detail})`);
      return;
    }
    last = typeof reading === "string" ? reading : `forwards ${formatWeights(reading.weights)} (${reading.detail})`;
    if (deps.clock.now() + wait.intervalMs > deadline) {
      throw new GateFailure(
        phase,
        `${query.service}: the load balancer does not route to ${color} within ${Math.round(wait.timeoutMs / 1000)} s: ${last}`,
      );
    }
    deps.log.info(`${phase}: ${query.service}: not yet routed to ${color}: ${last}`);
    await deps.clock.sleep(wait.intervalMs, deps.signal).catch(() => {
      throw new InterruptedError(interruptOf(deps.signal));
    });
  }
}
