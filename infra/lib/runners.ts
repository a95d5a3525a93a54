/**
 * The CI runners of a stack with a private cluster, as pure logic: names and labels, the AWS
 * services a deployment of the stack calls, and the two runner roles' policies.
 *
 * Two CodeBuild projects per stack, each a CodeBuild-hosted GitHub Actions runner in the stack's
 * private subnets: `deploy` runs the branch deployments (`pulumi up` of the whole stack, promote,
 * flip), `preview` the pull-request previews. A job lands on a project through its label,
 * `codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}`, and gets the project's
 * service role as its AWS identity: the deploy role or the read-only preview role. AWS's guidance
 * for webhook builds is the same split (CodeBuild user guide, "Best practices for using webhooks":
 * one project for untrusted builds without write permissions, one for deployments whose webhook
 * admits trusted actors only).
 */

/** EKS accepts at most 40 public access CIDRs per cluster (Service Quotas L-93A74D60, not adjustable). */
export const MAX_PUBLIC_ACCESS_CIDRS = 40;

export const GITHUB_REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
export const CONNECTION_ARN = /^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z]{2}(-[a-z]+)+-\d:\d{12}:connection\/[0-9a-f-]{36}$/;
export const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export const RUNNER_KINDS = ["deploy", "preview"] as const;
export type RunnerKind = (typeof RUNNER_KINDS)[number];

/**
 * The workflow (its `name:`) whose jobs each project takes: the webhook's WORKFLOW_NAME filter
 * (CodeBuild API reference, WebhookFilter: matched against the name of the workflow of a
 * WORKFLOW_JOB_QUEUED event). A routing aid, not a security boundary: any workflow can be named so.
 */
export const RUNNER_WORKFLOWS: Readonly<Record<RunnerKind, string>> = { deploy: "deploy", preview: "pull-request" };

/** The physical CodeBuild project name, which the workflows' `runs-on` labels name: never change it. */
export function runnerProjectName(project: string, stack: string, kind: RunnerKind): string {
  return `${project}-${stack}-${kind}`;
}

/** The physical IAM role name of a runner (fixed, so the deploy role's policy can refuse changes to the runner roles). */
export function runnerRoleName(project: string, stack: string, kind: RunnerKind): string {
  return `${project}-${stack}-ci-${kind}`;
}

/** What every runner role name of a stack starts with. */
export function runnerRolePrefix(project: string, stack: string): string {
  return `${project}-${stack}-ci-`;
}

/** The `runs-on` of a job on the project (AWS CodeBuild user guide, "Tutorial: Configure a CodeBuild-hosted GitHub Actions runner"). */
export function runnerLabel(projectName: string): string {
  return `codebuild-${projectName}-\${{ github.run_id }}-\${{ github.run_attempt }}`;
}

/** The EKS access policy each runner's role gets on the cluster. */
export const RUNNER_ACCESS_POLICIES: Readonly<Record<RunnerKind, string>> = {
  // Helm releases install CRDs, cluster roles and webhooks: nothing short of cluster-admin applies them.
  deploy: "AmazonEKSClusterAdminPolicy",
  // Reads everything but Secrets. Enough for a preview: pulumi-kubernetes 4.25.0 falls back to a
  // client-side diff when the server-side dry run is Forbidden (provider/pkg/provider/provider.go,
  // Create and Update: `req.GetPreview() && apierrors.IsForbidden(...)`), and Helm releases are
  // diffed locally. A refresh reads Secrets (Helm's release records are Secrets), so the drift
  // check (`preview --expect-no-changes`) runs on the deploy runner.
  preview: "AmazonEKSViewPolicy",
};

/* ----------------------------------------------------------------------------------------
 * The AWS services a deployment calls.
 * -------------------------------------------------------------------------------------- */

/** The subset of the config `deployServices` reads. */
export interface ServiceFeatures {
  readonly cluster: { readonly enabled: boolean };
  readonly testHost: { readonly enabled: boolean };
  readonly database: { readonly enabled: boolean };
  readonly imagesBucket: { readonly enabled: boolean };
  readonly bastion: { readonly enabled: boolean; readonly sessionLogging: boolean };
  readonly api: { readonly enabled: boolean };
  readonly waf: { readonly enabled: boolean };
  readonly edge: { readonly healthCheck: boolean };
  readonly observability: {
    readonly efs: { readonly backup: boolean };
    readonly monitoring: { readonly enabled: boolean; readonly prometheusStorage: string };
    readonly logging: { readonly enabled: boolean };
  };
  readonly ci: { readonly runners: { readonly enabled: boolean } };
}

/**
 * Calls the driver makes besides the program, on every stack it deploys: the state backend and
 * its backups (S3), the load balancer's rules and target health (ELBv2), image digests (ECR).
 */
export const DRIVER_SERVICES: Readonly<Record<string, string>> = {
  s3: "the state backend (PULUMI_BACKEND_URL) and the driver's backups beside it",
  elasticloadbalancing: "the routing and target-health gates read the live listener rules and target health",
  ecr: "image references are resolved to digests in the registry",
};

/**
 * The IAM service prefixes a `pulumi up` of the stack calls, from the features it turns on.
 * `test/ci.test.ts` holds it against what each stack declares: every declared resource's service
 * is here, and everything here is declared (or is one of DRIVER_SERVICES).
 */
export function deployServices(f: ServiceFeatures): string[] {
  const s = new Set<string>([
    // VPC, subnets, security groups, flow logs to CloudWatch Logs with their role, the edge
    // (ALB or the controller's, ACM, Route 53) and the driver's own needs.
    "ec2",
    "iam",
    "logs",
    "acm",
    "route53",
    ...Object.keys(DRIVER_SERVICES),
  ]);
  const add = (on: boolean, ...services: string[]): void => {
    if (on) {
      services.forEach((x) => s.add(x));
    }
  };
  add(f.edge.healthCheck, "cloudwatch", "sns");
  // Cluster secrets, Session Manager transcripts and the monitoring volumes are encrypted with
  // keys of the stack; the database's master secret is created by RDS on the caller's behalf.
  add(f.cluster.enabled, "eks", "kms", "autoscaling");
  add(f.database.enabled, "rds", "secretsmanager");
  add(f.testHost.enabled, "ssm");
  add(f.bastion.enabled, "autoscaling", "ssm");
  add(f.bastion.enabled && f.bastion.sessionLogging, "kms");
  add(f.api.enabled, "lambda", "apigateway");
  add(f.waf.enabled, "wafv2");
  add(f.observability.logging.enabled, "es");
  const efs = f.observability.monitoring.enabled && f.observability.monitoring.prometheusStorage === "efs";
  add(efs, "elasticfilesystem");
  add(efs && f.observability.efs.backup, "backup");
  add(f.ci.runners.enabled, "codebuild");
  return [...s].sort();
}

const MODULE_SERVICES: Readonly<Record<string, string>> = {
  acm: "acm",
  alb: "elasticloadbalancing",
  apigateway: "apigateway",
  apigatewayv2: "apigateway",
  autoscaling: "autoscaling",
  backup: "backup",
  codebuild: "codebuild",
  ec2: "ec2",
  ecr: "ecr",
  efs: "elasticfilesystem",
  eks: "eks",
  elb: "elasticloadbalancing",
  iam: "iam",
  kms: "kms",
  lambda: "lambda",
  lb: "elasticloadbalancing",
  opensearch: "es",
  rds: "rds",
  route53: "route53",
  s3: "s3",
  secretsmanager: "secretsmanager",
  sns: "sns",
  ssm: "ssm",
  vpc: "ec2",
  wafv2: "wafv2",
};

/** CloudWatch resources belong to three services. */
const CLOUDWATCH_LOGS = /^log[A-Z]/;
const CLOUDWATCH_EVENTS = /^event[A-Z]/;

/**
 * The IAM service prefixes creating or updating one declared resource calls. `aws:<module>/<x>:<X>`
 * by module; the multi-language components by what they create inside (pulumi-eks: the cluster,
 * its role and OIDC provider, add-ons; awsx: the VPC's network); nothing for resources of other
 * providers (Kubernetes, random) or components of this program.
 */
export function servicesOfResource(type: string, inputs: Readonly<Record<string, unknown>> = {}): string[] {
  if (type === "eks:index:Cluster") {
    return ["ec2", "eks", "iam"];
  }
  if (type === "awsx:ec2:Vpc") {
    return ["ec2"];
  }
  const m = /^aws:([a-z0-9]+)\/([A-Za-z0-9]+):/.exec(type);
  if (m === null) {
    return [];
  }
  const [, module, member] = m;
  if (module === "cloudwatch") {
    return [CLOUDWATCH_LOGS.test(member ?? "") ? "logs" : CLOUDWATCH_EVENTS.test(member ?? "") ? "events" : "cloudwatch"];
  }
  const service = MODULE_SERVICES[module ?? ""];
  if (service === undefined) {
    return [`unmapped:${module ?? type}`];
  }
  // RDS creates a managed master password's secret on the caller's behalf (CreateSecret, TagResource).
  if (type === "aws:rds/instance:Instance" && inputs["manageMasterUserPassword"] === true) {
    return [service, "secretsmanager"];
  }
  return [service];
}

/** Data sources that call an AWS API (getCallerIdentity needs no permission; getPolicyDocument, getPartition, getRegion without arguments and getServiceAccount are local). */
export function servicesOfInvoke(token: string): string[] {
  const local = new Set([
    "aws:index/getCallerIdentity:getCallerIdentity",
    "aws:index/getPartition:getPartition",
    "aws:index/getRegion:getRegion",
    "aws:iam/getPolicyDocument:getPolicyDocument",
    "aws:elb/getServiceAccount:getServiceAccount",
  ]);
  return local.has(token) ? [] : servicesOfResource(token.replace(/\/get([A-Za-z0-9]+):get/, "/$1:"));
}

/* ----------------------------------------------------------------------------------------
 * The runner roles' policies.
 * -------------------------------------------------------------------------------------- */

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action?: readonly string[];
  readonly NotAction?: readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

export interface RunnerPolicyContext {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  /** The stack's `Stack` tag value (every resource of the stack carries it). */
  readonly stack: string;
  readonly projectName: string;
  readonly services: readonly string[];
  readonly connectionArn: string;
  readonly stateBucket: string;
  readonly logGroupArn: string;
  readonly subnetIds: readonly string[];
  /** The runner roles' common name prefix (see runnerRolePrefix). */
  readonly rolePrefix: string;
}

/**
 * Regions a deployment calls: the stack's, and us-east-1 where the global services answer (IAM,
 * Route 53) and where the Route 53 health alarm and its topic live.
 */
function regions(ctx: RunnerPolicyContext): string[] {
  return [...new Set([ctx.region, "us-east-1"])];
}

/** The connection's own service prefix: IAM matches actions to the ARN's prefix (codeconnections or codestar-connections). */
function connectionService(connectionArn: string): string {
  return connectionArn.split(":")[2] ?? "codeconnections";
}

/**
 * What CodeBuild itself does with the project's service role for a runner in a VPC (CodeBuild user
 * guide, "Allow CodeBuild access to AWS services required to create a VPC network interface" and
 * the CodeConnections permissions of the service role): its log streams, the build's network
 * interface in the private subnets, the GitHub connection's token.
 */
function runnerPlumbing(ctx: RunnerPolicyContext): PolicyStatement[] {
  const { partition, region, accountId } = ctx;
  const conn = connectionService(ctx.connectionArn);
  return [
    { Sid: "RunnerLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [ctx.logGroupArn, `${ctx.logGroupArn}:*`] },
    {
      Sid: "RunnerNetworkInterfaces",
      Effect: "Allow",
      Action: [
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
      ],
      Resource: "*",
    },
    {
      Sid: "RunnerNetworkInterfacePermission",
      Effect: "Allow",
      Action: ["ec2:CreateNetworkInterfacePermission"],
      Resource: `arn:${partition}:ec2:${region}:${accountId}:network-interface/*`,
      Condition: {
        StringEquals: { "ec2:AuthorizedService": "codebuild.amazonaws.com" },
        ArnEquals: { "ec2:Subnet": ctx.subnetIds.map((id) => `arn:${partition}:ec2:${region}:${accountId}:subnet/${id}`) },
      },
    },
    { Sid: "RunnerSourceConnection", Effect: "Allow", Action: [`${conn}:GetConnection`, `${conn}:GetConnectionToken`, `${conn}:UseConnection`], Resource: ctx.connectionArn },
  ];
}

/** The state backend's bucket and objects. */
function stateResources(ctx: RunnerPolicyContext): string[] {
  return [`arn:${ctx.partition}:s3:::${ctx.stateBucket}`, `arn:${ctx.partition}:s3:::${ctx.stateBucket}/*`];
}

/** Role changes the deploy role may not make to the runner roles: no runner grants itself more. */
export const ROLE_MUTATIONS: readonly string[] = [
  "iam:AttachRolePolicy",
  "iam:DeleteRole",
  "iam:DeleteRolePermissionsBoundary",
  "iam:DeleteRolePolicy",
  "iam:DetachRolePolicy",
  "iam:PutRolePermissionsBoundary",
  "iam:PutRolePolicy",
  "iam:TagRole",
  "iam:UntagRole",
  "iam:UpdateAssumeRolePolicy",
  "iam:UpdateRole",
  "iam:UpdateRoleDescription",
];

/** AWS managed policies no role of the stack gets attached (each would make the deploy role an administrator by proxy). */
export const ADMIN_POLICIES: readonly string[] = ["AdministratorAccess", "IAMFullAccess", "PowerUserAccess"];

/**
 * The deploy runner's role: what `pulumi up` of the whole stack needs, and no more than the stack.
 * Every action of the services the stack uses, in its regions; nothing on resources another stack
 * tagged as its own (the ECR repositories excepted: they are shared, test owns them); no change to
 * the runner roles themselves, no IAM users or access keys, no administrator policies attached.
 * IAM stays broad inside those fences, since the stack creates roles (nodes, IRSA, add-ons);
 * permissions boundaries on every role the stack creates would close that too, but pulumi-eks
 * creates some of them internally.
 */
export function deployRolePolicy(ctx: RunnerPolicyContext): PolicyDocument {
  const conn = connectionService(ctx.connectionArn);
  return {
    Version: "2012-10-17",
    Statement: [
      ...runnerPlumbing(ctx),
      {
        Sid: "DeployTheStack",
        Effect: "Allow",
        Action: ctx.services.map((s) => `${s}:*`),
        Resource: "*",
        Condition: { StringEquals: { "aws:RequestedRegion": regions(ctx) } },
      },
      { Sid: "StateBackend", Effect: "Allow", Action: ["s3:*"], Resource: stateResources(ctx) },
      // The runner projects name the connection; creating or updating them passes it.
      { Sid: "PassTheConnection", Effect: "Allow", Action: [`${conn}:PassConnection`], Resource: ctx.connectionArn },
      {
        Sid: "NotOtherStacks",
        Effect: "Deny",
        NotAction: ["ecr:*"],
        Resource: "*",
        Condition: { StringNotEquals: { "aws:ResourceTag/Stack": ctx.stack }, Null: { "aws:ResourceTag/Stack": "false" } },
      },
      {
        Sid: "NoResourcesForOtherStacks",
        Effect: "Deny",
        Action: ["*"],
        Resource: "*",
        Condition: { StringNotEquals: { "aws:RequestTag/Stack": ctx.stack }, Null: { "aws:RequestTag/Stack": "false" } },
      },
      { Sid: "NoChangesToTheRunnerRoles", Effect: "Deny", Action: [...ROLE_MUTATIONS], Resource: `arn:${ctx.partition}:iam::${ctx.accountId}:role/${ctx.rolePrefix}*` },
      { Sid: "NoIamUsers", Effect: "Deny", Action: ["iam:*User*", "iam:*AccessKey*", "iam:*LoginProfile*"], Resource: "*" },
      {
        Sid: "NoAdministratorPolicies",
        Effect: "Deny",
        Action: ["iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"],
        Resource: "*",
        Condition: { ArnLike: { "iam:PolicyARN": ADMIN_POLICIES.map((p) => `arn:${ctx.partition}:iam::aws:policy/${p}`) } },
      },
    ],
  };
}

/** Read actions, by verb: Describe*, Get* (API Gateway's `GET` too: action names are case-insensitive), List*. */
const READ_VERBS = ["Describe*", "Get*", "List*"];

/**
 * The preview runner's role: reads what the stack declares (a preview diffs the program against
 * the state and calls the data sources; it never writes: the diy backend persists no snapshot,
 * history or backup for a preview, pulumi v3.259.0 pkg/backend/diy/backend.go), reads the state,
 * and never reads secret values, log events or another bucket's objects.
 */
export function previewRolePolicy(ctx: RunnerPolicyContext): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      ...runnerPlumbing(ctx),
      {
        Sid: "ReadTheStack",
        Effect: "Allow",
        Action: ctx.services.flatMap((s) => READ_VERBS.map((v) => `${s}:${v}`)),
        Resource: "*",
        Condition: { StringEquals: { "aws:RequestedRegion": regions(ctx) } },
      },
      { Sid: "ReadTheState", Effect: "Allow", Action: ["s3:GetObject", "s3:ListBucket"], Resource: stateResources(ctx) },
      {
        Sid: "NoSecretValues",
        Effect: "Deny",
        Action: ["secretsmanager:GetSecretValue", "logs:GetLogEvents", "logs:GetLogRecord", "logs:GetQueryResults", "lambda:GetFunction"],
        Resource: "*",
      },
      { Sid: "NoOtherObjects", Effect: "Deny", Action: ["s3:GetObject*"], NotResource: [`arn:${ctx.partition}:s3:::${ctx.stateBucket}/*`] },
    ],
  };
}

export function runnerPolicy(kind: RunnerKind, ctx: RunnerPolicyContext): PolicyDocument {
  return kind === "deploy" ? deployRolePolicy(ctx) : previewRolePolicy(ctx);
}
