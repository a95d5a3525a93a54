/**
 * Per-environment defaults, merged under each stack's own config before validation.
 * These are the shipped environment shapes (test: cheap, one host; staging: EKS, smaller; prod:
 * highly available); every value can be overridden
 * per stack, and the stack files spell out the ones a reviewer should see.
 */
import type { Environment, Json } from "../domain";

export type DeepPartial<T> = T extends ReadonlyArray<unknown>
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** Plain JSON value as it arrives from Pulumi config. */
export type ConfigValue = Json;

const common = {
  tags: {},
  logRetentionDays: 30,
  network: { subnetPrefix: 20, vpcEndpoints: { s3Gateway: false, interface: [] } },
  cluster: {
    enabled: false,
    // 1.35: in EKS standard support until 2027-03-27 (1.33 left it on 2026-07-29 and bills the
    // extended-support surcharge). Bump one minor at a time (the control plane cannot skip
    // versions), together with the cluster autoscaler's chart (infra/addons/clusterAutoscaler.ts).
    version: "1.35",
    // Never the extended-support surcharge by surprise: plan the bump above before the date; at
    // the date EKS upgrades the control plane itself (infra/cluster/cluster.ts, upgradePolicy).
    supportType: "STANDARD",
    publicAccessCidrs: [],
    adminRoleArns: [],
    nodeGroups: [],
    autoscaler: { enabled: true },
    metricsServer: { enabled: true },
  },
  testHost: { enabled: false, instanceType: "t3.small", rootVolumeGb: 30 },
  database: {
    enabled: true,
    engineVersion: "11.4",
    instanceClass: "db.t4g.micro",
    allocatedStorageGb: 20,
    maxAllocatedStorageGb: 100,
    multiAz: false,
    backupRetentionDays: 1,
    deletionProtection: false,
    publiclyAccessible: false,
    databaseName: "app",
    masterUsername: "platform_admin",
  },
  registry: { owner: false, keepImages: 50 },
  imagesBucket: { enabled: true, versioning: false, forceDestroy: false },
  api: { enabled: false, memoryMb: 256, timeoutSeconds: 10, throttleRateLimit: 50, throttleBurstLimit: 100 },
  bastion: { enabled: false, instanceType: "t3.micro", minSize: 1, maxSize: 2, sessionLogging: false },
  observability: {
    efs: { backup: false, backupRetentionDays: 35 },
    monitoring: {
      enabled: false,
      // EFS is what the user asked for (metrics survive the loss of a node or an AZ); gp3 is the
      // POSIX alternative Prometheus' docs prefer (see README "Prometheus storage").
      prometheusStorage: "efs",
      retentionDays: 15,
      prometheusVolumeGi: 50,
      alertmanagerVolumeGi: 2,
      grafanaVolumeGi: 5,
      allowedCidrs: [],
      delivery: true,
    },
    logging: {
      enabled: false,
      engineVersion: "OpenSearch_2.19",
      instanceType: "t3.small.search",
      instanceCount: 1,
      volumeGb: 20,
      // One week of logs fits staging's 20 GB volume with room to spare; prod keeps a month.
      retentionDays: 7,
      dashboardsCidrs: [],
      createServiceLinkedRole: false,
    },
  },
  services: [],
  releases: {},
  healthGate: {},
  edge: { deletionProtection: false, idleTimeoutSeconds: 60, accessLogExpirationDays: 90, healthCheck: true, alarmEmails: [] },
  // 2000 requests per IP per 5 minutes (about 7 per second sustained): far above one student's
  // enrolment clicks, while a scripted client hammering the registration endpoints is cut off.
  waf: { enabled: false, rateLimitPer5Min: 2000 },
  argocd: { enabled: false, highAvailability: false, exposed: false, allowedCidrs: [], applications: [] },
  ci: {
    runners: {
      enabled: false,
      // 4 vCPU / 7 GB: the deploy job runs `npm test` and then the Pulumi engine with its providers.
      computeType: "BUILD_GENERAL1_MEDIUM",
      // Ubuntu 22.04, the closest curated image to GitHub's ubuntu-latest (the jobs install Node.js and the Pulumi CLI themselves).
      image: "aws/codebuild/standard:7.0",
      actorIds: [],
    },
  },
} satisfies Record<string, ConfigValue>;

const perEnvironment: Record<Environment, Record<string, ConfigValue>> = {
  test: {
    network: { privateSubnets: false, natGateways: "none" },
    // The first stack of the deploy order (test -> staging -> prod) creates the ECR repositories
    // the later ones look up; test needs them itself for the host's images.
    registry: { owner: true },
    testHost: { enabled: true },
    imagesBucket: { forceDestroy: true },
  },
  staging: {
    // The S3 gateway endpoint is free and takes image layers off the NAT; interface endpoints are
    // billed per hour per AZ, more than staging's manifest traffic through its one NAT costs.
    network: { privateSubnets: true, natGateways: "single", vpcEndpoints: { s3Gateway: true } },
    cluster: { enabled: true },
    // The cluster's API is private: deployments and previews run on runners inside the VPC.
    ci: { runners: { enabled: true } },
    database: { backupRetentionDays: 3 },
    api: { enabled: true },
    observability: {
      monitoring: { enabled: true, retentionDays: 7, prometheusVolumeGi: 20 },
      // Staging owns the account's OpenSearch service-linked role: it is the first stack with a
      // domain in the deploy order (test -> staging -> prod), so prod finds the role in place.
      // A prod in an account of its own sets this to true there as well.
      logging: { enabled: true, createServiceLinkedRole: true },
    },
  },
  prod: {
    // ECR endpoints too: image pulls (node replacement, enrolment-day scale-out) then depend on
    // neither a NAT gateway nor its per-GB processing charge.
    network: { privateSubnets: true, natGateways: "perAz", vpcEndpoints: { s3Gateway: true, interface: ["ecr.api", "ecr.dkr"] } },
    cluster: { enabled: true },
    ci: { runners: { enabled: true } },
    database: {
      instanceClass: "db.m6g.large",
      allocatedStorageGb: 100,
      maxAllocatedStorageGb: 500,
      multiAz: true,
      backupRetentionDays: 14,
      deletionProtection: true,
    },
    imagesBucket: { versioning: true },
    // With the bastion comes the account's Session Manager preferences: shell transcripts logged.
    bastion: { enabled: true, sessionLogging: true },
    logRetentionDays: 90,
    edge: { deletionProtection: true, accessLogExpirationDays: 365 },
    waf: { enabled: true },
    argocd: { enabled: true, highAvailability: true },
    observability: {
      efs: { backup: true },
      monitoring: { enabled: true, retentionDays: 30, prometheusVolumeGi: 100 },
      logging: {
        enabled: true,
        instanceType: "m6g.large.search",
        instanceCount: 2,
        volumeGb: 100,
        retentionDays: 30,
        // AWS's recommendation for production domains: three dedicated masters, so losing a data
        // node never costs the quorum (with two data nodes electing the master it does). Though
        // the data nodes use two AZs, AWS spreads the masters over three AZs in regions that have
        // three or more (OpenSearch developer guide, managedomains-multiaz.md), so an AZ outage
        // leaves two of them; a current-generation type is needed for that (older ones may sit 2 + 1).
        dedicatedMasters: { instanceType: "m6g.large.search", count: 3 },
      },
    },
  },
};

function isRecord(v: ConfigValue | undefined): v is { [key: string]: ConfigValue } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge key by key, everything else (arrays included) is replaced by `over`. */
export function deepMerge(base: ConfigValue | undefined, over: ConfigValue | undefined): ConfigValue | undefined {
  if (over === undefined) {
    return base;
  }
  if (isRecord(base) && isRecord(over)) {
    const out: { [key: string]: ConfigValue } = { ...base };
    for (const [k, v] of Object.entries(over)) {
      const merged = deepMerge(base[k], v);
      if (merged !== undefined) {
        out[k] = merged;
      }
    }
    return out;
  }
  return over;
}

/** The defaults for `environment`, or only the common ones when the name is unknown (validation reports it). */
export function defaultsFor(environment: string): { [key: string]: ConfigValue } {
  const specific = (perEnvironment as Record<string, Record<string, ConfigValue> | undefined>)[environment] ?? {};
  const merged = deepMerge(common, specific);
  return isRecord(merged) ? merged : {};
}
