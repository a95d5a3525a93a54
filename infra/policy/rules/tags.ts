/**
 * Required tags. The program sets them once, as the AWS provider's `defaultTags`
 * (infra/providers.ts), so a resource's own `tags` input rarely carries them: the provider merges
 * them into `tagsAll` when it creates the resource. Checking `props.tags` alone would therefore
 * fail every resource, and checking nothing would trust the provider blindly. These rules check
 * what AWS will actually get:
 *   - `aws-required-tags`: per resource, the union of the managing provider's `defaultTags`, the
 *     resource's `tags` and, when the engine supplies it, `tagsAll`; plus the two places provider
 *     default tags never reach: Auto Scaling groups (their own tag list) and the instances and
 *     volumes launch templates start (tagSpecifications).
 *   - `aws-provider-default-tags`: every AWS provider of the stack (including a default provider
 *     the engine creates when a resource is declared without one) carries the required keys.
 */
import type { Finding, PolicyResource, ResourceRule, StackRule } from "../engine";
import { list, obj, objs, str, stringMap } from "../values";

/** Mirrors REQUIRED_TAG_KEYS of infra/providers.ts (a test keeps them equal; the pack stays free of program imports). */
export const REQUIRED_TAGS = ["Project", "Environment", "Stack", "ManagedBy"] as const;

const ASG = "aws:autoscaling/group:Group";
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";

/**
 * AWS resource types that accept tags (their Args have `tags`), among those this platform uses or
 * is likely to add. A test checks every entry against the provider SDK and checks that every
 * taggable type the shipped stacks declare is listed, so the list cannot silently fall behind.
 */
export const TAGGABLE_TYPES: readonly string[] = [
  "aws:acm/certificate:Certificate",
  "aws:apigatewayv2/api:Api",
  "aws:apigatewayv2/stage:Stage",
  "aws:apigatewayv2/vpcLink:VpcLink",
  "aws:autoscaling/group:Group",
  "aws:backup/plan:Plan",
  "aws:backup/vault:Vault",
  "aws:cloudwatch/eventRule:EventRule",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:cloudwatch/metricAlarm:MetricAlarm",
  "aws:dynamodb/table:Table",
  "aws:codebuild/project:Project",
  "aws:ebs/volume:Volume",
  "aws:ec2/eip:Eip",
  "aws:ec2/flowLog:FlowLog",
  "aws:ec2/instance:Instance",
  "aws:ec2/internetGateway:InternetGateway",
  "aws:ec2/launchTemplate:LaunchTemplate",
  "aws:ec2/natGateway:NatGateway",
  "aws:ec2/networkInterface:NetworkInterface",
  "aws:ec2/routeTable:RouteTable",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:ec2/subnet:Subnet",
  "aws:ec2/vpc:Vpc",
  "aws:ec2/vpcEndpoint:VpcEndpoint",
  "aws:ecr/repository:Repository",
  "aws:efs/accessPoint:AccessPoint",
  "aws:efs/fileSystem:FileSystem",
  "aws:eks/accessEntry:AccessEntry",
  "aws:eks/addon:Addon",
  "aws:eks/cluster:Cluster",
  "aws:eks/nodeGroup:NodeGroup",
  "aws:eks/podIdentityAssociation:PodIdentityAssociation",
  "aws:elasticache/replicationGroup:ReplicationGroup",
  "aws:iam/instanceProfile:InstanceProfile",
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
  "aws:iam/policy:Policy",
  "aws:iam/role:Role",
  "aws:iam/serviceLinkedRole:ServiceLinkedRole",
  "aws:iam/user:User",
  "aws:kms/key:Key",
  "aws:lambda/function:Function",
  "aws:lb/listener:Listener",
  "aws:lb/listenerRule:ListenerRule",
  "aws:lb/loadBalancer:LoadBalancer",
  "aws:lb/targetGroup:TargetGroup",
  "aws:opensearch/domain:Domain",
  "aws:rds/instance:Instance",
  "aws:rds/optionGroup:OptionGroup",
  "aws:rds/parameterGroup:ParameterGroup",
  "aws:rds/subnetGroup:SubnetGroup",
  "aws:route53/healthCheck:HealthCheck",
  "aws:route53/zone:Zone",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketV2:BucketV2",
  "aws:secretsmanager/secret:Secret",
  "aws:sns/topic:Topic",
  "aws:sqs/queue:Queue",
  "aws:ssm/document:Document",
  "aws:ssm/parameter:Parameter",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  "aws:wafv2/ipSet:IpSet",
  "aws:wafv2/ruleGroup:RuleGroup",
  "aws:wafv2/webAcl:WebAcl",
];

/** `defaultTags.tags` of a provider's inputs (JSON-encoded in provider inputs). */
export function providerDefaultTags(provider: { readonly props: Readonly<Record<string, unknown>> } | undefined): Record<string, string> {
  return stringMap(obj(obj(provider?.props["defaultTags"])["tags"]));
}

function missingKeys(tags: Readonly<Record<string, string>>): string[] {
  return REQUIRED_TAGS.filter((k) => (tags[k] ?? "") === "");
}

export const awsRequiredTags: ResourceRule = {
  kind: "resource",
  name: "aws-required-tags",
  description: `Every taggable AWS resource ends up with the tags ${REQUIRED_TAGS.join(", ")} (from the provider's defaultTags, its own tags, or tagsAll).`,
  docs: "https://docs.aws.amazon.com/whitepapers/latest/tagging-best-practices/tagging-best-practices.html",
  scannerIds: [],
  enforcementLevel: "mandatory",
  severity: "low",
  resourceTypes: TAGGABLE_TYPES,
  check: (r: PolicyResource) => {
    const findings: Finding[] = [];
    if (r.type === ASG) {
      // The provider's defaultTags are not applied to Auto Scaling groups; they carry their own list.
      const tags: Record<string, string> = {};
      for (const t of objs(r.props["tags"])) {
        const key = str(t["key"]);
        if (key !== undefined) {
          tags[key] = str(t["value"]) ?? "";
        }
      }
      const missing = missingKeys(tags);
      if (missing.length > 0) {
        findings.push({
          problem: `the group's tags miss ${list(missing)}; provider default tags do not apply to Auto Scaling groups`,
          fix: "pass the stack's tags (platformTags(cfg)) into the group's tags list",
        });
      }
      return findings;
    }
    const effective = { ...providerDefaultTags(r.provider), ...stringMap(r.props["tags"]), ...stringMap(r.props["tagsAll"]) };
    const missing = missingKeys(effective);
    if (missing.length > 0) {
      findings.push({
        problem: `misses ${list(missing)} (${r.provider === undefined ? "it is managed by no known provider, so no default tags apply" : `its provider ${r.provider.name} has default tags ${list(Object.keys(providerDefaultTags(r.provider))) || "none"}`})`,
        fix: "declare it with the stack's AWS provider (opts { providers: { aws } } or a parent that has it), whose defaultTags carry the required keys",
      });
    }
    if (r.type === LAUNCH_TEMPLATE) {
      // Instances and volumes launched from a template (ASGs, EKS managed node groups) get only the
      // template's tagSpecifications, never the provider's default tags.
      const specs = objs(r.props["tagSpecifications"]);
      for (const kind of ["instance", "volume"]) {
        const spec = specs.find((s) => str(s["resourceType"]) === kind);
        const missingHere = missingKeys(stringMap(spec?.["tags"]));
        if (missingHere.length > 0) {
          findings.push({
            problem: `${kind}s launched from it miss ${list(missingHere)} (${spec === undefined ? `no tagSpecifications for "${kind}"` : `its "${kind}" tagSpecification`}); provider default tags do not reach launched ${kind}s`,
            fix: `add tagSpecifications { resourceType: "${kind}", tags: <the stack's tags> } (e.g. Cluster's instanceTags, Bastion's tags)`,
          });
        }
      }
    }
    return findings;
  },
};

export const awsProviderDefaultTags: StackRule = {
  kind: "stack",
  name: "aws-provider-default-tags",
  description: `Every AWS provider of the stack sets defaultTags with ${REQUIRED_TAGS.join(", ")}, and Environment names the stack's environment.`,
  docs: "https://www.pulumi.com/registry/packages/aws/api-docs/provider/#defaulttags_nodejs",
  scannerIds: [],
  enforcementLevel: "mandatory",
  severity: "low",
  check: (resources, ctx) =>
    resources
      .filter((r) => r.type === "pulumi:providers:aws")
      .flatMap((p) => {
        const tags = providerDefaultTags(p);
        const missing = missingKeys(tags);
        const where = { type: p.type, name: p.name, urn: p.urn };
        const findings: Finding[] = [];
        if (missing.length > 0) {
          findings.push({
            resource: where,
            problem: `defaultTags miss ${list(missing)}${p.name.startsWith("default") ? "; this is the engine's default provider, so some resource was declared without the stack's provider" : ""}`,
            fix: "create AWS providers only through awsProvider(cfg) (infra/providers.ts) and pass it to every component",
          });
        } else if (tags["Environment"] !== ctx.environment) {
          findings.push({
            resource: where,
            problem: `defaultTags.Environment is "${tags["Environment"]}" in the ${ctx.environment} stack`,
            fix: "set platform:environment to the stack's environment",
          });
        }
        return findings;
      }),
};

export const tagRules = [awsRequiredTags, awsProviderDefaultTags];
