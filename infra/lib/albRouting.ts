/**
 * Path routing on an ALB listener: which patterns a service path becomes, and in which order
 * (priority) the rules are evaluated. Pure functions, no Pulumi imports. The EKS ingress orders
 * whole Ingresses instead (`ingressOrder` in ./bluegreen.ts); here every path is its own rule.
 */
import { prefixOf } from "./bluegreen";

/** ALB listener rules: at most 100 per listener (default quota), priorities 1-50000. */
export const MAX_RULES_PER_LISTENER = 100;
/** Longest path pattern an ALB condition value accepts. */
export const MAX_PATH_PATTERN_LENGTH = 128;

/**
 * `/student/*`, `/student/` and `/student` route the same prefix; `/` is the catch-all. The same
 * normalisation as the config's and the EKS ingress's (`prefixOf`), plus a check for callers that
 * bypass config validation.
 */
export function normaliseRoutePath(path: string): string {
  if (!path.startsWith("/")) {
    throw new Error(`route path "${path}" must start with "/"`);
  }
  return prefixOf(path);
}

/**
 * The path-pattern values of one prefix: the prefix itself and everything below it. The catch-all
 * is a single `/*`. Two values per rule stays well inside the ALB's five condition values.
 */
export function pathPatterns(path: string): string[] {
  const p = normaliseRoutePath(path);
  const patterns = p === "/" ? ["/*"] : [p, `${p}/*`];
  for (const v of patterns) {
    if (v.length > MAX_PATH_PATTERN_LENGTH) {
      throw new Error(`route path "${path}" gives the pattern "${v}", longer than the ALB's ${MAX_PATH_PATTERN_LENGTH} characters`);
    }
  }
  return patterns;
}

/**
 * A stable, readable suffix for the rule's logical name, derived from the path alone so that
 * moving a path to another service updates the rule instead of replacing it: `/` -> `root`,
 * `/student` -> `student`, `/api/v1` -> `api-v1`.
 */
export function routeSlug(path: string): string {
  const p = normaliseRoutePath(path);
  if (p === "/") {
    return "root";
  }
  return p
    .slice(1)
    .replace(/[^A-Za-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .toLowerCase();
}

export interface RouteInput {
  /** The service (target group) the paths forward to. */
  readonly service: string;
  readonly paths: readonly string[];
}

export interface PlannedRoute {
  readonly service: string;
  /** Normalised prefix, e.g. `/student` or `/`. */
  readonly path: string;
  readonly patterns: string[];
  readonly priority: number;
  /** Suffix of the listener rule's logical name. */
  readonly slug: string;
}

/**
 * One listener rule per path, priorities "longest prefix first".
 *
 * Only nested prefixes constrain the order (`/student/admin` must win over `/student`, and
 * everything over `/`), and a nested prefix is always longer, so the priority is a function of
 * the path's length: `100 * (129 - length) + rank among the paths of the same length`
 * (alphabetical). `/` (length 1) therefore always gets the lowest priority, 12800.
 *
 * Why not 1, 2, 3...: ALB priorities are unique per listener and Pulumi updates rules in
 * parallel, so renumbering existing rules when a path is added can fail with PriorityInUse.
 * Deriving the priority from the path keeps every existing rule's priority unchanged when a path
 * of another length is added; only a same-length neighbour alphabetically after it moves by one.
 */
export function planRoutes(inputs: readonly RouteInput[]): PlannedRoute[] {
  const owners = new Map<string, string>();
  const slugs = new Map<string, string>();
  const entries: Array<{ service: string; path: string }> = [];
  for (const input of inputs) {
    for (const raw of input.paths) {
      const path = normaliseRoutePath(raw);
      const owner = owners.get(path);
      if (owner !== undefined) {
        throw new Error(
          owner === input.service
            ? `path "${raw}" is listed twice for service "${input.service}"`
            : `path "${raw}" is routed to both "${owner}" and "${input.service}"; route each prefix to one service`,
        );
      }
      if (path.length > MAX_PATH_PATTERN_LENGTH - 2) {
        throw new Error(`route path "${raw}" is too long: its "/*" pattern exceeds ${MAX_PATH_PATTERN_LENGTH} characters`);
      }
      const slug = routeSlug(path);
      const clash = slugs.get(slug);
      if (clash !== undefined) {
        throw new Error(`paths "${clash}" and "${path}" map to the same rule name "${slug}"; rename one of them`);
      }
      owners.set(path, input.service);
      slugs.set(slug, path);
      entries.push({ service: input.service, path });
    }
  }
  if (entries.length > MAX_RULES_PER_LISTENER) {
    throw new Error(`${entries.length} route paths exceed the ALB's ${MAX_RULES_PER_LISTENER} rules per listener`);
  }
  const sorted = [...entries].sort((a, b) => b.path.length - a.path.length || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const rankInLength = new Map<number, number>();
  return sorted.map((e) => {
    const rank = rankInLength.get(e.path.length) ?? 0;
    rankInLength.set(e.path.length, rank + 1);
    return {
      service: e.service,
      path: e.path,
      patterns: pathPatterns(e.path),
      priority: 100 * (MAX_PATH_PATTERN_LENGTH + 1 - e.path.length) + rank,
      slug: routeSlug(e.path),
    };
  });
}
