/**
 * Production invariants on the AWS side: what keeps prod available and recoverable. Each can be
 * lifted only by a documented exception in infra/policy/config/prod.json (which `plan` lists); the
 * stack config refuses the same settings earlier unless such an exception exists
 * (infra/config/schema/prod.ts).
 */
import type { Finding, PolicyResource, ResourceRule, StackRule } from "../engine";
import { at, bool, list, num, obj, objs, str, strs } from "../values";
import { annotationsOf, containersOf, known, ofTypes, podSpecOf, refersTo, UNKNOWN_DURING_PREVIEW, WORKLOAD_TYPES } from "./common";
import { albIngresses } from "./edge";

const PROD = ["prod"] as const;
const BUCKETS = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
const LIFECYCLE = ["aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"];
const LOAD_BALANCERS = ["aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"];

/**
 * Minimum retention of prod's logs: 90 days in CloudWatch Logs (VPC flow logs, WAF, EKS control
 * plane, RDS, session transcripts) and for ALB access logs. PCI DSS v4.0 requirement 10.5.1 keeps
 * audit logs 12 months "with at least the most recent three months immediately available for
 * analysis"; three months is the floor here (prod ships 90 days in CloudWatch, 365 for access logs).
 */
export const PROD_MIN_LOG_DAYS = 90;
/** Days application log indices stay in OpenSearch (the ISM policy's delete age); prod ships 30. */
export const PROD_MIN_LOG_INDEX_DAYS = 30;
/** Days an EFS backup is kept at least: a week-end incident found on Monday can still be restored. */
export const PROD_MIN_EFS_BACKUP_DAYS = 7;
/**
 * The highest per-IP WAF rate limit (requests per 5 minutes) that still limits anything: 50,000 is
 * about 167 requests per second from one address, 25 times the shipped 2,000. WAF itself accepts
 * up to 2,000,000,000, which turns the rule into decoration.
 */
export const PROD_MAX_WAF_RATE_PER_5_MIN = 50_000;

function where(r: PolicyResource): Pick<PolicyResource, "type" | "name" | "urn"> {
  return { type: r.type, name: r.name, urn: r.urn };
}

export const natPerAz: ResourceRule = {
  kind: "resource",
  name: "vpc-nat-per-az",
  description: "Production VPCs with private subnets run one NAT gateway per AZ, so losing an AZ never cuts the others' egress (image pulls, AWS APIs).",
  docs: "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html#nat-gateway-basics",
  scannerIds: [],
  enforcementLevel: "mandatory",
  severity: "high",
  environments: PROD,
  resourceTypes: ["awsx:ec2:Vpc"],
  check: (r) => {
    const privateSubnets = objs(r.props["subnetSpecs"]).some((s) => str(s["type"]) === "Private");
    const strategy = str(at(r.props["natGateways"], "strategy")) ?? "OnePerAz";
    if (!privateSubnets || strategy === "OnePerAz") {
      return [];
    }
    return [
      {
        problem: `natGateways.strategy is ${strategy}: the private subnets of ${strategy === "Single" ? "every AZ leave through one AZ's NAT gateway, so that AZ's outage stops image pulls and AWS API calls everywhere" : "no AZ have egress"}`,
        fix: 'set natGateways.strategy to "OnePerAz" (platform:network.natGateways: perAz)',
      },
    ];
  },
};

/** `key=value,...` of the load-balancer-attributes annotation. */
function attributeMap(text: string | undefined): Map<string, string> | undefined {
  if (text === undefined || text === UNKNOWN_DURING_PREVIEW) {
    return undefined;
  }
  return new Map(
    text
      .split(",")
      .map((pair) => pair.split("=").map((x) => x.trim()))
      .filter((kv) => kv.length === 2)
      .map(([k, v]) => [k, v] as [string, string]),
  );
}

export const albDeletionProtection: StackRule = {
  kind: "stack",
  name: "alb-deletion-protection",
  description: "Production load balancers (declared, or built by the AWS Load Balancer Controller from an IngressGroup) have deletion protection on.",
  docs: "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#deletion-protection",
  scannerIds: ["CKV_AWS_150"],
  enforcementLevel: "mandatory",
  severity: "high",
  environments: PROD,
  check: (resources) => {
    const findings: Finding[] = [];
    for (const lb of ofTypes(resources, ...LOAD_BALANCERS)) {
      if (bool(lb.props["enableDeletionProtection"]) !== true) {
        findings.push({
          resource: where(lb),
          problem: "enableDeletionProtection is not true, so one DeleteLoadBalancer call (or a replacement) drops every listener, rule and DNS target at once",
          fix: "set enableDeletionProtection: true",
        });
      }
    }
    const groups = new Set<string>();
    for (const alb of albIngresses(resources)) {
      const group = alb.group ?? alb.ingress.name;
      if (groups.has(group)) {
        continue;
      }
      const members = albIngresses(resources).filter((a) => (a.group ?? a.ingress.name) === group);
      const values = members.map((m) => annotationsOf(m.ingress)["alb.ingress.kubernetes.io/load-balancer-attributes"]);
      if (values.some((v) => v === UNKNOWN_DURING_PREVIEW)) {
        continue; // computed from resources not created yet; judged again after the update
      }
      groups.add(group);
      const on = values.some((v) => attributeMap(v)?.get("deletion_protection.enabled") === "true");
      if (!on) {
        findings.push({
          resource: where(alb.ingress),
          problem: `the ALB of IngressGroup "${group}" has no deletion_protection.enabled=true in alb.ingress.kubernetes.io/load-balancer-attributes, so deleting the group's last Ingress (or the controller) deletes the load balancer`,
          fix: "add deletion_protection.enabled=true to the group's load-balancer-attributes (platform:edge.deletionProtection: true)",
        });
      }
    }
    return findings;
  },
};

/** Resources whose loss is data loss: deleted only after `protect` is lifted in code, reviewed. */
const STATEFUL = ["aws:rds/instance:Instance", "aws:efs/fileSystem:FileSystem", "aws:opensearch/domain:Domain", "aws:backup/vault:Vault"];

export const statefulProtected: ResourceRule = {
  kind: "resource",
  name: "stateful-resources-protected",
  description: "Production databases, file systems, search domains and backup vaults carry Pulumi's `protect` option, so no `up` or `destroy` deletes them.",
  docs: "https://www.pulumi.com/docs/iac/concepts/options/protect/",
  scannerIds: [],
  enforcementLevel: "mandatory",
  severity: "high",
  environments: PROD,
  resourceTypes: STATEFUL,
  check: (r) =>
    r.protect === true
      ? []
      : [
          {
            problem: `the resource is not protected (resource option protect: ${String(r.protect ?? false)}), so a replacement planned by \`pulumi up\` or a \`pulumi destroy\` deletes its data`,
            fix: "declare it with { protect: true } (the components do so in prod); unprotect deliberately with `pulumi state unprotect` when it must go",
          },
        ],
};

/** EFS backup coverage: an AWS Backup selection naming the file system, with the plan's shortest retention. */
function backupDaysFor(fs: PolicyResource, resources: readonly PolicyResource[]): number | undefined {
  let best: number | undefined;
  for (const selection of ofTypes(resources, "aws:backup/selection:Selection")) {
    if (!strs(known(() => selection.props["resources"])).some((arn) => refersTo(arn, fs))) {
      continue;
    }
    const plan = ofTypes(resources, "aws:backup/plan:Plan").find((p) => refersTo(known(() => selection.props["planId"]), p));
    const days = objs(plan?.props["rules"]).map((rule) => num(at(rule, "lifecycle.deleteAfter")) ?? Number.POSITIVE_INFINITY);
    const shortest = days.length > 0 ? Math.min(...days) : undefined;
    if (shortest !== undefined) {
      best = Math.max(best ?? 0, shortest);
    }
  }
  const automatic = ofTypes(resources, "aws:efs/backupPolicy:BackupPolicy").some(
    (b) => refersTo(known(() => b.props["fileSystemId"]), fs) && str(at(b.props["backupPolicy"], "status")) === "ENABLED",
  );
  // EFS automatic backups keep 35 days (AWS's fixed lifecycle for the default plan).
  return automatic ? Math.max(best ?? 0, 35) : best;
}

export const efsBackupRequired: StackRule = {
  kind: "stack",
  name: "efs-backup-required",
  description: `Production EFS file systems are backed up daily (AWS Backup or EFS automatic backups), each backup kept at least ${PROD_MIN_EFS_BACKUP_DAYS} days.`,
  docs: "https://docs.aws.amazon.com/efs/latest/ug/awsbackup.html",
  scannerIds: ["CKV2_AWS_18"],
  enforcementLevel: "mandatory",
  severity: "high",
  environments: PROD,
  check: (resources) =>
    ofTypes(resources, "aws:efs/fileSystem:FileSystem").flatMap((fs) => {
      const days = backupDaysFor(fs, resources);
      if (days !== undefined && days >= PROD_MIN_EFS_BACKUP_DAYS) {
        return [];
      }
      return [
        {
          resource: where(fs),
          problem:
            days === undefined
              ? "no AWS Backup selection or automatic backup policy covers the file system, so Prometheus', Alertmanager's and Grafana's data are lost with it"
              : `its backups are kept ${days} day(s), fewer than ${PROD_MIN_EFS_BACKUP_DAYS}`,
          fix: `back it up daily (platform:observability.efs.backup: true) and keep backups at least ${PROD_MIN_EFS_BACKUP_DAYS} days (efs.backupRetentionDays)`,
        },
      ];
    }),
};

export const s3NoForceDestroy: ResourceRule = {
  kind: "resource",
  name: "s3-no-force-destroy",
  description: "Production buckets never set forceDestroy, so deleting a bucket (or the stack) cannot delete its objects with it.",
  docs: "https://www.pulumi.com/registry/packages/aws/api-docs/s3/bucket/#forcedestroy_nodejs",
  scannerIds: [],
  enforcementLevel: "mandatory",
  severity: "high",
  environments: PROD,
  resourceTypes: BUCKETS,
  check: (r) =>
    bool(r.props["forceDestroy"]) === true
      ? [
          {
            problem: "forceDestroy is true, so a replacement or `pulumi destroy` empties the bucket (user images, access logs) without asking",
            fix: "set forceDestroy: false (platform:imagesBucket.forceDestroy); empty a bucket deliberately before deleting it",
          },
        ]
      : [],
};

/** Names of the buckets load balancers write access logs to. */
function accessLogBuckets(resources: readonly PolicyResource[]): string[] {
  const names: string[] = [];
  for (const lb of ofTypes(resources, ...LOAD_BALANCERS)) {
    const bucket = str(known(() => at(lb.props["accessLogs"], "bucket")));
    if (bucket !== undefined) {
      names.push(bucket);
    }
  }
  for (const alb of albIngresses(resources)) {
    const bucket = attributeMap(annotationsOf(alb.ingress)["alb.ingress.kubernetes.io/load-balancer-attributes"])?.get("access_logs.s3.bucket");
    if (bucket !== undefined) {
      names.push(bucket);
    }
  }
  return [...new Set(names)];
}

/** Days after which an ISM policy (a workload's `POLICY` variable, infra/lib/ism.ts) deletes an index. */
function ismDeleteDays(resources: readonly PolicyResource[]): Array<{ resource: PolicyResource; days: number }> {
  const out: Array<{ resource: PolicyResource; days: number }> = [];
  for (const w of ofTypes(resources, ...WORKLOAD_TYPES)) {
    for (const c of containersOf(podSpecOf(w))) {
      for (const e of objs(c.spec["env"])) {
        const states = objs(at(obj(str(e["value"]) ?? ""), "policy.states"));
        const deleting = new Set(states.filter((s) => objs(s["actions"]).some((a) => a["delete"] !== undefined)).map((s) => str(s["name"])));
        for (const s of states) {
          for (const t of objs(s["transitions"])) {
            const age = /^(\d+)d$/.exec(str(at(t, "conditions.min_index_age")) ?? "");
            if (deleting.has(str(t["state_name"])) && age !== null) {
              out.push({ resource: w, days: Number(age[1]) });
            }
          }
        }
      }
    }
  }
  return out;
}

export const logRetentionMinimum: StackRule = {
  kind: "stack",
  name: "log-retention-minimum",
  description: `Production logs are kept at least ${PROD_MIN_LOG_DAYS} days in CloudWatch Logs and S3 (ALB access logs), and application log indices at least ${PROD_MIN_LOG_INDEX_DAYS} days.`,
  docs: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html#SettingLogRetention",
  scannerIds: ["CKV_AWS_338", "AWS Security Hub CloudWatch.16"],
  enforcementLevel: "mandatory",
  severity: "medium",
  environments: PROD,
  settings: {
    minimumDays: { type: "integer", minimum: 1, default: PROD_MIN_LOG_DAYS, description: "Days CloudWatch log groups and ALB access logs are kept at least." },
    minimumIndexDays: { type: "integer", minimum: 1, default: PROD_MIN_LOG_INDEX_DAYS, description: "Days an application log index is kept at least (the ISM delete age)." },
  },
  check: (resources, ctx) => {
    const min = num(ctx.settings["minimumDays"]) ?? PROD_MIN_LOG_DAYS;
    const minIndex = num(ctx.settings["minimumIndexDays"]) ?? PROD_MIN_LOG_INDEX_DAYS;
    const findings: Finding[] = [];
    for (const group of ofTypes(resources, "aws:cloudwatch/logGroup:LogGroup")) {
      // 0 or unset: never expire.
      const days = num(group.props["retentionInDays"]) ?? 0;
      if (days > 0 && days < min) {
        findings.push({
          resource: where(group),
          problem: `retentionInDays is ${days}, fewer than ${min} days`,
          fix: `keep it at least ${min} days (platform:logRetentionDays)`,
        });
      }
    }
    const logBuckets = accessLogBuckets(resources);
    for (const lifecycle of ofTypes(resources, ...LIFECYCLE)) {
      const bucket = ofTypes(resources, ...BUCKETS).find((b) => refersTo(known(() => lifecycle.props["bucket"]), b));
      const isLogBucket = bucket !== undefined && logBuckets.some((name) => refersTo(name, bucket));
      if (!isLogBucket) {
        continue;
      }
      for (const rule of objs(lifecycle.props["rules"])) {
        const days = num(at(rule, "expiration.days"));
        if (str(rule["status"]) !== "Disabled" && days !== undefined && days < min) {
          findings.push({
            resource: where(lifecycle),
            problem: `rule "${str(rule["id"]) ?? "?"}" expires the ALB access logs after ${days} day(s), fewer than ${min}`,
            fix: `expire them after at least ${min} days (platform:edge.accessLogExpirationDays)`,
          });
        }
      }
    }
    for (const { resource, days } of ismDeleteDays(resources)) {
      if (days < minIndex) {
        findings.push({
          resource: where(resource),
          problem: `its ISM policy deletes log indices after ${days} day(s), fewer than ${minIndex}`,
          fix: `keep indices at least ${minIndex} days (platform:observability.logging.retentionDays)`,
        });
      }
    }
    return findings;
  },
};

export const wafRateLimitBounded: ResourceRule = {
  kind: "resource",
  name: "waf-rate-limit-bounded",
  description: `Production WebACLs block any client IP above a rate limit of at most ${PROD_MAX_WAF_RATE_PER_5_MIN.toLocaleString("en")} requests per 5 minutes.`,
  docs: "https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html",
  scannerIds: [],
  enforcementLevel: "mandatory",
  severity: "medium",
  environments: PROD,
  resourceTypes: ["aws:wafv2/webAcl:WebAcl"],
  settings: {
    maxRateLimitPer5Min: {
      type: "integer",
      minimum: 10,
      default: PROD_MAX_WAF_RATE_PER_5_MIN,
      description: "The highest per-IP limit (requests per 5 minutes) a rate-based rule may have.",
    },
  },
  check: (r, ctx) => {
    const max = num(ctx.settings["maxRateLimitPer5Min"]) ?? PROD_MAX_WAF_RATE_PER_5_MIN;
    const rateRules = objs(r.props["rules"]).filter((rule) => at(rule, "statement.rateBasedStatement") !== undefined);
    const blocking = rateRules.filter((rule) => obj(rule["action"])["block"] !== undefined);
    const limits = blocking.map((rule) => num(at(rule, "statement.rateBasedStatement.limit")) ?? Number.POSITIVE_INFINITY);
    if (limits.some((l) => l <= max)) {
      return [];
    }
    return [
      {
        problem:
          rateRules.length === 0
            ? "has no rate-based rule, so one client can send any number of requests"
            : blocking.length === 0
              ? `its rate-based rule(s) ${list(rateRules.map((x) => str(x["name"]) ?? "?"))} only count, never block`
              : `its rate-based rule allows ${list(limits.map((l) => String(l)))} requests per 5 minutes per IP, above the bound of ${max}`,
        fix: `block clients above at most ${max} requests per 5 minutes (platform:waf.rateLimitPer5Min)`,
      },
    ];
  },
};

export const prodRules = [natPerAz, albDeletionProtection, statefulProtected, efsBackupRequired, s3NoForceDestroy, logRetentionMinimum, wafRateLimitBounded];
