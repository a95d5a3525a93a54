/**
 * The environments table (README "The three environments"), asserted against what each shipped stack declares.
 */
import { strict as assert } from "assert";
import { REQUIRED_TAG_KEYS } from "../infra/providers";
import { DeclaredResource } from "../automation/offline/mocks";
import { Evaluation, named, ofType, shippedStack, STACKS } from "./stack";

type Obj = Record<string, unknown>;
/** An object input; provider inputs arrive JSON-encoded, so strings are parsed. */
const obj = (v: unknown): Obj => {
  const value = typeof v === "string" && v.startsWith("{") ? (JSON.parse(v) as unknown) : v;
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Obj) : {};
};

function awsResources(ev: Evaluation): DeclaredResource[] {
  return ev.resources.filter((r) => r.type.startsWith("aws:") && r.custom);
}

describe("environments (the README's table)", () => {
  const evs = new Map<string, Evaluation>();
  before(async () => {
    for (const s of STACKS) {
      evs.set(s, await shippedStack(s));
    }
  });
  const ev = (s: string): Evaluation => {
    const e = evs.get(s);
    assert.ok(e);
    return e;
  };

  describe("network", () => {
    const expected: Record<string, { nat: string; privateSubnets: boolean }> = {
      test: { nat: "None", privateSubnets: false },
      staging: { nat: "Single", privateSubnets: true },
      prod: { nat: "OnePerAz", privateSubnets: true },
    };
    for (const stack of STACKS) {
      it(`${stack}: one VPC over 2 AZs, NAT ${expected[stack].nat}, private subnets ${expected[stack].privateSubnets}`, () => {
        const vpcs = ofType(ev(stack), "awsx:ec2:Vpc");
        assert.equal(vpcs.length, 1);
        const vpc = vpcs[0].inputs;
        assert.deepEqual(vpc["availabilityZoneNames"], ["ap-northeast-2a", "ap-northeast-2c"]);
        assert.equal(obj(vpc["natGateways"])["strategy"], expected[stack].nat);
        const specs = (vpc["subnetSpecs"] as Obj[]).map((s) => s["type"]);
        assert.deepEqual(specs, expected[stack].privateSubnets ? ["Public", "Private"] : ["Public"]);
        assert.equal(vpc["enableDnsHostnames"], true);
      });
    }

    it("NAT gateway count is 0 / 1 / 2 for test / staging / prod", () => {
      const natCount = (s: string): number => {
        const vpc = ofType(ev(s), "awsx:ec2:Vpc")[0].inputs;
        const strategy = obj(vpc["natGateways"])["strategy"];
        const azs = (vpc["availabilityZoneNames"] as string[]).length;
        return strategy === "None" ? 0 : strategy === "Single" ? 1 : azs;
      };
      assert.deepEqual(STACKS.map(natCount), [0, 1, 2]);
    });

    for (const stack of STACKS) {
      it(`${stack}: subnets carry the load balancer discovery tags and do not overlap`, () => {
        const vpc = ofType(ev(stack), "awsx:ec2:Vpc")[0].inputs;
        for (const spec of vpc["subnetSpecs"] as Obj[]) {
          const tags = obj(spec["tags"]);
          const key = spec["type"] === "Public" ? "kubernetes.io/role/elb" : "kubernetes.io/role/internal-elb";
          assert.equal(tags[key], "1", `${String(spec["type"])} subnets need ${key}`);
          assert.equal((spec["cidrBlocks"] as string[]).length, 2);
        }
      });

      it(`${stack}: VPC flow logs record rejected traffic`, () => {
        const flowLog = named(ev(stack), "aws:ec2/flowLog:FlowLog", `${stack}-flow-log`);
        assert.equal(flowLog.inputs["trafficType"], "REJECT");
        assert.equal(flowLog.inputs["vpcId"], `${stack}-vpc-vpc-id`);
      });

      it(`${stack}: only this account's flow logs may assume the flow-log role (confused deputy)`, () => {
        const trust = obj(named(ev(stack), "aws:iam/role:Role", `${stack}-flow-logs`).inputs["assumeRolePolicy"]);
        const [statement] = trust["Statement"] as Obj[];
        assert.deepEqual(obj(statement["Principal"]), { Service: ["vpc-flow-logs.amazonaws.com"] });
        assert.deepEqual(obj(statement["Condition"]), {
          StringEquals: { "aws:SourceAccount": ["123456789012"] },
          ArnLike: { "aws:SourceArn": ["arn:aws:ec2:ap-northeast-2:123456789012:vpc-flow-log/*"] },
        });
      });
    }
  });

  describe("compute", () => {
    it("EKS in staging and prod only; the test stack runs one EC2 instance", () => {
      assert.deepEqual(STACKS.map((s) => ofType(ev(s), "eks:index:Cluster").length), [0, 1, 1]);
      assert.deepEqual(STACKS.map((s) => ofType(ev(s), "aws:ec2/instance:Instance").length), [1, 0, 0]);
    });

    it("staging: one managed node group of exactly 2 nodes in the private subnets", () => {
      const groups = ofType(ev("staging"), "aws:eks/nodeGroup:NodeGroup");
      assert.equal(groups.length, 1);
      assert.deepEqual(obj(groups[0].inputs["scalingConfig"]), { desiredSize: 2, maxSize: 2, minSize: 2 });
      assert.deepEqual(groups[0].inputs["subnetIds"], ["staging-vpc-private-ap-northeast-2a", "staging-vpc-private-ap-northeast-2c"]);
    });

    it("prod: t3.large managed nodes, min 2 / max 4, with the cluster autoscaler and metrics-server installed", () => {
      const groups = ofType(ev("prod"), "aws:eks/nodeGroup:NodeGroup");
      assert.equal(groups.length, 1);
      assert.deepEqual(groups[0].inputs["instanceTypes"], ["t3.large"]);
      const scaling = obj(groups[0].inputs["scalingConfig"]);
      assert.equal(scaling["minSize"], 2);
      assert.equal(scaling["maxSize"], 4);
      const charts = ofType(ev("prod"), "kubernetes:helm.sh/v3:Release").map((r) => r.inputs["chart"]);
      assert.ok(charts.includes("cluster-autoscaler"), `charts: ${charts.join(", ")}`);
      assert.ok(charts.includes("metrics-server"), `charts: ${charts.join(", ")}`);
    });

    for (const stack of ["staging", "prod"]) {
      it(`${stack}: the EKS API is private only (CI runs in the VPC), all log types, encrypted secrets`, () => {
        const c = ofType(ev(stack), "eks:index:Cluster")[0].inputs;
        assert.equal(c["endpointPrivateAccess"], true);
        assert.equal(c["endpointPublicAccess"], false);
        assert.equal(c["publicAccessCidrs"], undefined);
        assert.deepEqual([...(c["enabledClusterLogTypes"] as string[])].sort(), ["api", "audit", "authenticator", "controllerManager", "scheduler"]);
        assert.ok(c["encryptionConfigKeyArn"]);
        assert.equal(c["skipDefaultNodeGroup"], true);
        assert.equal(c["authenticationMode"], "API");
        assert.deepEqual(obj(c["upgradePolicy"]), { supportType: "STANDARD" }, "no extended-support surcharge by default");
      });
    }
  });

  describe("database", () => {
    for (const stack of STACKS) {
      it(`${stack}: one MariaDB instance, encrypted, password managed by RDS, never publicly accessible`, () => {
        const dbs = ofType(ev(stack), "aws:rds/instance:Instance");
        assert.equal(dbs.length, 1);
        const db = dbs[0].inputs;
        assert.equal(db["engine"], "mariadb");
        assert.equal(db["publiclyAccessible"], false);
        assert.equal(db["storageEncrypted"], true);
        assert.equal(db["manageMasterUserPassword"], true);
        assert.equal(db["password"], undefined, "no password input");
      });
    }

    it("multi-AZ, deletion protection and 7+ days of backups only in prod", () => {
      const db = (s: string): Obj => ofType(ev(s), "aws:rds/instance:Instance")[0].inputs;
      assert.deepEqual(STACKS.map((s) => db(s)["multiAz"]), [false, false, true]);
      assert.deepEqual(STACKS.map((s) => db(s)["deletionProtection"]), [false, false, true]);
      assert.ok(Number(db("prod")["backupRetentionPeriod"]) >= 7);
      assert.equal(db("prod")["skipFinalSnapshot"], false);
    });

    for (const stack of STACKS) {
      it(`${stack}: the database security group admits 3306 only from named security groups`, () => {
        const rules = ofType(ev(stack), "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) =>
          String(r.inputs["securityGroupId"]).includes("-db-"),
        );
        assert.ok(rules.length >= 1, "the database admits at least one client");
        for (const rule of rules) {
          assert.equal(rule.inputs["fromPort"], 3306);
          assert.equal(rule.inputs["toPort"], 3306);
          assert.equal(rule.inputs["cidrIpv4"], undefined, `${rule.name} must reference a security group, not a CIDR`);
          assert.ok(rule.inputs["referencedSecurityGroupId"], rule.name);
        }
      });
    }
  });

  describe("bastion", () => {
    it("exists only in prod, as an ASG of min 1 / max 2 across both AZs", () => {
      assert.deepEqual(STACKS.map((s) => ofType(ev(s), "aws:autoscaling/group:Group").length), [0, 0, 1]);
      const asg = ofType(ev("prod"), "aws:autoscaling/group:Group")[0].inputs;
      assert.equal(asg["minSize"], 1);
      assert.equal(asg["maxSize"], 2);
      assert.deepEqual(asg["vpcZoneIdentifiers"], ["prod-vpc-private-ap-northeast-2a", "prod-vpc-private-ap-northeast-2c"]);
    });
  });

  describe("API Gateway + Lambda", () => {
    it("exists in staging only (as shipped)", () => {
      assert.deepEqual(STACKS.map((s) => ofType(ev(s), "aws:apigatewayv2/api:Api").length), [0, 1, 0]);
      assert.deepEqual(STACKS.map((s) => ofType(ev(s), "aws:lambda/function:Function").length), [0, 1, 0]);
    });
  });

  describe("registry", () => {
    it("test owns one ECR repository per service; staging and prod look them up", () => {
      assert.deepEqual(STACKS.map((s) => ofType(ev(s), "aws:ecr/repository:Repository").length), [2, 0, 0]);
      for (const s of ["staging", "prod"]) {
        const lookups = ev(s).invokes.filter((i) => i.token === "aws:ecr/getRepository:getRepository").map((i) => i.inputs["name"]);
        assert.deepEqual(lookups.sort(), ["student", "subject"]);
      }
    });
  });

  describe("IMDSv2", () => {
    for (const stack of STACKS) {
      it(`${stack}: every instance and launch template requires IMDSv2 tokens`, () => {
        const hosts = [...ofType(ev(stack), "aws:ec2/instance:Instance"), ...ofType(ev(stack), "aws:ec2/launchTemplate:LaunchTemplate")];
        for (const h of hosts) {
          assert.equal(obj(h.inputs["metadataOptions"])["httpTokens"], "required", `${h.type} ${h.name}`);
        }
      });
    }
  });

  describe("tags", () => {
    for (const stack of STACKS) {
      it(`${stack}: the stack's AWS provider sets Project, Environment, Stack and ManagedBy as default tags`, () => {
        const providers = ofType(ev(stack), "pulumi:providers:aws");
        assert.equal(providers.length, 1, "one explicit AWS provider per stack");
        const tags = obj(obj(providers[0].inputs["defaultTags"])["tags"]);
        for (const key of REQUIRED_TAG_KEYS) {
          assert.ok(typeof tags[key] === "string" && tags[key] !== "", `default tag ${key} missing`);
        }
        assert.equal(tags["Environment"], stack);
        assert.equal(tags["Stack"], stack);
        assert.equal(tags["Project"], "platform");
        assert.equal(providers[0].inputs["region"], "ap-northeast-2");
      });

      it(`${stack}: every AWS resource is created through that tagged provider`, () => {
        const untagged = awsResources(ev(stack)).filter((r) => !(r.provider ?? "").includes("::platform-aws::"));
        assert.deepEqual(
          untagged.map((r) => `${r.type} ${r.name}`),
          [],
          "these resources would miss the default tags",
        );
        // Remote components (awsx, eks) receive the same provider through their parent's
        // `providers` map; the mock monitor does not expose that map, so only custom resources
        // can be checked here.
      });
    }
  });
});
