import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { webAclRules } from "../lib/waf";
import { checkedFor } from "../resourceError";

/** Headers never written to the WAF logs: credentials and session tokens. Lower case, as WAF requires. */
export const REDACTED_HEADERS = ["authorization", "cookie"] as const;

export interface WebAclArgs {
  /** Requests per client IP per 5 minutes before the IP is blocked (429) for the rest of the window. */
  readonly rateLimitPer5Min: number;
  /** Common rule set rules that count instead of block. Default: `DEFAULT_COUNTED_COMMON_RULES` (the 8 KB body limit). */
  readonly countedCommonRules?: readonly string[];
  /**
   * Anonymous IP list rules that count instead of block. Default: `DEFAULT_COUNTED_ANONYMOUS_RULES`
   * (hosting providers, whose addresses CI runners' health gates come from).
   */
  readonly countedAnonymousRules?: readonly string[];
  /** Retention of the WAF log group, in days. Default: 30. */
  readonly logRetentionDays?: number;
  /**
   * Log every request instead of only the blocked and counted ones. Default: false: allowed
   * requests are already in the ALB access logs, and logging them all again costs CloudWatch
   * ingestion on exactly the days traffic peaks.
   */
  readonly logAllRequests?: boolean;
}

/**
 * A REGIONAL WAFv2 web ACL for the stack's ALB: AWS managed rule groups (IP reputation,
 * anonymous IPs, core rules, known bad inputs) and a per-IP rate limit, with CloudWatch metrics
 * per rule and request logs in CloudWatch Logs (credential headers redacted).
 *
 * Association is done by the ALB's owner: the EKS ALB through the IngressGroup annotation
 * (`Edge`'s `webAclArn`), the test host's ALB through `TestHost`'s `webAclArn`.
 */
export class WebAcl extends pulumi.ComponentResource {
  readonly arn: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;

  constructor(name: string, args: WebAclArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:edge:WebAcl", name, { rateLimitPer5Min: args.rateLimitPer5Min }, opts);

    const acl = new aws.wafv2.WebAcl(
      `${name}-acl`,
      {
        // Autonamed (no `name`): a change that replaces the ACL creates the new one first, which a
        // fixed name would make fail with "already exists".
        description: "AWS managed rule groups and a per-IP rate limit for the stack's ALB",
        scope: "REGIONAL",
        defaultAction: { allow: {} },
        rules: checkedFor(this, () =>
          webAclRules({
            rateLimitPer5Min: args.rateLimitPer5Min,
            metricPrefix: name,
            countedCommonRules: args.countedCommonRules,
            countedAnonymousRules: args.countedAnonymousRules,
          }),
        ),
        visibilityConfig: { cloudwatchMetricsEnabled: true, metricName: `${name}-web-acl`, sampledRequestsEnabled: true },
      },
      { parent: this },
    );

    // WAF only delivers to log groups whose name starts with "aws-waf-logs-".
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-waf-logs`,
      { name: `aws-waf-logs-${name}`, retentionInDays: args.logRetentionDays ?? 30 },
      { parent: this },
    );

    const delivery = this.logDelivery(name, logGroup);

    new aws.wafv2.WebAclLoggingConfiguration(
      `${name}-logging`,
      {
        resourceArn: acl.arn,
        logDestinationConfigs: [logGroup.arn],
        redactedFields: REDACTED_HEADERS.map((header) => ({ singleHeader: { name: header } })),
        loggingFilter:
          (args.logAllRequests ?? false)
            ? undefined
            : {
                defaultBehavior: "DROP",
                filters: [
                  {
                    behavior: "KEEP",
                    requirement: "MEETS_ANY",
                    conditions: ["BLOCK", "COUNT", "EXCLUDED_AS_COUNT"].map((action) => ({ actionCondition: { action } })),
                  },
                ],
              },
      },
      { parent: this, dependsOn: [delivery] },
    );

    this.arn = acl.arn;
    this.logGroupName = logGroup.name;
    this.registerOutputs({ arn: this.arn, logGroupName: this.logGroupName });
  }

  /**
   * The log group's resource policy for the log delivery service. Declared here rather than left to
   * WAF, which would otherwise add its own account-wide resource policy at association time (the
   * deployer would need logs:PutResourcePolicy, and there are only 10 such policies per region).
   */
  private logDelivery(name: string, logGroup: aws.cloudwatch.LogGroup): aws.cloudwatch.LogResourcePolicy {
    const { accountId } = aws.getCallerIdentityOutput({}, { parent: this });
    const { region } = aws.getRegionOutput({}, { parent: this });
    const { partition } = aws.getPartitionOutput({}, { parent: this });
    return new aws.cloudwatch.LogResourcePolicy(
      `${name}-waf-logs`,
      {
        policyName: `aws-waf-logs-${name}`,
        policyDocument: aws.iam.getPolicyDocumentOutput(
          {
            statements: [
              {
                sid: "AWSWAFLogDelivery",
                principals: [{ type: "Service", identifiers: ["delivery.logs.amazonaws.com"] }],
                actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
                resources: [pulumi.interpolate`${logGroup.arn}:*`],
                conditions: [
                  // Confused-deputy guard: only deliveries on behalf of this account's web ACLs.
                  { test: "ArnLike", variable: "aws:SourceArn", values: [pulumi.interpolate`arn:${partition}:logs:${region}:${accountId}:*`] },
                  { test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] },
                ],
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
