/**
 * Which IAM role an ARN names, for EKS access entries. No Pulumi imports; tested table-driven
 * (test/eksAccess.test.ts).
 *
 * pulumi-eks 4.3.0 creates every cluster with `accessConfig.bootstrapClusterCreatorAdminPermissions:
 * true` (hard-coded when `authenticationMode` is set, pulumi/pulumi-eks v4.3.0
 * nodejs/eks/cluster/cluster.ts:733-741; pulumi-eks#2373): EKS gives the principal that created the
 * cluster an access entry with cluster-admin. Declaring an access entry for that same role as
 * well fails with 409 `ResourceInUseException: The specified access entry resource is already in
 * use on this cluster` (terraform-aws-modules/terraform-aws-eks#2969 shows the same error).
 */

export interface RoleIdentity {
  readonly account: string;
  readonly roleName: string;
}

/**
 * Account and role name of an IAM role ARN (`arn:aws:iam::<acct>:role[/path]/<name>`) or of an
 * STS assumed-role ARN (`arn:aws:sts::<acct>:assumed-role/<name>/<session>`, what
 * `aws sts get-caller-identity` shows for CI); `undefined` for anything else (users, malformed).
 */
export function roleIdentity(arn: string): RoleIdentity | undefined {
  const iam = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/.exec(arn);
  if (iam !== null) {
    return { account: iam[1], roleName: iam[2] };
  }
  const sts = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/[\w+=,.@-]+$/.exec(arn);
  return sts !== null ? { account: sts[1], roleName: sts[2] } : undefined;
}

/**
 * Whether two ARNs name the same role. Role names are unique per account whatever their path,
 * and STS ARNs carry no path, so account and name decide.
 */
export function sameRole(a: string, b: string): boolean {
  const x = roleIdentity(a);
  const y = roleIdentity(b);
  return x !== undefined && y !== undefined && x.account === y.account && x.roleName === y.roleName;
}
