import { strict as assert } from "assert";
import { WebAcl } from "../infra/edge/webAcl";
import { declare, Evaluation, evaluateStack, list, named, obj, ofType } from "./stack";
import { DEFAULT_COUNTED_ANONYMOUS_RULES, DEFAULT_COUNTED_COMMON_RULES, MANAGED_RULE_GROUPS, metricName, RATE_LIMIT_RULE, webAclRules } from "../infra/lib/waf";

const T = {
  acl: "aws:wafv2/webAcl:WebAcl",
  logging: "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  logPolicy: "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
  association: "aws:wafv2/webAclAssociation:WebAclAssociation",
} as const;


describe("WAF rules (pure)", () => {
  const rules = webAclRules({ rateLimitPer5Min: 2000, metricPrefix: "prod" });

  it("evaluates IP reputation, anonymous IPs, core rules, known bad inputs, then the rate limit", () => {
    assert.deepEqual(
      rules.map((r) => r.name),
      [
        "AWS-AWSManagedRulesAmazonIpReputationList",
        "AWS-AWSManagedRulesAnonymousIpList",
        "AWS-AWSManagedRulesCommonRuleSet",
        "AWS-AWSManagedRulesKnownBadInputsRuleSet",
        RATE_LIMIT_RULE,
      ],
    );
    const priorities = rules.map((r) => Number(r.priority));
    assert.deepEqual(priorities, [...priorities].sort((a, b) => a - b), "priorities follow the list order");
    assert.equal(new Set(priorities).size, priorities.length, "priorities are unique");
  });

  const managedCases: Array<{ group: (typeof MANAGED_RULE_GROUPS)[number]; overrides: string[] }> = [
    { group: "AWSManagedRulesAmazonIpReputationList", overrides: [] },
    // Hosting-provider addresses (cloud NATs, CI runners running the driver's health gates) are
    // counted, not blocked; VPNs, proxies and Tor (AnonymousIPList) stay blocked.
    { group: "AWSManagedRulesAnonymousIpList", overrides: ["HostingProviderIPList"] },
    { group: "AWSManagedRulesCommonRuleSet", overrides: ["SizeRestrictions_BODY"] },
    { group: "AWSManagedRulesKnownBadInputsRuleSet", overrides: [] },
  ];
  for (const c of managedCases) {
    it(`${c.group}: AWS managed group, group actions kept (override none), counted rules ${JSON.stringify(c.overrides)}`, () => {
      const rule = rules.find((r) => r.name === `AWS-${c.group}`);
      assert.ok(rule !== undefined);
      assert.deepEqual(rule.overrideAction, { none: {} });
      assert.equal(rule.action, undefined, "rule-group statements take an override action, never an action");
      const statement = obj(obj(rule.statement)["managedRuleGroupStatement"]);
      assert.equal(statement["vendorName"], "AWS");
      assert.equal(statement["name"], c.group);
      const overrides = (statement["ruleActionOverrides"] as Array<{ name: string; actionToUse: unknown }> | undefined) ?? [];
      assert.deepEqual(
        overrides.map((o) => o.name),
        c.overrides,
      );
      for (const o of overrides) {
        assert.deepEqual(o.actionToUse, { count: {} });
      }
      assert.deepEqual(rule.visibilityConfig, { cloudwatchMetricsEnabled: true, metricName: `prod-${c.group}`, sampledRequestsEnabled: true });
    });
  }

  it("counts only the 8 KB body limit by default (image uploads), and nothing when told so", () => {
    assert.deepEqual([...DEFAULT_COUNTED_COMMON_RULES], ["SizeRestrictions_BODY"]);
    const strict = webAclRules({ rateLimitPer5Min: 2000, metricPrefix: "prod", countedCommonRules: [] });
    const common = obj(obj(strict.find((r) => r.name === "AWS-AWSManagedRulesCommonRuleSet")?.statement)["managedRuleGroupStatement"]);
    assert.equal(common["ruleActionOverrides"], undefined);
  });

  it("counts only HostingProviderIPList of the anonymous IP list by default, so AnonymousIPList keeps blocking", () => {
    assert.deepEqual([...DEFAULT_COUNTED_ANONYMOUS_RULES], ["HostingProviderIPList"]);
    const strict = webAclRules({ rateLimitPer5Min: 2000, metricPrefix: "prod", countedAnonymousRules: [] });
    const anonymous = obj(obj(strict.find((r) => r.name === "AWS-AWSManagedRulesAnonymousIpList")?.statement)["managedRuleGroupStatement"]);
    assert.equal(anonymous["ruleActionOverrides"], undefined);
  });

  it("rejects a misspelt counted rule name before AWS sees it", () => {
    assert.throws(
      () => webAclRules({ rateLimitPer5Min: 2000, metricPrefix: "prod", countedAnonymousRules: ["HostingProviderIpList"] }),
      /"HostingProviderIpList" is not a rule of AWSManagedRulesAnonymousIpList \(its rules: AnonymousIPList, HostingProviderIPList\)/,
    );
  });

  it("blocks an IP over the limit per 5 minutes with 429, aggregated by source IP", () => {
    const rule = rules.find((r) => r.name === RATE_LIMIT_RULE);
    assert.ok(rule !== undefined);
    assert.deepEqual(rule.action, { block: { customResponse: { responseCode: 429 } } });
    assert.deepEqual(obj(rule.statement)["rateBasedStatement"], { limit: 2000, evaluationWindowSec: 300, aggregateKeyType: "IP" });
    assert.equal(obj(rule.visibilityConfig)["metricName"], `prod-${RATE_LIMIT_RULE}`);
  });

  const badLimits: Array<[string, number]> = [
    ["below WAF's minimum", 9],
    ["zero", 0],
    ["fractional", 100.5],
    ["above WAF's maximum", 2_000_000_001],
  ];
  for (const [why, limit] of badLimits) {
    it(`rejects a rate limit ${why} (${limit})`, () => {
      assert.throws(() => webAclRules({ rateLimitPer5Min: limit, metricPrefix: "prod" }), /outside WAF's 10 - 2,000,000,000/);
    });
  }

  const metricCases: Array<[string, string, string]> = [
    ["prod", "rate-limit-per-ip", "prod-rate-limit-per-ip"],
    ["platform.prod", "AWSManagedRulesCommonRuleSet", "platform-prod-AWSManagedRulesCommonRuleSet"],
    ["a b", "c/d", "a-b-c-d"],
  ];
  for (const [prefix, rule, expected] of metricCases) {
    it(`metric name of ${prefix} + ${rule} is ${expected}`, () => {
      assert.equal(metricName(prefix, rule), expected);
    });
  }
});

describe("WebAcl (prod stack)", () => {
  let ev: Evaluation;
  before(async () => {
    ev = await evaluateStack("prod");
  });

  it("declares one REGIONAL web ACL that allows by default and carries the rule list", () => {
    const acls = ofType(ev, T.acl);
    assert.equal(acls.length, 1);
    const acl = acls[0].inputs;
    assert.equal(acl["scope"], "REGIONAL");
    assert.deepEqual(acl["defaultAction"], { allow: {} });
    assert.equal(acl["name"], undefined, "autonamed, so a replacement can be created before the old ACL is deleted");
    const rules = list(acl["rules"]).map(obj);
    assert.deepEqual(
      rules.map((r) => [r["name"], r["priority"]]),
      webAclRules({ rateLimitPer5Min: 2000, metricPrefix: "prod-waf" }).map((r) => [r.name, r.priority]),
    );
    const anonymous = obj(obj(rules.find((r) => r["name"] === "AWS-AWSManagedRulesAnonymousIpList")?.["statement"])["managedRuleGroupStatement"]);
    assert.deepEqual(anonymous["ruleActionOverrides"], [{ name: "HostingProviderIPList", actionToUse: { count: {} } }], "the declared ACL counts hosting-provider addresses");
    const rate = obj(obj(rules[rules.length - 1]["statement"])["rateBasedStatement"]);
    assert.equal(rate["limit"], 2000, "the prod stack's waf.rateLimitPer5Min");
    assert.deepEqual(acl["visibilityConfig"], { cloudwatchMetricsEnabled: true, metricName: "prod-waf-web-acl", sampledRequestsEnabled: true });
  });

  it("logs to a CloudWatch log group named aws-waf-logs-*, with the stack's retention", () => {
    const group = named(ev, T.logGroup, "prod-waf-waf-logs").inputs;
    assert.match(String(group["name"]), /^aws-waf-logs-/);
    assert.equal(group["retentionInDays"], 90);
    const logging = named(ev, T.logging, "prod-waf-logging").inputs;
    assert.deepEqual(logging["logDestinationConfigs"], ["arn:aws:cloudwatch:ap-northeast-2:123456789012:loggroup/prod-waf-waf-logs"]);
    assert.equal(logging["resourceArn"], "arn:aws:wafv2:ap-northeast-2:123456789012:webacl/prod-waf-acl");
  });

  it("redacts the Authorization and Cookie headers from the logs", () => {
    const logging = named(ev, T.logging, "prod-waf-logging").inputs;
    assert.deepEqual(list(logging["redactedFields"]), [{ singleHeader: { name: "authorization" } }, { singleHeader: { name: "cookie" } }]);
  });

  it("keeps only blocked and counted requests in the logs by default", () => {
    const filter = obj(named(ev, T.logging, "prod-waf-logging").inputs["loggingFilter"]);
    assert.equal(filter["defaultBehavior"], "DROP");
    const [only] = list(filter["filters"]).map(obj);
    assert.equal(only["behavior"], "KEEP");
    assert.deepEqual(
      list(only["conditions"]).map((c) => obj(obj(c)["actionCondition"])["action"]),
      ["BLOCK", "COUNT", "EXCLUDED_AS_COUNT"],
    );
  });

  it("lets only the log delivery service write the WAF log group, for this account", () => {
    const doc = obj(JSON.parse(String(named(ev, T.logPolicy, "prod-waf-waf-logs").inputs["policyDocument"])));
    const [statement] = list(doc["Statement"]).map(obj);
    assert.deepEqual(statement["Principal"], { Service: ["delivery.logs.amazonaws.com"] });
    assert.deepEqual(statement["Action"], ["logs:CreateLogStream", "logs:PutLogEvents"]);
    assert.deepEqual(statement["Resource"], ["arn:aws:cloudwatch:ap-northeast-2:123456789012:loggroup/prod-waf-waf-logs:*"]);
    assert.deepEqual(obj(statement["Condition"])["StringEquals"], { "aws:SourceAccount": ["123456789012"] });
  });

  it("exports the web ACL's ARN", () => {
    assert.equal(obj(ev.outputs["edge"])["webAclArn"], "arn:aws:wafv2:ap-northeast-2:123456789012:webacl/prod-waf-acl");
  });

  it("logs every request when logAllRequests is set", async () => {
    // A component argument the stack config does not set: the component with explicit args.
    const all = await declare(() => {
      new WebAcl("prod-waf", { rateLimitPer5Min: 2000, logAllRequests: true });
      return {};
    });
    assert.equal(named(all, T.logging, "prod-waf-logging").inputs["loggingFilter"], undefined);
  });

  it("is associated with the test stack's own ALB through TestHost's webAclArn", async () => {
    const test = await evaluateStack("test", (c) => {
      c["platform:waf"] = { enabled: true };
    });
    const association = named(test, T.association, "test-host-waf").inputs;
    assert.equal(association["webAclArn"], "arn:aws:wafv2:ap-northeast-2:123456789012:webacl/test-waf-acl");
    assert.match(String(association["resourceArn"]), /loadbalancer\/test-host-alb$/);
  });
});
