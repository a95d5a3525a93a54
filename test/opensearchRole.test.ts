/**
 * The OpenSearch service-linked role: a VPC domain cannot be created without
 * AWSServiceRoleForAmazonOpenSearchService, which only the console creates by itself. Exactly one
 * shipped stack creates it per account, and that stack's domain waits for it.
 */
import { strict as assert } from "assert";
import { parsePlatformConfig } from "../infra/config/load";
import type { ConfigValue } from "../infra/config/defaults";
import { LogStore } from "../infra/logging/opensearch";
import { declare, evaluateStack, Json, named, ofType, optionsOf, readStackConfig, shippedStack, STACKS } from "./stack";

const SLR = "aws:iam/serviceLinkedRole:ServiceLinkedRole";
const DOMAIN = "aws:opensearch/domain:Domain";

function parse(stack: string, edit?: (logging: { [key: string]: Json }) => void): ReturnType<typeof parsePlatformConfig> {
  const config = readStackConfig(stack);
  const observability = (config["platform:observability"] ??= {}) as { [key: string]: { [key: string]: Json } };
  const logging = (observability["logging"] ??= {});
  edit?.(logging);
  const raw: Record<string, ConfigValue> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k.startsWith("platform:")) {
      raw[k.slice("platform:".length)] = v as ConfigValue;
    }
  }
  return parsePlatformConfig(stack, raw, String(config["aws:region"]));
}

describe("OpenSearch service-linked role", () => {
  it("is created by exactly one shipped stack: staging, the first stack with logging in the deploy order", () => {
    const creators = STACKS.filter((s) => parse(s).observability.logging.createServiceLinkedRole);
    assert.deepEqual(creators, ["staging"]);
  });

  for (const stack of STACKS) {
    it(`${stack}: declares the role ${stack === "staging" ? "once, in its log store" : "not at all"}`, async () => {
      const roles = ofType(await shippedStack(stack), SLR);
      if (stack !== "staging") {
        assert.deepEqual(roles, []);
        return;
      }
      assert.equal(roles.length, 1);
      assert.equal(roles[0].inputs["awsServiceName"], "opensearchservice.amazonaws.com");
      assert.equal(roles[0].parentType, "platform:logging:LogStore");
    });
  }

  it("the domain depends on the role it needs (and still on its log resource policy); the role outlives the stack", async () => {
    for (const create of [true, false]) {
      const ev = await declare(() => {
        const store = new LogStore("staging-logs", {
          vpcId: "vpc-1",
          subnetIds: ["subnet-a", "subnet-c"],
          clientSecurityGroupId: "sg-nodes",
          domainName: "platform-staging-logs",
          engineVersion: "OpenSearch_2.19",
          instanceType: "t3.small.search",
          instanceCount: 1,
          volumeGb: 20,
          createServiceLinkedRole: create,
        });
        return { endpoint: store.endpoint };
      }, "staging");
      assert.equal(ofType(ev, SLR).length, create ? 1 : 0);
      if (create) {
        assert.equal(
          optionsOf(ev, SLR, "staging-logs-service-linked-role").retainOnDelete,
          true,
          "destroying this stack must not pull the role from under another stack's domain",
        );
      }
      assert.ok(named(ev, DOMAIN, "staging-logs-domain"));
      assert.deepEqual(
        [...optionsOf(ev, DOMAIN, "staging-logs-domain").dependsOn].sort(),
        create
          ? ["aws:cloudwatch/logResourcePolicy:LogResourcePolicy::staging-logs-logs-policy", `${SLR}::staging-logs-service-linked-role`]
          : ["aws:cloudwatch/logResourcePolicy:LogResourcePolicy::staging-logs-logs-policy"],
      );
    }
  });

  it("acts only beside a domain: staging with logging off declares no role", async () => {
    const ev = await evaluateStack("staging", (c) => {
      const observability = (c["platform:observability"] ??= {}) as { [key: string]: { [key: string]: Json } };
      observability["logging"] = { ...(observability["logging"] ?? {}), enabled: false };
    });
    assert.deepEqual(ofType(ev, SLR), []);
  });

  it("can be turned off where the account already has the role", () => {
    assert.equal(parse("staging", (logging) => (logging["createServiceLinkedRole"] = false)).observability.logging.createServiceLinkedRole, false);
  });
});
