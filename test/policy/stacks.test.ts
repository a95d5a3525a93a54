/**
 * The policy pack over what the real program declares: the three shipped stacks, and prod made
 * insecure (through its config where the config schema allows it, otherwise by editing what the
 * program declared, because the schema already refuses those configs before the program runs).
 */
import { strict as assert } from "assert";
import type { Violation } from "../../infra/policy/engine";
import { evaluatePolicies, OfflineResource, runPolicies } from "../../infra/policy/offline";
import { evaluateLifted, settleStack, shippedStack, StackConfig } from "../stack";
import { describeViolations, policyInput } from "./harness";

type Obj = Record<string, unknown>;

function mandatory(violations: readonly Violation[]): Violation[] {
  return violations.filter((v) => v.enforcementLevel === "mandatory");
}

function section(config: StackConfig, key: string): Obj {
  const value = config[`platform:${key}`];
  const out: Obj = value !== null && typeof value === "object" && !Array.isArray(value) ? { ...value } : {};
  return out;
}

/** Sets `platform:<key>.<field>` in a stack config (a copy of the stack file's values). */
function setField(config: StackConfig, key: string, field: string, value: StackConfig[string]): void {
  config[`platform:${key}`] = { ...(section(config, key) as Record<string, StackConfig[string]>), [field]: value };
}

/** The violations of one rule, each asserted mandatory and about a resource of `type`. */
function caught(violations: readonly Violation[], rule: string, type: string, pattern: RegExp): Violation[] {
  const found = violations.filter((v) => v.policy === rule);
  assert.ok(found.length > 0, `${rule} did not fire; all violations:\n${describeViolations(violations)}`);
  for (const v of found) {
    assert.equal(v.enforcementLevel, "mandatory");
    assert.equal(v.resource?.type, type);
    assert.match(v.message, pattern);
  }
  return found;
}

/** The pack's violations over prod with the config's own production checks lifted: the pack alone must stop it. */
async function prodViolations(mutate: (config: StackConfig) => void): Promise<Violation[]> {
  return runPolicies(policyInput(await evaluateLifted("prod", mutate)), "prod");
}

/** The shipped prod stack's resources with one resource's props replaced (or resources added/removed). */
async function editedProd(edit: (resources: OfflineResource[]) => OfflineResource[]): Promise<Violation[]> {
  return runPolicies(edit(policyInput(await shippedStack("prod"))), "prod");
}

function patchType(resources: OfflineResource[], type: string, patch: Obj): OfflineResource[] {
  let hit = false;
  const out = resources.map((r) => {
    if (r.type !== type) {
      return r;
    }
    hit = true;
    return { ...r, props: { ...r.props, ...patch } };
  });
  assert.ok(hit, `the stack declares no ${type}`);
  return out;
}

describe("policy pack over the shipped stacks", () => {
  it("test: no violation at all (test is advisory, so advisories count too); the test host's exceptions are used and listed", async () => {
    const report = evaluatePolicies(policyInput(await shippedStack("test")), "test");
    assert.deepEqual(report.violations, [], describeViolations(report.violations));
    assert.deepEqual(
      report.exempted.map((e) => `${e.policy} ${e.resource.name}`).sort(),
      ["ec2-imds-hop-limit test-host-instance", "ec2-no-public-ip test-host-instance"],
    );
  });

  it("staging: no mandatory violation", async () => {
    const violations = runPolicies(policyInput(await shippedStack("staging")), "staging");
    assert.deepEqual(mandatory(violations), [], describeViolations(mandatory(violations)));
  });

  it("prod: no mandatory violation", async () => {
    const violations = runPolicies(policyInput(await shippedStack("prod")), "prod");
    assert.deepEqual(mandatory(violations), [], describeViolations(mandatory(violations)));
  });
});

describe("policy pack over an insecure prod (config mutations: config refuses them first, the pack on its own too)", () => {
  it("images bucket versioning off is caught by s3-bucket-versioning", async () => {
    const v = await prodViolations((c) => setField(c, "imagesBucket", "versioning", false));
    const found = caught(v, "s3-bucket-versioning", "aws:s3/bucket:Bucket", /versioning is not Enabled/);
    assert.ok(found.some((x) => x.resource?.name === "prod-images"), describeViolations(found));
  });

  it("3 days of database backups are caught by rds-backup-retention", async () => {
    const v = await prodViolations((c) => setField(c, "database", "backupRetentionDays", 3));
    caught(v, "rds-backup-retention", "aws:rds/instance:Instance", /backupRetentionPeriod is 3 day\(s\) in prod; at least 7/);
  });

  it("a single-AZ, unprotected database is caught by rds-multi-az and rds-deletion-protection", async () => {
    const v = await prodViolations((c) => {
      setField(c, "database", "multiAz", false);
      setField(c, "database", "deletionProtection", false);
    });
    caught(v, "rds-multi-az", "aws:rds/instance:Instance", /multiAz is not true/);
    caught(v, "rds-deletion-protection", "aws:rds/instance:Instance", /deletionProtection is not true/);
  });

  it("WAF switched off is caught by waf-alb-association on every internet-facing Ingress", async () => {
    const v = await prodViolations((c) => setField(c, "waf", "enabled", false));
    const found = caught(v, "waf-alb-association", "kubernetes:networking.k8s.io/v1:Ingress", /wafv2-acl-arn is "none"/);
    assert.ok(found.some((x) => x.resource?.name === "student-ingress"));
  });

  it("a :latest image is caught by k8s-image-pinned", async () => {
    const v = await prodViolations((c) => {
      const services = c["platform:services"];
      assert.ok(Array.isArray(services));
      const first = services[0] as Record<string, StackConfig[string]>;
      services[0] = { ...first, blue: { image: "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/student:latest" } };
    });
    const found = caught(v, "k8s-image-pinned", "kubernetes:apps/v1:Deployment", /student:latest/);
    assert.deepEqual(
      found.map((x) => x.resource?.name),
      ["student-blue"],
    );
  });
});

describe("policy pack over an insecure prod (synthetic: the config cannot express it)", () => {
  it("synthetic public database (the config schema rejects database.publiclyAccessible before the program runs)", async () => {
    const settled = await settleStack("prod", (c) => setField(c, "database", "publiclyAccessible", true));
    assert.match(String(settled.error), /publiclyAccessible/);
    const v = await editedProd((rs) => patchType(rs, "aws:rds/instance:Instance", { publiclyAccessible: true }));
    caught(v, "rds-not-publicly-accessible", "aws:rds/instance:Instance", /publiclyAccessible is true/);
  });

  it("synthetic unsupported Kubernetes version (config refuses a version EKS does not run)", async () => {
    const settled = await settleStack("prod", (c) => setField(c, "cluster", "version", "1.29"));
    assert.match(String(settled.error), /"1\.29" is not a Kubernetes version EKS supports/);
    assert.equal(settled.evaluation.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").length, 0, "nothing is declared before the config error");
    const v = await editedProd((rs) => patchType(rs, "eks:index:Cluster", { version: "1.29" }));
    caught(v, "eks-supported-version", "eks:index:Cluster", /version "1.29" is not one EKS supports/);
  });

  it("synthetic open EKS endpoint (the config schema rejects 0.0.0.0/0 in cluster.publicAccessCidrs)", async () => {
    const settled = await settleStack("prod", (c) => setField(c, "cluster", "publicAccessCidrs", ["0.0.0.0/0"]));
    assert.match(String(settled.error), /0\.0\.0\.0\/0/);
    const v = await editedProd((rs) => patchType(rs, "eks:index:Cluster", { endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] }));
    caught(v, "eks-endpoint-restricted", "eks:index:Cluster", /publicAccessCidrs 0.0.0.0\/0 opens the Kubernetes API to the whole internet/);
  });

  it("synthetic SSH open to the world on the bastion (no config knob opens a port)", async () => {
    const v = await editedProd((rs) => {
      const bastionSg = rs.find((r) => r.type === "aws:ec2/securityGroup:SecurityGroup" && r.name === "prod-bastion-sg");
      assert.ok(bastionSg !== undefined, "prod declares the bastion's security group");
      const ssh: OfflineResource = {
        type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        name: "prod-bastion-ssh",
        props: { securityGroupId: "prod-bastion-sg-id", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0", description: "SSH" },
        provider: bastionSg.provider,
      };
      return [...rs, ssh];
    });
    caught(v, "sg-no-world-admin-ingress", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", /admits 0.0.0.0\/0 to 22 \(SSH\)/);
    caught(v, "sg-world-ingress-web-only", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", /tcp\/22/);
  });

  it("synthetic unencrypted images bucket (ImageBucket always declares SSE-KMS; its encryption resource is removed)", async () => {
    const v = await editedProd((rs) => {
      const kept = rs.filter((r) => !(r.type === "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration" && r.name === "prod-images"));
      assert.equal(kept.length, rs.length - 1, "prod declares the images bucket's encryption configuration");
      return kept;
    });
    const found = caught(v, "s3-bucket-encryption", "aws:s3/bucket:Bucket", /no default encryption is declared/);
    assert.deepEqual(
      found.map((x) => x.resource?.name),
      ["prod-images"],
    );
  });
});
