import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** OpenSearch domain names: 3-28 characters, lower-case letters, digits and hyphens, starting with a letter. */
const DOMAIN_NAME = /^[a-z][a-z0-9-]{2,27}$/;

export interface LogStoreArgs {
  readonly vpcId: pulumi.Input<string>;
  /** The private subnets, one per AZ; the domain uses the first one, or the first two with zone awareness. */
  readonly subnetIds: pulumi.Input<string[]>;
  /**
   * Security group of the only HTTPS clients: the cluster nodes (`Cluster.clusterSecurityGroupId`),
   * which carry Fluentd's and the Dashboards proxy's traffic.
   */
  readonly clientSecurityGroupId: pulumi.Input<string>;
  /** Domain name (3-28 characters). Changing it replaces the domain and loses its indices. */
  readonly domainName: string;
  /** Engine, e.g. `OpenSearch_2.19`. */
  readonly engineVersion: string;
  /** Data node type, e.g. `t3.small.search` (staging) or `m6g.large.search` (prod). */
  readonly instanceType: string;
  /** Data nodes. More than one turns on zone awareness over two AZs (the count must then be even). */
  readonly instanceCount: number;
  /** gp3 volume per data node, in GB. */
  readonly volumeGb: number;
  /**
   * Dedicated master nodes, e.g. `{ instanceType: "m6g.large.search", count: 3 }`. Default: none,
   * so the data nodes elect the master: with two of them, losing one stops writes (Fluentd
   * buffers meanwhile) until it is back. With two zones configured, AWS still places three
   * masters in three AZs where the region has three or more (and the type is offered there), so
   * one AZ outage keeps the quorum (developer guide, "Dedicated master node distribution").
   */
  readonly dedicatedMasters?: { readonly instanceType: string; readonly count: 3 | 5 };
  /** Retention of the domain's application log group, in days. Default: 30. */
  readonly logRetentionDays?: number;
  /** Protect the domain (and its key) from `pulumi destroy` and replacement. Default: false. */
  readonly protect?: boolean;
  /**
   * Create the account's OpenSearch service-linked role (`AWSServiceRoleForAmazonOpenSearchService`)
   * and make the domain wait for it. Default: false. A VPC domain needs the role "to access your
   * VPC, create the domain endpoint, and place network interfaces in a subnet"; only the console
   * creates it by itself (OpenSearch developer guide, vpc.md and slr-aos.md). One role per account:
   * a second create fails, so exactly one stack per account sets this.
   */
  readonly createServiceLinkedRole?: boolean;
}

/**
 * The log store: an Amazon OpenSearch Service domain inside the VPC (private subnets, HTTPS from
 * the cluster nodes only), encrypted at rest with its own KMS key and between nodes, TLS 1.2+
 * enforced, spread over two AZs when it has more than one data node, its error logs in
 * CloudWatch. Authorisation is IAM (SigV4): the access policy delegates to identity policies of
 * this account, so each client (Fluentd, the Dashboards proxy) gets exactly the actions its
 * IRSA role grants, and the domain never needs to know its clients (no dependency cycle).
 */
export class LogStore extends pulumi.ComponentResource {
  readonly domainName: string;
  readonly domainArn: pulumi.Output<string>;
  /** VPC endpoint, without scheme. */
  readonly endpoint: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;

  constructor(name: string, args: LogStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:logging:LogStore", name, args, opts);

    this.checkArgs(args);
    const zoneAware = args.instanceCount > 1;
    const protect = args.protect ?? false;
    const domainName = args.domainName;
    const { partition } = aws.getPartitionOutput({}, { parent: this });
    const { accountId } = aws.getCallerIdentityOutput({}, { parent: this });
    const { region } = aws.getRegionOutput({}, { parent: this });
    const domainArn = pulumi.interpolate`arn:${partition}:es:${region}:${accountId}:domain/${domainName}`;

    const key = this.encryptionKey(name, domainName, protect);

    const securityGroup = this.securityGroup(name, args);
    const { logGroup, logPolicy } = this.applicationLogs(name, args, accountId, domainArn);
    const serviceLinkedRole = (args.createServiceLinkedRole ?? false) ? [this.serviceLinkedRole(name)] : [];

    const subnetIds = this.domainSubnets(name, args, zoneAware);

    const domain = new aws.opensearch.Domain(
      `${name}-domain`,
      {
        domainName,
        engineVersion: args.engineVersion,
        clusterConfig: {
          instanceType: args.instanceType,
          instanceCount: args.instanceCount,
          zoneAwarenessEnabled: zoneAware,
          zoneAwarenessConfig: zoneAware ? { availabilityZoneCount: 2 } : undefined,
          dedicatedMasterEnabled: args.dedicatedMasters !== undefined,
          dedicatedMasterType: args.dedicatedMasters?.instanceType,
          dedicatedMasterCount: args.dedicatedMasters?.count,
        },
        ebsOptions: { ebsEnabled: true, volumeType: "gp3", volumeSize: args.volumeGb },
        encryptAtRest: { enabled: true, kmsKeyId: key.arn },
        nodeToNodeEncryption: { enabled: true },
        domainEndpointOptions: { enforceHttps: true, tlsSecurityPolicy: "Policy-Min-TLS-1-2-PFS-2023-10" },
        vpcOptions: { subnetIds, securityGroupIds: [securityGroup.id] },
        // The account root as principal delegates to IAM: a request is allowed when the caller's
        // identity policy allows it (Fluentd's and the proxy's IRSA roles). The security group
        // already limits the network path to the cluster nodes.
        accessPolicies: this.delegateToIam(partition, accountId, domainArn),
        logPublishingOptions: [{ logType: "ES_APPLICATION_LOGS", cloudwatchLogGroupArn: logGroup.arn, enabled: true }],
        softwareUpdateOptions: { autoSoftwareUpdateEnabled: true },
        tags: { Name: domainName },
      },
      // The resource policy must exist before the domain is told to publish logs (AWS validates
      // it on create), and the service-linked role before a VPC domain is created; no input of
      // the domain refers to either.
      { parent: this, dependsOn: [logPolicy, ...serviceLinkedRole], protect },
    );

    this.domainName = domainName;
    this.domainArn = domain.arn;
    this.endpoint = domain.endpoint;
    this.securityGroupId = securityGroup.id;
    this.kmsKeyArn = key.arn;

    this.registerOutputs({ domainArn: this.domainArn, endpoint: this.endpoint, securityGroupId: this.securityGroupId });
  }

  /** Refuses a domain name AWS would reject and a node count that cannot spread over two AZs. */
  private checkArgs(args: LogStoreArgs): void {
    if (!DOMAIN_NAME.test(args.domainName)) {
      throw new pulumi.ResourceError(
        `domainName "${args.domainName}" is not a valid OpenSearch domain name (3-28 lower-case letters, digits and hyphens, starting with a letter)`,
        this,
      );
    }
    if (args.instanceCount > 1 && args.instanceCount % 2 !== 0) {
      throw new pulumi.ResourceError(`instanceCount ${args.instanceCount} cannot be spread evenly over two AZs; use an even count`, this);
    }
  }

  /** The customer-managed key for indices, logs and snapshots, protected with the domain. */
  private encryptionKey(name: string, domainName: string, protect: boolean): aws.kms.Key {
    return new aws.kms.Key(
      `${name}-kms`,
      {
        description: `OpenSearch ${domainName}: encryption at rest of indices, logs and snapshots`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
      },
      { parent: this, protect },
    );
  }

  /** One private subnet per AZ the domain spans (a VPC domain takes exactly that). */
  private domainSubnets(name: string, args: LogStoreArgs, zoneAware: boolean): pulumi.Output<string[]> {
    return pulumi.output(args.subnetIds).apply((ids) => {
      const wanted = zoneAware ? 2 : 1;
      if (ids.length < wanted) {
        throw new pulumi.ResourceError(`LogStore ${name}: ${wanted} private subnet(s) needed, got ${ids.length}`, this);
      }
      // A VPC domain takes exactly one subnet per AZ it spans.
      return ids.slice(0, wanted);
    });
  }

  /**
   * The account's OpenSearch service-linked role. Retained on delete: other stacks' domains in the
   * account use the same role, and IAM refuses to delete it while any domain does (slr-aos.md), so
   * destroying this stack only forgets it.
   */
  private serviceLinkedRole(name: string): aws.iam.ServiceLinkedRole {
    return new aws.iam.ServiceLinkedRole(
      `${name}-service-linked-role`,
      {
        awsServiceName: "opensearchservice.amazonaws.com",
        description: "Lets Amazon OpenSearch Service place domain network interfaces in this account's VPCs",
      },
      { parent: this, retainOnDelete: true },
    );
  }

  /** HTTPS from the cluster nodes only; without an `egress` list the provider removes AWS's default allow-all egress. */
  private securityGroup(name: string, args: LogStoreArgs): aws.ec2.SecurityGroup {
    const domainName = args.domainName;
    // Without an `egress` list the provider removes AWS's default allow-all egress: the domain
    // only answers requests, and security groups are stateful.
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      { vpcId: args.vpcId, description: `OpenSearch ${domainName}: HTTPS from the cluster nodes only`, tags: { Name: `${domainName}-opensearch` } },
      { parent: this },
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-https-from-nodes`,
      {
        securityGroupId: securityGroup.id,
        referencedSecurityGroupId: args.clientSecurityGroupId,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        description: "HTTPS from the EKS nodes (Fluentd, OpenSearch Dashboards proxy)",
      },
      { parent: this },
    );
    return securityGroup;
  }

  /** The domain's application log group, and the resource policy that lets OpenSearch write there. */
  private applicationLogs(
    name: string,
    args: LogStoreArgs,
    accountId: pulumi.Output<string>,
    domainArn: pulumi.Output<string>,
  ): { logGroup: aws.cloudwatch.LogGroup; logPolicy: aws.cloudwatch.LogResourcePolicy } {
    const domainName = args.domainName;
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-application-logs`,
      { name: `/aws/opensearch/${domainName}/application`, retentionInDays: args.logRetentionDays ?? 30 },
      { parent: this },
    );
    // OpenSearch writes to CloudWatch Logs as the service principal, which only a resource policy
    // can allow; it is scoped to this domain (confused deputy). Accounts hold at most 10 such
    // policies per region.
    const logPolicy = new aws.cloudwatch.LogResourcePolicy(
      `${name}-logs-policy`,
      {
        policyName: `opensearch-${domainName}`,
        policyDocument: aws.iam.getPolicyDocumentOutput(
          {
            statements: [
              {
                sid: "OpenSearchWritesItsLogs",
                actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
                principals: [{ type: "Service", identifiers: ["es.amazonaws.com"] }],
                resources: [pulumi.interpolate`${logGroup.arn}:*`],
                conditions: [
                  { test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] },
                  { test: "ArnLike", variable: "aws:SourceArn", values: [domainArn] },
                ],
              },
            ],
          },
          { parent: this },
        ).json,
      },
      { parent: this },
    );
    return { logGroup, logPolicy };
  }

  /** The domain's access policy: the account root, so a request is allowed when the caller's IAM identity policy allows it. */
  private delegateToIam(partition: pulumi.Output<string>, accountId: pulumi.Output<string>, domainArn: pulumi.Output<string>): pulumi.Output<string> {
    return aws.iam.getPolicyDocumentOutput(
      {
        statements: [
          {
            sid: "DelegateToIam",
            actions: ["es:ESHttp*"],
            principals: [{ type: "AWS", identifiers: [pulumi.interpolate`arn:${partition}:iam::${accountId}:root`] }],
            resources: [pulumi.interpolate`${domainArn}/*`],
          },
        ],
      },
      { parent: this },
    ).json;
  }
}
