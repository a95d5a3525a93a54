import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { NodeGroupConfig } from "../config/schema";
import { IrsaRole, IrsaRoleArgs } from "../iam/irsaRole";
import { sameRole } from "../lib/eksAccess";
import { amiTypeFor } from "../lib/instanceTypes";
import type { ClusterArgs } from "./clusterArgs";

export type { ClusterArgs } from "./clusterArgs";

/** Every control plane log type EKS can ship to CloudWatch (audit and authenticator matter most in an incident). */
export const CLUSTER_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

/** The label every node carries with its node group's name; workloads select node groups by it. */
export const NODE_GROUP_LABEL = "platform.io/node-group";

const TAINT_EFFECT: Record<NodeGroupConfig["taints"][number]["effect"], string> = {
  NO_SCHEDULE: "NoSchedule",
  NO_EXECUTE: "NoExecute",
  PREFER_NO_SCHEDULE: "PreferNoSchedule",
};

/** Arguments of `Cluster.irsaRole`: the OIDC provider is the cluster's own. */
export type ClusterIrsaRoleArgs = Omit<IrsaRoleArgs, "oidcProviderArn" | "oidcProviderUrl">;

/**
 * The EKS cluster of an environment: a private-first control plane with secrets envelope
 * encryption and full audit logging, access entries instead of the aws-auth ConfigMap, managed
 * node groups in the private subnets behind IMDSv2-only launch templates, and the IRSA plumbing
 * (OIDC provider plus `irsaRole`) so pods get AWS credentials per service account, never per node.
 */
export class Cluster extends pulumi.ComponentResource {
  /** The EKS cluster name (known at plan time; tags and IAM conditions embed it). */
  readonly clusterName: string;
  /** Kubernetes minor version of the cluster. */
  readonly version: string;
  /** The cluster name, resolved once the cluster exists (carries the dependency). */
  readonly name: pulumi.Output<string>;
  /** Admin kubeconfig (exec-based `aws eks get-token`), marked secret. */
  readonly kubeconfig: pulumi.Output<string>;
  /**
   * The security group EKS creates for the cluster. Managed node groups whose launch template
   * names no security group get exactly this one, so it is what the database and other
   * in-VPC services admit for "traffic from the pods".
   */
  readonly clusterSecurityGroupId: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  /** OIDC issuer without scheme (`oidc.eks.<region>.amazonaws.com/id/<ID>`), as IAM condition keys use it. */
  readonly oidcProviderUrl: pulumi.Output<string>;
  /** Kubernetes provider for everything in-cluster. It depends on the node groups, so releases wait for nodes. */
  readonly provider: k8s.Provider;
  /** Physical names of the managed node groups. */
  readonly nodeGroupNames: pulumi.Output<string[]>;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:cluster:Cluster", name, args, opts);

    const clusterName = args.clusterName ?? name;
    const publicAccessCidrs = [...(args.publicAccessCidrs ?? [])];
    const adminRoleArns = args.adminRoleArns ?? [];
    const nodeGroups = args.nodeGroups ?? [];
    const instanceTags = args.instanceTags ?? {};
    const { partition, dnsSuffix } = aws.getPartitionOutput({}, { parent: this });

    const secretsKey = new aws.kms.Key(
      `${name}-secrets`,
      {
        description: `Envelope encryption of Kubernetes secrets in EKS cluster ${clusterName}`,
        enableKeyRotation: true,
        // The cluster cannot decrypt its secrets without this key: keep the longest grace period
        // so an accidental deletion can be cancelled.
        deletionWindowInDays: 30,
      },
      { parent: this },
    );

    // EKS writes control plane logs to this exact group name and creates it with infinite
    // retention if it does not exist yet, so we create it first (dependsOn below) to own retention.
    const controlPlaneLogs = new aws.cloudwatch.LogGroup(
      `${name}-control-plane`,
      { name: `/aws/eks/${clusterName}/cluster`, retentionInDays: args.logRetentionDays ?? 30 },
      { parent: this },
    );

    const accessEntries = this.adminAccessEntries(adminRoleArns, args.deployerRoleArn, partition);

    const cluster = this.controlPlane(name, args, { clusterName, publicAccessCidrs, accessEntries, secretsKey, controlPlaneLogs });

    const { nodeRole, nodePolicyAttachments } = this.nodeRole(name, clusterName, partition, dnsSuffix);
    const cachePolicy = this.pullThroughCachePolicy(name, nodeRole, partition, args.pullThroughCachePrefixes ?? []);
    if (cachePolicy !== undefined) {
      nodePolicyAttachments.push(cachePolicy);
    }

    const managedNodeGroups = nodeGroups.map((group) =>
      this.nodeGroup(name, clusterName, args, group, nodeRole, instanceTags, [cluster, ...nodePolicyAttachments]),
    );

    this.adoptCoreDns(name, clusterName, args.version, [cluster, ...managedNodeGroups]);

    this.clusterName = clusterName;
    this.version = args.version;
    this.name = cluster.urn.apply(() => clusterName);
    this.kubeconfig = pulumi.secret(cluster.kubeconfigJson);
    this.clusterSecurityGroupId = cluster.clusterSecurityGroupId;
    this.oidcProviderArn = cluster.oidcProviderArn;
    this.oidcProviderUrl = cluster.oidcProviderUrl.apply((url) => url.replace(/^https:\/\//, ""));
    this.nodeGroupNames = pulumi.all(managedNodeGroups.map((g) => g.nodeGroupName));
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: cluster.kubeconfigJson },
      // Everything deployed through this provider waits for the node groups: Helm releases
      // would otherwise time out waiting for pods with nowhere to run.
      { parent: this, dependsOn: managedNodeGroups },
    );

    this.registerOutputs({
      name: this.name,
      kubeconfig: this.kubeconfig,
      clusterSecurityGroupId: this.clusterSecurityGroupId,
      oidcProviderArn: this.oidcProviderArn,
      oidcProviderUrl: this.oidcProviderUrl,
      nodeGroupNames: this.nodeGroupNames,
    });
  }

  /** The EKS control plane: access entries only, private endpoint plus the listed CIDRs, all log types, encrypted secrets. */
  private controlPlane(
    name: string,
    args: ClusterArgs,
    o: {
      readonly clusterName: string;
      readonly publicAccessCidrs: string[];
      readonly accessEntries: Record<string, eks.types.input.AccessEntryArgs>;
      readonly secretsKey: aws.kms.Key;
      readonly controlPlaneLogs: aws.cloudwatch.LogGroup;
    },
  ): eks.Cluster {
    const { clusterName, publicAccessCidrs, accessEntries, secretsKey, controlPlaneLogs } = o;
    return new eks.Cluster(
      `${name}-eks`,
      {
        name: clusterName,
        version: args.version,
        vpcId: args.vpcId,
        privateSubnetIds: args.privateSubnetIds,
        publicSubnetIds: args.publicSubnetIds,
        // Node groups are declared below as managed node groups with our own launch templates.
        skipDefaultNodeGroup: true,
        nodeAssociatePublicIpAddress: false,
        // Without the component's extra cluster/node security groups, `clusterSecurityGroupId`
        // is the EKS-created cluster security group: the one managed nodes actually carry.
        skipDefaultSecurityGroups: true,
        // Access entries only: IAM-managed, auditable in CloudTrail, no aws-auth ConfigMap to corrupt.
        // Managed node groups get their node-role access entry from EKS itself.
        authenticationMode: eks.AuthenticationMode.Api,
        accessEntries,
        createOidcProvider: true,
        endpointPrivateAccess: true,
        endpointPublicAccess: publicAccessCidrs.length > 0,
        // eks rejects any CIDR list (even an empty one) once the public endpoint is off.
        publicAccessCidrs: publicAccessCidrs.length > 0 ? publicAccessCidrs : undefined,
        enabledClusterLogTypes: [...CLUSTER_LOG_TYPES],
        encryptionConfigKeyArn: secretsKey.arn,
        deletionProtection: args.deletionProtection ?? false,
        // Explicit, so a version past its standard-support date is never billed the extended
        // surcharge silently. With STANDARD, upgrade (config `cluster.version`) before that date:
        // an automatic control-plane upgrade would make the next `up` try to set the old version.
        upgradePolicy: { supportType: args.supportType ?? "STANDARD" },
        // Add-ons: vpc-cni and kube-proxy are left to the component, which installs them as EKS
        // managed add-ons right after the control plane. CoreDNS is not (its pods need nodes, which
        // the component does not know about); it is adopted as a managed add-on below once the
        // node groups exist.
      },
      { parent: this, dependsOn: [controlPlaneLogs] },
    );
  }

  /**
   * Adopts the CoreDNS that EKS bootstrapped (OVERWRITE) so EKS keeps it patched; the version is
   * the default one for the cluster's Kubernetes minor, so a cluster upgrade moves it along.
   */
  private adoptCoreDns(name: string, clusterName: string, version: string, dependsOn: pulumi.Resource[]): void {
    new aws.eks.Addon(
      `${name}-coredns`,
      {
        clusterName,
        addonName: "coredns",
        addonVersion: aws.eks
          .getAddonVersionOutput({ addonName: "coredns", kubernetesVersion: version, mostRecent: false }, { parent: this })
          .apply((v) => v.version),
        resolveConflictsOnCreate: "OVERWRITE",
        resolveConflictsOnUpdate: "OVERWRITE",
      },
      { parent: this, dependsOn },
    );
  }

  /** One cluster-admin access entry per role, keyed by role name; never one for the deploying role. */
  private adminAccessEntries(
    adminRoleArns: readonly string[],
    creator: string | undefined,
    partition: pulumi.Output<string>,
  ): Record<string, eks.types.input.AccessEntryArgs> {
    const accessEntries: Record<string, eks.types.input.AccessEntryArgs> = {};
    for (const roleArn of adminRoleArns) {
      if (creator !== undefined && sameRole(roleArn, creator)) {
        throw new pulumi.ResourceError(
          `adminRoleArns lists ${roleArn}, the deploying role: EKS already grants the cluster creator cluster-admin (pulumi-eks bootstraps it), so its access entry would fail with 409; remove it from the list`,
          this,
        );
      }
      // Keyed by role name, not position: the key is part of the access entry's logical name,
      // so removing one admin must not rename (and briefly revoke) the others.
      const key = `admin-${roleArn.split("/").pop() ?? roleArn}`;
      if (accessEntries[key] !== undefined) {
        throw new pulumi.ResourceError(`adminRoleArns lists two roles named "${key.slice(6)}"; list each role once`, this);
      }
      accessEntries[key] = {
        principalArn: roleArn,
        type: eks.AccessEntryType.Standard,
        accessPolicies: {
          admin: {
            policyArn: pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
            accessScope: { type: "cluster" },
          },
        },
      };
    }
    return accessEntries;
  }

  /** The managed nodes' instance role: worker, CNI, ECR pull-only and SSM policies. */
  private nodeRole(
    name: string,
    clusterName: string,
    partition: pulumi.Output<string>,
    dnsSuffix: pulumi.Output<string>,
  ): { nodeRole: aws.iam.Role; nodePolicyAttachments: pulumi.Resource[] } {
    const nodeRole = new aws.iam.Role(
      `${name}-node`,
      {
        description: `Instance role of the managed nodes of EKS cluster ${clusterName}`,
        assumeRolePolicy: aws.iam.getPolicyDocumentOutput(
          {
            statements: [
              {
                actions: ["sts:AssumeRole"],
                principals: [{ type: "Service", identifiers: [pulumi.interpolate`ec2.${dnsSuffix}`] }],
              },
            ],
          },
          { parent: this },
        ).json,
      },
      { parent: this },
    );
    const nodePolicies: Record<string, string> = {
      worker: "AmazonEKSWorkerNodePolicy",
      // vpc-cni (aws-node) runs on the host network and uses the node role for ENI management.
      cni: "AmazonEKS_CNI_Policy",
      // Pull only (GetAuthorizationToken, BatchGetImage, GetDownloadUrlForLayer and
      // BatchImportUpstreamImage for pull-through caches): nodes never need to list or describe
      // repositories, which ReadOnly also allows. AWS managed policy, created 2024-10-04.
      ecr: "AmazonEC2ContainerRegistryPullOnly",
      // Shell access through SSM Session Manager instead of SSH keys and open port 22.
      ssm: "AmazonSSMManagedInstanceCore",
    };
    const nodePolicyAttachments: pulumi.Resource[] = Object.entries(nodePolicies).map(
      ([key, policy]) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-node-${key}`,
          { role: nodeRole.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}` },
          { parent: this },
        ),
    );
    return { nodeRole, nodePolicyAttachments };
  }

  /** Lets the nodes create and fill the repositories of the given pull-through cache prefixes on first pull. */
  private pullThroughCachePolicy(
    name: string,
    nodeRole: aws.iam.Role,
    partition: pulumi.Output<string>,
    cachePrefixes: readonly string[],
  ): aws.iam.RolePolicy | undefined {
    if (cachePrefixes.length === 0) {
      return undefined;
    }
    const { region } = aws.getRegionOutput({}, { parent: this });
    const { accountId } = aws.getCallerIdentityOutput({}, { parent: this });
    return new aws.iam.RolePolicy(
      `${name}-node-pull-through-cache`,
      {
        role: nodeRole.id,
        policy: aws.iam.getPolicyDocumentOutput(
          {
            statements: [
              {
                sid: "FillPullThroughCache",
                actions: ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                resources: cachePrefixes.map((prefix) => pulumi.interpolate`arn:${partition}:ecr:${region}:${accountId}:repository/${prefix}/*`),
              },
            ],
          },
          { parent: this },
        ).json,
      },
      { parent: this },
    );
  }

  /**
   * An IAM role assumable only by `namespace/serviceAccount` of this cluster. Pass
   * `{ parent: <your component> }` so the role lives (and inherits providers) under its user.
   */
  irsaRole(name: string, args: ClusterIrsaRoleArgs, opts?: pulumi.ComponentResourceOptions): IrsaRole {
    return new IrsaRole(
      name,
      { ...args, oidcProviderArn: this.oidcProviderArn, oidcProviderUrl: this.oidcProviderUrl },
      { parent: this, ...opts },
    );
  }

  private nodeGroup(
    name: string,
    clusterName: string,
    args: ClusterArgs,
    group: NodeGroupConfig,
    nodeRole: aws.iam.Role,
    instanceTags: Readonly<Record<string, string>>,
    dependsOn: pulumi.Resource[],
  ): aws.eks.NodeGroup {
    const id = `${name}-${group.name}`;
    const labels: Record<string, string> = { ...group.labels, [NODE_GROUP_LABEL]: group.name };
    const taints = group.taints.map((t) => ({ key: t.key, value: t.value, effect: t.effect }));

    const launchTemplate = this.nodeLaunchTemplate(id, clusterName, group, instanceTags);

    // Scale-from-zero: with no node to look at, the autoscaler learns a group's labels and
    // taints from these tags (and from eks:DescribeNodegroup, which its policy allows).
    const templateTags: Record<string, string> = {};
    for (const [key, value] of Object.entries(labels)) {
      templateTags[`k8s.io/cluster-autoscaler/node-template/label/${key}`] = value;
    }
    for (const t of group.taints) {
      templateTags[`k8s.io/cluster-autoscaler/node-template/taint/${t.key}`] = `${t.value ?? ""}:${TAINT_EFFECT[t.effect]}`;
    }

    const nodeGroup = new aws.eks.NodeGroup(
      id,
      {
        clusterName,
        // A prefix (not a fixed name) so that changes EKS can only apply by replacement
        // (instance types, capacity type, subnets) create the new group before deleting the old.
        nodeGroupNamePrefix: `${group.name}-`,
        version: args.version,
        nodeRoleArn: nodeRole.arn,
        subnetIds: args.privateSubnetIds,
        instanceTypes: [...group.instanceTypes],
        // Validated to be the same for every instance type of the group (config/schema/cluster.ts).
        amiType: amiTypeFor(group.instanceTypes[0] ?? ""),
        capacityType: group.capacityType,
        // diskSize must stay unset: EKS rejects it together with a launch template (the root
        // volume is sized there).
        launchTemplate: { id: launchTemplate.id, version: pulumi.interpolate`${launchTemplate.latestVersion}` },
        scalingConfig: { minSize: group.minSize, maxSize: group.maxSize, desiredSize: group.desiredSize },
        updateConfig: { maxUnavailable: 1 },
        labels,
        taints,
        tags: {
          // EKS also puts these two on the node group's Auto Scaling group; the autoscaler's IAM
          // policy only lets it scale groups tagged `owned` for this cluster.
          "k8s.io/cluster-autoscaler/enabled": "true",
          [`k8s.io/cluster-autoscaler/${clusterName}`]: "owned",
          ...templateTags,
        },
      },
      {
        parent: this,
        dependsOn,
        // The cluster autoscaler owns the desired size; re-applying the configured value would
        // undo its scaling on every `pulumi up`.
        ignoreChanges: ["scalingConfig.desiredSize"],
      },
    );

    this.copyTagsToAsg(id, clusterName, group, nodeGroup, templateTags);
    return nodeGroup;
  }

  /** The node group's launch template: IMDSv2 with hop limit 1, an encrypted gp3 root volume, tags at launch. */
  private nodeLaunchTemplate(id: string, clusterName: string, group: NodeGroupConfig, instanceTags: Readonly<Record<string, string>>): aws.ec2.LaunchTemplate {
    return new aws.ec2.LaunchTemplate(
      id,
      {
        description: `Nodes of group ${group.name} in EKS cluster ${clusterName}`,
        // No imageId and no userData: EKS picks the optimized AMI of the cluster version and
        // bootstraps the node. No security groups either: EKS attaches the cluster security group.
        metadataOptions: {
          httpEndpoint: "enabled",
          httpTokens: "required",
          // Hop limit 1: a pod's traffic crosses one extra hop (its network namespace), so pods
          // cannot reach IMDS and borrow the node role. Pods get AWS access only through IRSA;
          // host-network daemons (vpc-cni, kube-proxy) are unaffected.
          httpPutResponseHopLimit: 1,
          instanceMetadataTags: "disabled",
        },
        blockDeviceMappings: [
          {
            // Root device of the EKS-optimized AL2023 / AL2 AMIs.
            deviceName: "/dev/xvda",
            ebs: {
              volumeSize: group.diskSizeGb,
              volumeType: "gp3",
              encrypted: "true",
              deleteOnTermination: "true",
            },
          },
        ],
        tagSpecifications: ["instance", "volume", "network-interface"].map((resourceType) => ({
          resourceType,
          tags: { ...instanceTags, Name: `${clusterName}-${group.name}`, [NODE_GROUP_LABEL]: group.name },
        })),
      },
      { parent: this },
    );
  }

  /**
   * EKS does not copy node group tags to the Auto Scaling group it creates, and the autoscaler
   * reads node templates from the ASG's tags: copy them over.
   */
  private copyTagsToAsg(id: string, clusterName: string, group: NodeGroupConfig, nodeGroup: aws.eks.NodeGroup, templateTags: Record<string, string>): void {
    const asgName = nodeGroup.resources.apply((resources) => {
      const found = resources.flatMap((r) => r.autoscalingGroups.map((g) => g.name))[0];
      if (found === undefined) {
        throw new pulumi.ResourceError(`node group ${group.name} of cluster ${clusterName} reports no Auto Scaling group`, this);
      }
      return found;
    });
    const tagNames = new Set<string>();
    for (const [key, value] of Object.entries(templateTags)) {
      const tagName = `${id}-${key.replace("k8s.io/cluster-autoscaler/node-template/", "template-").replace(/[^A-Za-z0-9-]/g, "-")}`;
      if (tagNames.has(tagName)) {
        throw new pulumi.ResourceError(`node group ${group.name}: two label/taint keys map to the ASG tag name ${tagName}; rename one`, this);
      }
      tagNames.add(tagName);
      new aws.autoscaling.Tag(tagName, { autoscalingGroupName: asgName, tag: { key, value, propagateAtLaunch: false } }, { parent: this });
    }
  }
}
