/**
 * The public host names of a stack, derived from `platform:domain` and the environment.
 * prod serves the apex; the other environments serve `<env>.<domain>`. Every other host hangs
 * under the live host, so one certificate and one hosted zone cover the stack.
 */
import type { Environment } from "../config/schema";
import { orderedPrefixes } from "./bluegreen";

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

/**
 * The URL that reaches `healthPath` of a service through a host: under the service's longest
 * prefix, because the ALB routes by prefix (a service behind `/sugang` serves its health
 * endpoint as `/sugang/actuator/health`; the one owning `/` serves it at the root).
 */
export function healthUrl(host: string, paths: readonly string[], healthPath: string): string {
  const longest = orderedPrefixes(paths)[0] ?? "/";
  return `https://${host}${longest === "/" ? "" : longest}${healthPath}`;
}
