import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** NFS, the only port an EFS mount target serves. */
export const NFS_PORT = 2049;

export interface SharedFileSystemArgs {
  readonly vpcId: pulumi.Input<string>;
  /** Zones of `subnetIds`, in the same order; one mount target per zone, named after it. */
  readonly availabilityZones: readonly string[];
  /** The private subnets, one per entry of `availabilityZones` (the network's order). */
  readonly subnetIds: pulumi.Input<string[]>;
  /** The security group the cluster nodes carry (`Cluster.clusterSecurityGroupId`): the only NFS client. */
  readonly nodeSecurityGroupId: pulumi.Input<string>;
  /** Daily AWS Backup plan, vault and selection for the file system. Default: false. */
  readonly backup?: boolean;
  /** Days a backup is kept. Default: 35. */
  readonly backupRetentionDays?: number;
  /** Protect the file system (and its key) from `pulumi destroy` and replacement. Default: false. */
  readonly protect?: boolean;
}

/**
 * An encrypted EFS file system for the cluster's shared, multi-AZ volumes (Prometheus,
 * Alertmanager, Grafana through the EFS CSI driver's `efs-sc` class): its own rotating KMS key,
 * a mount target in every private subnet so a pod rescheduled into another AZ finds its data,
 * NFS admitted from the nodes only, and in prod a daily AWS Backup plan.
 */
export class SharedFileSystem extends pulumi.ComponentResource {
  /** The file system id; it resolves only once every mount target exists, so consumers mount successfully. */
  readonly fileSystemId: pulumi.Output<string>;
  readonly fileSystemArn: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;
  readonly mountTargetIds: pulumi.Output<string[]>;
  /** The backup vault's name, when backups are on. */
  readonly backupVaultName?: pulumi.Output<string>;

  constructor(name: string, args: SharedFileSystemArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:storage:SharedFileSystem", name, args, opts);

    const backup = args.backup ?? false;
    const retentionDays = args.backupRetentionDays ?? 35;
    const protect = args.protect ?? false;
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;

    const key = new aws.kms.Key(
      `${name}-kms`,
      {
        description: `EFS ${name}: file system encryption at rest`,
        enableKeyRotation: true,
        // Losing the key loses every metric and dashboard on the file system: the longest grace period.
        deletionWindowInDays: 30,
      },
      { parent: this, protect },
    );

    const securityGroup = this.nfsSecurityGroup(name, args);

    const fileSystem = new aws.efs.FileSystem(
      `${name}-fs`,
      {
        encrypted: true,
        kmsKeyId: key.arn,
        performanceMode: "generalPurpose",
        // Elastic throughput follows Prometheus' bursts (compaction, WAL replay after a restart)
        // without burst credits to run out of, and costs nothing while idle.
        throughputMode: "elastic",
        // No transition to Infrequent Access: TSDB blocks are read on every range query, and IA
        // bills per read while adding latency to dashboards.
        tags: { Name: name },
      },
      { parent: this, protect },
    );

    // EFS's own "automatic backups" would copy the data a second time into an AWS-managed vault
    // with its own retention; backups here come from the plan below (or not at all).
    new aws.efs.BackupPolicy(
      `${name}-backup-policy`,
      { fileSystemId: fileSystem.id, backupPolicy: { status: "DISABLED" } },
      { parent: this },
    );

    const mountTargets = this.mountTargets(name, args, fileSystem, securityGroup);

    if (backup) {
      this.backupVaultName = this.dailyBackup(name, fileSystem, { retentionDays, protect, partition });
    }

    this.fileSystemId = pulumi.all([fileSystem.id, ...mountTargets.map((m) => m.id)]).apply(([id]) => id);
    this.fileSystemArn = fileSystem.arn;
    this.securityGroupId = securityGroup.id;
    this.kmsKeyArn = key.arn;
    this.mountTargetIds = pulumi.all(mountTargets.map((m) => m.id));

    this.registerOutputs({
      fileSystemId: this.fileSystemId,
      fileSystemArn: this.fileSystemArn,
      securityGroupId: this.securityGroupId,
      mountTargetIds: this.mountTargetIds,
      backupVaultName: this.backupVaultName,
    });
  }

  /** The mount targets' security group: NFS from the cluster nodes, nothing else. */
  private nfsSecurityGroup(name: string, args: SharedFileSystemArgs): aws.ec2.SecurityGroup {
    // No inline rules, so the provider also drops AWS's default allow-all egress: a mount target
    // only answers NFS connections, and security groups are stateful.
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      { vpcId: args.vpcId, description: `EFS ${name}: NFS from the cluster nodes only`, tags: { Name: `${name}-efs` } },
      { parent: this },
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-nfs-from-nodes`,
      {
        securityGroupId: securityGroup.id,
        referencedSecurityGroupId: args.nodeSecurityGroupId,
        ipProtocol: "tcp",
        fromPort: NFS_PORT,
        toPort: NFS_PORT,
        description: "NFS from the EKS nodes (EFS CSI driver mounts for pods)",
      },
      { parent: this },
    );
    return securityGroup;
  }

  /** One mount target per availability zone, in that zone's subnet. */
  private mountTargets(name: string, args: SharedFileSystemArgs, fileSystem: aws.efs.FileSystem, securityGroup: aws.ec2.SecurityGroup): aws.efs.MountTarget[] {
    const subnetIds = pulumi.output(args.subnetIds);
    return args.availabilityZones.map(
      (az, i) =>
        new aws.efs.MountTarget(
          // Named after the zone, not the position: removing a zone must not renumber the others.
          `${name}-mount-${az}`,
          {
            fileSystemId: fileSystem.id,
            subnetId: subnetIds.apply((ids) => {
              const id = ids[i];
              if (id === undefined) {
                throw new pulumi.ResourceError(`SharedFileSystem ${name}: no subnet for availability zone ${az} (got ${ids.length} subnet ids)`, this);
              }
              return id;
            }),
            securityGroups: [securityGroup.id],
          },
          { parent: this },
        ),
    );
  }

  /** A daily AWS Backup plan into its own vault, encrypted with a key of its own; returns the vault's name. */
  private dailyBackup(
    name: string,
    fileSystem: aws.efs.FileSystem,
    o: { readonly retentionDays: number; readonly protect: boolean; readonly partition: pulumi.Output<string> },
  ): pulumi.Output<string> {
    const { retentionDays, protect, partition } = o;
    const backupKey = new aws.kms.Key(
      `${name}-backup-kms`,
      {
        description: `AWS Backup vault of EFS ${name}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
      },
      // A separate key: deleting or disabling the file system's key must not also destroy its backups.
      { parent: this, protect },
    );
    const vault = new aws.backup.Vault(`${name}-vault`, { kmsKeyArn: backupKey.arn }, { parent: this, protect });
    const plan = new aws.backup.Plan(
      `${name}-plan`,
      {
        rules: [
          {
            ruleName: "daily",
            targetVaultName: vault.name,
            // 18:00 UTC is 03:00 in Seoul (ap-northeast-2), the quietest hour. EFS backups are
            // incremental and online, so the hour only limits their impact on throughput.
            schedule: "cron(0 18 * * ? *)",
            startWindow: 60,
            completionWindow: 480,
            lifecycle: { deleteAfter: retentionDays },
          },
        ],
      },
      { parent: this },
    );
    const role = new aws.iam.Role(
      `${name}-backup`,
      {
        description: `Lets AWS Backup back up and restore EFS ${name}`,
        assumeRolePolicy: aws.iam.getPolicyDocumentOutput(
          { statements: [{ actions: ["sts:AssumeRole"], principals: [{ type: "Service", identifiers: ["backup.amazonaws.com"] }] }] },
          { parent: this },
        ).json,
      },
      { parent: this },
    );
    const backupPolicies: Record<string, string> = {
      backup: "AWSBackupServiceRolePolicyForBackup",
      restore: "AWSBackupServiceRolePolicyForRestores",
    };
    const attachments = Object.entries(backupPolicies).map(
      ([key, policy]) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-backup-${key}`,
          { role: role.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/${policy}` },
          { parent: this },
        ),
    );
    new aws.backup.Selection(
      `${name}-selection`,
      {
        planId: plan.id,
        // The ARN only after the policies are attached: AWS Backup checks the role when a job starts,
        // and a job started in between would fail with AccessDenied.
        iamRoleArn: pulumi.all([role.arn, ...attachments.map((a) => a.id)]).apply(([arn]) => arn),
        resources: [fileSystem.arn],
      },
      { parent: this },
    );
    return vault.name;
  }
}
