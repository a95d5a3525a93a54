/** The arguments of the Cluster component (./cluster.ts). */
import type * as pulumi from "@pulumi/pulumi";
import type { NodeGroupConfig } from "../config/schema";

export interface ClusterArgs {
  readonly vpcId: pulumi.Input<string>;
  /** Subnets of the worker nodes and internal load balancers; one per AZ. */
  readonly privateSubnetIds: pulumi.Input<string[]>;
  /** Subnets of internet-facing load balancers. */
  readonly publicSubnetIds: pulumi.Input<string[]>;
  /** Kubernetes minor version of the control plane and the node groups, e.g. `1.35`. */
  readonly version: string;
  /**
   * EKS cluster name, used by kubeconfigs (`aws eks update-kubeconfig --name`), the control
   * plane log group and the cluster autoscaler's discovery tags. Changing it replaces the cluster.
   * Default: the component's name.
   */
  readonly clusterName?: string;
  /** CIDRs allowed to reach the public API endpoint. Default: `[]`, which turns the public endpoint off. */
  readonly publicAccessCidrs?: readonly string[];
  /**
   * IAM roles granted `AmazonEKSClusterAdminPolicy` through access entries. Default: `[]`. Never
   * the role that creates the cluster: EKS gives that one its own admin entry (see `deployerRoleArn`).
   */
  readonly adminRoleArns?: readonly string[];
  /**
   * The role that runs `pulumi up` and so creates the cluster. When given, an `adminRoleArns` entry
   * naming the same role is refused (its CreateAccessEntry would fail with 409). Default: unknown.
   */
  readonly deployerRoleArn?: string;
  /** Managed node groups. Default: `[]` (a control plane without nodes). */
  readonly nodeGroups?: readonly NodeGroupConfig[];
  /** Retention of the control plane log group, in days. Default: 30. */
  readonly logRetentionDays?: number;
  /**
   * Tags for the nodes' EC2 instances and volumes. The provider's default tags do not reach
   * instances an Auto Scaling group launches, so pass the stack's tags here. Default: `{}`.
   */
  readonly instanceTags?: Readonly<Record<string, string>>;
  /** Whether EKS refuses to delete the cluster until this is turned off. Default: false. */
  readonly deletionProtection?: boolean;
  /**
   * Repository prefixes of ECR pull-through cache rules the nodes pull through (e.g. `docker-hub`).
   * The first pull of an image creates its repository and imports it from upstream, which the
   * puller must be allowed (ECR user guide, "IAM permissions required to sync an upstream registry":
   * `ecr:CreateRepository`, `ecr:BatchImportUpstreamImage`). Default: none.
   */
  readonly pullThroughCachePrefixes?: readonly string[];
  /**
   * What happens at the end of the version's standard support. `STANDARD` (default): EKS upgrades
   * the control plane to the next minor. `EXTENDED`: it stays and EKS bills the extended-support
   * surcharge per cluster-hour. pulumi-eks 4.3.0 leaves `upgradePolicy` unset, which AWS treats as
   * EXTENDED ("Defaults to EXTENDED", @pulumi/eks 4.3.0 cluster.d.ts upgradePolicy).
   */
  readonly supportType?: "STANDARD" | "EXTENDED";
}
