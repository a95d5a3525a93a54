import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Cluster } from "../cluster/cluster";
import type { ResourceRequirements } from "./clusterAutoscaler";
import { allButOne, kubePrometheusStackChart, SingleKeyPdb } from "./monitoringChart";
import { withDefaults } from "../lib/defaults";
import { pinnedRelease } from "./helm";
import { ALB_READINESS_GATE_LABEL, podSecurityLabels } from "../lib/podSecurity";
import { IrsaRole } from "../iam/irsaRole";
import { grafanaCloudWatchPolicy, grafanaValues, podSecurityContext, RESTRICTED_CONTAINER } from "./grafanaValues";

type Values = Record<string, unknown>;

/** The chart values this add-on sets (prometheus-community `charts/kube-prometheus-stack/values.yaml`). */
export type MonitoringValues = {
  fullnameOverride: string;
  crds: { enabled: boolean };
  defaultRules: { create: boolean };
  kubeControllerManager: { enabled: boolean };
  kubeScheduler: { enabled: boolean };
  kubeEtcd: { enabled: boolean };
  kubeProxy: { enabled: boolean };
  prometheusOperator: Values;
  prometheus: { service: Values; podDisruptionBudget: SingleKeyPdb; prometheusSpec: Values };
  alertmanager: { config: Values; podDisruptionBudget: SingleKeyPdb; alertmanagerSpec: Values };
  grafana: Values;
  "kube-state-metrics": Values;
  "prometheus-node-exporter": Values;
};

export interface MonitoringProps {
  /** The cluster to install into (its k8s provider is used). */
  readonly cluster: Cluster;
  /**
   * StorageClass of Alertmanager's and Grafana's volumes (and Prometheus' unless
   * `prometheusStorageClassName` is given): `EfsCsiDriver.storageClassName`, which resolves once the
   * driver exists, so the release only starts when its claims can bind.
   */
  readonly storageClassName: pulumi.Input<string>;
  /** StorageClass of Prometheus' volume, e.g. `EbsCsiDriver.storageClassName` for gp3. Default: `storageClassName`. */
  readonly prometheusStorageClassName?: pulumi.Input<string>;
  /** Days of metrics Prometheus keeps. */
  readonly retentionDays: number;
  /** Size of each Prometheus volume; retention by size is set to 85% of it. */
  readonly prometheusVolumeGi: number;
  readonly alertmanagerVolumeGi: number;
  readonly grafanaVolumeGi: number;
  /**
   * Discord webhook URL alerts are posted to (a Pulumi secret). It is written only into the
   * Kubernetes Secret `alertmanager-discord`; Alertmanager reads it from the mounted file.
   * Default: none; alerts then stay in Alertmanager (visible in its UI) and nothing is posted,
   * because a stack file cannot ship an encrypted value for someone else's passphrase.
   */
  readonly discordWebhookUrl?: pulumi.Input<string>;
  /**
   * Where Grafana's image is pulled from instead of the chart's `docker.io/grafana/grafana`
   * (grafana chart 10.2.0 values.yaml `image.registry`/`image.repository`), e.g. an ECR pull-through
   * cache: `{ registry: "<account>.dkr.ecr.<region>.amazonaws.com", repository: "docker-hub/grafana/grafana" }`.
   * The tag stays the chart's appVersion. Default: the chart's.
   */
  readonly grafanaImage?: { readonly registry: string; readonly repository: string };
  /** Host Prometheus is served on through the ALB, e.g. `monitoring.example.com`. Default: not exposed. */
  readonly monitoringHost?: string;
  /** Path Prometheus is served under on `monitoringHost` (its route prefix). Default: `/`. */
  readonly prometheusPath?: string;
  /** Source CIDRs the ALB forwards to Prometheus from; empty means no Ingress at all. Default: `[]`. */
  readonly allowedCidrs?: readonly string[];
  /** The stack's shared IngressGroup (one ALB). Required when Prometheus is exposed. */
  readonly ingressGroupName?: string;
  /** Group-wide ALB annotations (listeners, certificate, TLS policy, WAF), identical on every Ingress of the group. */
  readonly ingressGroupAnnotations?: Readonly<Record<string, pulumi.Input<string>>>;
  /** `group.order` of the Prometheus Ingress. Default: 900 (its host condition keeps it disjoint from the apps' rules). */
  readonly ingressOrder?: number;
  /** Prometheus replicas, each with its own volume. Default: 1. */
  readonly prometheusReplicas?: number;
  /** Alertmanager replicas (they gossip to deduplicate notifications). Default: 1. */
  readonly alertmanagerReplicas?: number;
  /** Prometheus container resources. Default: `defaults.prometheusResources`. */
  readonly prometheusResources?: ResourceRequirements;
  /** Chart version. Default: `defaults.version`. */
  readonly version?: string;
  /** Chart name. Default: `kube-prometheus-stack`. */
  readonly chart?: string;
  /** Chart repository. Default: the official `https://prometheus-community.github.io/helm-charts`. */
  readonly repository?: string;
  /** Namespace of everything but node-exporter. Default: `monitoring`. */
  readonly namespace?: string;
  /** Namespace of node-exporter, the one component that needs host access. Default: `node-exporter`. */
  readonly nodeExporterNamespace?: string;
  /** Helm release name. Default: `kube-prometheus-stack`. */
  readonly release?: string;
  /**
   * Grafana gets a CloudWatch data source (uid `cloudwatch`) in this region, reading through its
   * own IRSA role (the ALB's metrics and the tags that find its target groups, nothing else).
   * Default: none.
   */
  readonly cloudWatchRegion?: string;
  /**
   * Ingress annotations kube-state-metrics exports as `kube_ingress_annotations` labels (e.g. the
   * services' live forward actions, which the delivery dashboard reads the weights from). Default: none.
   */
  readonly ingressAnnotations?: readonly string[];
}

export const defaults = {
  chart: "kube-prometheus-stack",
  repository: "https://prometheus-community.github.io/helm-charts",
  // 79.7.1 (Nov 2025): Prometheus Operator 0.86, Prometheus 3.x, Alertmanager 0.29 (discord
  // `webhook_url_file` needs >= 0.26), Grafana chart 10.x. Upgrade hazards: Helm installs the
  // chart's CRDs (charts/crds/crds) on first install only and never upgrades them, so before a
  // chart bump apply the new CRDs server-side (`kubectl apply --server-side -f` the release's
  // crds) or the operator may reject fields it expects; major versions also rename values, so
  // read the chart's UPGRADE notes for every major crossed.
  version: "79.7.1",
  // Re-read these with every chart bump (test/helmReleases.test.ts fails until `version` matches).
  chartDefaults: kubePrometheusStackChart,
  namespace: "monitoring",
  nodeExporterNamespace: "node-exporter",
  release: "kube-prometheus-stack",
  // Short, fixed object names: `kps-prometheus`, `kps-alertmanager` (the Ingress and the README's
  // port-forward commands name them).
  fullnameOverride: "kps",
  grafanaAdminSecret: "grafana-admin",
  discordSecret: "alertmanager-discord",
  discordSecretKey: "webhook-url",
  ingressOrder: 900,
  prometheusPath: "/",
  prometheusReplicas: 1,
  alertmanagerReplicas: 1,
  allowedCidrs: [] as readonly string[],
  prometheusResources: {
    requests: { cpu: "250m", memory: "1Gi" },
    limits: { cpu: "1", memory: "3Gi" },
  } satisfies ResourceRequirements,
  alertmanagerResources: {
    requests: { cpu: "25m", memory: "64Mi" },
    limits: { cpu: "200m", memory: "256Mi" },
  } satisfies ResourceRequirements,
  grafanaResources: {
    requests: { cpu: "100m", memory: "256Mi" },
    limits: { cpu: "500m", memory: "512Mi" },
  } satisfies ResourceRequirements,
  operatorResources: {
    requests: { cpu: "50m", memory: "128Mi" },
    limits: { cpu: "300m", memory: "256Mi" },
  } satisfies ResourceRequirements,
  kubeStateMetricsResources: {
    requests: { cpu: "50m", memory: "128Mi" },
    limits: { cpu: "300m", memory: "256Mi" },
  } satisfies ResourceRequirements,
  nodeExporterResources: {
    requests: { cpu: "25m", memory: "48Mi" },
    limits: { cpu: "200m", memory: "128Mi" },
  } satisfies ResourceRequirements,
};

/** Prometheus' HTTP port on the `kps-prometheus` Service. */
export const PROMETHEUS_PORT = 9090;


/** `/` stays `/`; anything else loses its trailing slash: `/prometheus/` -> `/prometheus`. Undefined when not absolute. */
function normalisePath(path: string): string | undefined {
  if (!path.startsWith("/")) {
    return undefined;
  }
  return path === "/" ? path : path.replace(/\/+$/, "");
}

/** The add-on's settings: the pinned defaults under the props. */
type Settings = typeof defaults & MonitoringProps;

const claim = (storageClassName: pulumi.Input<string>, sizeGi: number): Values => ({
  spec: { storageClassName, accessModes: ["ReadWriteOnce"], resources: { requests: { storage: `${sizeGi}Gi` } } },
});
const spreadOverZones = { podAntiAffinity: "soft", podAntiAffinityTopologyKey: "topology.kubernetes.io/zone" };

/** Prometheus: retention by time and size, every ServiceMonitor of the cluster, spread over zones, its own volume. */
function prometheusValues(p: Settings, props: MonitoringProps, path: string, prometheusUrl: string | undefined): MonitoringValues["prometheus"] {
  return {
    // Internal only; the optional Ingress below is the one way in from outside.
    service: { type: "ClusterIP" },
    podDisruptionBudget: allButOne(p.prometheusReplicas),
    prometheusSpec: {
      replicas: p.prometheusReplicas,
      retention: `${p.retentionDays}d`,
      // Whichever limit is hit first wins: on elastic EFS the size bound is what caps the bill.
      retentionSize: `${Math.floor(p.prometheusVolumeGi * 0.85)}GB`,
      routePrefix: path,
      ...(prometheusUrl !== undefined ? { externalUrl: prometheusUrl } : {}),
      // Pick up every ServiceMonitor/PodMonitor/rule in the cluster, not only this release's.
      serviceMonitorSelectorNilUsesHelmValues: false,
      podMonitorSelectorNilUsesHelmValues: false,
      ruleSelectorNilUsesHelmValues: false,
      probeSelectorNilUsesHelmValues: false,
      resources: p.prometheusResources,
      securityContext: podSecurityContext(1000, 2000),
      ...spreadOverZones,
      storageSpec: { volumeClaimTemplate: claim(props.prometheusStorageClassName ?? props.storageClassName, p.prometheusVolumeGi) },
    },
  };
}

/** Alertmanager: grouped and inhibited routes, Discord (from a mounted Secret) when a webhook is set. */
function alertmanagerValues(p: Settings, props: MonitoringProps, discordSecretName: pulumi.Output<string> | undefined): MonitoringValues["alertmanager"] {
  return {
    config: {
      global: { resolve_timeout: "5m" },
      route: {
        receiver: discordSecretName !== undefined ? "discord" : "null",
        group_by: ["namespace", "alertname"],
        group_wait: "30s",
        group_interval: "5m",
        repeat_interval: "4h",
        routes: [
          // Watchdog always fires (it proves the pipeline works); InfoInhibitor only mutes info alerts.
          { receiver: "null", matchers: ['alertname = "Watchdog"'] },
          { receiver: "null", matchers: ['alertname = "InfoInhibitor"'] },
        ],
      },
      inhibit_rules: [
        {
          source_matchers: ['severity = "critical"'],
          target_matchers: ['severity =~ "warning|info"'],
          equal: ["namespace", "alertname"],
        },
        { source_matchers: ['severity = "warning"'], target_matchers: ['severity = "info"'], equal: ["namespace", "alertname"] },
        { source_matchers: ['alertname = "InfoInhibitor"'], target_matchers: ['severity = "info"'], equal: ["namespace"] },
      ],
      receivers: [
        { name: "null" },
        ...(discordSecretName !== undefined
          ? [
              {
                name: "discord",
                discord_configs: [{ webhook_url_file: `/etc/alertmanager/secrets/${p.discordSecret}/${p.discordSecretKey}`, send_resolved: true }],
              },
            ]
          : []),
      ],
      templates: ["/etc/alertmanager/config/*.tmpl"],
    },
    podDisruptionBudget: allButOne(p.alertmanagerReplicas),
    alertmanagerSpec: {
      replicas: p.alertmanagerReplicas,
      secrets: discordSecretName !== undefined ? [discordSecretName] : [],
      resources: p.alertmanagerResources,
      securityContext: podSecurityContext(1000, 2000),
      ...spreadOverZones,
      storage: { volumeClaimTemplate: claim(props.storageClassName, p.alertmanagerVolumeGi) },
    },
  };
}

/**
 * kube-prometheus-stack (Prometheus Operator, Prometheus, Alertmanager, Grafana,
 * kube-state-metrics, node-exporter) from the official chart, with Prometheus, Alertmanager and
 * Grafana on persistent volumes (EFS by default, so their data survives the loss of a pod, a
 * node or a zone), Grafana's admin password generated into a Kubernetes Secret, alerts routed to
 * Discord with the webhook URL read from a mounted Secret, Grafana kept internal (port-forward)
 * and Prometheus optionally served through the shared ALB to a list of source CIDRs.
 */
export class Monitoring extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  readonly namespace: pulumi.Output<string>;
  /** The Prometheus Ingress, when `allowedCidrs` is non-empty. */
  readonly ingress?: k8s.networking.v1.Ingress;
  /** Name of the Secret holding Grafana's admin user and password. */
  readonly grafanaAdminSecretName: pulumi.Output<string>;
  /** `kubectl port-forward` command that reaches Grafana on http://localhost:3000. */
  readonly grafanaPortForwardCommand: pulumi.Output<string>;
  /** Public URL of Prometheus, when exposed. */
  readonly prometheusUrl?: string;

  constructor(name: string, props: MonitoringProps, opts?: pulumi.ComponentResourceOptions) {
    super("platform:addons:Monitoring", name, { namespace: props.namespace ?? defaults.namespace }, opts);

    const p = withDefaults(defaults, props);
    const cluster = props.cluster;
    const k8sOpts = { provider: cluster.provider, parent: this };
    const path = normalisePath(p.prometheusPath);
    if (path === undefined) {
      throw new pulumi.ResourceError(`prometheusPath "${p.prometheusPath}" must start with "/"`, this);
    }
    const exposed = p.allowedCidrs.length > 0;
    if (exposed && (props.monitoringHost === undefined || props.ingressGroupName === undefined)) {
      throw new pulumi.ResourceError(
        `allowedCidrs is set but ${props.monitoringHost === undefined ? "monitoringHost" : "ingressGroupName"} is not; ` +
          "pass both to expose Prometheus, or leave allowedCidrs empty to keep it internal",
        this,
      );
    }

    const { namespace, nodeExporterNamespace } = this.namespaces(name, p, k8sOpts);
    const { grafanaSecret, discordSecret } = this.secrets(name, p, props.discordWebhookUrl, namespace.metadata.name, k8sOpts);
    const prometheusUrl = exposed ? `https://${props.monitoringHost}${path === "/" ? "" : path}` : undefined;
    const values: MonitoringValues = {
      fullnameOverride: p.fullnameOverride,
      // The chart's CRDs (charts/crds/crds) are installed by Helm before any template is rendered,
      // so the chart's own ServiceMonitors and PrometheusRules always find their kinds.
      crds: { enabled: true },
      defaultRules: { create: true },
      // EKS runs the control plane: these targets are unreachable and would fire TargetDown forever.
      kubeControllerManager: { enabled: false },
      kubeScheduler: { enabled: false },
      kubeEtcd: { enabled: false },
      // EKS's kube-proxy binds its metrics to 127.0.0.1: same TargetDown noise.
      kubeProxy: { enabled: false },
      prometheusOperator: {
        resources: p.operatorResources,
        securityContext: podSecurityContext(65534, 65534),
        containerSecurityContext: RESTRICTED_CONTAINER,
        admissionWebhooks: { patch: { securityContext: podSecurityContext(2000, 2000) } },
      },
      prometheus: prometheusValues(p, props, path, prometheusUrl),
      alertmanager: alertmanagerValues(p, props, discordSecret?.metadata.name),
      grafana: grafanaValues({ ...p, ...props }, grafanaSecret.metadata.name, this.grafanaCloudWatchRole(name, p, props)?.roleArn),
      "kube-state-metrics": {
        // `ingresses=[a,b]`: the chart joins the list into --metric-annotations-allowlist (kube-state-metrics chart 6.4.1 templates/deployment.yaml:99-101).
        ...(props.ingressAnnotations !== undefined && props.ingressAnnotations.length > 0 ? { metricAnnotationsAllowList: [`ingresses=[${props.ingressAnnotations.join(",")}]`] } : {}),
        resources: p.kubeStateMetricsResources,
        securityContext: { enabled: true, ...podSecurityContext(65534, 65534) },
        containerSecurityContext: RESTRICTED_CONTAINER,
      },
      "prometheus-node-exporter": {
        namespaceOverride: nodeExporterNamespace.metadata.name,
        resources: p.nodeExporterResources,
      },
    };

    // First install creates and binds three volumes and waits for the StatefulSets.
    this.release = pinnedRelease(name, p, namespace.metadata.name, values, k8sOpts, { timeout: 900 });

    if (exposed && props.monitoringHost !== undefined && props.ingressGroupName !== undefined) {
      this.ingress = this.prometheusIngress(name, p, { host: props.monitoringHost, groupName: props.ingressGroupName, groupAnnotations: props.ingressGroupAnnotations }, {
        namespace: namespace.metadata.name,
        path,
        k8sOpts,
      });
      this.prometheusUrl = prometheusUrl;
    }

    this.namespace = namespace.metadata.name;
    this.grafanaAdminSecretName = grafanaSecret.metadata.name;
    this.grafanaPortForwardCommand = pulumi.interpolate`kubectl -n ${namespace.metadata.name} port-forward svc/grafana 3000:80`;

    this.registerOutputs({
      namespace: this.namespace,
      releaseStatus: this.release.status,
      grafanaAdminSecretName: this.grafanaAdminSecretName,
      grafanaPortForwardCommand: this.grafanaPortForwardCommand,
      prometheusUrl: this.prometheusUrl,
    });
  }

  /**
   * Restricted: every component but node-exporter runs as non-root without host access. The
   * namespace also asks the AWS Load Balancer Controller for readiness gates (Prometheus is an
   * ALB target when exposed).
   */
  private namespaces(
    name: string,
    p: Settings,
    k8sOpts: { provider: k8s.Provider; parent: pulumi.Resource },
  ): { namespace: k8s.core.v1.Namespace; nodeExporterNamespace: k8s.core.v1.Namespace } {
    const namespace = new k8s.core.v1.Namespace(
      `${name}-ns`,
      { metadata: { name: p.namespace, labels: { ...podSecurityLabels("restricted"), ...ALB_READINESS_GATE_LABEL } } },
      k8sOpts,
    );
    // node-exporter reads the host's /proc, /sys and root filesystem with hostNetwork and hostPID:
    // that is what it measures, and no Pod Security level below privileged admits it (baseline
    // forbids host namespaces and hostPath). It gets its own namespace so that this exception
    // covers node-exporter alone instead of all of monitoring.
    const nodeExporterNamespace = new k8s.core.v1.Namespace(
      `${name}-node-exporter-ns`,
      { metadata: { name: p.nodeExporterNamespace, labels: podSecurityLabels("privileged") } },
      k8sOpts,
    );
    return { namespace, nodeExporterNamespace };
  }

  /**
   * Grafana's role for the CloudWatch data source, trusted by `monitoring/grafana` only. CloudWatch
   * has no resource-level permissions for reading metrics, hence Resource "*"; the actions are what
   * the delivery dashboard uses: GetMetricData (every panel's queries and metric math), ListMetrics
   * (the query editor's dimension lists) and tag:GetResources (the `resourceARNs` variables that find
   * the load balancer and the colors' target groups by the controller's tags). Not
   * GetMetricStatistics: Grafana's CloudWatch queries go through GetMetricData.
   */
  private grafanaCloudWatchRole(name: string, p: Settings, props: MonitoringProps): IrsaRole | undefined {
    if (props.cloudWatchRegion === undefined) {
      return undefined;
    }
    return new IrsaRole(
      `${name}-grafana-cloudwatch`,
      {
        oidcProviderArn: props.cluster.oidcProviderArn,
        oidcProviderUrl: props.cluster.oidcProviderUrl,
        namespace: p.namespace,
        serviceAccount: "grafana",
        inlinePolicies: { cloudwatch: JSON.stringify(grafanaCloudWatchPolicy()) },
        description: "Grafana's CloudWatch data source (ALB metrics of the delivery dashboard)",
      },
      { parent: this },
    );
  }

  /** Grafana's generated admin credentials and, when a webhook is set, Alertmanager's Discord URL: Secrets, never Helm values. */
  private secrets(
    name: string,
    p: Settings,
    discordWebhookUrl: pulumi.Input<string> | undefined,
    namespaceName: pulumi.Output<string>,
    k8sOpts: { provider: k8s.Provider; parent: pulumi.Resource },
  ): { grafanaSecret: k8s.core.v1.Secret; discordSecret?: k8s.core.v1.Secret } {
    // Grafana reads the admin credentials from this Secret on its first start (it then keeps them
    // in its database: rotating means `grafana cli admin reset-admin-password` too). The password
    // never enters Helm values, which Helm stores in its release Secret and Pulumi in state.
    const password = new random.RandomPassword(`${name}-grafana-admin`, { length: 32, special: false }, { parent: this });
    const grafanaSecret = new k8s.core.v1.Secret(
      `${name}-grafana-admin`,
      {
        metadata: { name: p.grafanaAdminSecret, namespace: namespaceName },
        type: "Opaque",
        stringData: { "admin-user": "admin", "admin-password": pulumi.secret(password.result) },
      },
      k8sOpts,
    );

    // Alertmanager reads the webhook URL from this Secret, mounted through `alertmanagerSpec.secrets`
    // at /etc/alertmanager/secrets/<name>/<key>; its config (also a Secret, rendered by the chart)
    // only names the file.
    const discordSecret =
      discordWebhookUrl === undefined
        ? undefined
        : new k8s.core.v1.Secret(
            `${name}-alertmanager-discord`,
            {
              metadata: { name: p.discordSecret, namespace: namespaceName },
              type: "Opaque",
              stringData: { [p.discordSecretKey]: pulumi.secret(discordWebhookUrl) },
            },
            k8sOpts,
          );
    return { grafanaSecret, discordSecret };
  }

  /** Prometheus on `group.host` through the stack's IngressGroup, for the allowed CIDRs only. */
  private prometheusIngress(
    name: string,
    p: Settings,
    group: { readonly host: string; readonly groupName: string; readonly groupAnnotations?: Readonly<Record<string, pulumi.Input<string>>> },
    at: { readonly namespace: pulumi.Output<string>; readonly path: string; readonly k8sOpts: { provider: k8s.Provider; parent: pulumi.Resource } },
  ): k8s.networking.v1.Ingress {
    const { path } = at;
    const release = this.release;
    const serviceName = `${p.fullnameOverride}-prometheus`;
    return new k8s.networking.v1.Ingress(
      `${name}-prometheus-ingress`,
      {
        metadata: {
          name: "prometheus",
          namespace: at.namespace,
          annotations: {
            ...(group.groupAnnotations ?? {}),
            "alb.ingress.kubernetes.io/group.name": group.groupName,
            "alb.ingress.kubernetes.io/group.order": String(p.ingressOrder),
            "alb.ingress.kubernetes.io/target-type": "ip",
            "alb.ingress.kubernetes.io/healthcheck-path": `${path === "/" ? "" : path}/-/ready`,
            // Prometheus has no authentication of its own: the ALB forwards only requests from
            // these sources. A rule condition, not `inbound-cidrs`, which would apply to the
            // listener of the whole IngressGroup and shut the public apps out.
            [`alb.ingress.kubernetes.io/conditions.${serviceName}`]: JSON.stringify([
              { field: "source-ip", sourceIpConfig: { values: [...p.allowedCidrs] } },
            ]),
          },
        },
        spec: {
          ingressClassName: "alb",
          rules: [
            {
              host: group.host,
              http: {
                paths: [{ path, pathType: "Prefix", backend: { service: { name: serviceName, port: { number: PROMETHEUS_PORT } } } }],
              },
            },
          ],
        },
      },
      // The Service is created by the chart, which no input of this Ingress refers to.
      { ...at.k8sOpts, dependsOn: [release] },
    );
  }
}
