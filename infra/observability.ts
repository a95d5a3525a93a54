/**
 * Wiring of the observability components from the validated config (issue 4): the shared EFS
 * file system and its CSI driver, kube-prometheus-stack, and Fluentd -> OpenSearch with its
 * index retention and the Dashboards proxy. A plain function the composition root calls, so the
 * tests evaluate exactly the wiring the program uses; every resource lives in the components.
 */
import * as pulumi from "@pulumi/pulumi";
import { EbsCsiDriver } from "./addons/ebsCsi";
import { cacheRegistryOf, DOCKER_HUB_CACHE_PREFIX, viaDockerHubCache } from "./lib/images";
import { EfsCsiDriver } from "./addons/efsCsi";
import { Monitoring } from "./addons/monitoring";
import type { Cluster } from "./cluster/cluster";
import type { PlatformConfig } from "./config/schema";
import { SharedFileSystem } from "./storage/sharedFileSystem";
import { LogDashboards } from "./logging/dashboards";
import { defaults as fluentdDefaults, Fluentd } from "./logging/fluentd";
import { LogStore } from "./logging/opensearch";
import { LogRetention } from "./logging/retention";

export interface ObservabilityInputs {
  readonly cfg: PlatformConfig;
  /** The stack's cluster; required when monitoring or logging is enabled (the config guarantees it). */
  readonly cluster: Cluster | undefined;
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets, one per entry of `cfg.availabilityZones`, in that order. */
  readonly privateSubnetIds: pulumi.Input<string[]>;
  /** `platform:discordWebhookUrl` (a secret). Default: alerts are not posted anywhere. */
  readonly discordWebhookUrl?: pulumi.Input<string>;
  /** The stack's shared ALB. Without it neither Prometheus nor Dashboards is exposed, whatever the CIDR lists say. */
  readonly ingress?: {
    readonly groupName: string;
    readonly groupAnnotations: Readonly<Record<string, pulumi.Input<string>>>;
    /** e.g. `monitoring.example.com`; must be covered by the ALB's certificate. */
    readonly monitoringHost: string;
    /** e.g. `log.example.com` (seed 000); must be covered by the ALB's certificate. */
    readonly logHost: string;
  };
}

export interface ObservabilityOutputs {
  readonly efsFileSystemId?: pulumi.Output<string>;
  readonly grafanaPortForwardCommand?: pulumi.Output<string>;
  readonly grafanaAdminSecret?: pulumi.Output<string>;
  readonly prometheusUrl?: string;
  readonly opensearchEndpoint?: pulumi.Output<string>;
  readonly logDashboardsUrl?: string;
  /** Ingresses this declared in the shared IngressGroup (the edge publishes their hosts). */
  readonly ingresses: readonly pulumi.Resource[];
}

export function declareObservability(inputs: ObservabilityInputs, opts: pulumi.ComponentResourceOptions): ObservabilityOutputs {
  const { cfg, cluster } = inputs;
  // Docker Hub images (Fluentd, Grafana) through the account's pull-through cache when configured.
  const cacheCredential = cfg.registry.dockerHubCache?.credentialArn;
  const cache = cacheCredential !== undefined ? cacheRegistryOf(cacheCredential) : undefined;
  const o = cfg.observability;
  const env = cfg.environment;
  const prod = env === "prod";
  if (cluster === undefined) {
    if (o.monitoring.enabled || o.logging.enabled) {
      throw new Error("observability.monitoring/logging need the cluster (the config check should have said so)");
    }
    return { ingresses: [] };
  }

  let monitoring: Monitoring | undefined;
  let efs: SharedFileSystem | undefined;
  if (o.monitoring.enabled) {
    efs = new SharedFileSystem(
      `${env}-efs`,
      {
        vpcId: inputs.vpcId,
        availabilityZones: cfg.availabilityZones,
        subnetIds: inputs.privateSubnetIds,
        nodeSecurityGroupId: cluster.clusterSecurityGroupId,
        backup: o.efs.backup,
        backupRetentionDays: o.efs.backupRetentionDays,
        protect: prod,
      },
      opts,
    );
    const efsCsi = new EfsCsiDriver(`${env}-efs-csi`, { cluster, fileSystemId: efs.fileSystemId }, opts);
    const gp3 = o.monitoring.prometheusStorage === "gp3" ? new EbsCsiDriver(`${env}-ebs-csi`, { cluster }, opts) : undefined;
    const expose = inputs.ingress !== undefined && o.monitoring.allowedCidrs.length > 0;
    monitoring = new Monitoring(
      `${env}-monitoring`,
      {
        cluster,
        storageClassName: efsCsi.storageClassName,
        prometheusStorageClassName: gp3?.storageClassName,
        retentionDays: o.monitoring.retentionDays,
        prometheusVolumeGi: o.monitoring.prometheusVolumeGi,
        alertmanagerVolumeGi: o.monitoring.alertmanagerVolumeGi,
        grafanaVolumeGi: o.monitoring.grafanaVolumeGi,
        discordWebhookUrl: inputs.discordWebhookUrl,
        alertmanagerReplicas: prod ? 2 : 1,
        allowedCidrs: expose ? o.monitoring.allowedCidrs : [],
        grafanaImage: cache !== undefined ? { registry: cache, repository: `${DOCKER_HUB_CACHE_PREFIX}/grafana/grafana` } : undefined,
        monitoringHost: expose ? inputs.ingress?.monitoringHost : undefined,
        ingressGroupName: expose ? inputs.ingress?.groupName : undefined,
        ingressGroupAnnotations: inputs.ingress?.groupAnnotations,
      },
      opts,
    );
  }

  let logStore: LogStore | undefined;
  let dashboards: LogDashboards | undefined;
  if (o.logging.enabled) {
    logStore = new LogStore(
      `${env}-logs`,
      {
        vpcId: inputs.vpcId,
        subnetIds: inputs.privateSubnetIds,
        clientSecurityGroupId: cluster.clusterSecurityGroupId,
        // The physical name is part of the endpoint and the ARN; never change it afterwards.
        domainName: `${pulumi.getProject()}-${env}-logs`,
        engineVersion: o.logging.engineVersion,
        instanceType: o.logging.instanceType,
        instanceCount: o.logging.instanceCount,
        volumeGb: o.logging.volumeGb,
        // null in config removes an environment default; the component takes absent as none.
        dedicatedMasters: o.logging.dedicatedMasters ?? undefined,
        logRetentionDays: cfg.logRetentionDays,
        protect: prod,
        createServiceLinkedRole: o.logging.createServiceLinkedRole,
      },
      opts,
    );
    // One prefix for the writer and the retention policy: indices of any other prefix would
    // never be deleted.
    const indexPrefix = fluentdDefaults.indexPrefix;
    new Fluentd(
      `${env}-fluentd`,
      {
        cluster,
        region: cfg.region,
        opensearchEndpoint: logStore.endpoint,
        opensearchDomainArn: logStore.domainArn,
        indexPrefix,
        ...(cache !== undefined ? { image: viaDockerHubCache(fluentdDefaults.image, cache) } : {}),
      },
      opts,
    );
    new LogRetention(
      `${env}-log-retention`,
      {
        cluster,
        region: cfg.region,
        opensearchEndpoint: logStore.endpoint,
        opensearchDomainArn: logStore.domainArn,
        indexPrefix,
        retentionDays: o.logging.retentionDays,
      },
      opts,
    );
    if (inputs.ingress !== undefined && o.logging.dashboardsCidrs.length > 0) {
      dashboards = new LogDashboards(
        `${env}-log-dashboards`,
        {
          cluster,
          region: cfg.region,
          opensearchEndpoint: logStore.endpoint,
          opensearchDomainArn: logStore.domainArn,
          host: inputs.ingress.logHost,
          allowedCidrs: o.logging.dashboardsCidrs,
          ingressGroupName: inputs.ingress.groupName,
          ingressGroupAnnotations: inputs.ingress.groupAnnotations,
        },
        opts,
      );
    }
  }

  return {
    efsFileSystemId: efs?.fileSystemId,
    grafanaPortForwardCommand: monitoring?.grafanaPortForwardCommand,
    grafanaAdminSecret: monitoring?.grafanaAdminSecretName,
    prometheusUrl: monitoring?.prometheusUrl,
    opensearchEndpoint: logStore?.endpoint,
    logDashboardsUrl: dashboards?.url,
    ingresses: [monitoring?.ingress, dashboards?.ingress].filter((i): i is NonNullable<typeof i> => i !== undefined),
  };
}
