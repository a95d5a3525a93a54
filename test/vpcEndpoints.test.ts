/**
 * Image pulls without the NAT: an S3 gateway endpoint (ECR serves layers from S3; no hourly
 * charge) on the private route tables of staging and prod, and ECR interface endpoints in prod.
 */
import { strict as assert } from "assert";
import type { ConfigValue } from "../infra/config/defaults";
import { ConfigError, parsePlatformConfig } from "../infra/config/load";
import { Evaluation, Json, named, ofType, readStackConfig, shippedStack, StackConfig } from "./stack";

const ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint";
type Obj = { [key: string]: Json };

function parse(stack: string, mutate: (network: Obj) => void): void {
  const config: StackConfig = readStackConfig(stack);
  mutate(config["platform:network"] as Obj);
  const raw: Record<string, ConfigValue> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k.startsWith("platform:")) {
      raw[k.slice("platform:".length)] = v as ConfigValue;
    }
  }
  parsePlatformConfig(stack, raw, String(config["aws:region"]));
}

function rejects(stack: string, mutate: (network: Obj) => void, key: string, fragments: string[]): void {
  try {
    parse(stack, mutate);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    const line = err.message.split("\n").find((l) => l.startsWith(`  - ${key}: `));
    assert.ok(line, err.message);
    for (const f of fragments) {
      assert.ok(line.includes(f), `expected ${JSON.stringify(f)} in ${line}`);
    }
    return;
  }
  assert.fail("expected a ConfigError");
}

describe("VPC endpoints", () => {
  let staging: Evaluation;
  let prod: Evaluation;
  before(async () => {
    staging = await shippedStack("staging");
    prod = await shippedStack("prod");
  });

  it("test (public subnets, no NAT) declares none", async () => {
    assert.deepEqual(ofType(await shippedStack("test"), ENDPOINT), []);
  });

  for (const stack of ["staging", "prod"] as const) {
    it(`${stack}: an S3 gateway endpoint on the route tables of the private subnets`, () => {
      const ev = stack === "staging" ? staging : prod;
      const s3 = named(ev, ENDPOINT, `${stack}-s3`).inputs;
      assert.equal(s3["vpcEndpointType"], "Gateway");
      assert.equal(s3["serviceName"], "com.amazonaws.ap-northeast-2.s3");
      assert.equal(s3["vpcId"], `${stack}-vpc-vpc-id`);
      assert.deepEqual(s3["routeTableIds"], [`rtb-${stack}-vpc-private-ap-northeast-2a`, `rtb-${stack}-vpc-private-ap-northeast-2c`]);
    });
  }

  it("staging: no interface endpoints (one NAT; their hourly charge per AZ outweighs the manifests they carry)", () => {
    assert.deepEqual(ofType(staging, ENDPOINT).map((e) => e.name), ["staging-s3"]);
  });

  it("prod: ecr.api and ecr.dkr interface endpoints with private DNS in the private subnets, HTTPS from the VPC only", () => {
    for (const service of ["ecr.api", "ecr.dkr"]) {
      const e = named(prod, ENDPOINT, `prod-${service.replace(".", "-")}`).inputs;
      assert.equal(e["vpcEndpointType"], "Interface");
      assert.equal(e["serviceName"], `com.amazonaws.ap-northeast-2.${service}`);
      assert.equal(e["privateDnsEnabled"], true);
      assert.deepEqual(e["subnetIds"], ["prod-vpc-private-ap-northeast-2a", "prod-vpc-private-ap-northeast-2c"]);
      assert.deepEqual(e["securityGroupIds"], ["prod-endpoints-sg-id"]);
    }
    const rules = ofType(prod, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.inputs["securityGroupId"] === "prod-endpoints-sg-id");
    assert.deepEqual(
      rules.map((r) => [r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"]]),
      [["tcp", 443, 443, "10.30.0.0/16"]],
    );
    assert.deepEqual(ofType(prod, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").filter((r) => r.inputs["securityGroupId"] === "prod-endpoints-sg-id"), []);
  });

  it("rejects endpoints in a stack without private subnets", () => {
    rejects("test", (n) => (n["vpcEndpoints"] = { s3Gateway: true, interface: [] }), "platform:network.vpcEndpoints", [
      "network.privateSubnets is false",
      "Fix: leave network.vpcEndpoints off",
    ]);
  });

  it("rejects ECR interface endpoints without both ECR endpoints and the S3 gateway (layers would still cross the NAT)", () => {
    rejects("prod", (n) => (n["vpcEndpoints"] = { s3Gateway: false, interface: ["ecr.api", "ecr.dkr"] }), "platform:network.vpcEndpoints.s3Gateway", [
      "ECR serves image layers from S3",
    ]);
    rejects("prod", (n) => (n["vpcEndpoints"] = { s3Gateway: true, interface: ["ecr.dkr"] }), "platform:network.vpcEndpoints.interface", [
      "ecr.dkr without ecr.api",
    ]);
  });

  it("rejects an interface endpoint the platform does not know", () => {
    rejects("prod", (n) => (n["vpcEndpoints"] = { s3Gateway: true, interface: ["ecr.api", "ecr.dkr", "ec2"] }), "platform:network.vpcEndpoints.interface[2]", ["Fix: use one of"]);
  });
});
