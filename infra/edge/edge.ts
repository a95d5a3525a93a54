import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Certificate } from "./certificate";
import { albGroupAnnotations, loadBalancerAttributes } from "../lib/edge";
import type { StackHosts } from "../lib/hosts";
import { checkedFor } from "../resourceError";

/** Roles of the hosts that get an alias record to the ALB; part of the records' logical names. */
/**
 * Route 53 publishes health check metrics in us-east-1 only, so the alarm lives there, and
 * CloudWatch alarm actions must name a topic of the alarm's own region.
 */
const HEALTH_ALARM_REGION = "us-east-1";

const HOST_ROLES = ["live", "preview", "logs", "monitoring"] as const satisfies ReadonlyArray<keyof StackHosts>;

export interface EdgeHealthCheck {
  /** Path requested on the live host: the first service's `healthPath`, e.g. `/actuator/health` (see `healthUrl` in ../lib/hosts.ts). */
  readonly path: string;
  /**
   * More SNS topics (in us-east-1, where Route 53 health check metrics live) notified on failure
   * and recovery, besides the component's own topic. Default: none.
   */
  readonly alarmActions?: pulumi.Input<string>[];
  /** Email addresses subscribed to the component's topic (each confirms once by mail). Default: none. */
  readonly notifyEmails?: readonly string[];
}

export interface EdgeArgs {
  /** The Route 53 public hosted zone every host lives in, e.g. `karina-univ.com`. */
  readonly domain: string;
  /** The stack's hosts (`stackHosts`); all of them get the certificate and an alias to the ALB. */
  readonly hosts: StackHosts;
  /** More hosts on the same ALB (e.g. `argocd.<live>` when ArgoCD is exposed). Default: none. */
  readonly extraHosts?: readonly string[];
  /** EKS cluster name: the controller tags its ALB with it (`elbv2.k8s.aws/cluster`). */
  readonly clusterName: string;
  /** IngressGroup name (`alb.ingress.kubernetes.io/group.name`) of the stack's Ingresses. */
  readonly groupName: string;
  /**
   * The AWS Load Balancer Controller's Helm release. The annotations then carry it as a
   * dependency, so every Ingress of the group is created after the controller (its webhook and
   * the `alb` IngressClass exist) and deleted before it (so it can remove the ALB). Default: none.
   */
  readonly controller?: pulumi.Resource;
  /** REGIONAL WAFv2 web ACL for the ALB. Default: none, and any associated web ACL is detached. */
  readonly webAclArn?: pulumi.Input<string>;
  /** ALB deletion protection (the controller then cannot delete the ALB either). Default: false. */
  readonly deletionProtection?: boolean;
  /** Seconds an idle connection stays open. Default: 60 (the ALB default). */
  readonly idleTimeoutSeconds?: number;
  /** Days access logs are kept. Default: 90. */
  readonly accessLogExpirationDays?: number;
  /** Let `pulumi destroy` delete the log bucket with its logs (disposable stacks only). Default: false. */
  readonly forceDestroyLogs?: boolean;
  /**
   * Version the access-log bucket, so a deleted or overwritten log survives for the expiration
   * period (evidence after an incident). Default: false; prod turns it on.
   */
  readonly accessLogVersioning?: boolean;
  /** Route 53 health check of the live host, with a CloudWatch alarm. Default: none. */
  readonly healthCheck?: EdgeHealthCheck;
}

/** The ALB the controller created, as looked up after the Ingresses exist. */
export interface PublishedAlb {
  readonly arn: pulumi.Output<string>;
  readonly dnsName: pulumi.Output<string>;
  readonly zoneId: pulumi.Output<string>;
}

/**
 * The public edge of an EKS stack: one DNS-validated certificate for every host, the ALB access
 * log bucket, and the IngressGroup's ALB settings (`ingressGroupAnnotations`) that every Ingress
 * of the group carries. The ALB itself is created by the AWS Load Balancer Controller from those
 * Ingresses, so the alias records and the health check are declared by `publish(ingresses)`
 * once the Ingresses are declared (they need this component's annotations first).
 */
export class Edge extends pulumi.ComponentResource {
  /** Group-wide ALB annotations: spread them into every Ingress of `groupName`. */
  readonly ingressGroupAnnotations: Record<string, pulumi.Input<string>>;
  readonly certificateArn: pulumi.Output<string>;
  readonly zoneId: pulumi.Output<string>;
  readonly accessLogBucket: pulumi.Output<string>;
  readonly groupName: string;
  /** Every host with a certificate entry and an alias record. */
  readonly hostnames: readonly string[];

  private readonly componentName: string;
  private readonly args: EdgeArgs;
  private published?: PublishedAlb;

  constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:edge:Edge", name, { domain: args.domain, groupName: args.groupName }, opts);
    this.componentName = name;
    this.args = args;

    const extra = args.extraHosts ?? [];
    this.hostnames = [...HOST_ROLES.map((role) => args.hosts[role]), ...extra];
    const expirationDays = args.accessLogExpirationDays ?? 90;
    if (!Number.isInteger(expirationDays) || expirationDays < 1) {
      throw new pulumi.ResourceError(`accessLogExpirationDays must be a positive integer, got ${expirationDays}`, this);
    }

    const certificate = new Certificate(`${name}-cert`, { domain: args.domain, hosts: this.hostnames }, { parent: this });

    const prefix = args.groupName;
    const { bucket, bucketPolicy } = this.accessLogs(name, args, expirationDays);

    // The attribute string carries the bucket policy as a dependency (the controller enables
    // access logs when it first reconciles an Ingress, and ELB refuses a bucket it cannot write
    // to) and the controller release (see `controller`), for every Ingress that spreads it.
    const controllerReady = args.controller !== undefined ? args.controller.urn : pulumi.output("");
    const attributes = pulumi.all([bucket.bucket, bucketPolicy.id, controllerReady]).apply(([bucketName]) =>
      checkedFor(this, () =>
        loadBalancerAttributes({
          accessLogBucket: bucketName,
          accessLogPrefix: prefix,
          deletionProtection: args.deletionProtection ?? false,
          idleTimeoutSeconds: args.idleTimeoutSeconds ?? 60,
        }),
      ),
    );

    this.ingressGroupAnnotations = albGroupAnnotations<pulumi.Input<string>>({
      certificateArn: certificate.certificateArn,
      attributes,
      webAclArn: args.webAclArn,
    });
    this.certificateArn = certificate.certificateArn;
    this.zoneId = certificate.zoneId;
    this.accessLogBucket = bucket.bucket;
    this.groupName = args.groupName;

    this.registerOutputs({
      certificateArn: this.certificateArn,
      zoneId: this.zoneId,
      accessLogBucket: this.accessLogBucket,
      hostnames: this.hostnames,
    });
  }

  /** The ALB access log bucket (private, SSE-S3, expiring) and its policy; logs go under the group's prefix. */
  private accessLogs(name: string, args: EdgeArgs, expirationDays: number): { bucket: aws.s3.Bucket; bucketPolicy: aws.s3.BucketPolicy } {
    // Autonamed: bucket names are global across all AWS accounts.
    const bucket = new aws.s3.Bucket(`${name}-alb-logs`, { forceDestroy: args.forceDestroyLogs ?? false }, { parent: this });
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-alb-logs`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      { parent: this },
    );
    // ACLs disabled: ELB log delivery works without them, and every log object belongs to us.
    new aws.s3.BucketOwnershipControls(`${name}-alb-logs`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, { parent: this });
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-alb-logs`,
      // SSE-S3, not SSE-KMS: ALB access log delivery only supports S3-managed keys.
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      { parent: this },
    );
    const versioning = args.accessLogVersioning ?? false;
    if (versioning) {
      new aws.s3.BucketVersioning(`${name}-alb-logs`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, { parent: this });
    }
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-alb-logs`,
      {
        bucket: bucket.id,
        rules: [
          { id: "expire-access-logs", status: "Enabled", filter: {}, expiration: { days: expirationDays } },
          ...(versioning
            ? [{ id: "expire-noncurrent-logs", status: "Enabled", filter: {}, noncurrentVersionExpiration: { noncurrentDays: expirationDays } }]
            : []),
          { id: "abort-incomplete-multipart-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } },
        ],
      },
      { parent: this },
    );
    const bucketPolicy = this.accessLogPolicy(name, bucket, args.groupName, publicAccess);
    return { bucket, bucketPolicy };
  }

  /** Lets the regional ELB account write this account's logs under `prefix`, over TLS only. */
  private accessLogPolicy(name: string, bucket: aws.s3.Bucket, prefix: string, publicAccess: aws.s3.BucketPublicAccessBlock): aws.s3.BucketPolicy {
    const { accountId } = aws.getCallerIdentityOutput({}, { parent: this });
    // ap-northeast-2 (Seoul, 2016) is a region AWS documents with a regional Elastic Load
    // Balancing account (600734575887) as the log writer; the `logdelivery.elasticloadbalancing`
    // service principal is what AWS documents for regions launched in or after August 2022.
    // The data source returns the account of the provider's region, so the policy stays right if
    // the stack moves to another pre-2022 region.
    const elbAccount = aws.elb.getServiceAccountOutput({}, { parent: this });
    return new aws.s3.BucketPolicy(
      `${name}-alb-logs`,
      {
        bucket: bucket.id,
        policy: aws.iam.getPolicyDocumentOutput(
          {
            statements: [
              {
                sid: "AllowElbAccessLogDelivery",
                principals: [{ type: "AWS", identifiers: [elbAccount.arn] }],
                actions: ["s3:PutObject"],
                // Only this account's logs under the group's prefix.
                resources: [pulumi.interpolate`${bucket.arn}/${prefix}/AWSLogs/${accountId}/*`],
              },
              {
                sid: "DenyInsecureTransport",
                effect: "Deny",
                principals: [{ type: "*", identifiers: ["*"] }],
                actions: ["s3:*"],
                resources: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
                conditions: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
              },
            ],
          },
          { parent: this },
        ).json,
      },
      // Serialised after the public access block: concurrent configuration calls on one bucket
      // fail with OperationAborted.
      { parent: this, dependsOn: [publicAccess] },
    );
  }

  /**
   * Points every host at the group's ALB and, when configured, health-checks the live host.
   * Call once, with every Ingress of the group.
   *
   * First deploy: the ALB does not exist until the controller has reconciled the group's first
   * Ingress, and it is not a Pulumi resource, so it is looked up by the tags the controller puts
   * on it. The lookup depends on the Ingress objects: Pulumi creates them first and waits until
   * each reports `status.loadBalancer` (the controller writes the ALB's DNS name there once the
   * ALB exists), and only then reads the ALB. In previews before the first deploy the lookup is
   * unknown, so the records show as "to be created" with computed targets. Do not set
   * `skipAwait` on the Ingresses: the lookup would run before the ALB exists and fail.
   */
  publish(ingresses: readonly pulumi.Resource[]): PublishedAlb {
    if (this.published !== undefined) {
      throw new pulumi.ResourceError("Edge.publish was already called; pass every Ingress of the group in one call", this);
    }
    if (ingresses.length === 0) {
      throw new pulumi.ResourceError("Edge.publish needs the group's Ingresses: without one the controller creates no ALB", this);
    }
    const name = this.componentName;
    const args = this.args;

    const alb = aws.lb.getLoadBalancerOutput(
      { tags: { "elbv2.k8s.aws/cluster": args.clusterName, "ingress.k8s.aws/stack": args.groupName } },
      { parent: this, dependsOn: [...ingresses] },
    );

    const targets: Array<[string, string]> = [
      ...HOST_ROLES.map((role): [string, string] => [role, args.hosts[role]]),
      // Extra hosts are keyed by name: they come and go with features (ArgoCD exposure).
      ...(args.extraHosts ?? []).map((host): [string, string] => [host, host]),
    ];
    for (const [key, host] of targets) {
      // IPv4 only (A record), matching the group's `ip-address-type: ipv4`.
      new aws.route53.Record(
        `${name}-alias-${key}`,
        {
          zoneId: this.zoneId,
          name: host,
          type: "A",
          aliases: [{ name: alb.dnsName, zoneId: alb.zoneId, evaluateTargetHealth: true }],
        },
        { parent: this },
      );
    }

    if (args.healthCheck !== undefined) {
      this.liveHealthCheck(name, args.healthCheck);
    }

    this.published = { arn: alb.arn, dnsName: alb.dnsName, zoneId: alb.zoneId };
    return this.published;
  }

  /**
   * A Route 53 health check of the live host and its alarm, which notifies the component's topic
   * (and `alarmActions`) on failure and recovery.
   */
  private liveHealthCheck(name: string, healthCheck: EdgeHealthCheck): void {
    const live = this.args.hosts.live;
    const topic = this.healthAlarmTopic(name, healthCheck.notifyEmails ?? []);
    const actions = [topic.arn, ...(healthCheck.alarmActions ?? [])];
    const check = new aws.route53.HealthCheck(
      `${name}-health`,
      {
        type: "HTTPS",
        fqdn: live,
        port: 443,
        resourcePath: healthCheck.path,
        // SNI: the ALB picks the certificate by host name.
        enableSni: true,
        failureThreshold: 3,
        requestInterval: 30,
        tags: { Name: `${live}${healthCheck.path}` },
      },
      { parent: this },
    );
    new aws.cloudwatch.MetricAlarm(
      `${name}-health`,
      {
        region: HEALTH_ALARM_REGION,
        alarmDescription: `https://${live}${healthCheck.path} failed the Route 53 health check`,
        namespace: "AWS/Route53",
        metricName: "HealthCheckStatus",
        dimensions: { HealthCheckId: check.id },
        statistic: "Minimum",
        period: 60,
        evaluationPeriods: 2,
        threshold: 1,
        comparisonOperator: "LessThanThreshold",
        // No data means the checkers cannot report at all: treat it as down.
        treatMissingData: "breaching",
        alarmActions: actions,
        okActions: actions,
      },
      { parent: this },
    );
  }

  /** The health alarm's SNS topic: only this account's CloudWatch alarms may publish; `emails` are subscribed. */
  private healthAlarmTopic(name: string, emails: readonly string[]): aws.sns.Topic {
    const topic = new aws.sns.Topic(
      `${name}-health-alarms`,
      {
        region: HEALTH_ALARM_REGION,
        displayName: `${this.args.hosts.live} health`,
        // Not KMS-encrypted: CloudWatch can only publish to an encrypted topic through a
        // customer-managed key whose policy admits it, and alarm messages carry no secrets.
      },
      { parent: this },
    );
    const { accountId } = aws.getCallerIdentityOutput({}, { parent: this });
    const { partition } = aws.getPartitionOutput({}, { parent: this });
    new aws.sns.TopicPolicy(
      `${name}-health-alarms`,
      {
        region: HEALTH_ALARM_REGION,
        arn: topic.arn,
        policy: aws.iam.getPolicyDocumentOutput(
          {
            statements: [
              {
                sid: "CloudWatchAlarmsOfThisAccount",
                principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
                actions: ["sns:Publish"],
                resources: [topic.arn],
                conditions: [
                  { test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] },
                  { test: "ArnLike", variable: "aws:SourceArn", values: [pulumi.interpolate`arn:${partition}:cloudwatch:${HEALTH_ALARM_REGION}:${accountId}:alarm:*`] },
                ],
              },
            ],
          },
          { parent: this },
        ).json,
      },
      { parent: this },
    );
    for (const email of emails) {
      new aws.sns.TopicSubscription(
        `${name}-health-alarms-${email}`,
        { region: HEALTH_ALARM_REGION, topic: topic.arn, protocol: "email", endpoint: email },
        { parent: this },
      );
    }
    return topic;
  }
}
