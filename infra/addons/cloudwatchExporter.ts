import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { stringify } from "yaml";
import type { Cluster } from "../cluster/cluster";
import { IrsaRole } from "../iam/irsaRole";
import type { ChartDefaults } from "../lib/chartPdb";
import { withDefaults } from "../lib/defaults";
import type { ResourceRequirements } from "./clusterAutoscaler";
import { podSecurityContext, RESTRICTED_CONTAINER } from "./grafanaValues";
import { pinnedRelease } from "./helm";

export interface CloudWatchExporterProps {
  readonly cluster: Cluster;
  /** Namespace to install into (the monitoring namespace, whose Prometheus scrapes every ServiceMonitor). */
  readonly namespace: pulumi.Input<string>;
  /**
   * The exporter's configuration (YACE `config.yml`, as an object), e.g. `exporterConfig` of
   * infra/lib/deliveryAlerts.ts. It goes through the chart's `tpl`, so it may not contain `{{`.
   */
  readonly config: pulumi.Input<Record<string, unknown>>;
  /** Depend on these (the monitoring release, whose CRDs the ServiceMonitor needs). Default: none. */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
  /** Chart version. Default: `defaults.version`. */
  readonly version?: string;
  /** Container resources. Default: `defaults.resources`. */
  readonly resources?: ResourceRequirements;
}

export const defaults = {
  chart: "prometheus-yet-another-cloudwatch-exporter",
  repository: "https://prometheus-community.github.io/helm-charts",
  // 0.47.0 (Jul 2026) runs YACE v0.67.0 (quay.io/prometheuscommunity/yet-another-cloudwatch-exporter).
  // Upgrade hazard: YACE's config schema (`apiVersion: v1alpha1`) and its metric and label naming
  // (infra/lib/deliveryAlerts.ts states the facts the alerts rely on) are re-read with every bump.
  version: "0.47.0",
  chartDefaults: {
    chart: "prometheus-yet-another-cloudwatch-exporter",
    version: "0.47.0",
    reviewed: "2026-08-22",
    source: "prometheus-community/helm-charts tag prometheus-yet-another-cloudwatch-exporter-0.47.0 (4c55d5690), charts/prometheus-yet-another-cloudwatch-exporter",
    values: {
      // values.yaml: replicaCount 1; podDisruptionBudget enabled false, minAvailable 1.
      replicaCount: 1,
      podDisruptionBudget: { enabled: false, minAvailable: 1, unhealthyPodEvictionPolicy: "AlwaysAllow" },
    },
    pdbs: [
      {
        component: "yet-another-cloudwatch-exporter",
        values: "podDisruptionBudget",
        replicas: "replicaCount",
        template: "to-yaml",
        renderedWhen: "enabled",
        source: "templates/podDisruptionBudget.yaml (toYaml of the map without enabled)",
      },
    ],
  } satisfies ChartDefaults,
  namespace: "monitoring",
  release: "cloudwatch-exporter",
  // Short, fixed object names: Deployment, Service and service account `yace` (the IRSA role trusts it).
  fullnameOverride: "yace",
  resources: {
    requests: { cpu: "20m", memory: "64Mi" },
    limits: { cpu: "200m", memory: "256Mi" },
  } satisfies ResourceRequirements,
};

/**
 * The permissions of a YACE discovery job (its README's minimum for discovery: tag:GetResources to
 * find the tagged resources, ListMetrics and GetMetricData to read them). Not
 * GetMetricStatistics (static jobs only) nor iam:ListAccountAliases (an optional label; without it
 * YACE logs a warning per scrape, pkg/job/scrape.go:77-80).
 */
export function exporterPolicy(): Record<string, unknown> {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "DiscoverAndReadMetrics", Effect: "Allow", Action: ["tag:GetResources", "cloudwatch:ListMetrics", "cloudwatch:GetMetricData"], Resource: "*" }],
  };
}

/**
 * The CloudWatch exporter (YACE) from the official prometheus-community chart: reads the AWS
 * metrics its configuration names, with its own IRSA role, and serves them to Prometheus through a
 * ServiceMonitor. One replica, no PDB: a scrape it misses is a gap of one window in the alerts'
 * input, not an outage.
 */
export class CloudWatchExporter extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, props: CloudWatchExporterProps, opts?: pulumi.ComponentResourceOptions) {
    super("platform:addons:CloudWatchExporter", name, { clusterName: props.cluster.clusterName }, opts);
    const p = withDefaults(defaults, props);
    const role = new IrsaRole(
      `${name}-irsa`,
      {
        oidcProviderArn: props.cluster.oidcProviderArn,
        oidcProviderUrl: props.cluster.oidcProviderUrl,
        namespace: defaults.namespace,
        serviceAccount: defaults.fullnameOverride,
        inlinePolicies: { cloudwatch: JSON.stringify(exporterPolicy()) },
        description: "CloudWatch exporter (ALB metrics for the delivery alerts)",
      },
      { parent: this },
    );
    const values = {
      fullnameOverride: defaults.fullnameOverride,
      serviceAccount: { create: true, annotations: { "eks.amazonaws.com/role-arn": role.roleArn } },
      config: pulumi.output(props.config).apply((c) => stringify(c)),
      // Prometheus (serviceMonitorSelectorNilUsesHelmValues: false) scrapes every ServiceMonitor;
      // YACE refreshes its window every 5 minutes, so a faster scrape reads the same values.
      serviceMonitor: { enabled: true, interval: "60s", timeout: "30s" },
      resources: p.resources,
      // The monitoring namespace enforces the restricted profile.
      podSecurityContext: { ...podSecurityContext(65534, 65534) },
      securityContext: { ...RESTRICTED_CONTAINER, runAsNonRoot: true, runAsUser: 65534 },
      testConnection: false,
    };
    this.release = pinnedRelease(name, p, props.namespace, values, { provider: props.cluster.provider, parent: this, dependsOn: props.dependsOn });
    this.roleArn = role.roleArn;
    this.registerOutputs({ releaseStatus: this.release.status, roleArn: this.roleArn });
  }
}
