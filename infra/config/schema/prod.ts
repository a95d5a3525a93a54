/**
 * Production invariants, said by the config before anything is declared. Each is also a mandatory
 * rule of the policy pack (named here), which judges what the program declares; in prod a setting
 * that turns one off is refused here unless the stack's policy config lifts that rule (a
 * documented exception, which `plan` lists, or a level other than mandatory). The numbers are the
 * pack's own (infra/policy/rules), read through the policy config's settings where it has them.
 */
import { isDockerHubImage } from "../../lib/images";
import { parseEcrImage } from "../../lib/ecr";
import type { PolicyView } from "../policy";
import { PROD_MIN_BACKUP_DAYS } from "../../policy/rules/rds";
import { PROD_MAX_WAF_RATE_PER_5_MIN, PROD_MIN_EFS_BACKUP_DAYS, PROD_MIN_LOG_DAYS, PROD_MIN_LOG_INDEX_DAYS } from "../../policy/rules/prod";
import { PROD_MIN_REPLICAS } from "../../policy/rules/workloads";
import { COLORS } from "../../domain";
import type { ClusterConfig } from "./cluster";
import { Ctx, fail } from "./common";
import type { DatabaseConfig } from "./data";
import type { NetworkConfig } from "./network";
import type { ObservabilityConfig } from "./observability";
import type { ServiceConfigInput } from "./services";

/** What the production invariants read (the schema's output, before normalisation). */
export interface ProdCheckInput {
  readonly environment: string;
  readonly logRetentionDays: number;
  readonly network: NetworkConfig;
  readonly cluster: ClusterConfig;
  readonly testHost: { readonly enabled: boolean };
  readonly database: DatabaseConfig;
  readonly imagesBucket: { readonly enabled: boolean; readonly versioning: boolean; readonly forceDestroy: boolean };
  readonly observability: ObservabilityConfig;
  readonly edge: { readonly deletionProtection: boolean; readonly accessLogExpirationDays: number };
  readonly waf: { readonly enabled: boolean; readonly rateLimitPer5Min: number };
  readonly services: readonly ServiceConfigInput[];
}

type Path = Array<string | number>;

/** What each check needs to report: where, what, the rule that would refuse it anyway, and the fix. */
interface Invariant {
  readonly rule: string;
  readonly path: Path;
  readonly problem: string;
  readonly fix: string;
  /** The resource the program declares for it, as exceptions name it (undefined: several). */
  readonly resource?: { readonly type: string; readonly name: string };
}

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

function numberSetting(policy: PolicyView, rule: string, key: string, fallback: number): number {
  const v = policy.setting(rule, key);
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

/** Collects broken invariants, each against the resource it is `about` (none: several resources). */
class Findings {
  readonly found: Invariant[] = [];
  private resource: Invariant["resource"];

  about(type: string, name: string): void {
    this.resource = { type, name };
  }

  aboutSeveral(): void {
    this.resource = undefined;
  }

  add(rule: string, path: Path, problem: string, fix: string): void {
    this.found.push({ rule, path, problem, fix, resource: this.resource });
  }
}

/** The production invariants `cfg` breaks, each with its rule. */
export function prodInvariantProblems(cfg: ProdCheckInput, policy: PolicyView): Invariant[] {
  const f = new Findings();
  networkInvariants(cfg, f);
  if (cfg.database.enabled) {
    databaseInvariants(cfg.environment, cfg.database, f);
  }
  storageInvariants(cfg, f);
  logRetentionInvariants(cfg, policy, f);
  edgeAndObservabilityInvariants(cfg, policy, f);
  if (cfg.cluster.enabled) {
    const registries = policy.setting("k8s-image-registry", "registries");
    const own = Array.isArray(registries) ? registries.filter((r): r is string => typeof r === "string") : [];
    cfg.services.forEach((s, i) => serviceInvariants(s, i, own, f));
  }
  return f.found;
}

function networkInvariants(cfg: ProdCheckInput, f: Findings): void {
  f.about("awsx:ec2:Vpc", `${cfg.environment}-vpc`);
  if (cfg.network.privateSubnets && cfg.network.natGateways !== "perAz") {
    f.add("vpc-nat-per-az", ["network", "natGateways"], `is "${cfg.network.natGateways}": prod runs one NAT gateway per AZ, so an AZ outage never cuts the other AZs' egress`, 'set it to "perAz"');
  }
  f.aboutSeveral();
  if ((cfg.cluster.enabled || cfg.testHost.enabled) && !cfg.edge.deletionProtection) {
    f.add("alb-deletion-protection", ["edge", "deletionProtection"], "is false: prod's load balancer must refuse deletion", "set it to true");
  }
}

function databaseInvariants(env: string, db: DatabaseConfig, f: Findings): void {
  f.about("aws:rds/instance:Instance", `${env}-db-instance`);
  if (!db.deletionProtection) {
    f.add("rds-deletion-protection", ["database", "deletionProtection"], "is false: the production database must refuse deletion", "set it to true");
  }
  if (!db.multiAz) {
    f.add("rds-multi-az", ["database", "multiAz"], "is false: the production database runs with a standby in a second AZ", "set it to true");
  }
  if (db.backupRetentionDays < PROD_MIN_BACKUP_DAYS) {
    f.add("rds-backup-retention", ["database", "backupRetentionDays"], `${db.backupRetentionDays} is below prod's ${PROD_MIN_BACKUP_DAYS} days of backups`, `set it to ${PROD_MIN_BACKUP_DAYS} or more (prod ships 14)`);
  }
}

/** The monitoring file system's backups and the images bucket. */
function storageInvariants(cfg: ProdCheckInput, f: Findings): void {
  const env = cfg.environment;
  const o = cfg.observability;
  if (cfg.cluster.enabled && o.monitoring.enabled) {
    f.about("aws:efs/fileSystem:FileSystem", `${env}-efs-fs`);
    if (!o.efs.backup) {
      f.add("efs-backup-required", ["observability", "efs", "backup"], "is false: prod backs up the monitoring file system daily", "set it to true");
    } else if (o.efs.backupRetentionDays < PROD_MIN_EFS_BACKUP_DAYS) {
      f.add("efs-backup-required", ["observability", "efs", "backupRetentionDays"], `${o.efs.backupRetentionDays} is below prod's ${PROD_MIN_EFS_BACKUP_DAYS} days`, `set it to ${PROD_MIN_EFS_BACKUP_DAYS} or more (default 35)`);
    }
  }
  f.about("aws:s3/bucket:Bucket", `${env}-images`);
  if (cfg.imagesBucket.enabled && cfg.imagesBucket.forceDestroy) {
    f.add("s3-no-force-destroy", ["imagesBucket", "forceDestroy"], "is true: deleting the bucket in prod would delete the users' images with it", "set it to false");
  }
  if (cfg.imagesBucket.enabled && !cfg.imagesBucket.versioning) {
    f.add("s3-bucket-versioning", ["imagesBucket", "versioning"], "is false: prod keeps object versions, so an overwrite or delete can be undone", "set it to true");
  }
}

function logRetentionInvariants(cfg: ProdCheckInput, policy: PolicyView, f: Findings): void {
  f.aboutSeveral();
  const eks = cfg.cluster.enabled;
  const logging = cfg.observability.logging;
  const minLog = numberSetting(policy, "log-retention-minimum", "minimumDays", PROD_MIN_LOG_DAYS);
  const minIndex = numberSetting(policy, "log-retention-minimum", "minimumIndexDays", PROD_MIN_LOG_INDEX_DAYS);
  if (cfg.logRetentionDays < minLog) {
    f.add("log-retention-minimum", ["logRetentionDays"], `${cfg.logRetentionDays} is below prod's ${minLog} days for CloudWatch logs (flow logs, WAF, EKS, RDS, sessions)`, `set it to ${minLog} or more (prod ships 90)`);
  }
  if (eks && cfg.edge.accessLogExpirationDays < minLog) {
    f.add("log-retention-minimum", ["edge", "accessLogExpirationDays"], `${cfg.edge.accessLogExpirationDays} is below prod's ${minLog} days for ALB access logs`, `set it to ${minLog} or more (prod ships 365)`);
  }
  if (eks && logging.enabled && logging.retentionDays < minIndex) {
    f.add("log-retention-minimum", ["observability", "logging", "retentionDays"], `${logging.retentionDays} is below prod's ${minIndex} days of application logs`, `set it to ${minIndex} or more`);
  }
}

/** The WAF in front of the load balancer, and monitoring and logging on. */
function edgeAndObservabilityInvariants(cfg: ProdCheckInput, policy: PolicyView, f: Findings): void {
  const eks = cfg.cluster.enabled;
  const o = cfg.observability;
  const maxRate = numberSetting(policy, "waf-rate-limit-bounded", "maxRateLimitPer5Min", PROD_MAX_WAF_RATE_PER_5_MIN);
  if (!cfg.waf.enabled && (eks || cfg.testHost.enabled)) {
    f.add("waf-alb-association", ["waf", "enabled"], "is false: prod's internet-facing load balancer runs behind the WAF (managed rules and the per-IP rate limit)", "set it to true");
  } else if (cfg.waf.enabled && cfg.waf.rateLimitPer5Min > maxRate) {
    f.add("waf-rate-limit-bounded", ["waf", "rateLimitPer5Min"], `${cfg.waf.rateLimitPer5Min} requests per 5 minutes per IP is above prod's bound of ${maxRate}, so the limit limits nothing`, `set it to ${maxRate} or less (size it for the busiest shared egress; prod ships 2000)`);
  }
  if (eks && !o.monitoring.enabled) {
    f.add("observability-required", ["observability", "monitoring", "enabled"], "is false: prod runs Prometheus, Alertmanager and Grafana", "set it to true");
  }
  if (eks && !o.logging.enabled) {
    f.add("observability-required", ["observability", "logging", "enabled"], "is false: prod ships every container's logs to OpenSearch", "set it to true");
  }
}

/** Replicas and image sources of service `i` (on the cluster). */
function serviceInvariants(s: ServiceConfigInput, i: number, registries: readonly string[], f: Findings): void {
  f.about(DEPLOYMENT, `${s.name}-${s.active === "green" ? "green" : "blue"}`);
  if (s.autoscaling !== undefined && s.autoscaling.minReplicas < PROD_MIN_REPLICAS) {
    f.add("k8s-min-replicas", ["services", i, "autoscaling", "minReplicas"], `${s.autoscaling.minReplicas} for service "${s.name}" is below prod's ${PROD_MIN_REPLICAS}`, `set it to ${PROD_MIN_REPLICAS} or more`);
  } else if (s.autoscaling === undefined && s.replicas !== undefined && s.replicas < PROD_MIN_REPLICAS) {
    f.add("k8s-min-replicas", ["services", i, "replicas"], `${s.replicas} for service "${s.name}" is below prod's ${PROD_MIN_REPLICAS}`, `set it to ${PROD_MIN_REPLICAS} or more`);
  }
  for (const color of COLORS) {
    const image = s[color].image;
    if (image === undefined || image === "") {
      continue;
    }
    f.about(DEPLOYMENT, `${s.name}-${color}`);
    if (isDockerHubImage(image)) {
      f.add("k8s-image-registry", ["services", i, color, "image"], `"${image}" comes from Docker Hub: prod runs only images from the platform's ECR registry`, "release it through the pipeline (CI pushes to ECR; promote pins its digest)");
    } else if (parseEcrImage(image) === undefined) {
      f.add("k8s-image-registry", ["services", i, color, "image"], `"${image}" is not in an ECR registry (<account>.dkr.ecr.<region>.amazonaws.com): prod runs only the platform's images`, "release it through the pipeline (CI pushes to ECR; promote pins its digest)");
    } else if (registries.length > 0 && !registries.includes(image.split("/")[0])) {
      f.add(
        "k8s-image-registry",
        ["services", i, color, "image"],
        `"${image}" is in another ECR registry than the platform's (${registries.join(", ")}, the rule's registries setting)`,
        "release it through the pipeline into the platform's registry (promote pins its digest there)",
      );
    }
  }
}

/** Reports every broken production invariant whose rule the policy config does not lift. */
export function checkProdInvariants(cfg: ProdCheckInput, policy: PolicyView, ctx: Ctx): void {
  if (cfg.environment !== "prod") {
    return;
  }
  for (const p of prodInvariantProblems(cfg, policy)) {
    if (!policy.lifted(p.rule, p.resource)) {
      fail(ctx, p.path, `${p.problem} (policy rule ${p.rule})`, `${p.fix}, or document an exception for ${p.rule} in ${policy.file}`);
    }
  }
}
