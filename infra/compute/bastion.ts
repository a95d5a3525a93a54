import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Amazon Linux 2023 (x86_64), kept current by AWS; the SSM agent is preinstalled. */
export const AL2023_X86_64_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

export interface BastionArgs {
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets, one per AZ, so the group survives the loss of an AZ. */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** VPC block; the only destination the bastion may reach on 3306. */
  readonly vpcCidr: pulumi.Input<string>;
  /** x86_64 instance type, e.g. `t3.micro` (the AMI parameter below is x86_64). */
  readonly instanceType: string;
  readonly minSize: number;
  /** Above `minSize` so an instance refresh can launch the replacement before terminating. */
  readonly maxSize: number;
  /** Default: `minSize`. */
  readonly desiredCapacity?: number;
  /** Root volume size in GiB; at least the AMI's 8 GiB. Default: 8. */
  readonly rootVolumeGb?: number;
  /** SSM public parameter of the AMI. Default: `AL2023_X86_64_AMI_PARAMETER`. */
  readonly amiParameter?: string;
  /** Database endpoint address; when given, `databaseTunnelCommand` is built for operators. */
  readonly databaseAddress?: pulumi.Input<string>;
  /** Local port of the tunnel in `databaseTunnelCommand`. Default: 13306. */
  readonly tunnelLocalPort?: number;
  /**
   * Tags for the instances, their volumes and network interfaces, and the group itself. Pass the
   * stack's default tags: the provider's `defaultTags` do not reach them (see below).
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Log group Session Manager streams shell transcripts to (`SessionPreferences.logGroupArn`): the
   * SSM agent on the instance writes them with the instance role, which then gets exactly that.
   * Default: none (no session logging grant).
   */
  readonly sessionLogGroupArn?: pulumi.Input<string>;
}

/**
 * The operators' way into the private network: an Auto Scaling group of instances with no inbound
 * rule, no public IP and no SSH key, reached only through SSM Session Manager (IAM-authenticated,
 * logged in CloudTrail). The database is reached with SSM port forwarding, e.g.
 *
 *   aws ssm start-session --target <instance-id> \
 *     --document-name AWS-StartPortForwardingSessionToRemoteHost \
 *     --parameters '{"host":["<db address>"],"portNumber":["3306"],"localPortNumber":["13306"]}'
 *
 * then `mariadb -h 127.0.0.1 -P 13306 --ssl ...` locally (`databaseTunnelCommand` has it filled in).
 */
export class Bastion extends pulumi.ComponentResource {
  readonly asgName: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;
  /** Copy-paste command opening the database tunnel; undefined without `databaseAddress`. */
  readonly databaseTunnelCommand: pulumi.Output<string> | undefined;

  constructor(name: string, args: BastionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:compute:Bastion", name, args, opts);

    const desiredCapacity = args.desiredCapacity ?? args.minSize;
    if (args.minSize < 0 || args.minSize > args.maxSize || desiredCapacity < args.minSize || desiredCapacity > args.maxSize) {
      throw new pulumi.ResourceError(
        `bastion sizes must satisfy 0 <= minSize <= desiredCapacity <= maxSize; got min ${args.minSize}, desired ${desiredCapacity}, max ${args.maxSize}`,
        this,
      );
    }
    const rootVolumeGb = args.rootVolumeGb ?? 8;
    const tags = args.tags ?? {};
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;

    const securityGroup = this.securityGroup(name, args);
    const profile = this.ssmProfile(name, partition, args.sessionLogGroupArn);

    const launchTags = { ...tags, Name: name };
    const launchTemplate = this.launchTemplate(name, args, { rootVolumeGb, launchTags, profile, securityGroup });

    const group = new aws.autoscaling.Group(
      `${name}-asg`,
      {
        vpcZoneIdentifiers: args.subnetIds,
        minSize: args.minSize,
        maxSize: args.maxSize,
        desiredCapacity,
        healthCheckType: "EC2",
        healthCheckGracePeriod: 60,
        // The explicit version (not `$Latest`) makes a template change a change of the group,
        // which is what starts the instance refresh.
        launchTemplate: { id: launchTemplate.id, version: pulumi.interpolate`${launchTemplate.latestVersion}` },
        instanceRefresh: {
          strategy: "Rolling",
          // Launch the replacement before terminating the old instance, so a session can move over.
          preferences: { minHealthyPercentage: 100, maxHealthyPercentage: 200, instanceWarmup: "60", skipMatching: true },
        },
        // The group itself is not covered by the provider's default tags either.
        tags: Object.entries(launchTags).map(([key, value]) => ({ key, value, propagateAtLaunch: false })),
      },
      { parent: this },
    );

    this.asgName = group.name;
    this.securityGroupId = securityGroup.id;
    if (args.databaseAddress !== undefined) {
      const region = aws.getRegionOutput({}, { parent: this }).region;
      const localPort = args.tunnelLocalPort ?? 13306;
      this.databaseTunnelCommand = pulumi.interpolate`aws ssm start-session --region ${region} --target "$(aws autoscaling describe-auto-scaling-groups --region ${region} --auto-scaling-group-names ${group.name} --query 'AutoScalingGroups[0].Instances[?LifecycleState==\`InService\`] | [0].InstanceId' --output text)" --document-name AWS-StartPortForwardingSessionToRemoteHost --parameters '{"host":["${args.databaseAddress}"],"portNumber":["3306"],"localPortNumber":["${localPort}"]}'`;
    }

    this.registerOutputs({
      asgName: this.asgName,
      securityGroupId: this.securityGroupId,
      databaseTunnelCommand: this.databaseTunnelCommand,
    });
  }

  /** AL2023 from its public SSM parameter, IMDSv2 only, encrypted root volume, no public IP, no key pair. */
  private launchTemplate(
    name: string,
    args: BastionArgs,
    o: { readonly rootVolumeGb: number; readonly launchTags: Record<string, string>; readonly profile: aws.iam.InstanceProfile; readonly securityGroup: aws.ec2.SecurityGroup },
  ): aws.ec2.LaunchTemplate {
    const { rootVolumeGb, launchTags, profile, securityGroup } = o;
    const ami = aws.ssm.getParameterOutput({ name: args.amiParameter ?? AL2023_X86_64_AMI_PARAMETER }, { parent: this });

    // Instances launched by Auto Scaling are created by the Auto Scaling service, not by the
    // provider, so the provider's `defaultTags` never reach them. The launch template's tag
    // specifications tag the instance, its volume and its network interface at creation (ASG tag
    // propagation would only cover the instance).
    return new aws.ec2.LaunchTemplate(
      `${name}-lt`,
      {
        description: "Bastion: AL2023, SSM only, no key pair, no public IP",
        // A new AMI release changes this on the next `pulumi up`, which rolls the group (instance
        // refresh below), so the bastion is re-patched with every deployment. An AMI id is public.
        imageId: pulumi.unsecret(ami.value),
        instanceType: args.instanceType,
        iamInstanceProfile: { arn: profile.arn },
        metadataOptions: {
          httpEndpoint: "enabled",
          // IMDSv2 only, and hop limit 1: no container or forwarded process can reach the role's
          // credentials through the metadata service.
          httpTokens: "required",
          httpPutResponseHopLimit: 1,
          instanceMetadataTags: "disabled",
        },
        blockDeviceMappings: [
          {
            deviceName: "/dev/xvda",
            ebs: { volumeSize: rootVolumeGb, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
          },
        ],
        networkInterfaces: [
          {
            deviceIndex: 0,
            associatePublicIpAddress: "false",
            securityGroups: [securityGroup.id],
            deleteOnTermination: "true",
          },
        ],
        tagSpecifications: ["instance", "volume", "network-interface"].map((resourceType) => ({ resourceType, tags: launchTags })),
        updateDefaultVersion: true,
      },
      { parent: this },
    );
  }

  /** No ingress at all: Session Manager connections are outbound from the agent; egress only where the bastion has to go. */
  private securityGroup(name: string, args: BastionArgs): aws.ec2.SecurityGroup {
    // No ingress at all: Session Manager connections are outbound from the agent. Egress only
    // where the bastion has to go. (The provider removes AWS's default allow-all egress rule.)
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      { vpcId: args.vpcId, description: "Bastion: no inbound; SSM over HTTPS and MariaDB out", tags: { Name: name } },
      { parent: this },
    );
    // The SSM, ssmmessages and ec2messages endpoints (and the dnf repositories on S3) are public
    // AWS endpoints reached through the NAT gateway, so they cannot be narrowed to a CIDR here.
    // Interface VPC endpoints for the three services would allow that, at an hourly charge per
    // endpoint and AZ that outweighs a bastion's own cost.
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-https-out`,
      {
        securityGroupId: securityGroup.id,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
        description: "HTTPS to SSM and EC2 messages endpoints and package repositories via NAT",
      },
      { parent: this },
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-mariadb-out`,
      {
        securityGroupId: securityGroup.id,
        ipProtocol: "tcp",
        fromPort: 3306,
        toPort: 3306,
        cidrIpv4: args.vpcCidr,
        description: "MariaDB inside the VPC for SSM port forwarding",
      },
      { parent: this },
    );
    return securityGroup;
  }

  /** The instance profile: SSM Session Manager and nothing else (plus writing its transcripts, when logged). */
  private ssmProfile(name: string, partition: pulumi.Output<string>, sessionLogGroupArn: pulumi.Input<string> | undefined): aws.iam.InstanceProfile {
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        description: "Bastion instances: SSM Session Manager only",
        assumeRolePolicy: aws.iam.getPolicyDocumentOutput(
          {
            statements: [
              { actions: ["sts:AssumeRole"], principals: [{ type: "Service", identifiers: ["ec2.amazonaws.com"] }] },
            ],
          },
          { parent: this },
        ).json,
      },
      { parent: this },
    );
    new aws.iam.RolePolicyAttachment(
      `${name}-ssm`,
      { role: role.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/AmazonSSMManagedInstanceCore` },
      { parent: this },
    );
    if (sessionLogGroupArn !== undefined) {
      this.sessionLogsPolicy(name, role, partition, sessionLogGroupArn);
    }
    return new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name }, { parent: this });
  }

  /** Lets the SSM agent stream session transcripts to exactly the Session Manager log group. */
  private sessionLogsPolicy(name: string, role: aws.iam.Role, partition: pulumi.Output<string>, sessionLogGroupArn: pulumi.Input<string>): void {
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    new aws.iam.RolePolicy(
      `${name}-session-logs`,
      {
        role: role.id,
        policy: aws.iam.getPolicyDocumentOutput(
          {
            statements: [
              {
                sid: "WriteSessionTranscripts",
                actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources: [sessionLogGroupArn, pulumi.interpolate`${sessionLogGroupArn}:*`],
              },
              {
                // The agent checks that the configured group exists and is encrypted before a
                // session starts; DescribeLogGroups has no narrower resource than the region's groups.
                sid: "FindTheSessionLogGroup",
                actions: ["logs:DescribeLogGroups"],
                resources: [pulumi.interpolate`arn:${partition}:logs:${region}:${accountId}:log-group:*`],
              },
            ],
          },
          { parent: this },
        ).json,
      },
      { parent: this },
    );
  }
}
