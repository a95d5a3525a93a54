/**
 * ALB rule condition limits: 3 values per condition, 5 per rule. The AWS Load Balancer Controller
 * (v2.12.0) does not check them; ELBv2 rejects the rule, and one rule that cannot be created stops
 * the reconcile of the whole IngressGroup, blue/green flips included.
 */
import { strict as assert } from "assert";
import type { ConfigValue } from "../infra/config/defaults";
import { ConfigError, parsePlatformConfig } from "../infra/config/load";
import { conditionBudgetProblems, IngressRules, MAX_VALUES_PER_CONDITION, MAX_VALUES_PER_RULE, ruleConditions, sourceIpBudget } from "../infra/lib/albConditions";
import { evaluateStack, Json, readStackConfig, shippedStack, STACKS, StackConfig } from "./stack";

const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const CIDRS = ["198.51.100.0/24", "192.0.2.0/24", "203.0.113.0/25", "203.0.113.128/25"];

type Obj = { [key: string]: Json };
const at = (c: StackConfig, key: string): Obj => (c[key] ??= {}) as Obj;
const sub = (o: Obj, key: string): Obj => (o[key] ??= {}) as Obj;

/** The three source-CIDR lists, each set to `n` ranges, with ArgoCD exposed. */
function withCidrs(n: number): (c: StackConfig) => void {
  return (c) => {
    Object.assign(at(c, "platform:argocd"), { exposed: true, allowedCidrs: CIDRS.slice(0, n) });
    const observability = at(c, "platform:observability");
    sub(observability, "monitoring")["allowedCidrs"] = CIDRS.slice(0, n);
    sub(observability, "logging")["dashboardsCidrs"] = CIDRS.slice(0, n);
  };
}

function parse(stack: string, mutate: (c: StackConfig) => void): void {
  const config = readStackConfig(stack);
  mutate(config);
  const raw: Record<string, ConfigValue> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k.startsWith("platform:")) {
      raw[k.slice("platform:".length)] = v as ConfigValue;
    }
  }
  parsePlatformConfig(stack, raw, String(config["aws:region"]));
}

function ingress(rules: IngressRules["spec"]["rules"], annotations: Record<string, string> = {}): IngressRules {
  return { metadata: { name: "x", annotations }, spec: { rules } };
}
const sourceIp = (values: string[]): string => JSON.stringify([{ field: "source-ip", sourceIpConfig: { values } }]);

describe("ALB rule condition budget (pure, aws-load-balancer-controller v2.12.0)", () => {
  it("counts host, path patterns by pathType and annotation conditions the way the controller builds them", () => {
    const rules = ruleConditions(
      ingress(
        [
          {
            host: "monitoring.example.com",
            http: {
              paths: [
                { path: "/", pathType: "Prefix", backend: { service: { name: "prom" } } },
                { path: "/api/", pathType: "Prefix", backend: { service: { name: "prom" } } },
                { path: "/exact", pathType: "Exact", backend: { service: { name: "other" } } },
              ],
            },
          },
        ],
        { "alb.ingress.kubernetes.io/conditions.prom": sourceIp(["10.0.0.0/8", "192.0.2.0/24"]) },
      ),
    );
    assert.deepEqual(
      rules.map((r) => r.conditions),
      [
        [{ field: "source-ip", values: ["10.0.0.0/8", "192.0.2.0/24"] }, { field: "host-header", values: ["monitoring.example.com"] }, { field: "path-pattern", values: ["/*"] }],
        [{ field: "source-ip", values: ["10.0.0.0/8", "192.0.2.0/24"] }, { field: "host-header", values: ["monitoring.example.com"] }, { field: "path-pattern", values: ["/api", "/api/*"] }],
        [{ field: "host-header", values: ["monitoring.example.com"] }, { field: "path-pattern", values: ["/exact"] }],
      ],
    );
  });

  it(`allows ${MAX_VALUES_PER_CONDITION} source CIDRs beside a host and "/", ${MAX_VALUES_PER_RULE - 3} beside a host and "/prometheus"`, () => {
    assert.equal(sourceIpBudget({ host: true, path: "/", pathType: "Prefix" }), 3);
    assert.equal(sourceIpBudget({ host: true, path: "/", pathType: "Exact" }), 3);
    assert.equal(sourceIpBudget({ host: true, path: "/prometheus", pathType: "Prefix" }), 2);
    assert.equal(sourceIpBudget({ host: false, path: "/prometheus", pathType: "Prefix" }), 3);
  });

  it("reports the rule and the limit it exceeds, and nothing at the boundary", () => {
    const rule = (cidrs: string[], path = "/"): IngressRules =>
      ingress([{ host: "argocd.example.com", http: { paths: [{ path, pathType: "Prefix", backend: { service: { name: "argocd-server" } } }] } }], {
        "alb.ingress.kubernetes.io/conditions.argocd-server": sourceIp(cidrs),
      });
    assert.deepEqual(conditionBudgetProblems(rule(CIDRS.slice(0, 3))), []);
    assert.deepEqual(conditionBudgetProblems(rule(CIDRS.slice(0, 2), "/prometheus")), []);
    assert.deepEqual(conditionBudgetProblems(rule(CIDRS.slice(0, 4))), [
      'rule argocd.example.com "/" -> argocd-server: source-ip has 4 values (at most 3 per condition); 6 values in the rule (at most 5)',
    ]);
    assert.deepEqual(conditionBudgetProblems(rule(CIDRS.slice(0, 3), "/prometheus")), ['rule argocd.example.com "/prometheus" -> argocd-server: 6 values in the rule (at most 5)']);
  });
});

describe("ALB rule condition budget of every declared Ingress", () => {
  for (const stack of STACKS) {
    it(`${stack}: every Ingress rule stays within 3 values per condition and 5 per rule`, async () => {
      for (const r of (await shippedStack(stack)).resources.filter((x) => x.type === INGRESS)) {
        assert.deepEqual(conditionBudgetProblems(r.inputs as unknown as IngressRules), [], `${stack} ${r.name}`);
      }
    });
  }

  it("prod with ArgoCD, Prometheus and Dashboards each open to 3 ranges (the cap): every rule fits", async () => {
    const ev = await evaluateStack("prod", withCidrs(3));
    const ingresses = ev.resources.filter((x) => x.type === INGRESS);
    const withSourceIp = ingresses.filter((r) => JSON.stringify(r.inputs).includes("source-ip"));
    assert.deepEqual(withSourceIp.map((r) => r.name).sort(), ["prod-argocd-ingress", "prod-log-dashboards-ingress", "prod-monitoring-prometheus-ingress"]);
    for (const r of ingresses) {
      assert.deepEqual(conditionBudgetProblems(r.inputs as unknown as IngressRules), [], r.name);
    }
  });
});

describe("source-CIDR lists are capped in config", () => {
  it("accepts 3 ranges in each list", () => {
    parse("prod", withCidrs(3));
  });

  const keys: Array<[string, string]> = [
    ["platform:argocd.allowedCidrs", "ArgoCD"],
    ["platform:observability.monitoring.allowedCidrs", "Prometheus"],
    ["platform:observability.logging.dashboardsCidrs", "OpenSearch Dashboards"],
  ];
  for (const [key, what] of keys) {
    it(`rejects 4 ranges in ${key}, saying why`, () => {
      try {
        parse("prod", withCidrs(4));
      } catch (err) {
        assert.ok(err instanceof ConfigError, String(err));
        const line = err.message.split("\n").find((l) => l.startsWith(`  - ${key}: `));
        assert.ok(line, err.message);
        assert.ok(line.includes(`lists 4 source ranges for ${what}, but its ALB rule takes at most 3`), line);
        assert.ok(line.includes("3 values per condition, 5 per rule"), line);
        assert.ok(line.includes("stops the whole IngressGroup from reconciling, blue/green flips included"), line);
        assert.ok(line.includes("Fix: aggregate the ranges into at most 3 CIDRs"), line);
        return;
      }
      assert.fail("expected a ConfigError");
    });
  }
});
