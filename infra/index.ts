/**
 * Composition root: reads the validated stack config and wires the components. No resource
 * logic lives here; see each component for what it declares and why.
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterAutoscaler } from "./addons/clusterAutoscaler";
import { MetricsServer } from "./addons/metricsServer";
import { FunctionApi } from "./api";
import { Bastion } from "./bastion";
import { loadConfig } from "./config/load";
import { Cluster } from "./cluster";
import { Database } from "./database";
import { Network } from "./network";
import { awsProvider, platformTags } from "./providers";
import { Registry } from "./registry";
import { ImageBucket } from "./storage";

const cfg = loadConfig();
const aws = awsProvider(cfg);
const opts = { providers: { aws } };
const env = cfg.environment;
const prod = env === "prod";

const network = new Network(
  env,
  {
    cidr: cfg.network.cidr,
    availabilityZones: cfg.availabilityZones,
    privateSubnets: cfg.network.privateSubnets,
    natGateways: cfg.network.natGateways,
    subnetPrefix: cfg.network.subnetPrefix,
    publicSubnetCidrs: cfg.network.publicSubnetCidrs,
    privateSubnetCidrs: cfg.network.privateSubnetCidrs,
    flowLogRetentionDays: cfg.logRetentionDays,
  },
  opts,
);

// Named "registry" in every stack, so the repositories' logical names do not depend on which
// stack owns them (moving ownership is then an import, not a rename).
const registry = new Registry(
  "registry",
  { repositories: cfg.services.map((s) => s.name), owner: cfg.registry.owner, keepImages: cfg.registry.keepImages },
  opts,
);

const images = cfg.imagesBucket.enabled
  ? new ImageBucket(env, { versioning: cfg.imagesBucket.versioning, forceDestroy: cfg.imagesBucket.forceDestroy }, opts)
  : undefined;

const database = cfg.database.enabled
  ? new Database(
      `${env}-db`,
      {
        vpcId: network.vpcId,
        subnetIds: cfg.network.privateSubnets ? network.privateSubnetIds : network.publicSubnetIds,
        engineVersion: cfg.database.engineVersion,
        instanceClass: cfg.database.instanceClass,
        allocatedStorageGb: cfg.database.allocatedStorageGb,
        maxAllocatedStorageGb: cfg.database.maxAllocatedStorageGb,
        multiAz: cfg.database.multiAz,
        backupRetentionDays: cfg.database.backupRetentionDays,
        deletionProtection: cfg.database.deletionProtection,
        databaseName: cfg.database.databaseName,
        masterUsername: cfg.database.masterUsername,
        logRetentionDays: cfg.logRetentionDays,
        protect: prod,
        finalSnapshot: prod,
        applyImmediately: !prod,
      },
      opts,
    )
  : undefined;

const bastion = cfg.bastion.enabled
  ? new Bastion(
      `${env}-bastion`,
      {
        vpcId: network.vpcId,
        subnetIds: network.privateSubnetIds,
        vpcCidr: network.cidr,
        instanceType: cfg.bastion.instanceType,
        minSize: cfg.bastion.minSize,
        maxSize: cfg.bastion.maxSize,
        databaseAddress: database?.address,
        tags: platformTags(cfg),
      },
      opts,
    )
  : undefined;
if (bastion !== undefined) {
  database?.allowFrom("bastion", bastion.securityGroupId);
}

const cluster = cfg.cluster.enabled
  ? new Cluster(
      env,
      {
        // The physical name is part of tag keys and IAM conditions; never change it afterwards.
        clusterName: `${pulumi.getProject()}-${env}`,
        vpcId: network.vpcId,
        privateSubnetIds: network.privateSubnetIds,
        publicSubnetIds: network.publicSubnetIds,
        version: cfg.cluster.version,
        publicAccessCidrs: cfg.cluster.publicAccessCidrs,
        adminRoleArns: cfg.cluster.adminRoleArns,
        nodeGroups: cfg.cluster.nodeGroups,
        logRetentionDays: cfg.logRetentionDays,
        instanceTags: platformTags(cfg),
        deletionProtection: prod,
      },
      opts,
    )
  : undefined;
if (cluster !== undefined) {
  database?.allowFrom("eks-nodes", cluster.clusterSecurityGroupId);
  if (cfg.cluster.autoscaler.enabled) {
    new ClusterAutoscaler(`${env}-cluster-autoscaler`, { cluster, region: cfg.region }, opts);
  }
  if (cfg.cluster.metricsServer.enabled) {
    new MetricsServer(`${env}-metrics-server`, { cluster }, opts);
  }
}

const lottery = cfg.api.enabled
  ? new FunctionApi(
      env,
      {
        memoryMb: cfg.api.memoryMb,
        timeoutSeconds: cfg.api.timeoutSeconds,
        throttleRateLimit: cfg.api.throttleRateLimit,
        throttleBurstLimit: cfg.api.throttleBurstLimit,
        logRetentionDays: cfg.logRetentionDays,
      },
      opts,
    )
  : undefined;

export const environment = env;
export const vpcId = network.vpcId;
export const publicSubnetIds = network.publicSubnetIds;
export const privateSubnetIds = network.privateSubnetIds;
export const clusterName = cluster?.name;
export const kubeconfig = cluster?.kubeconfig;
export const nodeGroupNames = cluster?.nodeGroupNames;
export const repositoryUrls = registry.repositoryUrls;
export const imagesBucketName = images?.bucketName;
export const databaseEndpoint = database?.endpoint;
export const databaseName = database?.databaseName;
export const databaseMasterSecretArn = database?.masterUserSecretArn;
export const bastionAsgName = bastion?.asgName;
export const databaseTunnelCommand = bastion?.databaseTunnelCommand;
export const apiUrl = lottery?.url;
export const releases = cfg.releases;
