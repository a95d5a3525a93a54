import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PlannedRoute, planRoutes } from "../lib/albRouting";
import { assignHostPorts, checkServiceNamesAndEnv, endpointHost, renderUserData } from "../lib/hostContainers";
import { amiParameterFor } from "../lib/instanceTypes";
import { checkedFor } from "../resourceError";
import type { TestHostArgs, TestHostImageBucket } from "./testHostArgs";

export type { TestHostArgs, TestHostDatabase, TestHostImageBucket, TestHostService } from "./testHostArgs";

/** What the test host's parts share. */
interface HostContext {
  readonly name: string;
  readonly args: TestHostArgs;
  readonly hostPorts: Record<string, number>;
  readonly dbPort: number;
  /** The images bucket, when a service asked for it. */
  readonly bucket?: TestHostImageBucket;
  readonly region: pulumi.Output<string>;
  readonly partition: pulumi.Output<string>;
}

/**
 * The test environment's compute: one EC2 instance in a public subnet running every service's
 * container, behind an internet-facing ALB that terminates TLS and routes by path.
 *
 * Nothing reaches the instance except the ALB (no SSH: operators use SSM Session Manager), and
 * the instance reaches only HTTPS endpoints and the database.
 */
export class TestHost extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly albDnsName: pulumi.Output<string>;
  readonly albArn: pulumi.Output<string>;
  /** For CloudWatch alarms on the ALB's metrics. */
  readonly albArnSuffix: pulumi.Output<string>;
  readonly instanceId: pulumi.Output<string>;
  /** The instance's security group: the database admits this. */
  readonly securityGroupId: pulumi.Output<string>;
  readonly albSecurityGroupId: pulumi.Output<string>;
  readonly targetGroupArns: Record<string, pulumi.Output<string>>;
  readonly hostPorts: Record<string, number>;
  readonly logGroupName: pulumi.Output<string>;

  constructor(name: string, args: TestHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:compute:TestHost", name, args, opts);

    const instanceType = args.instanceType ?? "t3.small";
    const rootVolumeGb = args.rootVolumeGb ?? 30;
    const logRetentionDays = args.logRetentionDays ?? 30;
    const dbPort = args.database?.port ?? 3306;
    if (args.services.length === 0) {
      throw new pulumi.ResourceError("TestHost needs at least one service", this);
    }
    const hostPorts = checkedFor(this, () =>
      assignHostPorts(
        args.services.map((s) => s.name),
        args.hostPortBase ?? 8001,
      ),
    );
    checkedFor(this, () => checkServiceNamesAndEnv(args.services));
    const routes = checkedFor(this, () => planRoutes(args.services.map((s) => ({ service: s.name, paths: s.paths }))));
    // One instance role serves every container that can reach IMDS, so a per-service grant is not
    // possible on a shared host: the bucket is granted to the host when any service needs it
    // (only the services that asked get IMAGE_BUCKET), and otherwise not at all.
    const bucketUsers = args.services.filter((s) => s.imageBucketAccess ?? false).map((s) => s.name);
    if (bucketUsers.length > 0 && args.imageBucket === undefined) {
      throw new pulumi.ResourceError(`services ${bucketUsers.join(", ")} have imageBucketAccess but no imageBucket was given; enable the images bucket or drop the flag`, this);
    }
    const bucket = bucketUsers.length > 0 ? args.imageBucket : undefined;

    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const region = aws.getRegionOutput({}, { parent: this }).region;

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-containers`,
      { name: args.logGroupName ?? `/platform/${name}/containers`, retentionInDays: logRetentionDays },
      { parent: this },
    );

    const h: HostContext = { name, args, hostPorts, dbPort, bucket, region, partition };
    const { access, ssm, profile } = this.instanceRole(h, logGroup);
    const { albSg, instanceSg } = this.securityGroups(h);
    const userData = this.userData(h, logGroup);
    const instance = this.instance(h, { instanceType, rootVolumeGb, userData, instanceSg, profile, grants: [access, ssm] });
    const { alb, targetGroups } = this.loadBalancer(h, albSg, instance);
    this.routing(h, alb, targetGroups, routes);

    this.url = pulumi.output(`https://${args.hostname}`);
    this.albDnsName = alb.dnsName;
    this.albArn = alb.arn;
    this.albArnSuffix = alb.arnSuffix;
    this.instanceId = instance.id;
    this.securityGroupId = instanceSg.id;
    this.albSecurityGroupId = albSg.id;
    this.targetGroupArns = Object.fromEntries(Object.entries(targetGroups).map(([k, tg]) => [k, tg.arn]));
    this.hostPorts = hostPorts;
    this.logGroupName = logGroup.name;

    this.registerOutputs({
      url: this.url,
      albDnsName: this.albDnsName,
      albArn: this.albArn,
      instanceId: this.instanceId,
      securityGroupId: this.securityGroupId,
      albSecurityGroupId: this.albSecurityGroupId,
      targetGroupArns: this.targetGroupArns,
      logGroupName: this.logGroupName,
    });
  }

  /** The instance role: SSM sessions, pulls from the services' repositories, container logs, the database secret and the bucket. */
  private instanceRole(
    { name, args, bucket, region, partition }: HostContext,
    logGroup: aws.cloudwatch.LogGroup,
  ): { access: aws.iam.RolePolicy; ssm: aws.iam.RolePolicyAttachment; profile: aws.iam.InstanceProfile } {
    const role = new aws.iam.Role(
      `${name}-instance`,
      {
        description: "Test host: SSM sessions, ECR pulls, container logs, the database secret",
        assumeRolePolicy: aws.iam.getPolicyDocumentOutput(
          { statements: [{ actions: ["sts:AssumeRole"], principals: [{ type: "Service", identifiers: ["ec2.amazonaws.com"] }] }] },
          { parent: this },
        ).json,
      },
      { parent: this },
    );
    // Session Manager replaces SSH: no key pair, no port 22, and every session is attributable to an
    // IAM identity in CloudTrail.
    const ssm = new aws.iam.RolePolicyAttachment(
      `${name}-ssm`,
      { role: role.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/AmazonSSMManagedInstanceCore` },
      { parent: this },
    );

    const statements: aws.types.input.iam.GetPolicyDocumentStatementArgs[] = [
      // GetAuthorizationToken has no resource-level permissions: AWS only accepts "*" for it.
      // The token alone pulls nothing; the repository statement below decides what can be pulled.
      { sid: "EcrLogin", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
      {
        sid: "ContainerLogs",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [pulumi.interpolate`${logGroup.arn}:*`],
      },
    ];
    if (args.ecrRepositoryArns.length > 0) {
      statements.push({
        sid: "EcrPull",
        actions: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
        resources: args.ecrRepositoryArns,
      });
    }
    // Key grants only through the one service that needs them (kms:ViaService): the role cannot
    // use the keys to decrypt anything else.
    const viaService = (service: string): aws.types.input.iam.GetPolicyDocumentStatementConditionArgs[] => [
      { test: "StringEquals", variable: "kms:ViaService", values: [pulumi.interpolate`${service}.${region}.amazonaws.com`] },
    ];
    if (args.database !== undefined) {
      statements.push({ sid: "DatabaseSecret", actions: ["secretsmanager:GetSecretValue"], resources: [args.database.secretArn] });
      if (args.database.secretKmsKeyArn !== undefined) {
        statements.push({
          sid: "DatabaseSecretKey",
          actions: ["kms:Decrypt"],
          resources: [args.database.secretKmsKeyArn],
          conditions: viaService("secretsmanager"),
        });
      }
    }
    if (bucket !== undefined) {
      statements.push(
        { sid: "ImagesList", actions: ["s3:ListBucket"], resources: [bucket.arn] },
        { sid: "ImagesObjects", actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], resources: [pulumi.interpolate`${bucket.arn}/*`] },
      );
      if (bucket.kmsKeyArn !== undefined) {
        // GenerateDataKey for PutObject, Decrypt for GetObject and multipart completion.
        statements.push({ sid: "ImagesKey", actions: ["kms:Decrypt", "kms:GenerateDataKey"], resources: [bucket.kmsKeyArn], conditions: viaService("s3") });
      }
    }
    const access = new aws.iam.RolePolicy(
      `${name}-instance`,
      { role: role.id, policy: aws.iam.getPolicyDocumentOutput({ statements }, { parent: this }).json },
      { parent: this },
    );
    const profile = new aws.iam.InstanceProfile(`${name}-instance`, { role: role.name }, { parent: this });
    return { access, ssm, profile };
  }

  /** The ALB's and the instance's security groups, one resource per rule. */
  private securityGroups({ name, args, hostPorts, dbPort }: HostContext): { albSg: aws.ec2.SecurityGroup; instanceSg: aws.ec2.SecurityGroup } {
    // No inline rules: one resource per rule, so adding a rule never rewrites the others (and the
    // provider removes AWS's default allow-all egress on creation).
    const albSg = new aws.ec2.SecurityGroup(
      `${name}-alb`,
      // Security group descriptions cannot change without replacing the group: keep them constant.
      { vpcId: args.vpcId, description: "Public ALB of the test host: HTTP/HTTPS from the internet" },
      { parent: this },
    );
    const instanceSg = new aws.ec2.SecurityGroup(
      `${name}-instance`,
      { vpcId: args.vpcId, description: "Test host: reachable from its ALB only" },
      { parent: this },
    );

    // The ALB is ipv4-only for now; the ::/0 rules are inert until ipAddressType becomes dualstack.
    for (const [port, proto] of [
      [80, "http"],
      [443, "https"],
    ] as const) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-alb-${proto}-ipv4`,
        { securityGroupId: albSg.id, ipProtocol: "tcp", fromPort: port, toPort: port, cidrIpv4: "0.0.0.0/0", description: `${proto.toUpperCase()} from the internet (IPv4)${port === 80 ? ", redirected to HTTPS" : ""}` },
        { parent: this },
      );
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-alb-${proto}-ipv6`,
        { securityGroupId: albSg.id, ipProtocol: "tcp", fromPort: port, toPort: port, cidrIpv6: "::/0", description: `${proto.toUpperCase()} from the internet (IPv6)${port === 80 ? ", redirected to HTTPS" : ""}` },
        { parent: this },
      );
    }
    for (const s of args.services) {
      const port = hostPorts[s.name];
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-alb-to-${s.name}`,
        { securityGroupId: albSg.id, ipProtocol: "tcp", fromPort: port, toPort: port, referencedSecurityGroupId: instanceSg.id, description: `Requests and health checks to ${s.name} on the test host` },
        { parent: this },
      );
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-from-alb-${s.name}`,
        { securityGroupId: instanceSg.id, ipProtocol: "tcp", fromPort: port, toPort: port, referencedSecurityGroupId: albSg.id, description: `${s.name} (host port ${port}) from the ALB only` },
        { parent: this },
      );
    }
    // There is no NAT and there are no VPC endpoints in test, so ECR, S3 (image layers, dnf
    // repositories), SSM, Secrets Manager and CloudWatch Logs are reached on their public HTTPS
    // endpoints. DNS, NTP and IMDS are link-local and not subject to security groups.
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-egress-https`,
      { securityGroupId: instanceSg.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: "HTTPS to AWS APIs (ECR, S3, SSM, Secrets Manager, Logs) and package repositories" },
      { parent: this },
    );
    if (args.database !== undefined) {
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-egress-database`,
        { securityGroupId: instanceSg.id, ipProtocol: "tcp", fromPort: dbPort, toPort: dbPort, cidrIpv4: args.vpcCidr, description: "MariaDB inside the VPC" },
        { parent: this },
      );
    }
    return { albSg, instanceSg };
  }

  /** The first-boot script, rendered once the region, the log group and the database are known. */
  private userData({ args, hostPorts, dbPort, bucket, region }: HostContext, logGroup: aws.cloudwatch.LogGroup): pulumi.Output<string> {
    const database = args.database;
    const userData = pulumi
      .all([
        region,
        logGroup.name,
        database === undefined ? undefined : pulumi.output(database.endpoint),
        database === undefined ? undefined : pulumi.output(database.secretArn),
        bucket === undefined ? undefined : pulumi.output(bucket.name),
      ])
      .apply(([r, logGroupName, endpoint, secretArn, bucketName]) =>
        renderUserData({
          region: r,
          logGroupName,
          database:
            database !== undefined && endpoint !== undefined && secretArn !== undefined
              ? { host: endpointHost(endpoint), port: dbPort, name: database.name, secretArn }
              : undefined,
          services: args.services.map((s) => ({
            name: s.name,
            port: s.port,
            hostPort: hostPorts[s.name],
            image: s.image,
            env: s.env ?? {},
            readOnlyRootFilesystem: s.readOnlyRootFilesystem ?? true,
            imageBucket: (s.imageBucketAccess ?? false) ? bucketName : undefined,
          })),
        }),
      );
    return userData;
  }

  /** The EC2 instance, in the first public subnet, IMDSv2 only. */
  private instance(
    { name, args, bucket }: HostContext,
    i: { instanceType: string; rootVolumeGb: number; userData: pulumi.Output<string>; instanceSg: aws.ec2.SecurityGroup; profile: aws.iam.InstanceProfile; grants: pulumi.Resource[] },
  ): aws.ec2.Instance {
    const { instanceType, rootVolumeGb, userData, instanceSg, profile } = i;
    // The latest AL2023 is resolved at every `pulumi up`, and a new release replaces the instance
    // on the next up (visible in the preview). Deliberately no ignoreChanges: ["ami"]: it would
    // also keep the old AMI when the instance is replaced for a new image list, so the host would
    // never be patched. The test host is cattle (every deploy rebuilds it), and `amiId` pins an AMI
    // when a release must be held back.
    const ami = args.amiId ?? aws.ssm.getParameterOutput({ name: checkedFor(this, () => amiParameterFor(instanceType)) }, { parent: this }).value;
    const subnetId = pulumi.output(args.publicSubnetIds).apply((ids) => {
      if (ids.length === 0) {
        throw new pulumi.ResourceError("TestHost needs at least one public subnet", this);
      }
      return ids[0];
    });

    // IMDSv2 only. Hop limit: the containers run in bridge networking (services share container
    // port 8080, so host networking would collide), which puts them one hop behind the instance.
    // They need the instance role only to call S3 for the images bucket; without that grant the
    // limit stays 1 and containers cannot reach the credentials at all (the awslogs driver runs in
    // dockerd on the host and is unaffected).
    const hopLimit = bucket !== undefined ? 2 : 1;
    const instance = new aws.ec2.Instance(
      `${name}-instance`,
      {
        ami,
        instanceType,
        subnetId,
        vpcSecurityGroupIds: [instanceSg.id],
        iamInstanceProfile: profile.name,
        // Only because test has no NAT: the instance needs a public address for outbound HTTPS.
        // Its security group admits nothing from the internet.
        associatePublicIpAddress: true,
        monitoring: true,
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: hopLimit, instanceMetadataTags: "disabled" },
        rootBlockDevice: { volumeType: "gp3", volumeSize: rootVolumeGb, encrypted: true, deleteOnTermination: true },
        userData,
        // A new image list is a new host, built from scratch (cloud-init runs user data once).
        userDataReplaceOnChange: true,
        tags: { Name: `${name}-test-host` },
      },
      // The first boot pulls from ECR and reads the secret: the grants must exist by then.
      { parent: this, dependsOn: i.grants },
    );
    return instance;
  }

  /** The internet-facing ALB and one target group per service, with the instance registered on its host port. */
  private loadBalancer(
    { name, args, hostPorts }: HostContext,
    albSg: aws.ec2.SecurityGroup,
    instance: aws.ec2.Instance,
  ): { alb: aws.lb.LoadBalancer; targetGroups: Record<string, aws.lb.TargetGroup> } {
    const alb = new aws.lb.LoadBalancer(
      `${name}-alb`,
      {
        loadBalancerType: "application",
        internal: false,
        ipAddressType: "ipv4",
        securityGroups: [albSg.id],
        subnets: args.publicSubnetIds,
        // Requests with header names that are not valid HTTP are dropped rather than forwarded
        // (request smuggling hardening).
        dropInvalidHeaderFields: true,
        enableDeletionProtection: args.deletionProtection ?? false,
      },
      { parent: this },
    );

    const targetGroups: Record<string, aws.lb.TargetGroup> = {};
    for (const s of args.services) {
      const tg = new aws.lb.TargetGroup(
        `${name}-${s.name}`,
        {
          vpcId: args.vpcId,
          targetType: "instance",
          protocol: "HTTP",
          port: hostPorts[s.name],
          // One host, so draining only matters for in-flight requests during a replacement.
          deregistrationDelay: 30,
          healthCheck: { enabled: true, path: s.healthPath, matcher: "200-399", interval: 15, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
        },
        { parent: this },
      );
      targetGroups[s.name] = tg;
      new aws.lb.TargetGroupAttachment(
        `${name}-${s.name}`,
        { targetGroupArn: tg.arn, targetId: instance.id, port: hostPorts[s.name] },
        { parent: this },
      );
    }
    return { alb, targetGroups };
  }

  /** HTTP redirected to HTTPS, TLS on 443, one rule per path, the alias record and the web ACL. */
  private routing({ name, args }: HostContext, alb: aws.lb.LoadBalancer, targetGroups: Record<string, aws.lb.TargetGroup>, routes: readonly PlannedRoute[]): void {
    new aws.lb.Listener(
      `${name}-http`,
      {
        loadBalancerArn: alb.arn,
        port: 80,
        protocol: "HTTP",
        defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
      },
      { parent: this },
    );
    const https = new aws.lb.Listener(
      `${name}-https`,
      {
        loadBalancerArn: alb.arn,
        port: 443,
        protocol: "HTTPS",
        // TLS 1.3 and 1.2 with forward-secret ciphers only.
        sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
        certificateArn: args.certificateArn,
        defaultActions: [{ type: "fixed-response", fixedResponse: { contentType: "text/plain", messageBody: "Not Found", statusCode: "404" } }],
      },
      { parent: this },
    );
    // One rule per path (a path pattern condition takes at most five values), named after the
    // path so moving a path to another service is an in-place update.
    for (const route of routes) {
      new aws.lb.ListenerRule(
        `${name}-route-${route.slug}`,
        {
          listenerArn: https.arn,
          priority: route.priority,
          conditions: [{ pathPattern: { values: route.patterns } }],
          actions: [{ type: "forward", targetGroupArn: targetGroups[route.service].arn }],
        },
        { parent: this },
      );
    }

    // IPv4 only (A record), matching the ALB's ipAddressType; add an AAAA alias with dualstack.
    new aws.route53.Record(
      `${name}-alias`,
      {
        zoneId: args.zoneId,
        name: args.hostname,
        type: "A",
        aliases: [{ name: alb.dnsName, zoneId: alb.zoneId, evaluateTargetHealth: true }],
      },
      { parent: this },
    );

    if (args.webAclArn !== undefined) {
      new aws.wafv2.WebAclAssociation(`${name}-waf`, { resourceArn: alb.arn, webAclArn: args.webAclArn }, { parent: this });
    }
  }
}
