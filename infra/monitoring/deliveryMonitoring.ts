import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CloudWatchExporter } from "../addons/cloudwatchExporter";
import { kubePrometheusStackChart } from "../addons/monitoringChart";
import type { Cluster } from "../cluster/cluster";
import type { DeliveryStack } from "../lib/delivery";
import { deliveryAlertRules, exporterConfig } from "../lib/deliveryAlerts";
import { DASHBOARD_UID, deliveryDashboard } from "../lib/deliveryDashboard";

export interface DeliveryMonitoringArgs {
  readonly cluster: Cluster;
  /** The monitoring namespace (Grafana's dashboard sidecar and Prometheus run there). */
  readonly namespace: pulumi.Input<string>;
  /** The kube-prometheus-stack release: it installs the PrometheusRule and ServiceMonitor CRDs. */
  readonly monitoringRelease: pulumi.Resource;
  /** The stack's services behind its ALB, and where that ALB is. */
  readonly stack: DeliveryStack;
}

/** The dashboard sidecar's label at the pinned kube-prometheus-stack (monitoringChart.ts). */
const SIDECAR = kubePrometheusStackChart.values.grafana.sidecar.dashboards;

/**
 * How blue/green and canary rollouts are watched: the generated delivery dashboard (a ConfigMap
 * the Grafana dashboard sidecar provisions), the CloudWatch exporter that brings the ALB's
 * per-target-group metrics into Prometheus, and the alert rules on them (routed by Alertmanager
 * to Discord). The thresholds are each service's canary analysis thresholds
 * (infra/lib/deliveryAlerts.ts says why alerts go through an exporter).
 */
export class DeliveryMonitoring extends pulumi.ComponentResource {
  readonly dashboard: k8s.core.v1.ConfigMap;
  readonly rules: k8s.apiextensions.CustomResource;
  readonly exporter: CloudWatchExporter;

  constructor(name: string, args: DeliveryMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:monitoring:DeliveryMonitoring", name, { environment: args.stack.environment }, opts);
    const k8sOpts = { provider: args.cluster.provider, parent: this };
    this.dashboard = new k8s.core.v1.ConfigMap(
      `${name}-dashboard`,
      {
        metadata: { name: DASHBOARD_UID, namespace: args.namespace, labels: { [SIDECAR.label]: SIDECAR.labelValue } },
        data: { [`${DASHBOARD_UID}.json`]: JSON.stringify(deliveryDashboard(args.stack), null, 1) },
      },
      k8sOpts,
    );
    this.exporter = new CloudWatchExporter(
      `${name}-exporter`,
      { cluster: args.cluster, namespace: args.namespace, config: exporterConfig(args.stack), dependsOn: [args.monitoringRelease] },
      { parent: this },
    );
    this.rules = new k8s.apiextensions.CustomResource(
      `${name}-alerts`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: "platform-delivery", namespace: args.namespace },
        spec: { groups: [{ name: "platform-delivery", rules: deliveryAlertRules(args.stack) }] },
      },
      { ...k8sOpts, dependsOn: [args.monitoringRelease] },
    );
    this.registerOutputs({ dashboard: this.dashboard.metadata.name, rules: this.rules.metadata.name });
  }
}
