import * as pulumi from "@pulumi/pulumi";
import { ClusterAutoscaler } from "../addons/clusterAutoscaler";
import { MetricsServer } from "../addons/metricsServer";
import { Cluster } from "../cluster/cluster";
import type { Database } from "../data/database";
import { DOCKER_HUB_CACHE_PREFIX } from "../lib/images";
import type { Network } from "../network/network";
import { platformTags } from "../providers";
import type { Wiring } from "./context";

/** The EKS cluster with its node groups, autoscaler and metrics-server; the database admits its nodes. */
export function wireCluster({ cfg, env, prod, opts }: Wiring, network: Network, database: Database | undefined): Cluster | undefined {
  if (!cfg.cluster.enabled) {
    return undefined;
  }
  const cluster = new Cluster(
    env,
    {
      // The physical name is part of tag keys and IAM conditions; never change it afterwards.
      clusterName: `${pulumi.getProject()}-${env}`,
      vpcId: network.vpcId,
      privateSubnetIds: network.privateSubnetIds,
      publicSubnetIds: network.publicSubnetIds,
      version: cfg.cluster.version,
      supportType: cfg.cluster.supportType,
      // The bootstrap address joins the list only while it is set (config keeps the list empty when CI runs in the VPC).
      publicAccessCidrs: [...cfg.cluster.publicAccessCidrs, ...(cfg.cluster.bootstrapAccessCidr !== undefined ? [cfg.cluster.bootstrapAccessCidr] : [])],
      adminRoleArns: cfg.cluster.adminRoleArns,
      deployerRoleArn: cfg.cluster.deployerRoleArn,
      nodeGroups: cfg.cluster.nodeGroups,
      logRetentionDays: cfg.logRetentionDays,
      instanceTags: platformTags(cfg),
      deletionProtection: prod,
      pullThroughCachePrefixes: cfg.registry.dockerHubCache !== undefined ? [DOCKER_HUB_CACHE_PREFIX] : undefined,
    },
    opts,
  );
  database?.allowFrom("eks-nodes", cluster.clusterSecurityGroupId);
  if (cfg.cluster.autoscaler.enabled) {
    new ClusterAutoscaler(`${env}-cluster-autoscaler`, { cluster, region: cfg.region }, opts);
  }
  if (cfg.cluster.metricsServer.enabled) {
    new MetricsServer(`${env}-metrics-server`, { cluster }, opts);
  }
  return cluster;
}
