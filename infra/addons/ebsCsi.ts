import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Cluster } from "../cluster/cluster";
import { withDefaults } from "../lib/defaults";
import { irsaManagedAddon } from "./eksAddon";

export interface EbsCsiDriverProps {
  /** The cluster to install into (its name, Kubernetes version, OIDC provider and k8s provider are used). */
  readonly cluster: Cluster;
  /** EKS add-on version. Default: the version EKS marks as default for the cluster's Kubernetes minor. */
  readonly addonVersion?: string;
  /** StorageClass name. Default: `gp3`. */
  readonly storageClassName?: string;
  /** What happens to a volume when its claim is deleted. Default: `Retain` (monitoring data outlives an uninstall). */
  readonly reclaimPolicy?: "Retain" | "Delete";
}

export const defaults = {
  /** Unset: resolved per Kubernetes minor, like the EFS driver (see `efsCsi.ts` for the trade-off). */
  addonVersion: undefined as string | undefined,
  storageClassName: "gp3",
  reclaimPolicy: "Retain" as "Retain" | "Delete",
  namespace: "kube-system",
  serviceAccountName: "ebs-csi-controller-sa",
};


/**
 * The Amazon EBS CSI driver as an EKS managed add-on with its own IRSA role, and an encrypted
 * `gp3` StorageClass. EKS ships no EBS provisioner since Kubernetes 1.23 (the in-tree `gp2` class
 * provisions nothing without this driver), so any gp3 volume needs it.
 */
export class EbsCsiDriver extends pulumi.ComponentResource {
  readonly addon: aws.eks.Addon;
  readonly roleArn: pulumi.Output<string>;
  /** The StorageClass name; resolves once both the class and the driver exist. */
  readonly storageClassName: pulumi.Output<string>;

  constructor(name: string, props: EbsCsiDriverProps, opts?: pulumi.ComponentResourceOptions) {
    super("platform:addons:EbsCsiDriver", name, { clusterName: props.cluster.clusterName }, opts);

    const p = withDefaults(defaults, props);
    const cluster = props.cluster;
    const { addon, roleArn } = irsaManagedAddon(
      name,
      cluster,
      {
        addonName: "aws-ebs-csi-driver",
        addonVersion: p.addonVersion,
        namespace: p.namespace,
        serviceAccount: p.serviceAccountName,
        // AWS's policy for the driver: volume and snapshot writes are conditioned on the tags the driver sets.
        managedPolicy: "AmazonEBSCSIDriverPolicy",
        policyKey: "ebs",
        description: `EBS CSI controller of EKS cluster ${cluster.clusterName}`,
      },
      this,
    );
    this.addon = addon;

    const storageClass = new k8s.storage.v1.StorageClass(
      `${name}-storage-class`,
      {
        metadata: { name: p.storageClassName },
        provisioner: "ebs.csi.aws.com",
        parameters: {
          type: "gp3",
          // The account's aws/ebs key: a customer key would also need grants for the driver's role.
          encrypted: "true",
          "csi.storage.k8s.io/fstype": "ext4",
        },
        reclaimPolicy: p.reclaimPolicy,
        // EBS volumes are zonal: create the volume in the zone the scheduler picked for the pod,
        // never the other way round (a volume created first can strand its pod in a full zone).
        volumeBindingMode: "WaitForFirstConsumer",
        allowVolumeExpansion: true,
      },
      { provider: cluster.provider, parent: this },
    );

    this.roleArn = roleArn;
    this.storageClassName = pulumi.all([storageClass.metadata.name, this.addon.id]).apply(([className]) => className);

    this.registerOutputs({ roleArn: this.roleArn, storageClassName: this.storageClassName });
  }
}
