import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Cluster } from "../cluster/cluster";
import type { ChartDefaults } from "../lib/chartPdb";
import { withDefaults } from "../lib/defaults";
import { pinnedRelease } from "./helm";

/** Container resources as the chart takes them. */
export type ResourceRequirements = {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
};

/** The chart values this add-on sets (kubernetes/autoscaler `charts/cluster-autoscaler/values.yaml`). */
export type ClusterAutoscalerValues = {
  cloudProvider: "aws";
  awsRegion: string;
  autoDiscovery: { clusterName: string };
  rbac: {
    serviceAccount: { create: boolean; name: string; annotations: Record<string, pulumi.Input<string>> };
  };
  extraArgs: Record<string, string | number | boolean>;
  replicaCount: number;
  resources: ResourceRequirements;
  securityContext: Record<string, unknown>;
  containerSecurityContext: Record<string, unknown>;
  podDisruptionBudget: { maxUnavailable: number };
  priorityClassName: string;
};

export interface ClusterAutoscalerProps {
  /** The cluster to scale; its name, Kubernetes version, k8s provider and OIDC provider are used. */
  readonly cluster: Cluster;
  /** The cluster's region. Required: with IMDS hop limit 1 the pod cannot look it up. */
  readonly region: string;
  /** Chart version. Default: `defaults.version`; overriding it skips the Kubernetes-minor check. */
  readonly version?: string;
  /** Chart name. Default: `cluster-autoscaler`. */
  readonly chart?: string;
  /** Chart repository. Default: the official `https://kubernetes.github.io/autoscaler`. */
  readonly repository?: string;
  /** Namespace. Default: `kube-system` (the chart's PriorityClass `system-cluster-critical` is only allowed there by default). */
  readonly namespace?: string;
  /** Helm release name. Default: `cluster-autoscaler`. */
  readonly release?: string;
  /** Service account the IRSA role is pinned to. Default: `cluster-autoscaler`. */
  readonly serviceAccountName?: string;
  /** Container resources. Default: `defaults.resources`. */
  readonly resources?: ResourceRequirements;
  /** Extra `--flag=value` arguments, merged over `defaults.extraArgs`. Default: none. */
  readonly extraArgs?: Readonly<Record<string, string | number | boolean>>;
}

export const defaults = {
  chart: "cluster-autoscaler",
  repository: "https://kubernetes.github.io/autoscaler",
  // Chart 9.59.0 ships cluster-autoscaler 1.35.x (appVersion 1.35.0). Upgrade hazard: the
  // autoscaler simulates the scheduler of its own Kubernetes minor, so it must match the
  // cluster's minor. Bump this together with `cluster.version` (the constructor refuses a
  // mismatch) and read the chart's release notes for renamed values.
  version: "9.59.0",
  kubernetesMinor: "1.35",
  // Re-read these with every chart bump (test/helmReleases.test.ts fails until `version` matches).
  chartDefaults: {
    chart: "cluster-autoscaler",
    version: "9.59.0",
    reviewed: "2026-11-30",
    source: "kubernetes/autoscaler tag cluster-autoscaler-chart-9.59.0 (5a0b98e4), cluster-autoscaler/charts/cluster-autoscaler",
    values: {
      // values.yaml:406, :340-346: a PDB is rendered by default, maxUnavailable 1.
      replicaCount: 1,
      podDisruptionBudget: { annotations: {}, selector: {}, maxUnavailable: 1 },
    },
    pdbs: [
      {
        component: "cluster-autoscaler",
        values: "podDisruptionBudget",
        replicas: "replicaCount",
        // templates/pdb.yaml: `fail`s when both are set; renders the set one (only while
        // podDisruptionBudget.selector is empty, which this add-on never sets).
        template: "fail-if-both",
        renderedWhen: "non-empty",
        source: "templates/pdb.yaml:1-4 (fail if both), :18-27",
      },
    ],
  } satisfies ChartDefaults,
  namespace: "kube-system",
  release: "cluster-autoscaler",
  serviceAccountName: "cluster-autoscaler",
  resources: {
    requests: { cpu: "100m", memory: "300Mi" },
    limits: { cpu: "500m", memory: "600Mi" },
  } satisfies ResourceRequirements,
  extraArgs: {
    // Treat groups of the same shape (e.g. one group per AZ for zonal EBS volumes) as one pool
    // and keep their sizes level, instead of filling one AZ first.
    "balance-similar-node-groups": true,
    // Otherwise any node running a kube-system pod (coredns, metrics-server) is never removed.
    "skip-nodes-with-system-pods": false,
    expander: "least-waste",
  } as Record<string, string | number | boolean>,
};


/**
 * Kubernetes Cluster Autoscaler for the cluster's managed node groups: discovers the node
 * groups' Auto Scaling groups by the cluster's tags and scales them, with an IRSA role that
 * can only resize or shrink groups tagged as owned by this cluster.
 */
export class ClusterAutoscaler extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, props: ClusterAutoscalerProps, opts?: pulumi.ComponentResourceOptions) {
    super("platform:addons:ClusterAutoscaler", name, { clusterName: props.cluster.clusterName, region: props.region }, opts);

    const p = withDefaults(defaults, props);
    const cluster = props.cluster;
    if (props.version === undefined && cluster.version !== defaults.kubernetesMinor) {
      throw new pulumi.ResourceError(
        `cluster-autoscaler chart ${defaults.version} runs autoscaler ${defaults.kubernetesMinor}.x but the cluster runs Kubernetes ${cluster.version}; ` +
          `pick the chart of the autoscaler ${cluster.version}.x line and update defaults in infra/addons/clusterAutoscaler.ts`,
        this,
      );
    }

    const policy = this.scalingPolicy(cluster.clusterName, p.region);

    const role = cluster.irsaRole(
      `${name}-irsa`,
      {
        namespace: p.namespace,
        serviceAccount: p.serviceAccountName,
        description: `cluster-autoscaler of EKS cluster ${cluster.clusterName}`,
        inlinePolicies: { scaling: policy },
      },
      { parent: this },
    );

    const values: ClusterAutoscalerValues = {
      cloudProvider: "aws",
      awsRegion: p.region,
      autoDiscovery: { clusterName: cluster.clusterName },
      rbac: {
        serviceAccount: {
          create: true,
          name: p.serviceAccountName,
          annotations: { "eks.amazonaws.com/role-arn": role.roleArn },
        },
      },
      extraArgs: { ...defaults.extraArgs, ...(props.extraArgs ?? {}) },
      // One active autoscaler at a time (leader election); a second replica adds nothing.
      replicaCount: 1,
      resources: p.resources,
      // PodSecurity "restricted". fsGroup makes the projected IRSA token readable by the non-root user.
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65534,
        runAsGroup: 65534,
        fsGroup: 65534,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containerSecurityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      },
      podDisruptionBudget: { maxUnavailable: 1 },
      priorityClassName: "system-cluster-critical",
    };

    // dependsOn the role component: its inline policy must be attached before the pod's first AWS call.
    this.release = pinnedRelease(name, p, p.namespace, values, { provider: cluster.provider, parent: this, dependsOn: [role] });
    this.roleArn = role.roleArn;

    this.registerOutputs({ roleArn: this.roleArn, releaseStatus: this.release.status });
  }

  /** Read-only discovery everywhere; scaling only of the Auto Scaling groups tagged as owned by this cluster. */
  private scalingPolicy(clusterName: string, region: string): pulumi.Output<string> {
    const { partition } = aws.getPartitionOutput({}, { parent: this });
    const { accountId } = aws.getCallerIdentityOutput({}, { parent: this });
    const ownedTag = `aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`;

    return aws.iam.getPolicyDocumentOutput(
      {
        statements: [
          {
            sid: "DiscoverGroups",
            // Describe/Get calls on Auto Scaling and EC2 support no resource-level permissions,
            // so "*" is the only valid resource here; they are read-only.
            actions: [
              "autoscaling:DescribeAutoScalingGroups",
              "autoscaling:DescribeAutoScalingInstances",
              "autoscaling:DescribeLaunchConfigurations",
              "autoscaling:DescribeScalingActivities",
              "ec2:DescribeImages",
              "ec2:DescribeInstanceTypes",
              "ec2:DescribeLaunchTemplateVersions",
              "ec2:GetInstanceTypesFromInstanceRequirements",
            ],
            resources: ["*"],
          },
          {
            sid: "DescribeOwnNodeGroups",
            // Labels and taints of managed node groups, for scale-from-zero.
            actions: ["eks:DescribeNodegroup"],
            resources: [pulumi.interpolate`arn:${partition}:eks:${region}:${accountId}:nodegroup/${clusterName}/*`],
          },
          {
            sid: "ScaleOwnGroups",
            // Only groups tagged as owned by this cluster: another cluster's (or the bastion's)
            // Auto Scaling group in the same account stays out of reach.
            actions: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
            resources: ["*"],
            conditions: [{ test: "StringEquals", variable: ownedTag, values: ["owned"] }],
          },
        ],
      },
      { parent: this },
    ).json;
  }
}
