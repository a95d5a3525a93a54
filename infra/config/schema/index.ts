/**
 * The stack configuration contract: one zod schema for every `platform:*` key, composed from one
 * module per area (network, cluster, compute, data, services, edge, gitops, observability,
 * delivery).
 *
 * Components never read Pulumi config; `loadConfig` (../load.ts) parses the stack's config
 * against this schema after merging the environment's defaults (../defaults.ts), and the
 * program passes the typed result down. Cross-field rules live in `checkPlatform` and the
 * areas' checks, so that every message names the key, the value and the fix.
 */
import { z } from "zod";
import { ENVIRONMENTS, isEnvironment } from "../../domain";
import { CACHE_CREDENTIAL_ARN, cacheRegionOf } from "../../lib/images";
import type { Environment } from "../../domain";
import { checkClusterAccess, ciSchema } from "./ci";
import { checkCluster, checkClusterEndpoint, clusterSchema } from "./cluster";
import { AZ, Ctx, dnsLabel, DOMAIN, fail, tags } from "./common";
import { bastionSchema, checkCompute, testHostSchema } from "./compute";
import { checkDatabase, databaseSchema } from "./data";
import { checkReleases, healthGateSchema, releaseSchema } from "./delivery";
import { edgeSchema, wafSchema } from "./edge";
import { argocdSchema, checkArgoCd } from "./gitops";
import { checkNetwork, networkSchema } from "./network";
import { checkObservability, observabilitySchema } from "./observability";
import { checkDeployable } from "./deployable";
import { checkProdInvariants } from "./prod";
import { checkServices, normaliseService, ServiceConfig, serviceSchema } from "./services";
import type { PolicyView } from "../policy";

// Re-exported so the config's consumers (the driver among them) keep one import for its vocabulary.
export { COLORS, ENVIRONMENTS } from "../../domain";
export type { Color, Environment } from "../../domain";
export type { IssueParams } from "./common";
export type { CiConfig } from "./ci";
export type { NodeGroupConfig } from "./cluster";
export type { ReleaseRecord } from "./delivery";
export { healthGateSchema } from "./delivery";
export type { ObservabilityConfig } from "./observability";
export { isImageRef, rolloutSchema } from "./services";
export type { ServiceConfig, ServiceConfigInput } from "./services";

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
  network: networkSchema,
  cluster: clusterSchema,
  testHost: testHostSchema,
  database: databaseSchema,
  registry: z.strictObject({
    /** Exactly one stack owns (creates) the repositories; the others look them up by name. */
    owner: z.boolean(),
    /** Untagged images are expired after a day; tagged ones beyond this count are expired. */
    keepImages: z.number().int().min(1).max(1000),
    /**
     * Pull the Docker Hub images (Fluentd, Grafana) through an ECR pull-through cache instead of
     * anonymously through the NAT (10 pulls per hour per address). `credentialArn`: a Secrets
     * Manager secret `ecr-pullthroughcache/<name>` with `username` and `accessToken` of a Docker Hub
     * account, in this stack's region. `createRule`: this stack declares the account's rule
     * (one per prefix and region); the other stacks of the account set false. Default: absent.
     */
    dockerHubCache: z
      .strictObject({
        credentialArn: z
          .string()
          .regex(CACHE_CREDENTIAL_ARN, "must be a Secrets Manager secret named ecr-pullthroughcache/<name> (ECR requires the prefix) holding username and accessToken"),
        createRule: z.boolean(),
      })
      .optional(),
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
  bastion: bastionSchema,
  observability: observabilitySchema,
  services: z.array(serviceSchema),
  releases: z.record(dnsLabel, releaseSchema),
  healthGate: healthGateSchema,
  edge: edgeSchema,
  waf: wafSchema,
  argocd: argocdSchema,
  ci: ciSchema,
});

/** The schema's output before the cross-field rules narrowed it. */
export type RawPlatform = z.infer<typeof platformSchema>;

export interface PlatformConfig extends Omit<RawPlatform, "environment" | "services"> {
  readonly environment: Environment;
  /** `aws:region`, checked against the availability zones. */
  readonly region: string;
  readonly services: readonly ServiceConfig[];
}

/** What the cross-field rules know besides the config: the stack's region and its policy config. */
export interface CheckContext {
  /** `aws:region`, already checked to be a region name. */
  readonly region: string;
  /** The stack's policy config, which may lift a production invariant with a documented exception. */
  readonly policy: PolicyView;
}

/** Cross-field rules. Runs only when every field already has the right shape. */
export function checkPlatform(cfg: RawPlatform, ctx: Ctx, context: CheckContext): void {
  const env = cfg.environment;
  if (!isEnvironment(env)) {
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
  checkAvailabilityZones(cfg, ctx);
  checkNetwork(cfg, ctx);
  checkClusterEndpoint(cfg.cluster, ctx);
  checkCluster(cfg, ctx);
  checkClusterAccess(cfg, ctx);
  checkObservability(cfg, ctx);
  checkDatabase(cfg, ctx);
  checkCompute(cfg, ctx);
  checkServices(cfg, ctx);
  checkArgoCd(cfg, ctx);
  checkReleases(cfg, ctx);
  checkDeployable(cfg, context.region, ctx);
  checkDockerHubCacheRegion(cfg, context.region, ctx);
  checkProdInvariants(cfg, context.policy, ctx);
}

/** A pull-through cache is regional: its rule and credential live in the stack's region. */
function checkDockerHubCacheRegion(cfg: RawPlatform, region: string, ctx: Ctx): void {
  const cache = cfg.registry.dockerHubCache;
  const cacheRegion = cache !== undefined ? cacheRegionOf(cache.credentialArn) : undefined;
  if (cache !== undefined && cacheRegion !== undefined && cacheRegion !== region) {
    fail(
      ctx,
      ["registry", "dockerHubCache", "credentialArn"],
      `is in ${cacheRegion}, but the cache rule and its credential live in the stack's region ${region} (a pull-through cache is regional)`,
      `create the ecr-pullthroughcache/ secret in ${region} and give its ARN`,
    );
  }
}

/** Each zone once, and two of them where EKS or a multi-AZ database needs them. */
function checkAvailabilityZones(cfg: RawPlatform, ctx: Ctx): void {
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
}

/** Narrows the schema output once `checkPlatform` has passed. */
export function toPlatformConfig(raw: RawPlatform, region: string): PlatformConfig {
  return {
    ...raw,
    region,
    environment: raw.environment as Environment,
    services: raw.services.map(normaliseService),
  };
}
