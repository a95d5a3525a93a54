/** The Route 53 health check's alarm notifies someone: an SNS topic beside it, in us-east-1. */
import { strict as assert } from "assert";
import type { ConfigValue } from "../infra/config/defaults";
import { ConfigError, parsePlatformConfig } from "../infra/config/load";
import { evaluateStack, Json, named, ofType, readStackConfig, shippedStack } from "./stack";

const TOPIC = "aws:sns/topic:Topic";
const POLICY = "aws:sns/topicPolicy:TopicPolicy";
const SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
type Obj = Record<string, unknown>;

describe("Route 53 health alarm notifications", () => {
  for (const stack of ["staging", "prod"] as const) {
    it(`${stack}: the alarm notifies an SNS topic in us-east-1 (where Route 53 metrics and so the alarm live), on alarm and on recovery`, async () => {
      const ev = await shippedStack(stack);
      const topic = named(ev, TOPIC, `${stack}-health-alarms`).inputs;
      assert.equal(topic["region"], "us-east-1");
      const topicArn = `arn:aws:sns:ap-northeast-2:123456789012:topic/${stack}-health-alarms`;
      const alarm = named(ev, ALARM, `${stack}-health`).inputs;
      assert.deepEqual(alarm["alarmActions"], [topicArn]);
      assert.deepEqual(alarm["okActions"], [topicArn]);
      assert.deepEqual(ofType(ev, SUBSCRIPTION), [], "no subscriber configured in the shipped stacks");
    });
  }

  it("only this account's CloudWatch alarms may publish to the topic", async () => {
    const policy = named(await shippedStack("prod"), POLICY, "prod-health-alarms").inputs;
    assert.equal(policy["region"], "us-east-1");
    const doc = JSON.parse(String(policy["policy"])) as { Statement: Obj[] };
    assert.equal(doc.Statement.length, 1);
    const [s] = doc.Statement;
    assert.deepEqual(s["Principal"], { Service: ["cloudwatch.amazonaws.com"] });
    assert.deepEqual(s["Action"], ["sns:Publish"]);
    assert.deepEqual(s["Resource"], ["arn:aws:sns:ap-northeast-2:123456789012:topic/prod-health-alarms"]);
    assert.deepEqual(s["Condition"], {
      StringEquals: { "aws:SourceAccount": ["123456789012"] },
      ArnLike: { "aws:SourceArn": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"] },
    });
  });

  it("subscribes the configured addresses by email", async () => {
    const ev = await evaluateStack("prod", (c) => {
      (c["platform:edge"] as { [k: string]: Json })["alarmEmails"] = ["oncall@karina-univ.com"];
    });
    const subs = ofType(ev, SUBSCRIPTION);
    assert.equal(subs.length, 1);
    assert.equal(subs[0].inputs["protocol"], "email");
    assert.equal(subs[0].inputs["endpoint"], "oncall@karina-univ.com");
    assert.equal(subs[0].inputs["region"], "us-east-1");
    assert.equal(subs[0].inputs["topic"], "arn:aws:sns:ap-northeast-2:123456789012:topic/prod-health-alarms");
  });

  it("rejects an address that is not an email address", () => {
    const config = readStackConfig("prod");
    (config["platform:edge"] as { [k: string]: Json })["alarmEmails"] = ["oncall"];
    const raw: Record<string, ConfigValue> = {};
    for (const [k, v] of Object.entries(config)) {
      if (k.startsWith("platform:")) {
        raw[k.slice("platform:".length)] = v as ConfigValue;
      }
    }
    assert.throws(
      () => parsePlatformConfig("prod", raw, "ap-northeast-2"),
      (err: unknown) => err instanceof ConfigError && /platform:edge\.alarmEmails\[0\]: .*\(value: "oncall"\)/.test(err.message),
    );
  });
});
