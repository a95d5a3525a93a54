import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { defaultSubnetLayout } from "../lib/cidr";
import { checkedFor } from "../resourceError";

export type NatGatewayMode = "none" | "single" | "perAz";

export interface NetworkArgs {
  /** VPC block, e.g. `10.20.0.0/16`. */
  readonly cidr: string;
  /** Zones to spread subnets over, in order; subnet lists below follow this order. */
  readonly availabilityZones: readonly string[];
  /** Whether to create private subnets (worker nodes, database, bastion). */
  readonly privateSubnets: boolean;
  /** NAT gateways for the private subnets' egress: none, one shared, or one per AZ (no cross-AZ dependency). */
  readonly natGateways: NatGatewayMode;
  /** Prefix length of the computed subnets. Default: 20 (4,091 addresses each: room for VPC-CNI pod IPs). */
  readonly subnetPrefix?: number;
  /** Explicit public subnet blocks, one per AZ. Default: computed from `cidr` (see `defaultSubnetLayout`). */
  readonly publicSubnetCidrs?: readonly string[];
  /** Explicit private subnet blocks, one per AZ. Default: computed from `cidr`. */
  readonly privateSubnetCidrs?: readonly string[];
  /** Retention of the VPC flow logs' log group, in days. Default: 30. */
  readonly flowLogRetentionDays?: number;
  /**
   * Endpoints for the private subnets (ignored without them): the S3 gateway endpoint on their
   * route tables, and interface endpoints (`ecr.api`, `ecr.dkr`, `sts`, `logs`) with private DNS in
   * them. Default: none.
   */
  readonly vpcEndpoints?: { readonly s3Gateway: boolean; readonly interface: readonly string[] };
}

const NAT_STRATEGY: Record<NatGatewayMode, awsx.types.enums.ec2.NatGatewayStrategy> = {
  none: "None",
  single: "Single",
  perAz: "OnePerAz",
};

/**
 * The VPC of one environment: public subnets (ALBs, NAT gateways), optional private subnets
 * (nodes, database, bastion, OpenSearch), NAT per the environment's availability/cost trade-off,
 * and flow logs of rejected traffic for incident forensics.
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly cidr: string;
  readonly publicSubnetIds: pulumi.Output<string[]>;
  /** Empty when the environment has no private subnets. */
  readonly privateSubnetIds: pulumi.Output<string[]>;
  readonly availabilityZones: readonly string[];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:network:Network", name, args, opts);

    const subnetPrefix = args.subnetPrefix ?? 20;
    const layout = checkedFor(this, () => defaultSubnetLayout(args.cidr, args.availabilityZones.length, subnetPrefix));
    const publicCidrs = args.publicSubnetCidrs ?? layout.public;
    const privateCidrs = args.privateSubnetCidrs ?? layout.private;

    // The AWS Load Balancer Controller and EKS discover subnets by these role tags: internet-facing
    // ALBs go to `elb` subnets, internal ones to `internal-elb` subnets.
    const subnetSpecs: awsx.types.input.ec2.SubnetSpecArgs[] = [
      { type: "Public", name: "public", cidrBlocks: [...publicCidrs], tags: { "kubernetes.io/role/elb": "1", Tier: "public" } },
    ];
    if (args.privateSubnets) {
      subnetSpecs.push({
        type: "Private",
        name: "private",
        cidrBlocks: [...privateCidrs],
        tags: { "kubernetes.io/role/internal-elb": "1", Tier: "private" },
      });
    }

    const vpc = new awsx.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: args.cidr,
        availabilityZoneNames: [...args.availabilityZones],
        // Explicit blocks: the layout is computed and validated by us (infra/lib/cidr.ts), so a
        // change of awsx's own layout algorithm can never renumber (and so replace) a subnet.
        subnetStrategy: "Auto",
        subnetSpecs,
        natGateways: { strategy: NAT_STRATEGY[args.privateSubnets ? args.natGateways : "none"] },
        enableDnsHostnames: true,
        enableDnsSupport: true,
      },
      { parent: this },
    );

    this.flowLogs(name, vpc.vpcId, args.flowLogRetentionDays ?? 30);

    const endpoints = args.privateSubnets ? args.vpcEndpoints : undefined;
    if (endpoints !== undefined && (endpoints.s3Gateway || endpoints.interface.length > 0)) {
      this.declareEndpoints(name, vpc, args.cidr, endpoints, aws.getRegionOutput({}, { parent: this }).region);
    }

    this.vpcId = vpc.vpcId;
    this.cidr = args.cidr;
    this.publicSubnetIds = vpc.publicSubnetIds;
    this.privateSubnetIds = args.privateSubnets ? vpc.privateSubnetIds : pulumi.output([]);
    this.availabilityZones = args.availabilityZones;

    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
    });
  }

  /** Rejected traffic of the VPC, logged to CloudWatch through a role that may write only there. */
  private flowLogs(name: string, vpcId: pulumi.Output<string>, retentionDays: number): void {
    const flowLogGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      { retentionInDays: retentionDays },
      { parent: this },
    );
    const { accountId } = aws.getCallerIdentityOutput({}, { parent: this });
    const { region } = aws.getRegionOutput({}, { parent: this });
    const { partition } = aws.getPartitionOutput({}, { parent: this });
    const flowLogRole = new aws.iam.Role(
      `${name}-flow-logs`,
      {
        description: "Lets VPC Flow Logs write to its CloudWatch log group",
        assumeRolePolicy: aws.iam.getPolicyDocumentOutput(
          {
            statements: [
              {
                actions: ["sts:AssumeRole"],
                principals: [{ type: "Service", identifiers: ["vpc-flow-logs.amazonaws.com"] }],
                // Confused-deputy guard, as the VPC user guide's flow-log role trust recommends:
                // only flow logs of this account and region. The flow log's id is not known before
                // it exists (it needs the role), hence the wildcard.
                conditions: [
                  { test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] },
                  { test: "ArnLike", variable: "aws:SourceArn", values: [pulumi.interpolate`arn:${partition}:ec2:${region}:${accountId}:vpc-flow-log/*`] },
                ],
              },
            ],
          },
          { parent: this },
        ).json,
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-flow-logs`,
      {
        role: flowLogRole.id,
        policy: aws.iam.getPolicyDocumentOutput(
          {
            statements: [
              {
                actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources: [pulumi.interpolate`${flowLogGroup.arn}:*`],
              },
            ],
          },
          { parent: this },
        ).json,
      },
      { parent: this },
    );
    new aws.ec2.FlowLog(
      `${name}-flow-log`,
      {
        vpcId,
        trafficType: "REJECT",
        logDestinationType: "cloud-watch-logs",
        logDestination: flowLogGroup.arn,
        iamRoleArn: flowLogRole.arn,
      },
      { parent: this },
    );
  }

  /** The S3 gateway endpoint on the private route tables, and interface endpoints in the private subnets. */
  private declareEndpoints(
    name: string,
    vpc: awsx.ec2.Vpc,
    cidr: string,
    endpoints: NonNullable<NetworkArgs["vpcEndpoints"]>,
    region: pulumi.Output<string>,
  ): void {
    if (endpoints.s3Gateway) {
      // awsx creates one route table per subnet and associates it explicitly; they are looked up
      // by those associations. The lookup depends on the awsx component, a remote component the
      // engine only reports complete once all of its children (associations included) exist.
      const privateRouteTables = aws.ec2.getRouteTablesOutput(
        { vpcId: vpc.vpcId, filters: [{ name: "association.subnet-id", values: vpc.privateSubnetIds }] },
        { parent: this, dependsOn: [vpc] },
      );
      new aws.ec2.VpcEndpoint(
        `${name}-s3`,
        {
          vpcId: vpc.vpcId,
          serviceName: pulumi.interpolate`com.amazonaws.${region}.s3`,
          vpcEndpointType: "Gateway",
          // No policy: the default allows every bucket, which ECR's layer buckets (AWS-owned,
          // per region) need; S3 access stays governed by the callers' IAM and bucket policies.
          routeTableIds: privateRouteTables.ids,
          tags: { Name: `${name}-s3` },
        },
        { parent: this },
      );
    }
    if (endpoints.interface.length === 0) {
      return;
    }
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-endpoints-sg`,
      { vpcId: vpc.vpcId, description: "Interface VPC endpoints: HTTPS from inside the VPC only", tags: { Name: `${name}-endpoints` } },
      { parent: this },
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-endpoints-https`,
      {
        securityGroupId: securityGroup.id,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: cidr,
        description: "HTTPS to the AWS service endpoints from the VPC (nodes, pods, bastion)",
      },
      { parent: this },
    );
    for (const service of endpoints.interface) {
      new aws.ec2.VpcEndpoint(
        `${name}-${service.replace(/\./g, "-")}`,
        {
          vpcId: vpc.vpcId,
          serviceName: pulumi.interpolate`com.amazonaws.${region}.${service}`,
          vpcEndpointType: "Interface",
          // The public service name then resolves to the endpoint's private addresses in this VPC,
          // so nothing in the cluster is configured to use it.
          privateDnsEnabled: true,
          subnetIds: vpc.privateSubnetIds,
          securityGroupIds: [securityGroup.id],
          tags: { Name: `${name}-${service}` },
        },
        { parent: this },
      );
    }
  }
}
