/** `platform:cluster`: EKS, its API endpoint and its managed node groups. */
import { z } from "zod";
import { sameRole } from "../../lib/eksAccess";
import { amiTypeFor } from "../../lib/instanceTypes";
import { cidrString, Ctx, dnsLabel, fail, failOpenToInternet, INSTANCE_TYPE, labelKey, labelValue } from "./common";

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

const nodeTaint = z.strictObject({
  key: labelKey,
  value: labelValue.optional(),
  effect: z.enum(["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"]),
});

const nodeGroup = z.strictObject({
  /** Logical name; also the value of the `platform.io/node-group` label workloads select on. */
  name: dnsLabel,
  instanceTypes: z.array(z.string().regex(INSTANCE_TYPE)).min(1),
  capacityType: z.enum(["ON_DEMAND", "SPOT"]),
  minSize: z.number().int().min(0),
  maxSize: z.number().int().min(1),
  desiredSize: z.number().int().min(0),
  diskSizeGb: z.number().int().min(20).max(16384),
  labels: z.record(labelKey, labelValue),
  taints: z.array(nodeTaint),
});
export type NodeGroupConfig = z.infer<typeof nodeGroup>;

export const clusterSchema = z.strictObject({
  enabled: z.boolean(),
  version: z.string().regex(/^1\.\d{2}$/),
  /**
   * `upgradePolicy.supportType`: STANDARD (default) lets EKS upgrade the control plane when the
   * version's standard support ends; EXTENDED keeps it and bills the extended-support surcharge.
   */
  supportType: z.enum(["STANDARD", "EXTENDED"]),
  /**
   * CIDRs allowed to reach the public API endpoint; empty turns the public endpoint off. Empty
   * whenever CI runs inside the VPC (ci.runners.enabled): see ./ci.ts.
   */
  publicAccessCidrs: z.array(cidrString),
  /**
   * The one-time bootstrap: the public endpoint opens to this single address (a /32) so that an
   * operator can run the first `up` from outside the VPC, before the CI runners exist. Remove it
   * once they do: the driver and `plan` warn while it is set. Default: unset.
   */
  bootstrapAccessCidr: cidrString.optional(),
  /**
   * IAM roles granted cluster-admin through access entries (the platform team, break-glass).
   * Never the role that creates the cluster: EKS makes that one admin itself (see deployerRoleArn).
   */
  adminRoleArns: z.array(z.string().regex(ROLE_ARN)),
  /**
   * The IAM role that created the cluster: the operator's, whose `up` bootstraps the stack (CI's
   * runners only exist afterwards, with access entries of their own). EKS grants the creator
   * cluster-admin through its own access entry (pulumi-eks 4.3.0 always bootstraps it), so listing
   * it in adminRoleArns fails with 409; config rejects that. Optional: it only enables the check.
   */
  deployerRoleArn: z.string().regex(ROLE_ARN).optional(),
  nodeGroups: z.array(nodeGroup),
  autoscaler: z.strictObject({ enabled: z.boolean() }),
  metricsServer: z.strictObject({ enabled: z.boolean() }),
});
export type ClusterConfig = z.infer<typeof clusterSchema>;

/** The public API endpoint is never open to the whole internet. */
export function checkClusterEndpoint(cluster: ClusterConfig, ctx: Ctx): void {
  failOpenToInternet(
    ctx,
    ["cluster", "publicAccessCidrs"],
    cluster.publicAccessCidrs,
    "the Kubernetes API endpoint",
    "list your office/VPN/CI egress ranges, or leave the list empty to keep the endpoint private",
  );
}

export function checkCluster(cfg: { readonly cluster: ClusterConfig; readonly network: { readonly privateSubnets: boolean } }, ctx: Ctx): void {
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
  const deployer = c.deployerRoleArn;
  // The Cluster keys each access entry by the role's name (its logical name), so two ARNs ending
  // in the same role name would collide there; say it here, before anything is declared.
  const roleNames = new Map<string, number>();
  c.adminRoleArns.forEach((arn, i) => {
    const name = arn.split("/").pop() ?? arn;
    const first = roleNames.get(name);
    if (first !== undefined) {
      fail(
        ctx,
        ["cluster", "adminRoleArns", i],
        `"${arn}" names the role "${name}" again (also cluster.adminRoleArns[${first}]); each admin role gets one access entry keyed by its name`,
        "list each role once",
      );
    } else {
      roleNames.set(name, i);
    }
  });
  c.adminRoleArns.forEach((arn, i) => {
    if (deployer !== undefined && sameRole(arn, deployer)) {
      fail(
        ctx,
        ["cluster", "adminRoleArns", i],
        `"${arn}" is the role that deploys this stack (cluster.deployerRoleArn): EKS grants the cluster creator cluster-admin itself, so a second access entry for it fails with 409 ResourceInUseException`,
        "remove it from cluster.adminRoleArns; the deployer keeps cluster-admin through the entry EKS created (revoke it with `aws eks delete-access-entry` once another admin exists)",
      );
    }
  });
  const seen = new Set<string>();
  c.nodeGroups.forEach((g, i) => {
    if (seen.has(g.name)) {
      fail(ctx, ["cluster", "nodeGroups", i, "name"], `"${g.name}" is used by two node groups`, "give every node group a unique name");
    }
    seen.add(g.name);
    checkNodeGroup(g, i, ctx);
  });
}

/** One node group: one AMI kind, and min <= desired <= max. */
function checkNodeGroup(g: NodeGroupConfig, i: number, ctx: Ctx): void {
  const at = (k: string): Array<string | number> => ["cluster", "nodeGroups", i, k];
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
}
