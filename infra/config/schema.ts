/**
 * The stack configuration contract: one zod schema for every `platform:*` key.
 *
 * Components never read Pulumi config; `loadConfig` (./load.ts) parses the stack's config
 * against this schema after merging the environment's defaults (./defaults.ts), and the
 * program passes the typed result down. Cross-field rules live in `checkPlatform` so that
 * every message names the key, the value and the fix.
 */
import { z } from "zod";
import { COLORS, ENVIRONMENTS } from "../domain";
import type { Color, Environment } from "../domain";
import { argoCdProblems } from "../lib/argocd";
import { ingressOrder, prefixOf } from "../lib/bluegreen";
import { contains, findOverlaps, parseCidr } from "../lib/cidr";
import { amiTypeFor } from "../lib/instanceTypes";
import { RETENTION_DAYS } from "../lib/ism";

// Re-exported so the config's consumers (the driver among them) keep one import for its vocabulary.
export { COLORS, ENVIRONMENTS } from "../domain";
export type { Color, Environment } from "../domain";

/** A problem found in the stack config; `fix` says what to change. */
export interface IssueParams {
  readonly fix: string;
}

const DNS_LABEL = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const AZ = /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/;
const K8S_LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const K8S_LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * An OCI image reference pinned by tag or digest: `[registry/]repo:tag` or `[registry/]repo@sha256:<64 hex>`.
 * A bare `repo` (implicitly `:latest`) is rejected: what runs must be reviewable in the stack file.
 */
const IMAGE_REF =
  /^(?:(?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+(?::\d+)?\/|localhost(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/;

export function isImageRef(text: string): boolean {
  return IMAGE_REF.test(text);
}

const cidrString = z.string().superRefine((value, ctx) => {
  const parsed = parseCidr(value);
  if (typeof parsed === "string") {
    ctx.addIssue({
      code: "custom",
      message: parsed,
      params: { fix: "use an IPv4 network in CIDR notation with no host bits set, e.g. 10.20.0.0/16" },
    });
  }
});

const tags = z.record(z.string().min(1).max(128), z.string().max(256));

const nodeTaint = z.strictObject({
  key: z.string().regex(K8S_LABEL_KEY),
  value: z.string().regex(K8S_LABEL_VALUE).optional(),
  effect: z.enum(["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"]),
});

const nodeGroup = z.strictObject({
  /** Logical name; also the value of the `platform.io/node-group` label workloads select on. */
  name: z.string().regex(DNS_LABEL),
  instanceTypes: z.array(z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/)).min(1),
  capacityType: z.enum(["ON_DEMAND", "SPOT"]),
  minSize: z.number().int().min(0),
  maxSize: z.number().int().min(1),
  desiredSize: z.number().int().min(0),
  diskSizeGb: z.number().int().min(20).max(16384),
  labels: z.record(z.string().regex(K8S_LABEL_KEY), z.string().regex(K8S_LABEL_VALUE)),
  taints: z.array(nodeTaint),
});
export type NodeGroupConfig = z.infer<typeof nodeGroup>;

const colorSpec = z.strictObject({
  image: z.string().optional(),
  /**
   * The color runs no pods (0 replicas, no HPA). Written by the automation driver when the
   * service's `idle` is `parked`; only the idle color can be parked. Default: false.
   */
  parked: z.boolean().optional(),
});

const service = z.strictObject({
  name: z.string().regex(DNS_LABEL),
  port: z.number().int(),
  healthPath: z.string().startsWith("/"),
  /**
   * The path the driver's health gates and the Route 53 health check request through the ALB.
   * Default: `healthPath` when the ALB routes it to this service (e.g. it owns `/`), else
   * `healthPath` under the service's longest prefix (a context path, `/sugang/actuator/health`).
   */
  publicHealthPath: z.string().startsWith("/").optional(),
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
  nodeGroup: z.string().regex(DNS_LABEL).optional(),
  /**
   * What happens to the idle color after a successful promotion or flip. `warm` (default) keeps
   * it at full size, so a rollback is one targeted `up` with no scale-up; `parked` has the driver
   * scale it to 0 (`<color>.parked`), trading an instant rollback for half the pods.
   */
  idle: z.enum(["warm", "parked"]).optional(),
  /** Plain, non-secret environment variables for the container. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).optional(),
  /** Whether the service reads and writes the user-images bucket (grants an IRSA / instance role). */
  imageBucketAccess: z.boolean().optional(),
});
export type ServiceConfigInput = z.infer<typeof service>;

/**
 * The promotion record: which image digest of each service has passed its health gates in this
 * stack. Written by the automation driver (file backends have no stack tags), mirrored to the
 * `releases` stack output, and read by the next stage's promotion to refuse unverified digests.
 */
const release = z.strictObject({
  image: z.string().regex(/@sha256:[a-f0-9]{64}$/, "must be pinned by digest (<repo>@sha256:<64 hex>)"),
  verifiedAt: z.iso.datetime(),
  source: z.string().min(1),
  runUrl: z.url().optional(),
});
export type ReleaseRecord = z.infer<typeof release>;

/** The EKS stacks' public edge: certificate, ALB settings, access logs, DNS (infra/edge/edge.ts). */
const edge = z.strictObject({
  /** ALB deletion protection; the load balancer controller cannot delete the ALB either while it is on. */
  deletionProtection: z.boolean(),
  idleTimeoutSeconds: z.number().int().min(1).max(4000),
  /** Days ALB access logs are kept in S3. */
  accessLogExpirationDays: z.number().int().min(1).max(3653),
  /** Route 53 health check of the live host (first service's health path) with a CloudWatch alarm. */
  healthCheck: z.boolean(),
});

/** The REGIONAL WAF web ACL on the stack's ALB (EKS ingress or test host) (infra/edge/webAcl.ts). */
const waf = z.strictObject({
  enabled: z.boolean(),
  /**
   * Requests per client IP per 5 minutes. Size it for the busiest shared egress, not one user: on
   * enrolment day a campus NAT puts hundreds of students behind one address.
   */
  rateLimitPer5Min: z.number().int().min(10).max(2_000_000_000),
});

const argoCdApplication = z.strictObject({
  name: z.string().regex(DNS_LABEL),
  repoURL: z.string().regex(/^(https:\/\/|ssh:\/\/|git@)\S+$/, "must be an https://, ssh:// or git@ repository URL"),
  /** Directory in a Git repository. Exactly one of path and chart. */
  path: z.string().min(1).optional(),
  /** Chart name in a Helm repository. Exactly one of path and chart. */
  chart: z.string().min(1).optional(),
  targetRevision: z.string().min(1),
  /** Destination namespace; never the services' namespace (`apps`). */
  namespace: z.string().regex(DNS_LABEL),
  helmValues: z.record(z.string(), z.unknown()).optional(),
});

/** Argo CD via Helm, with Applications it syncs (infra/addons/argocd.ts). */
const argocd = z.strictObject({
  enabled: z.boolean(),
  /** redis-ha and two replicas (with PDBs) of server, repo-server and ApplicationSet controller. */
  highAvailability: z.boolean(),
  /** Serve the UI/API at `argocd.<live host>` through the stack's ALB, for `allowedCidrs` only. */
  exposed: z.boolean(),
  allowedCidrs: z.array(cidrString),
  applications: z.array(argoCdApplication),
});

/** Days a daily log index is kept; ISM deletes it afterwards (infra/lib/ism.ts). */
const logIndexRetentionDays = z.number().superRefine((value, ctx) => {
  if (!Number.isInteger(value) || value < RETENTION_DAYS.min || value > RETENTION_DAYS.max) {
    ctx.addIssue({
      code: "custom",
      message: `${value} is not a whole number of days from ${RETENTION_DAYS.min} to ${RETENTION_DAYS.max}`,
      params: {
        fix: `set it to the days each daily log index is kept, from ${RETENTION_DAYS.min} to ${RETENTION_DAYS.max} (e.g. 7 in staging, 30 in prod); for longer archives snapshot the indices to S3`,
      },
    });
  }
});

/** Monitoring (kube-prometheus-stack on EFS), logging (Fluentd -> OpenSearch) and their shared file system. */
const observability = z.strictObject({
  efs: z.strictObject({
    /** Daily AWS Backup of the monitoring file system (Prometheus, Alertmanager and Grafana data). */
    backup: z.boolean(),
    backupRetentionDays: z.number().int().min(1).max(36500),
  }),
  monitoring: z.strictObject({
    enabled: z.boolean(),
    /** `efs` (default, survives AZ loss) or `gp3` (EBS: POSIX, what Prometheus supports, but zonal). */
    prometheusStorage: z.enum(["efs", "gp3"]),
    retentionDays: z.number().int().min(1).max(3650),
    prometheusVolumeGi: z.number().int().min(1).max(16384),
    alertmanagerVolumeGi: z.number().int().min(1).max(1024),
    grafanaVolumeGi: z.number().int().min(1).max(1024),
    /** Source CIDRs allowed to reach Prometheus through the ALB; empty keeps Prometheus unexposed. */
    allowedCidrs: z.array(cidrString),
  }),
  logging: z.strictObject({
    enabled: z.boolean(),
    /** OpenSearch engine, e.g. `OpenSearch_2.19`. */
    engineVersion: z.string().regex(/^OpenSearch_\d+\.\d+$/),
    instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+\.search$/),
    /** Data nodes; more than one spreads them over two AZs (zone awareness), so it must be even. */
    instanceCount: z.number().int().min(1).max(80),
    volumeGb: z.number().int().min(10).max(16384),
    /** Days each daily index (`logs-<service>-YYYY.MM.DD`) is kept before ISM deletes it. */
    retentionDays: logIndexRetentionDays,
    /**
     * Dedicated master nodes, which keep cluster management off the data nodes and keep a master
     * elected when a data node is lost. Absent: the data nodes elect one. `null` removes an
     * environment default (prod ships 3).
     */
    dedicatedMasters: z
      .strictObject({
        instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+\.search$/),
        count: z.literal([3, 5], {
          error: "must be 3 or 5: dedicated masters form an odd quorum, and AWS recommends 3 for production domains",
        }),
      })
      .nullable()
      .optional(),
    /** Source CIDRs allowed to reach OpenSearch Dashboards at `log.<domain>`; empty keeps it unexposed. */
    dashboardsCidrs: z.array(cidrString),
  }),
});
export type ObservabilityConfig = z.infer<typeof observability>;

/**
 * The driver's HTTP health gate (automation/health.ts): N consecutive successes, each within a
 * latency bound, before a deadline. Declared here so the stack file is validated in one place.
 */
export const healthGateSchema = z.strictObject({
  successes: z.number().int().min(1).max(100).optional(),
  latencyMs: z.number().int().min(10).max(60_000).optional(),
  timeoutSeconds: z.number().int().min(1).max(3_600).optional(),
  intervalMs: z.number().int().min(0).max(60_000).optional(),
});

export const platformSchema = z.strictObject({
  environment: z.string(),
  availabilityZones: z.array(z.string().regex(AZ)).min(1),
  domain: z.string(),
  tags,
  logRetentionDays: z.union([
    z.literal(1), z.literal(3), z.literal(5), z.literal(7), z.literal(14), z.literal(30), z.literal(60),
    z.literal(90), z.literal(120), z.literal(150), z.literal(180), z.literal(365), z.literal(400),
    z.literal(545), z.literal(731), z.literal(1096), z.literal(1827), z.literal(3653),
  ]),
  network: z.strictObject({
    cidr: cidrString,
    /** Prefix length of every subnet cut from `cidr` when explicit subnet lists are not given. */
    subnetPrefix: z.number().int().min(16).max(28),
    privateSubnets: z.boolean(),
    natGateways: z.enum(["none", "single", "perAz"]),
    publicSubnetCidrs: z.array(cidrString).optional(),
    privateSubnetCidrs: z.array(cidrString).optional(),
  }),
  cluster: z.strictObject({
    enabled: z.boolean(),
    version: z.string().regex(/^1\.\d{2}$/),
    /** CIDRs allowed to reach the public API endpoint; empty turns the public endpoint off. */
    publicAccessCidrs: z.array(cidrString),
    /** IAM roles granted cluster-admin through access entries (CI's deploy role, the platform team). */
    adminRoleArns: z.array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/)),
    nodeGroups: z.array(nodeGroup),
    autoscaler: z.strictObject({ enabled: z.boolean() }),
    metricsServer: z.strictObject({ enabled: z.boolean() }),
  }),
  testHost: z.strictObject({
    enabled: z.boolean(),
    instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/),
    rootVolumeGb: z.number().int().min(8).max(1024),
  }),
  database: z.strictObject({
    enabled: z.boolean(),
    engineVersion: z.string().regex(/^\d+\.\d+(\.\d+)?$/),
    instanceClass: z.string().regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/),
    allocatedStorageGb: z.number().int().min(20).max(65536),
    maxAllocatedStorageGb: z.number().int().min(20).max(65536),
    multiAz: z.boolean(),
    backupRetentionDays: z.number().int().min(0).max(35),
    deletionProtection: z.boolean(),
    publiclyAccessible: z.boolean(),
    databaseName: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/),
    masterUsername: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,15}$/),
  }),
  registry: z.strictObject({
    /** Exactly one stack owns (creates) the repositories; the others look them up by name. */
    owner: z.boolean(),
    /** Untagged images are expired after a day; tagged ones beyond this count are expired. */
    keepImages: z.number().int().min(1).max(1000),
  }),
  imagesBucket: z.strictObject({
    enabled: z.boolean(),
    versioning: z.boolean(),
    forceDestroy: z.boolean(),
  }),
  api: z.strictObject({
    enabled: z.boolean(),
    memoryMb: z.number().int().min(128).max(10240),
    timeoutSeconds: z.number().int().min(1).max(29),
    throttleRateLimit: z.number().positive(),
    throttleBurstLimit: z.number().int().positive(),
  }),
  bastion: z.strictObject({
    enabled: z.boolean(),
    instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/),
    minSize: z.number().int().min(0),
    maxSize: z.number().int().min(1),
  }),
  observability,
  services: z.array(service),
  releases: z.record(z.string().regex(DNS_LABEL), release),
  healthGate: healthGateSchema,
  edge,
  waf,
  argocd,
});

/** The schema's output before the cross-field rules narrowed it. */
type RawPlatform = z.infer<typeof platformSchema>;

export interface ServiceConfig
  extends Omit<ServiceConfigInput, "active" | "replicas" | "env" | "imageBucketAccess" | "autoscaling" | "resources" | "idle"> {
  readonly active: Color;
  readonly replicas: number;
  readonly autoscaling: { readonly minReplicas: number; readonly maxReplicas: number; readonly targetCpuUtilization: number };
  readonly resources: { readonly cpu: string; readonly memory: string; readonly cpuLimit: string; readonly memoryLimit: string };
  readonly idle: "warm" | "parked";
  readonly env: Readonly<Record<string, string>>;
  readonly imageBucketAccess: boolean;
}

export interface PlatformConfig extends Omit<RawPlatform, "environment" | "services"> {
  readonly environment: Environment;
  /** `aws:region`, checked against the availability zones. */
  readonly region: string;
  readonly services: readonly ServiceConfig[];
}

type Ctx = z.RefinementCtx;

function fail(ctx: Ctx, path: Array<string | number>, message: string, fix: string): void {
  const params: IssueParams = { fix };
  ctx.addIssue({ code: "custom", path, message, params });
}

/** Cross-field rules. Runs only when every field already has the right shape. */
export function checkPlatform(cfg: RawPlatform, ctx: Ctx): void {
  const env = cfg.environment;
  if (!(ENVIRONMENTS as readonly string[]).includes(env)) {
    fail(ctx, ["environment"], `unknown environment "${env}"`, `set it to one of ${ENVIRONMENTS.join(", ")}`);
    return;
  }

  if (!DOMAIN.test(cfg.domain)) {
    fail(
      ctx,
      ["domain"],
      `"${cfg.domain}" is not a valid DNS domain`,
      "use a lower-case fully qualified name of the Route 53 hosted zone without scheme or trailing dot, e.g. example.com",
    );
  }

  const azs = cfg.availabilityZones;
  if (new Set(azs).size !== azs.length) {
    fail(ctx, ["availabilityZones"], `lists an availability zone twice (${azs.join(", ")})`, "list each zone once");
  }
  const multiAzNeeds = [
    cfg.cluster.enabled ? "cluster.enabled (EKS needs subnets in two AZs)" : undefined,
    cfg.database.enabled && cfg.database.multiAz ? "database.multiAz (a standby needs a second AZ)" : undefined,
  ].filter((x): x is string => x !== undefined);
  if (azs.length < 2 && multiAzNeeds.length > 0) {
    fail(
      ctx,
      ["availabilityZones"],
      `has ${azs.length} zone(s) but ${multiAzNeeds.join(" and ")} requires at least 2`,
      "list two zones, e.g. [ap-northeast-2a, ap-northeast-2c]",
    );
  }

  checkNetwork(cfg, ctx);
  checkCluster(cfg, ctx);
  checkObservability(cfg, ctx);

  if (cfg.database.publiclyAccessible) {
    fail(
      ctx,
      ["database", "publiclyAccessible"],
      `is true in the ${env} stack; the database must only be reachable from the workloads and the bastion`,
      "set database.publiclyAccessible to false and reach the database through the bastion (SSM port forwarding)",
    );
  }
  if (cfg.database.maxAllocatedStorageGb < cfg.database.allocatedStorageGb) {
    fail(
      ctx,
      ["database", "maxAllocatedStorageGb"],
      `${cfg.database.maxAllocatedStorageGb} is below allocatedStorageGb ${cfg.database.allocatedStorageGb}`,
      "set maxAllocatedStorageGb >= allocatedStorageGb (storage autoscaling ceiling)",
    );
  }
  if (cfg.bastion.minSize > cfg.bastion.maxSize) {
    fail(
      ctx,
      ["bastion", "minSize"],
      `${cfg.bastion.minSize} is greater than bastion.maxSize ${cfg.bastion.maxSize}`,
      "set bastion.minSize <= bastion.maxSize",
    );
  }
  if (cfg.bastion.enabled && !cfg.network.privateSubnets) {
    fail(
      ctx,
      ["bastion", "enabled"],
      "is true but network.privateSubnets is false; the bastion lives in private subnets and is reached through SSM",
      "set network.privateSubnets to true (with natGateways single or perAz) or turn the bastion off",
    );
  }
  if (cfg.testHost.enabled && cfg.cluster.enabled) {
    fail(
      ctx,
      ["testHost", "enabled"],
      "is true together with cluster.enabled; a stack runs its services either on the test host or on EKS",
      "turn one of testHost.enabled and cluster.enabled off",
    );
  }

  checkServices(cfg, ctx);
  // ArgoCD never owns the blue/green services (Pulumi does): see argoCdProblems.
  for (const p of argoCdProblems(cfg.argocd, cfg.services.map((s) => s.name))) {
    fail(ctx, ["argocd", ...p.path], p.message, p.fix);
  }
  if (cfg.argocd.enabled && !cfg.cluster.enabled) {
    fail(
      ctx,
      ["argocd", "enabled"],
      "is true but cluster.enabled is false; ArgoCD runs in the EKS cluster",
      `set argocd.enabled to false in the ${env} stack, or turn cluster.enabled on`,
    );
  }
  const serviceNames = new Set(cfg.services.map((s) => s.name));
  for (const name of Object.keys(cfg.releases)) {
    if (!serviceNames.has(name)) {
      fail(ctx, ["releases", name], `records a release of "${name}", which is not in services`, "remove the record or add the service");
    }
  }
}

function checkNetwork(cfg: RawPlatform, ctx: Ctx): void {
  const n = cfg.network;
  const vpc = parseCidr(n.cidr);
  if (typeof vpc === "string") {
    return; // already reported by the field's own check
  }
  if (vpc.prefix < 16 || vpc.prefix > 24) {
    fail(ctx, ["network", "cidr"], `${n.cidr} has a /${vpc.prefix} prefix; AWS VPCs are /16 to /24`, "use a /16 to /24 block, e.g. 10.20.0.0/16");
  }
  if (!n.privateSubnets && n.natGateways !== "none") {
    fail(
      ctx,
      ["network", "natGateways"],
      `is "${n.natGateways}" but network.privateSubnets is false; NAT gateways only serve private subnets`,
      'set natGateways to "none" or turn privateSubnets on',
    );
  }
  if (n.privateSubnets && n.natGateways === "none" && (cfg.cluster.enabled || cfg.bastion.enabled)) {
    fail(
      ctx,
      ["network", "natGateways"],
      'is "none" but nodes or the bastion in private subnets need egress (ECR pulls, SSM)',
      'set natGateways to "single" or "perAz"',
    );
  }
  const azCount = cfg.availabilityZones.length;
  const lists: Array<["publicSubnetCidrs" | "privateSubnetCidrs", string[] | undefined]> = [
    ["publicSubnetCidrs", n.publicSubnetCidrs],
    ["privateSubnetCidrs", n.privateSubnetCidrs],
  ];
  const named: Array<readonly [string, string]> = [];
  for (const [key, list] of lists) {
    if (list === undefined) {
      continue;
    }
    if (key === "privateSubnetCidrs" && !n.privateSubnets) {
      fail(ctx, ["network", key], "is set but network.privateSubnets is false", "remove it or turn privateSubnets on");
    }
    if (list.length !== azCount) {
      fail(
        ctx,
        ["network", key],
        `lists ${list.length} block(s) for ${azCount} availability zone(s)`,
        "give exactly one block per entry of availabilityZones, in the same order",
      );
    }
    list.forEach((text, i) => {
      const c = parseCidr(text);
      if (typeof c !== "string" && !contains(vpc, c)) {
        fail(ctx, ["network", key, i], `${text} lies outside the VPC block ${n.cidr}`, `pick a block inside ${n.cidr}`);
      }
      named.push([`network.${key}[${i}] (${text})`, text] as const);
    });
  }
  for (const [a, b] of findOverlaps(named)) {
    fail(ctx, ["network"], `${a} overlaps ${b}`, "give every subnet its own non-overlapping block");
  }
  if (n.publicSubnetCidrs === undefined || (n.privateSubnets && n.privateSubnetCidrs === undefined)) {
    const half = 2 ** (n.subnetPrefix - vpc.prefix - 1);
    if (n.subnetPrefix <= vpc.prefix || azCount > half) {
      fail(
        ctx,
        ["network", "subnetPrefix"],
        `/${n.subnetPrefix} subnets do not fit ${azCount} AZs of public and private subnets in ${n.cidr}`,
        `use a longer prefix (e.g. /${Math.min(28, vpc.prefix + 4)}) or a larger network.cidr`,
      );
    }
  }
  cfg.cluster.publicAccessCidrs.forEach((text, i) => {
    const c = parseCidr(text);
    if (typeof c !== "string" && c.prefix === 0) {
      fail(
        ctx,
        ["cluster", "publicAccessCidrs", i],
        `${text} opens the Kubernetes API endpoint to the whole internet`,
        "list your office/VPN/CI egress ranges, or leave the list empty to keep the endpoint private",
      );
    }
  });
}

function checkCluster(cfg: RawPlatform, ctx: Ctx): void {
  const c = cfg.cluster;
  if (!c.enabled) {
    return;
  }
  if (!cfg.network.privateSubnets) {
    fail(
      ctx,
      ["cluster", "enabled"],
      "is true but network.privateSubnets is false; worker nodes run in private subnets",
      "set network.privateSubnets to true and natGateways to single or perAz",
    );
  }
  if (c.nodeGroups.length === 0) {
    fail(ctx, ["cluster", "nodeGroups"], "is empty while the cluster is enabled", "declare at least one managed node group");
  }
  const seen = new Set<string>();
  c.nodeGroups.forEach((g, i) => {
    const at = (k: string): Array<string | number> => ["cluster", "nodeGroups", i, k];
    if (seen.has(g.name)) {
      fail(ctx, at("name"), `"${g.name}" is used by two node groups`, "give every node group a unique name");
    }
    seen.add(g.name);
    const amiTypes = new Map(g.instanceTypes.map((t) => [t, amiTypeFor(t)] as const));
    if (new Set(amiTypes.values()).size > 1) {
      fail(
        ctx,
        at("instanceTypes"),
        `mixes instance types that need different AMIs in node group "${g.name}" (${[...amiTypes].map(([t, a]) => `${t}: ${a}`).join(", ")})`,
        "keep one architecture (and accelerator kind) per node group; declare another node group for the others",
      );
    }
    if (g.minSize > g.maxSize) {
      fail(ctx, at("minSize"), `${g.minSize} is greater than maxSize ${g.maxSize} in node group "${g.name}"`, "set minSize <= maxSize");
    } else if (g.desiredSize < g.minSize || g.desiredSize > g.maxSize) {
      fail(
        ctx,
        at("desiredSize"),
        `${g.desiredSize} is outside [minSize ${g.minSize}, maxSize ${g.maxSize}] in node group "${g.name}"`,
        `set desiredSize between ${g.minSize} and ${g.maxSize}`,
      );
    }
  });
}

function checkObservability(cfg: RawPlatform, ctx: Ctx): void {
  const o = cfg.observability;
  for (const part of ["monitoring", "logging"] as const) {
    if (o[part].enabled && !cfg.cluster.enabled) {
      fail(
        ctx,
        ["observability", part, "enabled"],
        `is true but cluster.enabled is false; ${part === "monitoring" ? "Prometheus and Grafana" : "the Fluentd DaemonSet"} run in the EKS cluster`,
        `set observability.${part}.enabled to false in the ${cfg.environment} stack, or turn cluster.enabled on`,
      );
    }
  }
  const exposures: Array<[Array<string | number>, readonly string[], string]> = [
    [["observability", "monitoring", "allowedCidrs"], o.monitoring.allowedCidrs, "Prometheus"],
    [["observability", "logging", "dashboardsCidrs"], o.logging.dashboardsCidrs, "OpenSearch Dashboards"],
  ];
  for (const [path, cidrs, what] of exposures) {
    cidrs.forEach((text, i) => {
      const c = parseCidr(text);
      if (typeof c !== "string" && c.prefix === 0) {
        fail(
          ctx,
          [...path, i],
          `${text} opens ${what}, which has no login of its own, to the whole internet`,
          "list your office/VPN egress ranges, or leave the list empty to keep it reachable only through kubectl port-forward",
        );
      }
    });
  }
  const logging = o.logging;
  if (logging.enabled && logging.instanceCount > 1 && logging.instanceCount % 2 !== 0) {
    fail(
      ctx,
      ["observability", "logging", "instanceCount"],
      `${logging.instanceCount} data nodes cannot be spread evenly over two availability zones (zone awareness)`,
      `use an even count, e.g. ${logging.instanceCount + 1}, or 1 for a single-node domain`,
    );
  }
}

function checkServices(cfg: RawPlatform, ctx: Ctx): void {
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
    if (!(COLORS as readonly string[]).includes(s.active)) {
      fail(ctx, at("active"), `"${s.active}" is not a color for service "${s.name}"`, 'set active to "blue" or "green"');
    } else {
      const color = s.active as Color;
      if (s[color].image === undefined || s[color].image === "") {
        fail(
          ctx,
          at(color, "image"),
          `is empty but ${color} is the active color of service "${s.name}"`,
          `set services[${i}].${color}.image to the image that should serve traffic, or make the other color active`,
        );
      }
    }
    if ((COLORS as readonly string[]).includes(s.active) && s[s.active as Color].parked === true) {
      fail(
        ctx,
        at(s.active, "parked"),
        `is true but ${s.active} is the active color of service "${s.name}": it would serve traffic with no pods`,
        `remove services[${i}].${s.active}.parked, or flip with \`npm run platform -- flip <stack> --service ${s.name}\` (it unparks the target color first)`,
      );
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
    s.paths.forEach((p, j) => {
      const key = prefixOf(p);
      const owner = paths.get(key);
      if (owner !== undefined && owner !== s.name) {
        fail(
          ctx,
          at("paths", j),
          `"${p}" is already routed to service "${owner}"`,
          "route each path prefix to exactly one service; remove it from one of them",
        );
      } else if (owner === s.name) {
        fail(ctx, at("paths", j), `"${p}" is listed twice for service "${s.name}"`, "list each path once");
      }
      paths.set(key, s.name);
    });
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

/** Narrows the schema output once `checkPlatform` has passed. */
export function toPlatformConfig(raw: RawPlatform, region: string): PlatformConfig {
  return {
    ...raw,
    region,
    environment: raw.environment as Environment,
    services: raw.services.map((s) => ({
      ...s,
      active: s.active as Color,
      replicas: s.replicas ?? 2,
      autoscaling: s.autoscaling ?? { minReplicas: s.replicas ?? 2, maxReplicas: 2 * (s.replicas ?? 2), targetCpuUtilization: 70 },
      resources: s.resources ?? { cpu: "250m", memory: "512Mi", cpuLimit: "1", memoryLimit: "1Gi" },
      idle: s.idle ?? "warm",
      env: s.env ?? {},
      imageBucketAccess: s.imageBucketAccess ?? false,
    })),
  };
}
