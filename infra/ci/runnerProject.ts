import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { RUNNER_ACCESS_POLICIES, RunnerKind, runnerPolicy } from "../lib/runners";

export interface RunnerProjectArgs {
  /** `deploy` (the stack's deploy role, cluster-admin) or `preview` (read-only, cluster view). */
  readonly kind: RunnerKind;
  /** Physical CodeBuild project name; jobs select it with `runs-on: codebuild-<name>-<run id>-<attempt>`. */
  readonly projectName: string;
  /** Physical name of the runner's role (the project's service role). */
  readonly roleName: string;
  /** What every runner role of the stack is named with; the deploy role may not change such roles. */
  readonly rolePrefix: string;
  /** GitHub repository, `owner/name`. */
  readonly repository: string;
  /** ARN of the account's GitHub connection (CodeConnections), handshake completed. */
  readonly connectionArn: string;
  /** The state backend's S3 bucket. */
  readonly stateBucket: string;
  /** `name:` of the workflow whose jobs the project takes (the webhook's WORKFLOW_NAME filter). */
  readonly workflow: string;
  /** GitHub user ids whose jobs may start a build (ACTOR_ACCOUNT_ID filter). Default: `[]`, anyone who can queue a job. */
  readonly actorIds?: readonly string[];
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets with a route to a NAT gateway: the runner reaches GitHub and the AWS APIs through it. */
  readonly subnetIds: pulumi.Input<string[]>;
  /** The cluster whose private endpoint the runner reaches, and whose security group admits it on 443. */
  readonly cluster: { readonly name: pulumi.Input<string>; readonly securityGroupId: pulumi.Input<string> };
  /** IAM service prefixes the stack's deployment calls (`deployServices`). */
  readonly services: readonly string[];
  /** The stack's `Stack` tag value. */
  readonly stackTag: string;
  /** Default: `BUILD_GENERAL1_MEDIUM`. */
  readonly computeType?: string;
  /** Default: `aws/codebuild/standard:7.0`. */
  readonly image?: string;
  /** Minutes before CodeBuild stops the runner; longer than the longest job. Default: 90. */
  readonly buildTimeoutMinutes?: number;
  /** Retention of the runner's log group. Default: 30. */
  readonly logRetentionDays?: number;
}

/** The partition, region and account the stack deploys into (data sources read once per runner). */
interface AccountIds {
  readonly partition: pulumi.Output<string>;
  readonly region: pulumi.Output<string>;
  readonly accountId: pulumi.Output<string>;
}

/**
 * A CodeBuild-hosted GitHub Actions runner in the stack's private subnets: a CodeBuild project
 * whose source is the repository (through the account's GitHub connection) and whose webhook
 * starts a build for each queued workflow job labelled with the project's name. The build
 * registers itself as an ephemeral runner, runs the one job and ends.
 *
 * Its service role is the identity of every job it runs, so it is the stack's deploy role (or the
 * preview role) itself: trusted by CodeBuild for this project only, scoped by `runnerPolicy`, and
 * given an EKS access entry. Its security group sends HTTPS only (GitHub, the AWS APIs and package
 * registries have no fixed ranges; the private API endpoint is HTTPS too), and the cluster's
 * security group admits it on 443: the private endpoint's interfaces carry that group.
 */
export class RunnerProject extends pulumi.ComponentResource {
  readonly projectName: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;

  constructor(name: string, args: RunnerProjectArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:ci:RunnerProject", name, args, opts);

    const { partition } = aws.getPartitionOutput({}, { parent: this });
    const { region } = aws.getRegionOutput({}, { parent: this });
    const { accountId } = aws.getCallerIdentityOutput({}, { parent: this });

    // Created here (not by CodeBuild on the first build) to own the retention.
    const logs = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/aws/codebuild/${args.projectName}`, retentionInDays: args.logRetentionDays ?? 30 },
      { parent: this },
    );

    const ids = { partition, region, accountId };
    const role = this.role(name, args, ids);
    const policy = this.rolePolicy(name, args, role, ids, logs);
    const securityGroup = this.securityGroup(name, args);
    const project = this.project(name, args, { role, securityGroup, logs, policy });
    this.webhook(name, args, project);
    this.accessEntry(name, args, role, partition);

    this.projectName = project.name;
    this.roleArn = role.arn;
    this.securityGroupId = securityGroup.id;
    this.registerOutputs({ projectName: this.projectName, roleArn: this.roleArn, securityGroupId: this.securityGroupId });
  }

  /** The role's permissions (`runnerPolicy`), scoped to this stack, project, log group and subnets. */
  private rolePolicy(name: string, args: RunnerProjectArgs, role: aws.iam.Role, o: AccountIds, logs: aws.cloudwatch.LogGroup): aws.iam.RolePolicy {
    return new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.id,
        policy: pulumi
          .all([o.partition, o.region, o.accountId, logs.arn, pulumi.output(args.subnetIds)])
          .apply(([p, r, a, logGroupArn, subnetIds]) =>
            JSON.stringify(
              runnerPolicy(args.kind, {
                partition: p,
                region: r,
                accountId: a,
                stack: args.stackTag,
                projectName: args.projectName,
                services: args.services,
                connectionArn: args.connectionArn,
                stateBucket: args.stateBucket,
                logGroupArn,
                subnetIds,
                rolePrefix: args.rolePrefix,
              }),
            ),
          ),
      },
      { parent: this },
    );
  }

  /** The CodeBuild project: the repository as source, the role as identity, in the private subnets. */
  private project(
    name: string,
    args: RunnerProjectArgs,
    deps: { readonly role: aws.iam.Role; readonly securityGroup: aws.ec2.SecurityGroup; readonly logs: aws.cloudwatch.LogGroup; readonly policy: aws.iam.RolePolicy },
  ): aws.codebuild.Project {
    const { role, securityGroup, logs, policy } = deps;
    return new aws.codebuild.Project(
      `${name}-project`,
      {
        name: args.projectName,
        description: `GitHub Actions runner (${args.kind}) of ${args.repository} in the stack's private subnets`,
        serviceRole: role.arn,
        source: {
          type: "GITHUB",
          location: `https://github.com/${args.repository}.git`,
          auth: { type: "CODECONNECTIONS", resource: args.connectionArn },
        },
        artifacts: { type: "NO_ARTIFACTS" },
        environment: {
          type: "LINUX_CONTAINER",
          computeType: args.computeType ?? "BUILD_GENERAL1_MEDIUM",
          image: args.image ?? "aws/codebuild/standard:7.0",
          imagePullCredentialsType: "CODEBUILD",
          // No Docker daemon: the jobs run Node.js and the Pulumi CLI, never build images.
          privilegedMode: false,
        },
        vpcConfig: { vpcId: args.vpcId, subnets: args.subnetIds, securityGroupIds: [securityGroup.id] },
        logsConfig: { cloudwatchLogs: { status: "ENABLED", groupName: logs.name }, s3Logs: { status: "DISABLED" } },
        buildTimeout: args.buildTimeoutMinutes ?? 90,
      },
      // CodeBuild checks the VPC permissions of the service role when the project is created.
      { parent: this, dependsOn: [policy] },
    );
  }

  /** Starts a build for each queued job of the one workflow (by listed actors when given). */
  private webhook(name: string, args: RunnerProjectArgs, project: aws.codebuild.Project): void {
    const actorIds = args.actorIds ?? [];
    new aws.codebuild.Webhook(
      `${name}-webhook`,
      {
        projectName: project.name,
        buildType: "BUILD",
        // One group, every filter must match: a queued workflow job (WORKFLOW_JOB_QUEUED, GitHub
        // only: @pulumi/aws 7.48.0 types/input.d.ts WebhookFilterGroupFilter) of the one workflow,
        // started by a listed actor. The project's source makes it a webhook of this repository.
        filterGroups: [
          {
            filters: [
              { type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" },
              { type: "WORKFLOW_NAME", pattern: `^${args.workflow}$` },
              ...(actorIds.length > 0 ? [{ type: "ACTOR_ACCOUNT_ID", pattern: `^(${actorIds.join("|")})$` }] : []),
            ],
          },
        ],
      },
      { parent: this },
    );
  }

  /** The service role: CodeBuild may assume it for this project of this account only (confused-deputy conditions). */
  private role(name: string, args: RunnerProjectArgs, o: AccountIds): aws.iam.Role {
    return new aws.iam.Role(
      `${name}-role`,
      {
        name: args.roleName,
        description: `CI ${args.kind} runner ${args.projectName}: the identity of every job it runs`,
        assumeRolePolicy: aws.iam.getPolicyDocumentOutput(
          {
            statements: [
              {
                actions: ["sts:AssumeRole"],
                principals: [{ type: "Service", identifiers: ["codebuild.amazonaws.com"] }],
                conditions: [
                  { test: "StringEquals", variable: "aws:SourceAccount", values: [o.accountId] },
                  { test: "ArnLike", variable: "aws:SourceArn", values: [pulumi.interpolate`arn:${o.partition}:codebuild:${o.region}:${o.accountId}:project/${args.projectName}`] },
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

  /** HTTPS out, nothing in; the cluster's security group admits the runner on 443. */
  private securityGroup(name: string, args: RunnerProjectArgs): aws.ec2.SecurityGroup {
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      { vpcId: args.vpcId, description: `CI ${args.kind} runner: no inbound; HTTPS out`, tags: { Name: args.projectName } },
      { parent: this },
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-https-out`,
      {
        securityGroupId: securityGroup.id,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
        description: "HTTPS to the private Kubernetes API, GitHub, the AWS APIs and package registries (via NAT)",
      },
      { parent: this },
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-to-cluster`,
      {
        securityGroupId: args.cluster.securityGroupId,
        referencedSecurityGroupId: securityGroup.id,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        description: `Kubernetes API from the CI ${args.kind} runner ${args.projectName}`,
      },
      { parent: this },
    );
    return securityGroup;
  }

  /** The role's access entry on the cluster: cluster-admin for deploy, view for preview. */
  private accessEntry(name: string, args: RunnerProjectArgs, role: aws.iam.Role, partition: pulumi.Output<string>): void {
    const entry = new aws.eks.AccessEntry(
      `${name}-access`,
      { clusterName: args.cluster.name, principalArn: role.arn, type: "STANDARD" },
      { parent: this },
    );
    new aws.eks.AccessPolicyAssociation(
      `${name}-access-policy`,
      {
        clusterName: args.cluster.name,
        principalArn: role.arn,
        policyArn: pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/${RUNNER_ACCESS_POLICIES[args.kind]}`,
        accessScope: { type: "cluster" },
      },
      { parent: this, dependsOn: [entry] },
    );
  }
}
