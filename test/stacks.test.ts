/**
 * The Environments table of PRODUCT.md, asserted against what each shipped stack declares.
 */
import { strict as assert } from "assert";
import { REQUIRED_TAG_KEYS } from "../infra/providers";
import { DeclaredResource } from "./mocks";
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

describe("environments (PRODUCT.md table)", () => {
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
