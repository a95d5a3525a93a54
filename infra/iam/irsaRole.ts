import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface IrsaRoleArgs {
  /** ARN of the cluster's IAM OIDC provider (`Cluster.oidcProviderArn`). */
  readonly oidcProviderArn: pulumi.Input<string>;
  /**
   * The cluster's OIDC issuer, e.g. `oidc.eks.<region>.amazonaws.com/id/<ID>` (`Cluster.oidcProviderUrl`).
   * A leading `https://` is stripped: IAM condition keys name the issuer without a scheme.
   */
  readonly oidcProviderUrl: pulumi.Input<string>;
  /** Namespace of the service account(s) allowed to assume the role. */
  readonly namespace: string;
  /**
   * Name of the service account allowed to assume the role, or the exact list when one workload
   * runs under several (e.g. an EKS add-on's controller and node accounts). Never a pattern.
   */
  readonly serviceAccount: string | readonly string[];
  /**
   * Inline policies as JSON documents, keyed by a short stable name that becomes part of the
   * policy's logical name (`<name>-<key>`), so adding or removing one never renames the others.
   * Default: none.
   */
  readonly inlinePolicies?: Readonly<Record<string, pulumi.Input<string>>>;
  /** Managed policy ARNs to attach, keyed like `inlinePolicies`. Default: none. */
  readonly managedPolicyArns?: Readonly<Record<string, pulumi.Input<string>>>;
  /** Role description. Default: `IRSA role of <namespace>/<serviceAccount>`. */
  readonly description?: string;
}

/**
 * An IAM role for exactly the named Kubernetes service account(s) (IRSA). The trust policy pins
 * both the `sub` (namespace and name, StringEquals on each) and the `aud` claim: without the
 * `sub` condition every pod of the cluster could assume the role, and without `aud` a token
 * minted for another audience would do.
 */
export class IrsaRole extends pulumi.ComponentResource {
  readonly roleArn: pulumi.Output<string>;
  readonly roleName: pulumi.Output<string>;

  constructor(name: string, args: IrsaRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:iam:IrsaRole", name, args, opts);

    const issuer = pulumi.output(args.oidcProviderUrl).apply((url) => url.replace(/^https:\/\//, ""));
    const accounts: readonly string[] = typeof args.serviceAccount === "string" ? [args.serviceAccount] : args.serviceAccount;
    if (accounts.length === 0 || accounts.some((a) => !/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(a))) {
      throw new pulumi.ResourceError(`serviceAccount must name one or more service accounts exactly (no patterns), got ${JSON.stringify(args.serviceAccount)}`, this);
    }
    const subjects = accounts.map((a) => `system:serviceaccount:${args.namespace}:${a}`);

    const role = new aws.iam.Role(
      `${name}-role`,
      {
        description: args.description ?? `IRSA role of ${accounts.map((a) => `${args.namespace}/${a}`).join(", ")}`,
        assumeRolePolicy: aws.iam.getPolicyDocumentOutput(
          {
            statements: [
              {
                effect: "Allow",
                actions: ["sts:AssumeRoleWithWebIdentity"],
                principals: [{ type: "Federated", identifiers: [args.oidcProviderArn] }],
                conditions: [
                  { test: "StringEquals", variable: pulumi.interpolate`${issuer}:sub`, values: subjects },
                  { test: "StringEquals", variable: pulumi.interpolate`${issuer}:aud`, values: ["sts.amazonaws.com"] },
                ],
              },
            ],
          },
          { parent: this },
        ).json,
      },
      { parent: this },
    );

    for (const [key, policy] of Object.entries(args.inlinePolicies ?? {})) {
      new aws.iam.RolePolicy(`${name}-${key}`, { role: role.name, policy }, { parent: this });
    }
    for (const [key, policyArn] of Object.entries(args.managedPolicyArns ?? {})) {
      new aws.iam.RolePolicyAttachment(`${name}-${key}`, { role: role.name, policyArn }, { parent: this });
    }

    this.roleArn = role.arn;
    this.roleName = role.name;
    this.registerOutputs({ roleArn: this.roleArn, roleName: this.roleName });
  }
}
