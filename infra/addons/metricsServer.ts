import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Cluster } from "../cluster/cluster";
import type { ResourceRequirements } from "./clusterAutoscaler";
import type { ChartDefaults } from "../lib/chartPdb";
import { withDefaults } from "../lib/defaults";
import { pinnedRelease } from "./helm";

/** The chart values this add-on sets (kubernetes-sigs/metrics-server `charts/metrics-server/values.yaml`). */
export type MetricsServerValues = {
  replicas: number;
  podDisruptionBudget: { enabled: boolean; maxUnavailable: number };
  resources: ResourceRequirements;
  podSecurityContext: Record<string, unknown>;
  securityContext: Record<string, unknown>;
  topologySpreadConstraints: Array<Record<string, unknown>>;
  priorityClassName: string;
};

export interface MetricsServerProps {
  /** The cluster to install into (its k8s provider is used). */
  readonly cluster: Cluster;
  /** Chart version. Default: `defaults.version`. */
  readonly version?: string;
  /** Chart name. Default: `metrics-server`. */
  readonly chart?: string;
  /** Chart repository. Default: the official `https://kubernetes-sigs.github.io/metrics-server/`. */
  readonly repository?: string;
  /** Namespace. Default: `kube-system`. */
  readonly namespace?: string;
  /** Helm release name. Default: `metrics-server`. */
  readonly release?: string;
  /** Replicas. Default: 2, so HPAs keep getting metrics while a node is drained or lost. */
  readonly replicas?: number;
  /** Container resources. Default: `defaults.resources`. */
  readonly resources?: ResourceRequirements;
}

export const defaults = {
  chart: "metrics-server",
  repository: "https://kubernetes-sigs.github.io/metrics-server/",
  // Chart 3.13.0 ships metrics-server 0.8.0. Upgrade hazard: each metrics-server minor supports
  // a window of Kubernetes versions (see the compatibility matrix in its README); check it
  // whenever `cluster.version` moves, since HPAs silently stop scaling without metrics.
  version: "3.13.0",
  // Re-read these with every chart bump (test/helmReleases.test.ts fails until `version` matches).
  chartDefaults: {
    chart: "metrics-server",
    version: "3.13.0",
    reviewed: "2026-11-30",
    source: "kubernetes-sigs/metrics-server tag metrics-server-helm-chart-3.13.0 (1a64100c), charts/metrics-server",
    values: {
      // values.yaml:78, :88-93 (minAvailable and maxUnavailable are null there).
      replicas: 1,
      podDisruptionBudget: { enabled: false },
    },
    pdbs: [
      {
        component: "metrics-server",
        values: "podDisruptionBudget",
        replicas: "replicas",
        template: "each-if-truthy",
        renderedWhen: "enabled",
        source: "templates/pdb.yaml:10-15",
      },
    ],
  } satisfies ChartDefaults,
  namespace: "kube-system",
  release: "metrics-server",
  replicas: 2,
  resources: {
    requests: { cpu: "100m", memory: "200Mi" },
    limits: { cpu: "500m", memory: "400Mi" },
  } satisfies ResourceRequirements,
};


/**
 * Kubernetes Metrics Server: the `metrics.k8s.io` API that HorizontalPodAutoscalers and
 * `kubectl top` read CPU and memory usage from.
 */
export class MetricsServer extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, props: MetricsServerProps, opts?: pulumi.ComponentResourceOptions) {
    super("platform:addons:MetricsServer", name, { clusterName: props.cluster.clusterName }, opts);

    const p = withDefaults(defaults, props);

    const values: MetricsServerValues = {
      replicas: p.replicas,
      podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
      resources: p.resources,
      // PodSecurity "restricted" (the chart's defaults, stated here so a chart bump cannot loosen them).
      podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        runAsUser: 1000,
        seccompProfile: { type: "RuntimeDefault" },
        capabilities: { drop: ["ALL"] },
      },
      // Replicas on different nodes when possible, so one node loss does not take out both.
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: "kubernetes.io/hostname",
          whenUnsatisfiable: "ScheduleAnyway",
          labelSelector: { matchLabels: { "app.kubernetes.io/name": "metrics-server", "app.kubernetes.io/instance": p.release } },
        },
      ],
      priorityClassName: "system-cluster-critical",
    };

    this.release = pinnedRelease(name, p, p.namespace, values, { provider: props.cluster.provider, parent: this });

    this.registerOutputs({ releaseStatus: this.release.status });
  }
}
