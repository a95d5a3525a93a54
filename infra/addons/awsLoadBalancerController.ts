import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Cluster } from "../cluster/cluster";
import type { ResourceRequirements } from "./clusterAutoscaler";
import controllerPolicy from "./policies/aws-load-balancer-controller-v2.12.0.iam_policy.json";
import type { ChartDefaults } from "../lib/chartPdb";
import { withDefaults } from "../lib/defaults";
import { pinnedRelease } from "./helm";

/**
 * The controller's published IAM policy for exactly the controller version the pinned chart runs
 * (see ./policies/README.md). Vendored, not fetched: what the role may do is reviewable in Git.
 */
export const CONTROLLER_POLICY: string = JSON.stringify(controllerPolicy);

/** The chart values this add-on sets (kubernetes-sigs/aws-load-balancer-controller `helm/aws-load-balancer-controller/values.yaml`). */
export type AwsLoadBalancerControllerValues = {
  clusterName: pulumi.Input<string>;
  region: string;
  vpcId: pulumi.Input<string>;
  serviceAccount: { create: boolean; name: string; annotations: Record<string, pulumi.Input<string>> };
  replicaCount: number;
  podDisruptionBudget: { maxUnavailable: number } | Record<string, never>;
  resources: ResourceRequirements;
  /** Always set: the chart's default (`Ignore`) is the opposite of what the readiness gates need. */
  podMutatorWebhookConfig: { failurePolicy: "Fail" | "Ignore" };
  enableServiceMutatorWebhook: boolean;
  ingressClass: string;
  createIngressClassResource: boolean;
  keepTLSSecret: boolean;
  defaultTags: Record<string, string>;
  priorityClassName: string;
  podSecurityContext: Record<string, unknown>;
  securityContext: Record<string, unknown>;
  topologySpreadConstraints: Array<Record<string, unknown>>;
};

export interface AwsLoadBalancerControllerProps {
  /** The cluster to install into; its name, k8s provider and OIDC provider are used. */
  readonly cluster: Cluster;
  /** The cluster's region. Required: with IMDS hop limit 1 the pod cannot look it up. */
  readonly region: string;
  /** The cluster's VPC. Required for the same reason as `region`. */
  readonly vpcId: pulumi.Input<string>;
  /** Replicas (one leader, the others on standby). Default: 2, with a PodDisruptionBudget. */
  readonly replicas?: number;
  /** Tags the controller puts on every ALB, target group and security group it creates. Default: none. */
  readonly tags?: Readonly<Record<string, string>>;
  /** Chart version. Default: `defaults.version`; must match the vendored IAM policy's controller version. */
  readonly version?: string;
  /** Chart name. Default: `aws-load-balancer-controller`. */
  readonly chart?: string;
  /** Chart repository. Default: the official `https://aws.github.io/eks-charts`. */
  readonly repository?: string;
  /** Namespace. Default: `kube-system`. */
  readonly namespace?: string;
  /** Helm release name. Default: `aws-load-balancer-controller`. */
  readonly release?: string;
  /** Service account the IRSA role is pinned to. Default: `aws-load-balancer-controller`. */
  readonly serviceAccountName?: string;
  /** Container resources. Default: `defaults.resources`. */
  readonly resources?: ResourceRequirements;
}

export const defaults = {
  chart: "aws-load-balancer-controller",
  repository: "https://aws.github.io/eks-charts",
  // Chart 1.12.0 runs controller v2.12.0. Upgrade hazard: the IAM policy is versioned with the
  // controller (./policies/README.md); bumping the chart without the policy breaks reconciles
  // with AccessDenied on the API calls the new version added. Also read the release notes for
  // changed annotation semantics: the blue/green flip relies on the weighted forward action.
  version: "1.12.0",
  appVersion: "v2.12.0",
  // Re-read these with every chart bump (test/helmReleases.test.ts fails until `version` matches).
  chartDefaults: {
    chart: "aws-load-balancer-controller",
    version: "1.12.0",
    reviewed: "2026-11-30",
    source:
      "aws/eks-charts commit b08f678 (the 1.12.0 release), stable/aws-load-balancer-controller; identical to " +
      "kubernetes-sigs/aws-load-balancer-controller tag v2.12.0 (273d2075) helm/aws-load-balancer-controller",
    values: {
      // values.yaml:5, :337.
      replicaCount: 2,
      podDisruptionBudget: {},
      // values.yaml:433-436, rendered into the `mpod.elbv2.k8s.aws` webhook (templates/webhook.yaml:22):
      // by default a pod is admitted WITHOUT the readiness gate while the webhook cannot be reached.
      podMutatorWebhookConfig: { failurePolicy: "Ignore" },
      // values.yaml:413, :418 (the Service webhook, which this add-on turns off).
      enableServiceMutatorWebhook: true,
      serviceMutatorWebhookConfig: { failurePolicy: "Fail" },
    },
    pdbs: [
      {
        component: "controller",
        values: "podDisruptionBudget",
        replicas: "replicaCount",
        template: "to-yaml",
        renderedWhen: "non-empty",
        onlyAboveOneReplica: true,
        source: "templates/pdb.yaml:1 (if podDisruptionBudget and replicaCount > 1), :14 toYaml",
      },
    ],
  } satisfies ChartDefaults,
  namespace: "kube-system",
  release: "aws-load-balancer-controller",
  serviceAccountName: "aws-load-balancer-controller",
  replicas: 2,
  resources: {
    requests: { cpu: "100m", memory: "128Mi" },
    // The controller caches every Service, Endpoint and Pod it targets; memory grows with the
    // cluster, so the limit leaves room rather than OOM-killing the ingress reconciler.
    limits: { cpu: "500m", memory: "512Mi" },
  } satisfies ResourceRequirements,
};

/** The chart values: the IRSA role, two replicas with a PDB across zones, a fail-closed pod webhook, restricted pods. */
function controllerValues(p: typeof defaults & AwsLoadBalancerControllerProps, roleArn: pulumi.Output<string>): AwsLoadBalancerControllerValues {
    const ha = p.replicas > 1;
    const selector = { "app.kubernetes.io/name": "aws-load-balancer-controller", "app.kubernetes.io/instance": p.release };
    return {
      clusterName: p.cluster.clusterName,
      // Both are discovered from IMDS by default; node launch templates set hop limit 1, so the
      // pod cannot reach IMDS and would crash-loop without them.
      region: p.region,
      vpcId: p.vpcId,
      serviceAccount: {
        create: true,
        name: p.serviceAccountName,
        annotations: { "eks.amazonaws.com/role-arn": roleArn },
      },
      // Two replicas everywhere, not only in prod, behind a PDB: the pod webhook below fails
      // closed, so it must stay reachable while one replica is rescheduled or drained.
      replicaCount: p.replicas,
      podDisruptionBudget: ha ? { maxUnavailable: 1 } : {},
      // The webhook that injects the target-health readiness gate into pods of namespaces labelled
      // elbv2.k8s.aws/pod-readiness-gate-inject (apps, monitoring, log-dashboards, argocd when
      // exposed). The chart's default `Ignore` (values.yaml:436 at 1.12.0) admits a pod WITHOUT
      // the gate whenever the webhook is unreachable; that pod turns Ready before its ALB target
      // is healthy, so a rollout can outrun registration and drop requests - silently. `Fail`
      // rejects the pod instead. Trade-off: while no controller replica serves the webhook, no
      // pod can be created in those namespaces (ReplicaSet and StatefulSet controllers retry
      // with back-off, so rollouts and reschedules wait, they are not lost); the controller's
      // own pods are exempt (kube-system is not labelled, and the webhook's objectSelector
      // excludes them, templates/webhook.yaml:26-41).
      podMutatorWebhookConfig: { failurePolicy: "Fail" },
      resources: p.resources,
      // Off: the webhook makes this controller (and NLB) the implementation of every Service of
      // type LoadBalancer in the cluster, including ones charts create for their own reasons.
      // The platform only uses Ingresses, so the webhook would be an extra fail-closed admission
      // path on every Service for nothing.
      enableServiceMutatorWebhook: false,
      ingressClass: "alb",
      createIngressClassResource: true,
      // Reuse the webhook's serving certificate on upgrades instead of regenerating it, so an
      // upgrade does not race the API server's cached CA bundle.
      keepTLSSecret: true,
      defaultTags: { ...(p.tags ?? {}) },
      priorityClassName: "system-cluster-critical",
      // PodSecurity "restricted" (stated explicitly so a chart bump cannot loosen it).
      podSecurityContext: { fsGroup: 65534, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      },
      // Replicas in different zones when possible, so an AZ loss leaves a standby to take the lease.
      topologySpreadConstraints: ha
        ? [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } }]
        : [],
    };
}

/**
 * The AWS Load Balancer Controller: turns the stack's Ingresses (one IngressGroup, one ALB) into
 * an ALB with pod-IP target groups, and injects the target-health readiness gate into pods of
 * labelled namespaces. Its IRSA role carries the controller's published policy.
 *
 * Ordering the program must keep: every Ingress depends on `release` (its validating webhook and
 * the `alb` IngressClass come from the chart), and on destroy the Ingresses go first, so the
 * controller is still running to delete the ALB and its target groups.
 */
export class AwsLoadBalancerController extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  readonly roleArn: pulumi.Output<string>;
  /** The IngressClass the chart creates; Ingresses set `spec.ingressClassName` to it. */
  readonly ingressClassName: string;

  constructor(name: string, props: AwsLoadBalancerControllerProps, opts?: pulumi.ComponentResourceOptions) {
    super("platform:addons:AwsLoadBalancerController", name, { clusterName: props.cluster.clusterName, region: props.region }, opts);

    const p = withDefaults(defaults, props);
    const cluster = props.cluster;
    if (!Number.isInteger(p.replicas) || p.replicas < 1) {
      throw new pulumi.ResourceError(`replicas must be a positive integer, got ${p.replicas}`, this);
    }

    const role = cluster.irsaRole(
      `${name}-irsa`,
      {
        namespace: p.namespace,
        serviceAccount: p.serviceAccountName,
        description: `aws-load-balancer-controller ${defaults.appVersion} of EKS cluster ${cluster.clusterName}`,
        // The published policy: it scopes every mutating call to resources tagged
        // `elbv2.k8s.aws/cluster` (i.e. created by a controller); its unscoped statements are
        // Describe/Get calls and the few creates AWS cannot scope by resource.
        inlinePolicies: { controller: CONTROLLER_POLICY },
      },
      { parent: this },
    );

    const values = controllerValues(p, role.roleArn);

    // dependsOn the role component: its inline policy must be attached before the first reconcile.
    this.release = pinnedRelease(name, p, p.namespace, values, { provider: cluster.provider, parent: this, dependsOn: [role] });
    this.roleArn = role.roleArn;
    this.ingressClassName = values.ingressClass;

    this.registerOutputs({ roleArn: this.roleArn, releaseStatus: this.release.status });
  }
}
