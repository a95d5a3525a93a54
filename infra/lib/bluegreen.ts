/**
 * Pure blue/green and routing logic: color selection, ALB forward actions, rule ordering and
 * drain timing. No Pulumi imports; tested table-driven (test/bluegreen.test.ts).
 */
import { COLORS } from "../domain";
import type { Color } from "../domain";
import { liveWeights } from "./canary";

/** The namespace the blue/green services run in; Pulumi owns it, ArgoCD may never target it. */
export const APPS_NAMESPACE = "apps";

export function idleColor(active: Color): Color {
  return active === "blue" ? "green" : "blue";
}

/**
 * ALB weights: the active color takes all traffic, the idle one stays registered at 0; during a
 * canary step (`canaryWeight`) the idle color takes that percentage and the active one the rest.
 */
export function colorWeights(active: Color, canaryWeight?: number): Record<Color, number> {
  return liveWeights(active, canaryWeight);
}

/**
 * A color's image, or undefined while it has none (unset or empty, e.g. the idle color before its
 * first promotion). The API server rejects a container with `image: ""`, pod templates included
 * (kubernetes v1.35.4 `pkg/apis/core/validation/validation.go:3889`), so such a color gets no
 * Deployment.
 */
export function colorImage(spec: { readonly image?: string }): string | undefined {
  return spec.image === undefined || spec.image === "" ? undefined : spec.image;
}

/** Kubernetes object name of a color's Deployment and Service. */
export function colorName(service: string, color: Color): string {
  return `${service}-${color}`;
}

/** Name of the live forward action; the Ingress backend refers to it with port `use-annotation`. */
export function liveActionName(service: string): string {
  return `${service}-live`;
}

/**
 * The AWS Load Balancer Controller's advanced forward action: both colors' target groups in one
 * forward, weighted 100/0 (or `100 - canaryWeight` / `canaryWeight` during a canary step).
 * Changing `active` or the canary weight only changes the weights, which the controller applies
 * as a single ModifyRule call per rule: atomic at the listener, no target deregistration.
 */
export function forwardAction(service: string, port: number, active: Color, canaryWeight?: number): Record<string, unknown> {
  const weights = colorWeights(active, canaryWeight);
  return {
    Type: "forward",
    ForwardConfig: {
      TargetGroups: COLORS.map((color) => ({
        ServiceName: colorName(service, color),
        ServicePort: String(port),
        Weight: weights[color],
      })),
      // Stickiness would pin clients to the old color for its duration after a flip.
      TargetGroupStickinessConfig: { Enabled: false },
    },
  };
}

/** A path prefix as the ALB sees it: `/student/*` and `/student` are the same prefix. */
export function prefixOf(path: string): string {
  const stripped = path.replace(/\/\*$/, "").replace(/\/+$/, "");
  return stripped === "" ? "/" : stripped;
}

/** True when requests for `inner` would also match `outer` (so `outer` must be evaluated later). */
export function shadows(outer: string, inner: string): boolean {
  const o = prefixOf(outer);
  const i = prefixOf(inner);
  return o !== i && (o === "/" || i.startsWith(`${o}/`));
}

/** One service's paths in evaluation order: longest prefix first, then alphabetical for stability. */
export function orderedPrefixes(paths: readonly string[]): string[] {
  const unique = [...new Set(paths.map(prefixOf))];
  return unique.sort((a, b) => b.length - a.length || a.localeCompare(b));
}

export interface RoutedService {
  readonly name: string;
  readonly paths: readonly string[];
}

/**
 * ALB rules are evaluated by IngressGroup order, then by their order inside each Ingress. Each
 * service has its own Ingress (so a flip touches only that service's object), so the services
 * must be ordered such that no service's prefix is shadowed by an earlier service's shorter one
 * (`/` of student must come after `/sugang` of subject). Returns `group.order` per service, or
 * the pair that cannot be ordered (each shadows the other).
 */
export function ingressOrder(services: readonly RoutedService[]): { order: Map<string, number> } | { conflict: [string, string] } {
  const mustPrecede = (a: RoutedService, b: RoutedService): boolean =>
    a.paths.some((pa) => b.paths.some((pb) => shadows(pb, pa)));
  for (let i = 0; i < services.length; i++) {
    for (let j = i + 1; j < services.length; j++) {
      if (mustPrecede(services[i], services[j]) && mustPrecede(services[j], services[i])) {
        return { conflict: [services[i].name, services[j].name] };
      }
    }
  }
  // Kahn's algorithm; ties broken by the longest prefix, then by name, so the order is stable.
  const longest = (s: RoutedService): number => Math.max(...s.paths.map((p) => prefixOf(p).length));
  const remaining = [...services];
  const order = new Map<string, number>();
  let position = 1;
  while (remaining.length > 0) {
    const ready = remaining.filter((s) => !remaining.some((o) => o !== s && mustPrecede(o, s)));
    ready.sort((a, b) => longest(b) - longest(a) || a.name.localeCompare(b.name));
    const next = ready[0];
    order.set(next.name, position * 10);
    position++;
    remaining.splice(remaining.indexOf(next), 1);
  }
  return { order };
}

export interface DrainTiming {
  /** Target group deregistration delay. */
  readonly deregistrationDelaySeconds: number;
  /** preStop sleep: the pod keeps serving while the ALB drains it. */
  readonly preStopSleepSeconds: number;
  readonly terminationGracePeriodSeconds: number;
}

/**
 * deregistration delay <= preStop sleep < termination grace period: the ALB stops sending new
 * requests before the container is signalled, and the app gets `shutdownSeconds` to finish
 * in-flight work before SIGKILL.
 */
export function drainTiming(deregistrationDelaySeconds: number, shutdownSeconds = 15): DrainTiming {
  const preStopSleepSeconds = deregistrationDelaySeconds + 5;
  return {
    deregistrationDelaySeconds,
    preStopSleepSeconds,
    terminationGracePeriodSeconds: preStopSleepSeconds + shutdownSeconds,
  };
}

/**
 * The idle color's share of the live forward action (the Ingress annotation as the cluster has
 * it), when it is strictly between 0 and 100: a canary rollout in progress.
 */
export function canaryShare(forward: string | undefined, active: Color, blueName: string, greenName: string): { canaryWeight?: number } {
  if (forward === undefined) {
    return {};
  }
  let groups: Array<{ ServiceName?: string; Weight?: number }> = [];
  try {
    groups = (JSON.parse(forward) as { ForwardConfig?: { TargetGroups?: Array<{ ServiceName?: string; Weight?: number }> } }).ForwardConfig?.TargetGroups ?? [];
  } catch {
    // Not the program's forward action (edited out of band): no canary to report.
  }
  const idleName = active === "blue" ? greenName : blueName;
  const weight = groups.find((g) => g.ServiceName === idleName)?.Weight ?? 0;
  return weight > 0 && weight < 100 ? { canaryWeight: weight } : {};
}
