import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Cluster } from "../cluster/cluster";

export interface IrsaAddonArgs {
  /** The EKS add-on name, e.g. `aws-efs-csi-driver`. */
  readonly addonName: string;
  /** Pinned add-on version. Default: EKS's default version for the cluster's Kubernetes minor. */
  readonly addonVersion?: string;
  /**
   * Namespace and name(s) of the service account(s) the add-on puts `serviceAccountRoleArn` on
   * (the role trusts exactly these).
   */
  readonly namespace: string;
  readonly serviceAccount: string | readonly string[];
  /** AWS managed policy name under `arn:<partition>:iam::aws:policy/service-role/`. */
  readonly managedPolicy: string;
  /** Short stable key of the policy attachment (part of its logical name). */
  readonly policyKey: string;
  readonly description: string;
}

/**
 * An EKS managed add-on whose controller gets AWS credentials only through its own IRSA role.
 * AWS patches managed add-ons; the default version follows EKS's default for the cluster's
 * Kubernetes minor, so a later `pulumi up` may update it in place unless `addonVersion` pins it.
 */
export function irsaManagedAddon(
  name: string,
  cluster: Cluster,
  args: IrsaAddonArgs,
  parent: pulumi.Resource,
): { readonly addon: aws.eks.Addon; readonly roleArn: pulumi.Output<string> } {
  const partition = aws.getPartitionOutput({}, { parent }).partition;
  const role = cluster.irsaRole(
    `${name}-irsa`,
    {
      namespace: args.namespace,
      serviceAccount: args.serviceAccount,
      description: args.description,
      managedPolicyArns: { [args.policyKey]: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/${args.managedPolicy}` },
    },
    { parent },
  );
  const addonVersion =
    args.addonVersion ??
    aws.eks
      .getAddonVersionOutput({ addonName: args.addonName, kubernetesVersion: cluster.version, mostRecent: false }, { parent })
      .apply((v) => v.version);
  const addon = new aws.eks.Addon(
    `${name}-addon`,
    {
      // The node group names carry the dependency on the nodes: EKS reports the add-on ACTIVE
      // only once its pods run, so creating it on a cluster without nodes times out.
      clusterName: pulumi.all([cluster.name, cluster.nodeGroupNames]).apply(([clusterName]) => clusterName),
      addonName: args.addonName,
      addonVersion,
      serviceAccountRoleArn: role.roleArn,
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "OVERWRITE",
    },
    // dependsOn the role component: its policy attachment must exist before the controller's first call.
    { parent, dependsOn: [role] },
  );
  return { addon, roleArn: role.roleArn };
}
