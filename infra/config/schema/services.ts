/** `platform:services`: the blue/green contract of each service, and the routing rules between services. */
import { z } from "zod";
import { COLORS, isColor } from "../../domain";
import type { Color } from "../../domain";
import { ingressOrder, prefixOf } from "../../lib/bluegreen";
import { CANARY_DEFAULTS, isCanaryWeight, normaliseRollout, Rollout, stepProblems, stepSecondsProblem } from "../../lib/canary";
import { contextPathProblems, healthPathProblem } from "../../lib/hosts";
import { HEADER_SETTING, IDENTITY_ENV } from "../../lib/identityHeaders";
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

/** The thresholds a canary step is judged by; every field defaults (`CANARY_DEFAULTS.analysis`, infra/lib/canary.ts). */
const canaryAnalysisSchema = z.strictObject({
  /** Largest share of the new color's requests answered 5xx, 0-1. Default 0.01. */
  max5xxRatio: z.number().min(0).max(1).optional(),
  /** Largest p99 TargetResponseTime of the new color, in ms. Default 2000. */
  maxP99Ms: z.number().int().min(1).max(600_000).optional(),
  /** Largest p99 of the new color relative to the stable color's, >= 1. Default 1.5. */
  maxP99Ratio: z.number().min(1).max(100).optional(),
  /** Fewest requests of the new color per window for its numbers to count. Default 100. */
  minRequests: z.number().int().min(1).max(10_000_000).optional(),
  /** Further windows a step may wait for minRequests before it fails. Default 2. */
  maxExtensions: z.number().int().min(0).max(20).optional(),
});

/**
 * How the driver moves a service's traffic to a new color. `blueGreen` (default): all at once,
 * one targeted update. `canary`: the live weights in `steps` (percent to the new color), each
 * verified at the load balancer and judged on the ALB's CloudWatch metrics for `stepSeconds`,
 * then the blue/green switch; a failed step puts the weights back (infra/lib/canary.ts).
 */
export const rolloutSchema = z.discriminatedUnion("strategy", [
  z.strictObject({ strategy: z.literal("blueGreen") }),
  z.strictObject({
    strategy: z.literal("canary"),
    /** Default [10, 50]. */
    steps: z.array(z.number()).optional(),
    /** Default 300. */
    stepSeconds: z.number().optional(),
    analysis: canaryAnalysisSchema.optional(),
  }),
]);

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
  /**
   * How the service says who answered (read by the driver's live gate after a switch): the
   * response headers carrying its color and image, echoed from the PLATFORM_COLOR and
   * PLATFORM_IMAGE variables every color's container gets. `none` when the service cannot send
   * one; the gate then says the check was skipped. Default: `x-platform-color`, `x-platform-image`.
   */
  healthGate: z
    .strictObject({
      colorHeader: z.string().regex(HEADER_SETTING, "must be an HTTP header name or none").optional(),
      imageHeader: z.string().regex(HEADER_SETTING, "must be an HTTP header name or none").optional(),
    })
    .optional(),
  /** Default `{ strategy: blueGreen }`. */
  rollout: rolloutSchema.optional(),
  /**
   * Written by the driver during a canary rollout, never by hand: this percentage of the live
   * traffic goes to the idle color, the rest to `active`. Only the live forward action's weights
   * change; the in-cluster Service and the preview host stay on `active` and the idle color.
   * Absent (default): 100 to `active`.
   */
  canaryWeight: z.number().optional(),
});
export type ServiceConfigInput = z.infer<typeof serviceSchema>;

export interface ServiceConfig
  extends Omit<ServiceConfigInput, "active" | "replicas" | "env" | "imageBucketAccess" | "autoscaling" | "resources" | "idle" | "publicHealthPath" | "rollout"> {
  readonly active: Color;
  readonly replicas: number;
  readonly autoscaling: { readonly minReplicas: number; readonly maxReplicas: number; readonly targetCpuUtilization: number };
  readonly resources: { readonly cpu: string; readonly memory: string; readonly cpuLimit: string; readonly memoryLimit: string };
  readonly idle: "warm" | "parked";
  readonly env: Readonly<Record<string, string>>;
  readonly imageBucketAccess: boolean;
  readonly rollout: Rollout;
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
    for (const reserved of Object.values(IDENTITY_ENV)) {
      if (s.env !== undefined && reserved in s.env) {
        fail(ctx, at("env", reserved), `${reserved} is set by the platform on every color (the color and image the pod runs)`, `remove services[${i}].env.${reserved}`);
      }
    }
    checkRollout(s, i, cfg.cluster.enabled, ctx);
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

/**
 * A canary needs two colors behind one weighted forward action (EKS stacks; the test host runs one
 * color), a usable step schedule and window; `canaryWeight` is a whole percent to an idle color
 * that has an image and runs pods.
 */
function checkRollout(s: ServiceConfigInput, i: number, cluster: boolean, ctx: Ctx): void {
  const at = (...k: Array<string | number>): Array<string | number> => ["services", i, ...k];
  const r = s.rollout;
  if (r?.strategy === "canary") {
    if (!cluster) {
      fail(ctx, at("rollout", "strategy"), `is canary for service "${s.name}", but this stack runs one color per service (no cluster), so there are no weights to move`, "use strategy blueGreen (or remove rollout) on stacks without a cluster");
    }
    const steps = r.steps ?? CANARY_DEFAULTS.steps;
    for (const problem of stepProblems(steps)) {
      fail(ctx, at("rollout", "steps"), problem, "list whole percentages to the new color in increasing order, e.g. [5, 25, 50]");
    }
    const window = stepSecondsProblem(r.stepSeconds ?? CANARY_DEFAULTS.stepSeconds);
    if (window !== undefined) {
      fail(ctx, at("rollout", "stepSeconds"), window, `use a multiple of 60, e.g. ${CANARY_DEFAULTS.stepSeconds}`);
    }
  }
  const w = s.canaryWeight;
  if (w === undefined) {
    return;
  }
  if (!isCanaryWeight(w)) {
    fail(ctx, at("canaryWeight"), `${w} is not a whole percent from 1 to 99`, "remove canaryWeight (the driver writes it during a canary rollout; 100 is the switch itself: set active instead)");
    return;
  }
  if (!cluster) {
    fail(ctx, at("canaryWeight"), `is set for service "${s.name}", but this stack runs one color per service (no weighted forward action)`, "remove canaryWeight");
    return;
  }
  if (isColor(s.active)) {
    const idle: Color = s.active === "blue" ? "green" : "blue";
    if (s[idle].image === undefined || s[idle].image === "") {
      fail(ctx, at("canaryWeight"), `sends ${w}% of service "${s.name}" to ${idle}, which has no image`, `remove canaryWeight, or set services[${i}].${idle}.image`);
    } else if (s[idle].parked === true) {
      fail(ctx, at("canaryWeight"), `sends ${w}% of service "${s.name}" to ${idle}, which is parked (no pods)`, `remove canaryWeight, or remove services[${i}].${idle}.parked`);
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
    rollout: normaliseRollout(s.rollout),
  };
}
