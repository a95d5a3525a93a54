/**
 * Wiring of the observability components from the validated config: the shared EFS file system
 * and its CSI driver, kube-prometheus-stack, and Fluentd -> OpenSearch with its index retention
 * and the Dashboards proxy. Every resource lives in the components.
 */
import * as pulumi from "@pulumi/pulumi";
import { EbsCsiDriver } from "../addons/ebsCsi";
import { EfsCsiDriver } from "../addons/efsCsi";
import { Monitoring } from "../addons/monitoring";
import { APPS_NAMESPACE } from "../apps/appNamespace";
import { CANARY_DEFAULTS } from "../lib/canary";
import type { DeliveryStack } from "../lib/delivery";
import { liveActionAnnotationKey } from "../lib/delivery";
import { DeliveryMonitoring } from "../monitoring/deliveryMonitoring";
import type { Cluster } from "../cluster/cluster";
import type { Edge } from "../edge/edge";
import { cacheRegistryOf, DOCKER_HUB_CACHE_PREFIX, viaDockerHubCache } from "../lib/images";
import { LogDashboards } from "../logging/dashboards";
import { defaults as fluentdDefaults, Fluentd } from "../logging/fluentd";
import { LogStore } from "../logging/opensearch";
import { LogRetention } from "../logging/retention";
import type { Network } from "../network/network";
import { SharedFileSystem } from "../storage/sharedFileSystem";
import type { Wiring } from "./context";

/** What monitoring and logging are given beside the cluster. */
export interface ObservabilityNeighbours {
  readonly network: Network;
  /** The stack's shared ALB. Without it neither Prometheus nor Dashboards is exposed, whatever the CIDR lists say. */
  readonly edge?: Edge;
  /** `platform:discordWebhookUrl` (a secret). Default: alerts are not posted anywhere. */
  readonly discordWebhookUrl?: pulumi.Input<string>;
}

export interface Observability {
  readonly efsFileSystemId?: pulumi.Output<string>;
  readonly grafanaPortForwardCommand?: pulumi.Output<string>;
  readonly grafanaAdminSecret?: pulumi.Output<string>;
  readonly prometheusUrl?: string;
  readonly opensearchEndpoint?: pulumi.Output<string>;
  readonly logDashboardsUrl?: string;
  /** Ingresses this declared in the shared IngressGroup (the edge publishes their hosts). */
  readonly ingresses: readonly pulumi.Resource[];
}

/** The account's Docker Hub pull-through cache registry, when configured: Fluentd and Grafana are pulled through it. */
function dockerHubCache({ cfg }: Wiring): string | undefined {
  const credential = cfg.registry.dockerHubCache?.credentialArn;
  return credential !== undefined ? cacheRegistryOf(credential) : undefined;
}

export function wireObservability(w: Wiring, cluster: Cluster | undefined, n: ObservabilityNeighbours): Observability {
  const o = w.cfg.observability;
  if (cluster === undefined) {
    if (o.monitoring.enabled || o.logging.enabled) {
      throw new pulumi.RunError("observability.monitoring/logging need the cluster (the config check should have said so)");
    }
    return { ingresses: [] };
  }
  const monitoring = o.monitoring.enabled ? wireMonitoring(w, cluster, n) : undefined;
  const logging = o.logging.enabled ? wireLogging(w, cluster, n) : undefined;
  return {
    efsFileSystemId: monitoring?.efs.fileSystemId,
    grafanaPortForwardCommand: monitoring?.monitoring.grafanaPortForwardCommand,
    grafanaAdminSecret: monitoring?.monitoring.grafanaAdminSecretName,
    prometheusUrl: monitoring?.monitoring.prometheusUrl,
    opensearchEndpoint: logging?.logStore.endpoint,
    logDashboardsUrl: logging?.dashboards?.url,
    ingresses: [monitoring?.monitoring.ingress, logging?.dashboards?.ingress].filter((i): i is NonNullable<typeof i> => i !== undefined),
  };
}

/** The stack's blue/green services as the delivery dashboard and alerts describe them; undefined when it has none or turned them off. */
function deliveryStack({ cfg, env }: Wiring, cluster: Cluster): DeliveryStack | undefined {
  if (!cfg.observability.monitoring.delivery || cfg.services.length === 0) {
    return undefined;
  }
  return {
    environment: env,
    region: cfg.region,
    clusterName: cluster.clusterName,
    // Every Ingress of the stack joins the IngressGroup named after the environment (wiring/apps.ts).
    ingressGroup: env,
    services: cfg.services.map((s) => ({
      name: s.name,
      port: s.port,
      namespace: APPS_NAMESPACE,
      analysis: s.rollout.strategy === "canary" ? s.rollout.analysis : CANARY_DEFAULTS.analysis,
      canary: s.rollout.strategy === "canary",
    })),
  };
}

/** Prometheus, Alertmanager and Grafana on the shared EFS file system (or Prometheus alone on gp3). */
function wireMonitoring(w: Wiring, cluster: Cluster, n: ObservabilityNeighbours): { efs: SharedFileSystem; monitoring: Monitoring } {
  const { cfg, env, prod, opts, hosts } = w;
  const o = cfg.observability;
  const efs = new SharedFileSystem(
    `${env}-efs`,
    {
      vpcId: n.network.vpcId,
      availabilityZones: cfg.availabilityZones,
      subnetIds: n.network.privateSubnetIds,
      nodeSecurityGroupId: cluster.clusterSecurityGroupId,
      backup: o.efs.backup,
      backupRetentionDays: o.efs.backupRetentionDays,
      protect: prod,
    },
    opts,
  );
  const efsCsi = new EfsCsiDriver(`${env}-efs-csi`, { cluster, fileSystemId: efs.fileSystemId }, opts);
  const gp3 = o.monitoring.prometheusStorage === "gp3" ? new EbsCsiDriver(`${env}-ebs-csi`, { cluster }, opts) : undefined;
  const expose = n.edge !== undefined && o.monitoring.allowedCidrs.length > 0;
  const cache = dockerHubCache(w);
  const delivery = deliveryStack(w, cluster);
  const monitoring = new Monitoring(
    `${env}-monitoring`,
    {
      cluster,
      storageClassName: efsCsi.storageClassName,
      prometheusStorageClassName: gp3?.storageClassName,
      retentionDays: o.monitoring.retentionDays,
      prometheusVolumeGi: o.monitoring.prometheusVolumeGi,
      alertmanagerVolumeGi: o.monitoring.alertmanagerVolumeGi,
      grafanaVolumeGi: o.monitoring.grafanaVolumeGi,
      discordWebhookUrl: n.discordWebhookUrl,
      alertmanagerReplicas: prod ? 2 : 1,
      allowedCidrs: expose ? o.monitoring.allowedCidrs : [],
      grafanaImage: cache !== undefined ? { registry: cache, repository: `${DOCKER_HUB_CACHE_PREFIX}/grafana/grafana` } : undefined,
      monitoringHost: expose ? hosts.monitoring : undefined,
      ingressGroupName: expose ? n.edge?.groupName : undefined,
      ingressGroupAnnotations: n.edge?.ingressGroupAnnotations,
      cloudWatchRegion: delivery !== undefined ? cfg.region : undefined,
      ingressAnnotations: delivery?.services.map((s) => liveActionAnnotationKey(s.name)),
    },
    opts,
  );
  if (delivery !== undefined) {
    new DeliveryMonitoring(`${env}-delivery`, { cluster, namespace: monitoring.namespace, monitoringRelease: monitoring.release, stack: delivery }, opts);
  }
  return { efs, monitoring };
}

/** Fluentd -> OpenSearch, the index retention Job, and Dashboards when CIDRs are listed. */
function wireLogging(w: Wiring, cluster: Cluster, n: ObservabilityNeighbours): { logStore: LogStore; dashboards?: LogDashboards } {
  const { cfg, env, prod, opts, hosts } = w;
  const logging = cfg.observability.logging;
  const logStore = new LogStore(
    `${env}-logs`,
    {
      vpcId: n.network.vpcId,
      subnetIds: n.network.privateSubnetIds,
      clientSecurityGroupId: cluster.clusterSecurityGroupId,
      // The physical name is part of the endpoint and the ARN; never change it afterwards.
      domainName: `${pulumi.getProject()}-${env}-logs`,
      engineVersion: logging.engineVersion,
      instanceType: logging.instanceType,
      instanceCount: logging.instanceCount,
      volumeGb: logging.volumeGb,
      // null in config removes an environment default; the component takes absent as none.
      dedicatedMasters: logging.dedicatedMasters ?? undefined,
      logRetentionDays: cfg.logRetentionDays,
      protect: prod,
      createServiceLinkedRole: logging.createServiceLinkedRole,
    },
    opts,
  );
  const opensearch = { cluster, region: cfg.region, opensearchEndpoint: logStore.endpoint, opensearchDomainArn: logStore.domainArn };
  // One prefix for the writer and the retention policy: indices of any other prefix would never be deleted.
  const indexPrefix = fluentdDefaults.indexPrefix;
  const cache = dockerHubCache(w);
  new Fluentd(`${env}-fluentd`, { ...opensearch, indexPrefix, ...(cache !== undefined ? { image: viaDockerHubCache(fluentdDefaults.image, cache) } : {}) }, opts);
  new LogRetention(`${env}-log-retention`, { ...opensearch, indexPrefix, retentionDays: logging.retentionDays }, opts);
  const dashboards =
    n.edge !== undefined && logging.dashboardsCidrs.length > 0
      ? new LogDashboards(
          `${env}-log-dashboards`,
          {
            ...opensearch,
            host: hosts.logs,
            allowedCidrs: logging.dashboardsCidrs,
            ingressGroupName: n.edge.groupName,
            ingressGroupAnnotations: n.edge.ingressGroupAnnotations,
          },
          opts,
        )
      : undefined;
  return { logStore, dashboards };
}
