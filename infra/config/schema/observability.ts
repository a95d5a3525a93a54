/** `platform:observability`: monitoring, logging (and its index retention) and their shared file system. */
import { z } from "zod";
import type { RuleShape } from "../../lib/albConditions";
import { RETENTION_DAYS } from "../../lib/ism";
import { cidrString, Ctx, fail, failOpenToInternet, failOverRuleBudget } from "./common";

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
export const observabilitySchema = z.strictObject({
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
    /**
     * Source CIDRs allowed to reach Prometheus through the ALB; empty keeps Prometheus unexposed.
     * At most 3: they are one source-ip condition of an ALB rule (see failOverRuleBudget).
     */
    allowedCidrs: z.array(cidrString),
    /**
     * The delivery dashboard (per service and color, from the ALB's CloudWatch metrics, with the
     * canary thresholds), Grafana's CloudWatch data source and its role, the CloudWatch exporter and
     * the alerts on those thresholds. Needs blue/green services (EKS). Default: true.
     */
    delivery: z.boolean(),
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
    /** Source CIDRs allowed to reach OpenSearch Dashboards at `log.<domain>`; empty keeps it unexposed. At most 3. */
    dashboardsCidrs: z.array(cidrString),
    /**
     * Create the account's OpenSearch service-linked role, which a VPC domain needs, and make this
     * stack's domain wait for it. Exactly one stack per AWS account (staging as shipped, the first
     * stack with logging in the deploy order); false where the account already has the role. Only
     * acts where logging is enabled (the role is declared beside the domain).
     */
    createServiceLinkedRole: z.boolean(),
  }),
});
export type ObservabilityConfig = z.infer<typeof observabilitySchema>;

/** Monitoring and logging run in the cluster, stay off the open internet, and spread evenly over two AZs. */
export function checkObservability(
  cfg: { readonly observability: ObservabilityConfig; readonly cluster: { readonly enabled: boolean }; readonly environment: string },
  ctx: Ctx,
): void {
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
  // The rules as the components declare them: Prometheus on `monitoring.<host>` at its route
  // prefix `/` (infra/addons/monitoring.ts), Dashboards on `log.<host>` at Exact `/` and Prefix `/`
  // (infra/logging/dashboards.ts); both carry the source-ip condition.
  const exposures: Array<[Array<string | number>, readonly string[], string, RuleShape]> = [
    [["observability", "monitoring", "allowedCidrs"], o.monitoring.allowedCidrs, "Prometheus", { host: true, path: "/", pathType: "Prefix" }],
    [["observability", "logging", "dashboardsCidrs"], o.logging.dashboardsCidrs, "OpenSearch Dashboards", { host: true, path: "/", pathType: "Prefix" }],
  ];
  for (const [path, cidrs, what, rule] of exposures) {
    failOverRuleBudget(ctx, path, cidrs, what, rule);
    failOpenToInternet(
      ctx,
      path,
      cidrs,
      `${what}, which has no login of its own,`,
      "list your office/VPN egress ranges, or leave the list empty to keep it reachable only through kubectl port-forward",
    );
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
