/**
 * `platform:ci`: the deploy path of the stack's CI. Stacks with an EKS cluster run their deploy and
 * pull-request preview jobs on AWS CodeBuild-hosted GitHub Actions runners in their own private
 * subnets, so the cluster's API endpoint stays private; the cluster's endpoint rules live here
 * too, since which endpoint is reachable depends on where CI runs.
 */
import { z } from "zod";
import { parseCidr } from "../../lib/cidr";
import { CONNECTION_ARN, GITHUB_REPOSITORY, MAX_PUBLIC_ACCESS_CIDRS, S3_BUCKET } from "../../lib/runners";
import { Ctx, fail } from "./common";

export const ciSchema = z.strictObject({
  runners: z.strictObject({
    /** Declare the CodeBuild runner projects (deploy and preview) in the private subnets. Default: staging and prod. */
    enabled: z.boolean(),
    /** The GitHub repository (`owner/name`) whose workflow jobs the runners take. */
    repository: z.string().regex(GITHUB_REPOSITORY, "must be a GitHub repository as owner/name").optional(),
    /**
     * ARN of an AWS CodeConnections (or CodeStar Connections) GitHub connection. Created once per
     * account by an operator: a new connection is PENDING until someone completes the GitHub
     * handshake in the console, and the runners' webhooks cannot be created before that.
     */
    connectionArn: z
      .string()
      .regex(CONNECTION_ARN, "must be a connection ARN, arn:aws:codeconnections:<region>:<account>:connection/<id> (or codestar-connections)")
      .optional(),
    /** The S3 bucket of PULUMI_BACKEND_URL: the runners read (preview) and write (deploy) the state there. */
    stateBucket: z.string().regex(S3_BUCKET, "must be an S3 bucket name").optional(),
    /** CodeBuild compute of a runner. Default: BUILD_GENERAL1_MEDIUM (4 vCPU, 7 GB: `npm test` and the Pulumi engine side by side). */
    computeType: z.enum(["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"]),
    /** CodeBuild curated image of the runners. Default: aws/codebuild/standard:7.0 (Ubuntu 22.04, like GitHub's ubuntu runners). */
    image: z.string().regex(/^aws\/codebuild\/[a-z0-9._-]+:[0-9.]+$/, "must be a CodeBuild curated image, aws/codebuild/<name>:<version>"),
    /**
     * GitHub user ids (numeric, `gh api users/<login> --jq .id`) whose jobs may start a runner: the
     * webhook's ACTOR_ACCOUNT_ID filter. Empty: anyone who can queue a job in the repository.
     */
    actorIds: z.array(z.string().regex(/^\d+$/, "must be a numeric GitHub user id")),
  }),
});
export type CiConfig = z.infer<typeof ciSchema>;

interface AccessConfig {
  readonly ci: CiConfig;
  readonly cluster: {
    readonly enabled: boolean;
    readonly publicAccessCidrs: readonly string[];
    readonly bootstrapAccessCidr?: string;
  };
  readonly network: { readonly privateSubnets: boolean; readonly natGateways: string };
}

/**
 * Who reaches the cluster's API: the runners in the VPC through the private endpoint, so the
 * public endpoint stays off; during the one-time bootstrap an operator's single address; a stack
 * without runners lists the fixed egress ranges of whatever deploys it. A cluster nobody can reach
 * is refused: pulumi-eks waits for the API, gives up and carries on, and every Kubernetes and Helm
 * resource of the update then fails.
 */
export function checkClusterAccess(cfg: AccessConfig, ctx: Ctx): void {
  const { ci, cluster } = cfg;
  const r = ci.runners;
  if (cluster.publicAccessCidrs.length > MAX_PUBLIC_ACCESS_CIDRS) {
    fail(
      ctx,
      ["cluster", "publicAccessCidrs"],
      `lists ${cluster.publicAccessCidrs.length} CIDRs; EKS accepts at most ${MAX_PUBLIC_ACCESS_CIDRS} public access CIDRs per cluster (a quota that cannot be raised)`,
      "aggregate the ranges, or run CI inside the VPC (ci.runners.enabled) and keep the endpoint private",
    );
  }
  const bootstrap = cluster.bootstrapAccessCidr;
  if (bootstrap !== undefined) {
    const parsed = parseCidr(bootstrap);
    if (typeof parsed !== "string" && parsed.prefix !== 32) {
      fail(
        ctx,
        ["cluster", "bootstrapAccessCidr"],
        `${bootstrap} is a /${parsed.prefix}; the bootstrap opens the public endpoint to one operator's address only`,
        "give your own public address as a /32 (curl -s https://checkip.amazonaws.com)",
      );
    }
    if (!cluster.enabled) {
      fail(ctx, ["cluster", "bootstrapAccessCidr"], "is set but the stack has no cluster", "remove it");
    }
  }
  if (r.enabled) {
    if (!cluster.enabled) {
      fail(
        ctx,
        ["ci", "runners", "enabled"],
        "is true but the stack has no cluster; the runners exist to reach a private cluster API (a stack without one deploys from GitHub-hosted runners)",
        "set ci.runners.enabled to false",
      );
    }
    if (!cfg.network.privateSubnets || cfg.network.natGateways === "none") {
      fail(
        ctx,
        ["ci", "runners", "enabled"],
        "is true but the stack has no private subnets behind a NAT gateway; the runners live there and reach GitHub and the AWS APIs through the NAT",
        "set network.privateSubnets to true and network.natGateways to single or perAz",
      );
    }
    const required: ReadonlyArray<readonly [keyof CiConfig["runners"], string]> = [
      ["repository", "set it to the GitHub repository as owner/name"],
      ["connectionArn", "create a GitHub connection (Developer Tools console > Settings > Connections), complete the handshake, and give its ARN"],
      ["stateBucket", "set it to the bucket of PULUMI_BACKEND_URL (s3://<bucket>)"],
    ];
    for (const [key, fix] of required) {
      if (r[key] === undefined) {
        fail(ctx, ["ci", "runners", key], "is required while ci.runners.enabled is true", fix);
      }
    }
    if (cluster.enabled && cluster.publicAccessCidrs.length > 0) {
      fail(
        ctx,
        ["cluster", "publicAccessCidrs"],
        "is not empty while CI runs inside the VPC (ci.runners.enabled): the runners use the private endpoint, and a public one only adds exposure",
        "leave it empty; for the one-time bootstrap set cluster.bootstrapAccessCidr to your own /32 instead",
      );
    }
  } else if (cluster.enabled && cluster.publicAccessCidrs.length === 0 && bootstrap === undefined) {
    fail(
      ctx,
      ["cluster", "publicAccessCidrs"],
      "is empty and ci.runners.enabled is false: the API endpoint is private and nothing that deploys this stack is inside the VPC, so every Kubernetes and Helm resource would fail",
      "set ci.runners.enabled to true (CodeBuild runners in the private subnets), or list the fixed egress CIDRs your deployments come from",
    );
  }
}
