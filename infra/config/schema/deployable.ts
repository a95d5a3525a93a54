/**
 * Config that AWS or Kubernetes would reject halfway through an `up`, refused before anything is
 * declared: ALB path syntax, names that grow past a limit once the program adds its suffixes,
 * requests above limits, node groups that can schedule nothing in prod, tag keys AWS reserves,
 * and instance types or engine versions outside the maintained lists (../../lib/awsCatalog.ts).
 */
import {
  availabilityZoneProblem,
  ec2InstanceTypeProblem,
  mariadbVersionProblem,
  opensearchInstanceTypeProblem,
  opensearchVersionProblem,
  rdsInstanceClassProblem,
} from "../../lib/awsCatalog";
import { RESERVED_ENV } from "../../lib/hostContainers";
import { stackHosts } from "../../lib/hosts";
import { SERVICE_DATABASE_ENV } from "../../lib/mariadb";
import { isEnvironment } from "../../domain";
import { EKS_SUPPORTED_VERSIONS } from "../../policy/rules/eks";
import type { ClusterConfig } from "./cluster";
import { Ctx, fail } from "./common";
import type { DatabaseConfig } from "./data";
import type { ObservabilityConfig } from "./observability";
import type { ServiceConfigInput } from "./services";

/** What these rules read. */
export interface DeployableCheckInput {
  readonly environment: string;
  readonly domain: string;
  readonly availabilityZones: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  readonly cluster: ClusterConfig;
  readonly testHost: { readonly enabled: boolean; readonly instanceType: string };
  readonly bastion: { readonly enabled: boolean; readonly instanceType: string };
  readonly database: DatabaseConfig;
  readonly observability: ObservabilityConfig;
  readonly argocd: { readonly enabled: boolean; readonly exposed: boolean };
  readonly imagesBucket: { readonly enabled: boolean };
  readonly services: readonly ServiceConfigInput[];
}

/**
 * Environment variables the platform sets in every service container: the EKS Deployments'
 * (SERVICE_NAME, AWS_REGION, the database contract, IMAGE_BUCKET; infra/wiring/apps.ts) and the
 * test host's (infra/lib/hostContainers.ts). A config value would be overwritten on EKS and makes
 * the test host fail.
 */
const PLATFORM_ENV = [...new Set(["SERVICE_NAME", "AWS_REGION", "IMAGE_BUCKET", ...SERVICE_DATABASE_ENV, ...RESERVED_ENV])];

/**
 * Characters an ALB path-pattern condition accepts besides its wildcards (Elastic Load Balancing
 * user guide, "Path conditions": A-Z, a-z, 0-9, _ - . $ / ~ " ' @ : + and &), and what Kubernetes
 * refuses in a Prefix path (kubernetes v1.35 pkg/apis/networking/validation: `//`, `/./`, `/../`,
 * `%2f`, and a trailing `/.` or `/..`).
 */
const PATH_CHARS = /^[A-Za-z0-9_\-.$/~"'@:+&]*$/;
const K8S_BAD_SEQUENCES = ["//", "/./", "/../", "%2f", "%2F"];
/** The longest ALB path-pattern value is 128 characters; a prefix `p` becomes `p` and `p/*`. */
const MAX_PREFIX_LENGTH = 126;

/** Why `path` is not a path prefix both the ALB and Kubernetes accept, or undefined. */
export function routePathProblem(path: string): string | undefined {
  const body = path.endsWith("/*") ? path.slice(0, -2) : path;
  if (/\s/.test(path)) {
    return `"${path}" contains whitespace`;
  }
  if (/[*?]/.test(body)) {
    return `"${path}" contains a wildcard (* or ?): the ALB would match it as a pattern, capturing paths of other services (only a trailing "/*" is accepted, and means the same prefix)`;
  }
  if (!PATH_CHARS.test(body)) {
    const bad = [...new Set([...body].filter((c) => !PATH_CHARS.test(c)))].join("");
    return `"${path}" contains ${JSON.stringify(bad)}, which an ALB path condition does not accept (A-Z a-z 0-9 _ - . $ / ~ " ' @ : + &)`;
  }
  const seq = K8S_BAD_SEQUENCES.find((s) => body.includes(s));
  if (seq !== undefined || /\/\.\.?$/.test(body)) {
    return `"${path}" contains ${seq ?? "a trailing /. or /.."}, which Kubernetes refuses in an Ingress path`;
  }
  if (body.length > MAX_PREFIX_LENGTH) {
    return `"${path}" is ${body.length} characters; its ALB pattern "${body}/*" would exceed 128`;
  }
  return undefined;
}

/**
 * The longest service name each stack shape allows, from the longest physical name derived from
 * it. EKS: the IRSA role `<service>-irsa-role-<7 hex>` (the AWS provider autonames `<logical
 * name>-<7 hex>` and fails, like the SDK's NewUniqueHex, when that exceeds IAM's 64 characters),
 * which also keeps `<service>-green` (a Service: a 63-character DNS label) and the label values
 * far below 63. Test host: the target group `<env>-host-<service>-<7 hex>`, at most 32 characters
 * (ELBv2's limit, @pulumi/aws 7.48.0 lb.TargetGroup `name`).
 */
export function maxServiceNameLength(environment: string, eks: boolean): number {
  return eks ? 64 - "-irsa-role".length - 8 : 32 - `${environment}-host-`.length - 8;
}

/** CPU as cores and memory as bytes, from the schema's spellings (`250m`, `1`, `0.5`; `512Mi`, `1Gi`). */
export function cpuCores(q: string): number {
  return q.endsWith("m") ? Number(q.slice(0, -1)) / 1000 : Number(q);
}
export function memoryBytes(q: string): number {
  const units: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
  const m = /^(\d+)(Ki|Mi|Gi)$/.exec(q);
  return m === null ? Number.NaN : Number(m[1]) * (units[m[2]] ?? 1);
}

/** Tag keys the stack's AWS provider sets on every resource (infra/providers.ts); a config value would be overwritten. */
const PLATFORM_TAG_KEYS = ["Project", "Environment", "Stack", "ManagedBy"];
/** AWS tag characters: letters, digits, spaces and `_ . : / = + - @` (AWS Tagging user guide, "Tag naming limits"). */
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/**
 * AWS allows 50 tags per resource; the platform sets 4 and components add their own (Name,
 * kubernetes.io/..., the node groups' and controllers' tags), so config keeps 10 free.
 */
const MAX_CONFIG_TAGS = 36;

export function checkDeployable(cfg: DeployableCheckInput, region: string, ctx: Ctx): void {
  cfg.availabilityZones.forEach((az, i) => {
    const problem = availabilityZoneProblem(az, region);
    if (problem !== undefined) {
      fail(ctx, ["availabilityZones", i], problem, `list zones of ${region} that exist, e.g. ${region}a and ${region}c (aws ec2 describe-availability-zones --region ${region})`);
    }
  });
  checkTags(cfg, ctx);
  checkHosts(cfg, ctx);
  checkCatalog(cfg, ctx);
  checkServiceShapes(cfg, ctx);
  checkNodeGroupsSchedule(cfg, ctx);
}

function checkTags(cfg: DeployableCheckInput, ctx: Ctx): void {
  const keys = Object.keys(cfg.tags);
  if (keys.length > MAX_CONFIG_TAGS) {
    fail(ctx, ["tags"], `lists ${keys.length} tags; AWS allows 50 per resource, and the platform and its components set up to 14 of their own`, `keep at most ${MAX_CONFIG_TAGS}`);
  }
  for (const key of keys) {
    const value = cfg.tags[key] ?? "";
    if (key.toLowerCase().startsWith("aws:")) {
      fail(ctx, ["tags", key], `the key "${key}" starts with "aws:", a prefix AWS reserves for its own tags (every create would fail)`, "rename the tag");
    } else if (PLATFORM_TAG_KEYS.includes(key)) {
      fail(ctx, ["tags", key], `"${key}" is set by the platform on every resource (it would silently replace "${value}")`, `remove it; the platform sets ${PLATFORM_TAG_KEYS.join(", ")}`);
    } else if (!TAG_CHARS.test(key) || !TAG_CHARS.test(value)) {
      fail(ctx, ["tags", key], `"${key}: ${value}" uses a character AWS tags do not accept`, "use letters, digits, spaces and _ . : / = + - @ only");
    }
  }
}

/** The stack's host names fit DNS and ACM (the certificate's first name, the live host, is at most 64 characters). */
function checkHosts(cfg: DeployableCheckInput, ctx: Ctx): void {
  if (!isEnvironment(cfg.environment)) {
    return;
  }
  const hosts = stackHosts(cfg.environment, cfg.domain);
  if (hosts.live.length > 64) {
    fail(ctx, ["domain"], `gives the live host "${hosts.live}" (${hosts.live.length} characters); ACM takes at most 64 for a certificate's first name`, "use a shorter domain");
  }
  const long = [hosts.preview, hosts.logs, hosts.monitoring, `argocd.${hosts.live}`].filter((h) => h.length > 253);
  if (long.length > 0) {
    fail(ctx, ["domain"], `gives host names longer than DNS's 253 characters (${long.join(", ")})`, "use a shorter domain");
  }
}

function checkCatalog(cfg: DeployableCheckInput, ctx: Ctx): void {
  const c = cfg.cluster;
  if (c.enabled && !(EKS_SUPPORTED_VERSIONS as readonly string[]).includes(c.version)) {
    fail(
      ctx,
      ["cluster", "version"],
      `"${c.version}" is not a Kubernetes version EKS supports (${EKS_SUPPORTED_VERSIONS.join(", ")}; EKS refuses retired and unreleased versions)`,
      `use one of ${EKS_SUPPORTED_VERSIONS.join(", ")}, upgrading one minor version at a time`,
    );
  }
  if (c.enabled) {
    c.nodeGroups.forEach((g, i) =>
      g.instanceTypes.forEach((t, j) => {
        const problem = ec2InstanceTypeProblem(t);
        if (problem !== undefined) {
          fail(ctx, ["cluster", "nodeGroups", i, "instanceTypes", j], problem, "use a current instance type, e.g. t3.large or m7g.large");
        }
      }),
    );
  }
  const hosts: Array<[boolean, string, Array<string | number>]> = [
    [cfg.testHost.enabled, cfg.testHost.instanceType, ["testHost", "instanceType"]],
    [cfg.bastion.enabled, cfg.bastion.instanceType, ["bastion", "instanceType"]],
  ];
  for (const [enabled, type, path] of hosts) {
    const problem = enabled ? ec2InstanceTypeProblem(type) : undefined;
    if (problem !== undefined) {
      fail(ctx, path, problem, "use a current instance type, e.g. t3.micro");
    }
  }
  if (cfg.database.enabled) {
    const db = cfg.database;
    const cls = rdsInstanceClassProblem(db.instanceClass);
    if (cls !== undefined) {
      fail(ctx, ["database", "instanceClass"], cls, "use a current class, e.g. db.t4g.micro or db.m6g.large");
    }
    const version = mariadbVersionProblem(db.engineVersion);
    if (version !== undefined) {
      fail(ctx, ["database", "engineVersion"], version, "use a supported major version, e.g. 11.4");
    }
  }
  const logging = cfg.observability.logging;
  if (c.enabled && logging.enabled) {
    const version = opensearchVersionProblem(logging.engineVersion);
    if (version !== undefined) {
      fail(ctx, ["observability", "logging", "engineVersion"], version, "use e.g. OpenSearch_2.19");
    }
    const types: Array<[string, Array<string | number>]> = [[logging.instanceType, ["observability", "logging", "instanceType"]]];
    if (logging.dedicatedMasters !== undefined && logging.dedicatedMasters !== null) {
      types.push([logging.dedicatedMasters.instanceType, ["observability", "logging", "dedicatedMasters", "instanceType"]]);
    }
    for (const [type, path] of types) {
      const problem = opensearchInstanceTypeProblem(type);
      if (problem !== undefined) {
        fail(ctx, path, problem, "use e.g. t3.small.search or m6g.large.search");
      }
    }
  }
}

function checkServiceShapes(cfg: DeployableCheckInput, ctx: Ctx): void {
  const eks = cfg.cluster.enabled;
  if ((eks || cfg.testHost.enabled) && cfg.services.length === 0) {
    const other = eks && ((cfg.argocd.enabled && cfg.argocd.exposed) || cfg.observability.monitoring.allowedCidrs.length > 0 || cfg.observability.logging.dashboardsCidrs.length > 0);
    if (!other) {
      fail(
        ctx,
        ["services"],
        `is empty: ${eks ? "the stack's ALB is built from the services' Ingresses, and with none the load balancer controller creates no ALB for the DNS records and health check to point at" : "the test host runs the services' containers and needs at least one"}`,
        "declare at least one service (name, port, healthPath, paths, active, blue.image)",
      );
    }
  }
  const maxName = maxServiceNameLength(cfg.environment, eks);
  cfg.services.forEach((s, i) => {
    if ((eks || cfg.testHost.enabled) && s.name.length > maxName) {
      fail(
        ctx,
        ["services", i, "name"],
        `"${s.name}" is ${s.name.length} characters; ${eks ? `its IRSA role is named "${s.name}-irsa-role-<7 hex>", beyond IAM's 64` : `its target group is named "${cfg.environment}-host-${s.name}-<7 hex>", beyond ELBv2's 32`}`,
        `use at most ${maxName} characters`,
      );
    }
    s.paths.forEach((p, j) => {
      const problem = routePathProblem(p);
      if (problem !== undefined) {
        fail(ctx, ["services", i, "paths", j], problem, 'route a plain prefix, e.g. "/student" (it covers /student and everything under it)');
      }
    });
    if (s.imageBucketAccess === true && !cfg.imagesBucket.enabled) {
      fail(ctx, ["services", i, "imageBucketAccess"], `is true for service "${s.name}" but imagesBucket.enabled is false: there is no bucket to grant`, "turn imagesBucket.enabled on, or drop imageBucketAccess");
    }
    for (const key of Object.keys(s.env ?? {})) {
      if (PLATFORM_ENV.includes(key)) {
        fail(ctx, ["services", i, "env", key], `is set by the platform in every container of service "${s.name}"`, `remove it; the platform sets ${PLATFORM_ENV.join(", ")}`);
      }
    }
    if (/\s/.test(s.healthPath) || s.healthPath.length > 1024) {
      fail(ctx, ["services", i, "healthPath"], `"${s.healthPath}" has whitespace or is longer than the target group's 1024 characters`, "give the path the container serves, e.g. /actuator/health");
    }
    const r = s.resources;
    if (r !== undefined) {
      if (cpuCores(r.cpu) > cpuCores(r.cpuLimit)) {
        fail(ctx, ["services", i, "resources", "cpu"], `${r.cpu} requested is above the limit ${r.cpuLimit} for service "${s.name}"; the API server refuses the pod template`, "request at most the limit");
      }
      if (memoryBytes(r.memory) > memoryBytes(r.memoryLimit)) {
        fail(ctx, ["services", i, "resources", "memory"], `${r.memory} requested is above the limit ${r.memoryLimit} for service "${s.name}"; the API server refuses the pod template`, "request at most the limit");
      }
      if (cpuCores(r.cpuLimit) === 0 || memoryBytes(r.memoryLimit) === 0) {
        fail(ctx, ["services", i, "resources"], `a limit of 0 for service "${s.name}" leaves its containers nothing to run with`, "set cpuLimit and memoryLimit above 0");
      }
    }
  });
}

/** In prod the node groups the services run on (the first one by default) keep at least one node. */
function checkNodeGroupsSchedule(cfg: DeployableCheckInput, ctx: Ctx): void {
  const c = cfg.cluster;
  if (cfg.environment !== "prod" || !c.enabled) {
    return;
  }
  const used = new Set([c.nodeGroups[0]?.name, ...cfg.services.map((s) => s.nodeGroup ?? c.nodeGroups[0]?.name)]);
  c.nodeGroups.forEach((g, i) => {
    if (!used.has(g.name)) {
      return;
    }
    for (const key of ["minSize", "desiredSize"] as const) {
      if (g[key] === 0) {
        fail(
          ctx,
          ["cluster", "nodeGroups", i, key],
          `is 0 in node group "${g.name}", which ${g.name === c.nodeGroups[0]?.name ? "the platform's add-ons and the services" : "services"} run on: prod could schedule nothing there (a scale-in or a new cluster starts with no nodes)`,
          `set ${key} to at least 1 (prod ships 2)`,
        );
      }
    }
  });
}
