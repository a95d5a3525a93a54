/** `platform:services`: the blue/green contract of each service, and the routing rules between services. */
import { z } from "zod";
import { COLORS, isColor } from "../../domain";
import type { Color } from "../../domain";
import { ingressOrder, prefixOf } from "../../lib/bluegreen";
import { contextPathProblems, healthPathProblem } from "../../lib/hosts";
import { Ctx, dnsLabel, envName, fail } from "./common";

/**
 * An OCI image reference pinned by tag or digest: `[registry/]repo:tag` or `[registry/]repo@sha256:<64 hex>`.
 * A bare `repo` (implicitly `:latest`) is rejected: what runs must be reviewable in the stack file.
 */
const IMAGE_REF =
  /^(?:(?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+(?::\d+)?\/|localhost(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/;

export function isImageRef(text: string): boolean {
  return IMAGE_REF.test(text);
}

const colorSpec = z.strictObject({
  image: z.string().optional(),
  /**
   * The color runs no pods (0 replicas, no HPA). Written by the automation driver when the
   * service's `idle` is `parked`; only the idle color can be parked. Default: false.
   */
  parked: z.boolean().optional(),
});

export const serviceSchema = z.strictObject({
  name: dnsLabel,
  port: z.number().int(),
  /**
   * The health endpoint as the container serves it, context path included (`/sugang/actuator/health`
   * for a service under `/sugang`). The one source of both checks: the target group requests it on
   * the pod, the driver's gates and the Route 53 check request it through the ALB, which forwards
   * paths unchanged. So it must be a path the ALB routes to this service (config checks it).
   */
  healthPath: z.string().startsWith("/"),
  /**
   * Removed: the public path is `healthPath` itself. Kept in the schema only to say so (a set
   * value is rejected with the migration).
   */
  publicHealthPath: z.string().optional(),
  /**
   * The prefix the container serves every route under (Spring `server.servlet.context-path`,
   * FastAPI `root_path`), stated so config can check it: every entry of `paths` and `healthPath`
   * lie under it. Default: none stated (the routing check on `healthPath` still applies).
   */
  contextPath: z.string().regex(/^\/[^*?]*[^/*?]$/, 'must start with "/", not end with "/", and hold no wildcard, e.g. /sugang').optional(),
  paths: z.array(z.string().startsWith("/")).min(1),
  active: z.string(),
  blue: colorSpec,
  green: colorSpec,
  /** Replicas of each color when no autoscaling is given (default 2). */
  replicas: z.number().int().min(1).max(100).optional(),
  /** HPA of each color (default: min = replicas, max = 2 x replicas, 70% CPU). */
  autoscaling: z
    .strictObject({
      minReplicas: z.number().int().min(1).max(500),
      maxReplicas: z.number().int().min(1).max(500),
      targetCpuUtilization: z.number().int().min(10).max(95),
    })
    .optional(),
  /** Container requests and limits (default 250m / 512Mi requested, 1 CPU / 1Gi limit). */
  resources: z
    .strictObject({
      cpu: z.string().regex(/^\d+(\.\d+)?m?$/),
      memory: z.string().regex(/^\d+(Ki|Mi|Gi)$/),
      cpuLimit: z.string().regex(/^\d+(\.\d+)?m?$/),
      memoryLimit: z.string().regex(/^\d+(Ki|Mi|Gi)$/),
    })
    .optional(),
  /** Node group (its `name`) the pods must run on: node affinity on `platform.io/node-group`. Default: the first group. */
  nodeGroup: dnsLabel.optional(),
  /**
   * What happens to the idle color after a successful promotion or flip. `warm` (default) keeps
   * it at full size, so a rollback is one targeted `up` with no scale-up; `parked` has the driver
   * scale it to 0 (`<color>.parked`), trading an instant rollback for half the pods.
   */
  idle: z.enum(["warm", "parked"]).optional(),
  /** Plain, non-secret environment variables for the container. */
  env: z.record(envName, z.string()).optional(),
  /** Whether the service reads and writes the user-images bucket (grants an IRSA / instance role). */
  imageBucketAccess: z.boolean().optional(),
});
export type ServiceConfigInput = z.infer<typeof serviceSchema>;

export interface ServiceConfig
  extends Omit<ServiceConfigInput, "active" | "replicas" | "env" | "imageBucketAccess" | "autoscaling" | "resources" | "idle" | "publicHealthPath"> {
  readonly active: Color;
  readonly replicas: number;
  readonly autoscaling: { readonly minReplicas: number; readonly maxReplicas: number; readonly targetCpuUtilization: number };
  readonly resources: { readonly cpu: string; readonly memory: string; readonly cpuLimit: string; readonly memoryLimit: string };
  readonly idle: "warm" | "parked";
  readonly env: Readonly<Record<string, string>>;
  readonly imageBucketAccess: boolean;
}

/** What the service rules read besides the services. */
interface ServiceCheckInput {
  readonly services: readonly ServiceConfigInput[];
  readonly cluster: { readonly enabled: boolean; readonly nodeGroups: ReadonlyArray<{ readonly name: string }> };
}

export function checkServices(cfg: ServiceCheckInput, ctx: Ctx): void {
  const names = new Map<string, number>();
  const paths = new Map<string, string>();
  cfg.services.forEach((s, i) => {
    const at = (...k: Array<string | number>): Array<string | number> => ["services", i, ...k];
    const previous = names.get(s.name);
    if (previous !== undefined) {
      fail(ctx, at("name"), `"${s.name}" is already used by services[${previous}]`, "give every service a unique name");
    } else {
      names.set(s.name, i);
    }
    if (s.port < 1 || s.port > 65535) {
      fail(ctx, at("port"), `${s.port} is outside 1-65535 for service "${s.name}"`, "use the container's listening port, e.g. 8080");
    }
    checkColors(s, i, ctx);
    if (s.autoscaling !== undefined && s.autoscaling.minReplicas > s.autoscaling.maxReplicas) {
      fail(
        ctx,
        at("autoscaling", "minReplicas"),
        `${s.autoscaling.minReplicas} is greater than maxReplicas ${s.autoscaling.maxReplicas} for service "${s.name}"`,
        "set autoscaling.minReplicas <= autoscaling.maxReplicas",
      );
    }
    if (s.nodeGroup !== undefined && cfg.cluster.enabled && !cfg.cluster.nodeGroups.some((g) => g.name === s.nodeGroup)) {
      fail(
        ctx,
        at("nodeGroup"),
        `"${s.nodeGroup}" is not a node group of this stack`,
        `use one of ${cfg.cluster.nodeGroups.map((g) => g.name).join(", ")}`,
      );
    }
    checkPaths(s, i, paths, ctx);
    checkHealthPath(s, i, cfg.services, ctx);
  });
  const routed = ingressOrder(cfg.services.map((s) => ({ name: s.name, paths: s.paths })));
  if ("conflict" in routed) {
    const [a, b] = routed.conflict;
    fail(
      ctx,
      ["services"],
      `the paths of "${a}" and "${b}" interleave (each has a prefix the other's shorter one would capture), so no ALB rule order routes both correctly`,
      "give one of the two services all of the overlapping prefixes",
    );
  }
}

/** The active color exists, has an image and is not parked; every image is pinned. */
function checkColors(s: ServiceConfigInput, i: number, ctx: Ctx): void {
  const at = (...k: Array<string | number>): Array<string | number> => ["services", i, ...k];
  if (!isColor(s.active)) {
    fail(ctx, at("active"), `"${s.active}" is not a color for service "${s.name}"`, 'set active to "blue" or "green"');
  } else {
    const color = s.active;
    if (s[color].image === undefined || s[color].image === "") {
      fail(
        ctx,
        at(color, "image"),
        `is empty but ${color} is the active color of service "${s.name}"`,
        `set services[${i}].${color}.image to the image that should serve traffic, or make the other color active`,
      );
    }
    if (s[color].parked === true) {
      fail(
        ctx,
        at(color, "parked"),
        `is true but ${color} is the active color of service "${s.name}": it would serve traffic with no pods`,
        `remove services[${i}].${color}.parked, or flip with \`npm run platform -- flip <stack> --service ${s.name}\` (it unparks the target color first)`,
      );
    }
  }
  for (const color of COLORS) {
    const image = s[color].image;
    if (image !== undefined && image !== "" && !isImageRef(image)) {
      fail(
        ctx,
        at(color, "image"),
        `"${image}" is not an image reference pinned by tag or digest`,
        "use <registry>/<repo>:<tag> or <registry>/<repo>@sha256:<64 hex digits>",
      );
    }
  }
}

/** The target group's check and the gates through the ALB request the same path, and the ALB routes it to this service. */
function checkHealthPath(s: ServiceConfigInput, i: number, all: readonly ServiceConfigInput[], ctx: Ctx): void {
  if (s.publicHealthPath !== undefined) {
    fail(
      ctx,
      ["services", i, "publicHealthPath"],
      `is no longer read: the gates request healthPath itself through the ALB, which forwards it unchanged to the pod, where the target group checks it too`,
      `remove it and set services[${i}].healthPath to the path the container serves (with its context path, e.g. "${s.publicHealthPath}")`,
    );
  }
  for (const p of contextPathProblems(s)) {
    fail(ctx, ["services", i, "paths", p.index], p.message, `route only paths under ${String(s.contextPath)} to service "${s.name}", or correct contextPath`);
  }
  const problem = healthPathProblem(s, all);
  if (problem !== undefined) {
    fail(ctx, ["services", i, "healthPath"], problem.message, problem.fix);
  }
}

/** Each path prefix is routed to exactly one service and listed once. `owners` carries prefix -> service across services. */
function checkPaths(s: ServiceConfigInput, i: number, owners: Map<string, string>, ctx: Ctx): void {
  s.paths.forEach((p, j) => {
    const key = prefixOf(p);
    const owner = owners.get(key);
    if (owner !== undefined && owner !== s.name) {
      fail(
        ctx,
        ["services", i, "paths", j],
        `"${p}" is already routed to service "${owner}"`,
        "route each path prefix to exactly one service; remove it from one of them",
      );
    } else if (owner === s.name) {
      fail(ctx, ["services", i, "paths", j], `"${p}" is listed twice for service "${s.name}"`, "list each path once");
    }
    owners.set(key, s.name);
  });
}

/** A service with its optional fields filled in, once `checkServices` has passed. */
export function normaliseService(s: ServiceConfigInput): ServiceConfig {
  const replicas = s.replicas ?? 2;
  return {
    ...s,
    active: s.active as Color,
    replicas,
    autoscaling: s.autoscaling ?? { minReplicas: replicas, maxReplicas: 2 * replicas, targetCpuUtilization: 70 },
    resources: s.resources ?? { cpu: "250m", memory: "512Mi", cpuLimit: "1", memoryLimit: "1Gi" },
    idle: s.idle ?? "warm",
    env: s.env ?? {},
    imageBucketAccess: s.imageBucketAccess ?? false,
  };
}
