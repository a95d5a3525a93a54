import { strict as assert } from "assert";
import { describePlaceholder, findPlaceholders, placeholdersIn } from "../automation/placeholders";
import { readStackConfig, STACKS } from "./stack";

describe("placeholders: documentation values AWS rejects", () => {
  // [value, the placeholders found as "kind: fragment"]
  const table: ReadonlyArray<readonly [string, readonly string[]]> = [
    ["123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/student:1.5.0", ["example account: 123456789012"]],
    ["arn:aws:iam::111122223333:role/platform-admin", ["example account: 111122223333"]],
    ["arn:aws:iam::444455556666:role/a", ["example account: 444455556666"]],
    ["arn:aws:iam::777788889999:role/a", ["example account: 777788889999"]],
    ["arn:aws:codestar-connections:us-east-1:222222222222:connection/7d2469ff-514a-4e4f-9003-5ca4a43cdc41", ["example account: 222222222222"]],
    ["000000000000.dkr.ecr.us-east-1.localhost.localstack.cloud:4566/x:1", ["example account: 000000000000"]],
    ["381492115072.dkr.ecr.ap-northeast-2.amazonaws.com/student:1.5.0", []],
    ["1234567890123", []],
    ["platform-state-123456789012", ["example account: 123456789012"]],
    ["arn:aws:codeconnections:ap-northeast-2:381492115072:connection/8a7c9e0b-1f2d-4c3b-9a8e-123456789012", []],
    ["203.0.113.0/24", ["documentation address: 203.0.113.0/24"]],
    ["203.0.113.7/32", ["documentation address: 203.0.113.7/32"]],
    ["203.0.113.7/24", ["documentation address: 203.0.113.7/24"]],
    ["198.51.100.25", ["documentation address: 198.51.100.25"]],
    ["192.0.2.0/25", ["documentation address: 192.0.2.0/25"]],
    // A real block that merely contains a documentation range is a real block.
    ["203.0.0.0/16", []],
    ["192.0.3.0/24", []],
    ["10.20.0.0/16", []],
    ["0.0.0.0/0", []],
    ["2001:db8::/32", ["documentation address: 2001:db8::/32"]],
    ["2001:DB8:1::1", ["documentation address: 2001:DB8:1::1"]],
    ["2001:4860::/32", []],
    ["example.com", ["example domain: example.com"]],
    ["ops@example.org", ["example domain: example.org"]],
    ["registry.example.net/team/app:1.0", ["example domain: registry.example.net"]],
    ["preview.staging.EXAMPLE.com", ["example domain: preview.staging.EXAMPLE.com"]],
    ["api.test", ["example domain: api.test"]],
    ["svc.invalid", ["example domain: svc.invalid"]],
    ["web.localhost", ["example domain: web.localhost"]],
    ["karina-univ.com", []],
    ["test.karina-univ.com", []],
    ["myexample.com", []],
    ["example.community", []],
    ["example.com.karina-univ.com", []],
    ["arn:aws:iam::<account>:role/<CI deploy role>", ["template marker: <account>", "template marker: <CI deploy role>"]],
    ["REPLACE_ME", ["template marker: REPLACE_ME"]],
    ["changeme", ["template marker: changeme"]],
    ["a < b", []],
    ["/actuator/health", []],
    ["arn:aws:codeconnections:ap-northeast-2:123456789012:connection/00000000-0000-0000-0000-000000000000", ["example account: 123456789012", "nil id: 00000000-0000-0000-0000-000000000000"]],
    ["octo-org/platform", ["example repository: octo-org/"]],
    ["https://github.com/octocat/Hello-World.git", ["example repository: octocat/"]],
    ["my-octo-org/platform", []],
    ["karina-univ/platform", []],
  ];
  for (const [value, expected] of table) {
    it(`${JSON.stringify(value)} -> ${expected.length === 0 ? "none" : expected.join(", ")}`, () => {
      assert.deepEqual(
        placeholdersIn(value).map((p) => `${p.kind}: ${p.found}`),
        expected,
      );
    });
  }

  it("names the key with its path, the value, why and what to put; encrypted values are never read", () => {
    const found = findPlaceholders({
      "aws:region": "ap-northeast-2",
      "platform:domain": "example.com",
      "platform:cluster": { adminRoleArns: ["arn:aws:iam::123456789012:role/admin"], bootstrapAccessCidr: "203.0.113.7/32" },
      "platform:services": [{ name: "student", blue: { image: "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/student:1" }, green: {} }],
      "platform:observability": { monitoring: { allowedCidrs: ["10.0.0.0/8", "198.51.100.0/24"] } },
      "platform:discordWebhookUrl": { secure: "v1:AAAA123456789012example.com" },
    });
    assert.deepEqual(
      found.map((p) => [p.key, p.kind, p.found]),
      [
        ["platform:domain", "example domain", "example.com"],
        ["platform:cluster.adminRoleArns[0]", "example account", "123456789012"],
        ["platform:cluster.bootstrapAccessCidr", "documentation address", "203.0.113.7/32"],
        ["platform:services[0].blue.image", "example account", "123456789012"],
        ["platform:observability.monitoring.allowedCidrs[1]", "documentation address", "198.51.100.0/24"],
      ],
    );
    const [domain, admin, bootstrap, image, cidr] = found;
    assert.match(domain?.fix ?? "", /public hosted zone of your account in Route 53/);
    assert.match(admin?.fix ?? "", /IAM role of your account that administers the cluster/);
    assert.match(bootstrap?.fix ?? "", /your own public address as a \/32/);
    assert.match(image?.fix ?? "", /pushed to this account's ECR/);
    assert.match(cidr?.fix ?? "", /egress range/);
    assert.equal(
      describePlaceholder(admin ?? assert.fail()),
      'platform:cluster.adminRoleArns[0]: "arn:aws:iam::123456789012:role/admin": 123456789012 is an example account id from the AWS documentation, not your account; put the ARN of an IAM role of your account that administers the cluster (`aws iam get-role --role-name <name> --query Role.Arn`)',
    );
  });

  // The shipped stacks are examples: they carry placeholders on purpose, which is why the real
  // operations refuse them and `plan` lists them. Every one of them must be found.
  for (const stack of STACKS) {
    it(`finds the shipped ${stack} stack's placeholders (images, account ids, repository)`, () => {
      const found = findPlaceholders(readStackConfig(stack));
      const keys = new Set(found.map((p) => p.key));
      assert.ok(keys.has("platform:services[0].blue.image"), [...keys].join(", "));
      if (stack !== "test") {
        assert.ok(keys.has("platform:cluster.adminRoleArns[0]"), [...keys].join(", "));
        assert.ok(keys.has("platform:ci.runners.connectionArn"), [...keys].join(", "));
        assert.ok(keys.has("platform:ci.runners.repository"), [...keys].join(", "));
        assert.ok(keys.has("platform:ci.runners.stateBucket"), [...keys].join(", "));
      }
    });
  }
});
