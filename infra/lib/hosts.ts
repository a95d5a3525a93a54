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
  /** Where the pod serves its health endpoint (the target group's health check path). */
  readonly healthPath: string;
  /** Explicit path to probe through the ALB; wins over the derivation below. */
  readonly publicHealthPath?: string;
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

/**
 * The path that reaches a service's health endpoint through the ALB, which routes by prefix.
 * When the routing already sends `healthPath` to the service (it owns `/`, or a prefix of the
 * health path), that is the path; otherwise the service must serve it under its own longest
 * prefix (a Spring context path: `/sugang/actuator/health`). `publicHealthPath` overrides both.
 */
export function publicHealthPath(service: RoutedHealth, all: readonly Pick<RoutedHealth, "name" | "paths">[]): string {
  if (service.publicHealthPath !== undefined) {
    return service.publicHealthPath;
  }
  if (routeOwner(service.healthPath, all) === service.name) {
    return service.healthPath;
  }
  const longest = orderedPrefixes(service.paths)[0] ?? "/";
  return `${longest === "/" ? "" : longest}${service.healthPath}`;
}

/** The URL that reaches a service's health endpoint through `host` (see `publicHealthPath`). */
export function healthUrl(host: string, service: RoutedHealth, all: readonly Pick<RoutedHealth, "name" | "paths">[]): string {
  return `https://${host}${publicHealthPath(service, all)}`;
}
