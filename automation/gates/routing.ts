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
  /**
   * The color each service must now be routed to; with `weights` (a canary step), exactly those
   * weights instead of all traffic to `color`.
   */
  readonly serving: ReadonlyArray<{ readonly service: string; readonly color: Color; readonly weights?: Readonly<Record<Color, number>> }>;
}

/** True when `reading` forwards all traffic to `color` and none elsewhere. Pure. */
export function routesTo(reading: Pick<RoutingReading, "weights">, color: Color): boolean {
  const total = [...reading.weights.values()].reduce((a, b) => a + b, 0);
  return (reading.weights.get(color) ?? 0) > 0 && reading.weights.get(color) === total;
}

/**
 * True when `reading` forwards exactly `weights` (a canary step: e.g. blue 75 / green 25). The
 * controller copies the Ingress's weights into the rule unchanged (ELBv2 takes 0-999 per target
 * group), so the comparison is exact; a color the rule does not forward to counts as 0. Pure.
 */
export function routesWithWeights(reading: Pick<RoutingReading, "weights">, weights: Readonly<Record<Color, number>>): boolean {
  return COLORS.every((c) => (reading.weights.get(c) ?? 0) === weights[c]);
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

/** Polls each service's live rule until it routes as `check.serving` says; resolves with the last reading per service. */
export async function routingGate(deps: DriverDeps, phase: string, check: RoutingCheck): Promise<ReadonlyMap<string, RoutingReading>> {
  const wait = deps.routingWait ?? DEFAULT_ROUTING_WAIT;
  const deadline = deps.clock.now() + wait.timeoutMs;
  const readings = new Map<string, RoutingReading>();
  for (const { service, color, weights } of check.serving) {
    const query = routingQuery(check, service);
    if (typeof query === "string") {
      throw new GateFailure(phase, query);
    }
    const expected: Expected =
      weights === undefined
        ? { what: color, ok: (r) => routesTo(r, color) }
        : { what: formatWeights(new Map(COLORS.map((c) => [c, weights[c]] as const))), ok: (r) => routesWithWeights(r, weights) };
    readings.set(service, await untilRouted(deps, phase, query, expected, deadline, wait));
  }
  return readings;
}

/** What the rule must forward: a color (all traffic) or a canary step's exact weights. */
interface Expected {
  readonly what: string;
  readonly ok: (reading: RoutingReading) => boolean;
}

async function untilRouted(deps: DriverDeps, phase: string, query: RoutingQuery, expected: Expected, deadline: number, wait: { readonly timeoutMs: number; readonly intervalMs: number }): Promise<RoutingReading> {
  const color = expected.what;
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
    if (typeof reading !== "string" && expected.ok(reading)) {
      deps.log.info(`${phase}: ${query.service}: the load balancer forwards ${formatWeights(reading.weights)} (${reading.detail})`);
      return reading;
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
