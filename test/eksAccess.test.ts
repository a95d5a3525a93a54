import { strict as assert } from "assert";
import { roleIdentity, sameRole } from "../infra/lib/eksAccess";
import { Cluster } from "../infra/cluster/cluster";
import { settleProgram } from "./stack";

describe("EKS access entries: the cluster creator (pure)", () => {
  it("reads account and role name from IAM role ARNs (with or without a path) and STS assumed-role ARNs", () => {
    const table: Array<[string, { account: string; roleName: string } | undefined]> = [
      ["arn:aws:iam::123456789012:role/platform-admin", { account: "123456789012", roleName: "platform-admin" }],
      ["arn:aws:iam::123456789012:role/ci/github-deploy", { account: "123456789012", roleName: "github-deploy" }],
      ["arn:aws:sts::123456789012:assumed-role/github-deploy/GitHubActions-42", { account: "123456789012", roleName: "github-deploy" }],
      ["arn:aws-cn:iam::123456789012:role/admin", { account: "123456789012", roleName: "admin" }],
      ["arn:aws:iam::123456789012:user/ci", undefined],
      ["not an arn", undefined],
    ];
    for (const [arn, expected] of table) {
      assert.deepEqual(roleIdentity(arn), expected, arn);
    }
  });

  it("treats two ARNs as one role when account and name match, whatever the path (STS drops it; names are unique per account)", () => {
    assert.equal(sameRole("arn:aws:iam::123456789012:role/ci/github-deploy", "arn:aws:sts::123456789012:assumed-role/github-deploy/s"), true);
    assert.equal(sameRole("arn:aws:iam::123456789012:role/github-deploy", "arn:aws:iam::123456789012:role/ci/github-deploy"), true);
    assert.equal(sameRole("arn:aws:iam::123456789012:role/github-deploy", "arn:aws:iam::210987654321:role/github-deploy"), false);
    assert.equal(sameRole("arn:aws:iam::123456789012:role/github-deploy", "arn:aws:iam::123456789012:role/platform-admin"), false);
    assert.equal(sameRole("arn:aws:iam::123456789012:user/ci", "arn:aws:iam::123456789012:user/ci"), false, "only roles");
  });
});

describe("Cluster refuses an access entry for its own creator", () => {
  it("throws a ResourceError naming the role when deployerRoleArn is also an admin entry, and declares the entries otherwise", async () => {
    const declare = (deployerRoleArn: string) =>
      settleProgram("prod", {}, () => {
        const cluster = new Cluster("prod", {
          vpcId: "vpc-1",
          privateSubnetIds: ["subnet-a", "subnet-c"],
          publicSubnetIds: ["subnet-pa", "subnet-pc"],
          version: "1.35",
          adminRoleArns: ["arn:aws:iam::123456789012:role/platform-admin", "arn:aws:iam::123456789012:role/ci/platform-deploy"],
          deployerRoleArn,
        });
        return { name: cluster.name };
      });
    const conflict = await declare("arn:aws:sts::123456789012:assumed-role/platform-deploy/GitHubActions");
    assert.ok(conflict.error instanceof Error, String(conflict.error));
    assert.match(conflict.error.message, /adminRoleArns lists arn:aws:iam::123456789012:role\/ci\/platform-deploy, the deploying role: .* 409; remove it from the list/);
    const fine = await declare("arn:aws:iam::123456789012:role/someone-else");
    assert.equal(fine.error, undefined);
    const eks = fine.evaluation.resources.find((r) => r.type === "eks:index:Cluster");
    assert.deepEqual(Object.keys((eks?.inputs["accessEntries"] ?? {}) as object).sort(), ["admin-platform-admin", "admin-platform-deploy"]);
  });
});
