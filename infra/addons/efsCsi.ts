import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Cluster } from "../cluster/cluster";
import { withDefaults } from "../lib/defaults";
import { irsaManagedAddon } from "./eksAddon";

export interface EfsCsiDriverProps {
  /** The cluster to install into (its name, Kubernetes version, OIDC provider and k8s provider are used). */
  readonly cluster: Cluster;
  /**
   * File system the StorageClass provisions access points on (`SharedFileSystem.fileSystemId`,
   * which resolves once its mount targets exist).
   */
  readonly fileSystemId: pulumi.Input<string>;
  /**
   * EKS add-on version, e.g. `v2.1.4-eksbuild.1`. Default: the version EKS marks as default for
   * the cluster's Kubernetes minor (see `defaults.addonVersion`).
   */
  readonly addonVersion?: string;
  /** StorageClass name. Default: `efs-sc`. */
  readonly storageClassName?: string;
  /**
   * POSIX uid and gid every file on a provisioned volume belongs to (the access point enforces
   * them for every NFS call). Default: 1000, see `defaults.posixId`.
   */
  readonly posixId?: number;
  /** Directory under which access points create one directory per volume. Default: `/dynamic`. */
  readonly basePath?: string;
  /** What happens to a volume's directory when its claim is deleted. Default: `Retain`. */
  readonly reclaimPolicy?: "Retain" | "Delete";
}

export const defaults = {
  /**
   * Unset: resolved per Kubernetes minor with `aws.eks.getAddonVersion` (`mostRecent: false`),
   * i.e. the version AWS validated as default for that minor, the way the cluster adopts CoreDNS.
   * It moves with a cluster upgrade, which is when a CSI driver must move. Hazard: AWS also moves
   * the default within a minor now and then, which a later `pulumi up` then applies (an in-place
   * add-on update that restarts the driver pods, not the volumes); pin `addonVersion` to freeze it.
   */
  addonVersion: undefined as string | undefined,
  storageClassName: "efs-sc",
  /**
   * 1000 is the uid kube-prometheus-stack runs Prometheus and Alertmanager as. The access point
   * performs every NFS operation as this uid/gid whatever the container runs as (Grafana is 472),
   * so one fixed owner works for all of them and `directoryPerms: 700` still shuts out every
   * other identity. It is baked into each volume's access point: changing it later only affects
   * new volumes.
   */
  posixId: 1000,
  basePath: "/dynamic",
  /**
   * Retain: deleting a claim (an uninstall, a renamed StatefulSet, a mistake) keeps the metrics and
   * dashboards on EFS; the PV becomes Released and is cleaned up by hand (`kubectl delete pv` and
   * the access point). Losing history silently is the worse failure for monitoring data.
   */
  reclaimPolicy: "Retain" as "Retain" | "Delete",
  namespace: "kube-system",
  /**
   * The service accounts the add-on creates and puts its `serviceAccountRoleArn` on: the
   * controller's and the node DaemonSet's (kubernetes-sigs/aws-efs-csi-driver
   * charts/aws-efs-csi-driver/values.yaml `controller.serviceAccount.name` and
   * `node.serviceAccount.name`, e.g. at v2.3.1 :106 and :210). AWS's add-on guide
   * (docs.aws.amazon.com/eks/latest/userguide/add-ons-aws-efs-csi-driver.html) widens the role's
   * trust from efs-csi-controller-sa to `StringLike ...:sub system:serviceaccount:kube-system:efs-csi-*`
   * for this reason: with the controller alone, the node pods get an AWS_ROLE_ARN they cannot
   * assume (needed for efs-utils' IAM-authorised mounts and CloudWatch logging). The role trusts
   * exactly these two instead of the pattern, so no other efs-csi-* account can assume it; if an
   * add-on version renames or adds one, its pods fail to assume the role (visible in their logs).
   */
  serviceAccountNames: ["efs-csi-controller-sa", "efs-csi-node-sa"] as readonly string[],
};


/**
 * The Amazon EFS CSI driver as an EKS managed add-on (AWS patches it; its controller gets AWS
 * credentials only through its own IRSA role) and the `efs-sc` StorageClass: dynamic
 * provisioning through EFS access points, one directory per volume under `basePath`, owned by a
 * fixed POSIX uid/gid.
 */
export class EfsCsiDriver extends pulumi.ComponentResource {
  readonly addon: aws.eks.Addon;
  readonly roleArn: pulumi.Output<string>;
  /** The StorageClass name; resolves once both the class and the driver exist, so claims bind. */
  readonly storageClassName: pulumi.Output<string>;

  constructor(name: string, props: EfsCsiDriverProps, opts?: pulumi.ComponentResourceOptions) {
    super("platform:addons:EfsCsiDriver", name, { clusterName: props.cluster.clusterName }, opts);

    const p = withDefaults(defaults, props);
    const cluster = props.cluster;
    const { addon, roleArn } = irsaManagedAddon(
      name,
      cluster,
      {
        addonName: "aws-efs-csi-driver",
        addonVersion: p.addonVersion,
        namespace: p.namespace,
        serviceAccount: p.serviceAccountNames,
        // AWS's policy for the driver: access point create/delete is limited to file systems and
        // access points tagged by the driver (efs.csi.aws.com/cluster), describe calls are read-only.
        managedPolicy: "AmazonEFSCSIDriverPolicy",
        policyKey: "efs",
        description: `EFS CSI driver (controller and node) of EKS cluster ${cluster.clusterName}`,
      },
      this,
    );
    this.addon = addon;

    const storageClass = new k8s.storage.v1.StorageClass(
      `${name}-storage-class`,
      {
        metadata: { name: p.storageClassName },
        provisioner: "efs.csi.aws.com",
        parameters: {
          provisioningMode: "efs-ap",
          fileSystemId: props.fileSystemId,
          directoryPerms: "700",
          uid: String(p.posixId),
          gid: String(p.posixId),
          basePath: p.basePath,
        },
        reclaimPolicy: p.reclaimPolicy,
        // EFS is regional: a volume is mountable from every AZ, so there is no zone to wait for.
        volumeBindingMode: "Immediate",
        // The driver mounts with TLS (efs-utils `tls`) unless a volume opts out: data in transit is encrypted.
      },
      { provider: cluster.provider, parent: this },
    );

    this.roleArn = roleArn;
    this.storageClassName = pulumi.all([storageClass.metadata.name, this.addon.id]).apply(([className]) => className);

    this.registerOutputs({ roleArn: this.roleArn, storageClassName: this.storageClassName, addonVersion: this.addon.addonVersion });
  }
}
