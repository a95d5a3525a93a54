/**
 * The public host names of a stack, derived from `platform:domain` and the environment.
 * prod serves the apex; the other environments serve `<env>.<domain>`. Every other host hangs
 * under the live host, so one certificate and one hosted zone cover the stack.
 */
import type { Environment } from "../domain";
import { orderedPrefixes, prefixOf, shadows } from "./bluegreen";

export interface StackHosts {
  /** Where the services are served. */
  readonly live: string;
  /** Reaches each service's idle color (blue/green verification before a flip). */
  readonly preview: string;
  /** OpenSearch Dashboards (logs per service). */
  readonly logs: string;
  /** Prometheus, for the configured CIDRs only. */
  readonly monitoring: string;
}

export function stackHosts(environment: Environment, domain: string): StackHosts {
  const live = environment === "prod" ? domain : `${environment}.${domain}`;
  return {
    live,
    preview: `preview.${live}`,
    logs: `log.${live}`,
    monitoring: `monitoring.${live}`,
  };
}

export interface RoutedHealth {
  readonly name: string;
  readonly paths: readonly string[];
  /**
   * Where the container serves its health endpoint, as the container sees it (context path
   * included). The target group checks it on the pod, and the gates request it through the ALB,
   * which forwards the request path unchanged (aws-load-balancer-controller v2.12.0 builds
   * forward actions only, no path rewrite), so it must be a path the ALB routes to this service.
   */
  readonly healthPath: string;
  /** The prefix the container serves every route under (Spring `server.servlet.context-path`). */
  readonly contextPath?: string;
}

/** The service the ALB sends `path` to: the owner of the longest matching prefix. */
export function routeOwner(path: string, services: readonly Pick<RoutedHealth, "name" | "paths">[]): string | undefined {
  let best: { readonly prefix: string; readonly owner: string } | undefined;
  for (const s of services) {
    for (const prefix of orderedPrefixes(s.paths)) {
      const matches = prefix === prefixOf(path) || shadows(prefix, path);
      if (matches && (best === undefined || prefix.length > best.prefix.length)) {
        best = { prefix, owner: s.name };
      }
    }
  }
  return best?.owner;
}

/** True when `path` is `prefix` or below it (`/sugang/x` is under `/sugang`; everything is under `/`). */
export function isUnder(path: string, prefix: string): boolean {
  const p = prefixOf(prefix);
  return p === "/" || prefixOf(path) === p || path.startsWith(`${p}/`);
}

export interface HealthPathProblem {
  readonly message: string;
  readonly fix: string;
}

/**
 * Why the target group's check and the gates through the ALB cannot both pass for `service`, or
 * `undefined`. Both request `healthPath` (the pod directly, and the ALB unchanged), so the ALB
 * must route that path to this service, and a declared context path must prefix it.
 */
export function healthPathProblem(service: RoutedHealth, all: readonly Pick<RoutedHealth, "name" | "paths">[]): HealthPathProblem | undefined {
  const { healthPath, contextPath } = service;
  if (contextPath !== undefined && !isUnder(healthPath, contextPath)) {
    return {
      message: `"${healthPath}" does not start with the context path "${contextPath}" of service "${service.name}", which the container serves every route under`,
      fix: `give the path as the container serves it, e.g. "${prefixOf(contextPath)}${healthPath}"`,
    };
  }
  const owner = routeOwner(healthPath, all);
  if (owner === service.name) {
    return undefined;
  }
  const longest = orderedPrefixes(service.paths)[0] ?? "/";
  return {
    message:
      `the ALB routes "${healthPath}" to ${owner === undefined ? "no service" : `service "${owner}"`}, not to "${service.name}": ` +
      "the target group checks this path on the pod while the gates request it through the ALB (which forwards paths unchanged), so both cannot pass",
    fix:
      `give the path as the container serves it under one of its routed prefixes (${service.paths.join(", ")}); a service routed at "${longest}" ` +
      `serves under that context path (set contextPath: "${longest}" and e.g. healthPath: "${longest === "/" ? "" : longest}${healthPath}")`,
  };
}

/** Routed paths that do not lie under the declared context path (the container would answer 404). */
export function contextPathProblems(service: Pick<RoutedHealth, "paths" | "contextPath">): Array<{ readonly index: number; readonly message: string }> {
  const contextPath = service.contextPath;
  if (contextPath === undefined) {
    return [];
  }
  return service.paths.flatMap((p, index) =>
    isUnder(p, contextPath) ? [] : [{ index, message: `"${p}" is not under the context path "${contextPath}", so the container would answer 404 for it` }],
  );
}

/** The URL that reaches a service's health endpoint through `host`: the ALB forwards the path unchanged. */
export function healthUrl(host: string, service: Pick<RoutedHealth, "healthPath">): string {
  return `https://${host}${service.healthPath}`;
}
