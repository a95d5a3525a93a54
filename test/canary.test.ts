/**
 * The canary's program side: the pure schedule checks and weights (infra/lib/canary.ts), and what
 * the program declares for an intermediate step (`services[].canaryWeight`): only the service's
 * live forward action changes, while the in-cluster Service and the preview rule stay where they
 * are until the final step, which is the ordinary flip.
 */
import { strict as assert } from "assert";
import { colorWeights, forwardAction } from "../infra/lib/bluegreen";
import { CANARY_DEFAULTS, isCanaryWeight, liveWeights, normaliseRollout, stepProblems, stepSecondsProblem } from "../infra/lib/canary";
import { diffEvaluations, resourceKey } from "../automation/offline/diff";
import { normalise } from "../automation/offline/summary";
import { evaluateStack, Json, settleProgram, readStackConfig } from "./stack";

type Obj = { [key: string]: Json };

describe("canary schedule and weights (pure)", () => {
  const stepCases: Array<[string, readonly number[], readonly RegExp[]]> = [
    ["the default", CANARY_DEFAULTS.steps, []],
    ["one step", [50], []],
    ["the edges 1 and 99", [1, 99], []],
    ["no steps", [], [/has no steps/]],
    ["0", [0, 10], [/step 1 is 0: each step is a whole percent from 1 to 99/]],
    ["100 (the switch itself)", [10, 100], [/step 2 is 100/]],
    ["a fraction", [2.5], [/step 1 is 2.5/]],
    ["equal steps", [10, 10], [/step 2 \(10\) is not above step 1 \(10\)/]],
    ["a decrease", [5, 50, 25], [/step 3 \(25\) is not above step 2 \(50\)/]],
  ];
  for (const [label, steps, expected] of stepCases) {
    it(`steps: ${label}`, () => {
      const problems = stepProblems(steps);
      assert.equal(problems.length, expected.length, problems.join("; "));
      expected.forEach((re, i) => assert.match(problems[i] ?? "", re));
    });
  }

  const windowCases: Array<[number, boolean]> = [
    [60, true],
    [300, true],
    [3600, true],
    [0, false],
    [59, false],
    [90, false],
    [3660, false],
    [120.5, false],
  ];
  for (const [seconds, ok] of windowCases) {
    it(`stepSeconds ${seconds} is ${ok ? "usable" : "refused"}`, () => {
      assert.equal(stepSecondsProblem(seconds) === undefined, ok);
    });
  }

  it("a canary weight is a whole percent from 1 to 99", () => {
    assert.deepEqual([0, 1, 50, 99, 100, 12.5].map(isCanaryWeight), [false, true, true, true, false, false]);
  });

  it("weights: the idle color takes the canary weight, the active one the rest", () => {
    assert.deepEqual(liveWeights("blue"), { blue: 100, green: 0 });
    assert.deepEqual(liveWeights("blue", 25), { blue: 75, green: 25 });
    assert.deepEqual(liveWeights("green", 5), { blue: 5, green: 95 });
    assert.deepEqual(colorWeights("green", 50), { blue: 50, green: 50 });
    const action = forwardAction("student", 8080, "blue", 10) as { ForwardConfig: { TargetGroups: Array<{ ServiceName: string; Weight: number }> } };
    assert.deepEqual(action.ForwardConfig.TargetGroups.map((t) => [t.ServiceName, t.Weight]), [["student-blue", 90], ["student-green", 10]]);
  });

  it("an unset rollout is blue/green; a canary fills what it leaves out from the defaults", () => {
    assert.deepEqual(normaliseRollout(undefined), { strategy: "blueGreen" });
    assert.deepEqual(normaliseRollout({ strategy: "canary", analysis: { minRequests: 20 } }), {
      strategy: "canary",
      steps: [10, 50],
      stepSeconds: 300,
      analysis: { ...CANARY_DEFAULTS.analysis, minRequests: 20 },
    });
  });
});

/** Sets `services[name=service].<key>` (undefined removes it). */
function setting(service: string, key: string, value: Json | undefined): (config: Obj) => void {
  return (config) => {
    const entry = (config["platform:services"] as Obj[]).find((s) => s["name"] === service);
    assert.ok(entry !== undefined, `no service ${service}`);
    if (value === undefined) {
      delete entry[key];
    } else {
      entry[key] = value;
    }
  };
}

function liveTargetGroups(ev: { resources: ReadonlyArray<{ type: string; name: string; inputs: Record<string, unknown> }> }, svc: string): Array<[string, number]> {
  const ingress = ev.resources.find((r) => resourceKey(r) === `kubernetes:networking.k8s.io/v1:Ingress::${svc}-ingress`);
  assert.ok(ingress);
  const ann = (normalise(ingress.inputs) as { metadata: { annotations: Record<string, { ForwardConfig: { TargetGroups: Array<{ ServiceName: string; Weight: number }> } }> } }).metadata
    .annotations[`alb.ingress.kubernetes.io/actions.${svc}-live`];
  return ann.ForwardConfig.TargetGroups.map((t) => [t.ServiceName, t.Weight]);
}

describe("a canary step in the program (prod)", () => {
  const services = readStackConfig("prod")["platform:services"] as Obj[];
  const svc = String(services[0]?.["name"]);
  const active = services[0]?.["active"] === "green" ? "green" : "blue";
  const idle = active === "blue" ? "green" : "blue";

  it(`canaryWeight 25 changes only ${svc}'s live forward action: the weights, nothing else`, async () => {
    const shipped = await evaluateStack("prod");
    const step = await evaluateStack("prod", setting(svc, "canaryWeight", 25));
    const diff = diffEvaluations(shipped, step);
    assert.deepEqual([diff.added, diff.removed], [[], []]);
    const ingressKey = `kubernetes:networking.k8s.io/v1:Ingress::${svc}-ingress`;
    assert.deepEqual([...diff.changed.keys()], [ingressKey], "not the in-cluster Service, not the preview rule, nothing else");
    for (const path of diff.changed.get(ingressKey) ?? []) {
      assert.match(path, new RegExp(`^metadata\\.annotations\\.alb\\.ingress\\.kubernetes\\.io/actions\\.${svc}-live\\.ForwardConfig\\.TargetGroups\\[\\d\\]\\.Weight$`));
    }
    assert.deepEqual(liveTargetGroups(step, svc), [
      [`${svc}-blue`, active === "blue" ? 75 : 25],
      [`${svc}-green`, active === "green" ? 75 : 25],
    ]);
    assert.equal(
      (step.outputs["services"] as Obj[]).find((s) => s["name"] === svc)?.["canaryWeight"],
      25,
      "the outputs say the update ran mid-rollout (status reads it)",
    );
    assert.equal((shipped.outputs["services"] as Obj[]).find((s) => s["name"] === svc)?.["canaryWeight"], undefined, "and say nothing otherwise");
  });

  it("the final step (active to the new color, the weight removed) is the ordinary flip: weights, preview backend, selector", async () => {
    const atFifty = await evaluateStack("prod", setting(svc, "canaryWeight", 50));
    const switched = await evaluateStack("prod", (c) => {
      setting(svc, "active", idle)(c);
    });
    const diff = diffEvaluations(atFifty, switched);
    assert.deepEqual([...diff.changed.keys()].sort(), [`kubernetes:core/v1:Service::${svc}-active`, `kubernetes:networking.k8s.io/v1:Ingress::${svc}-ingress`].sort());
    assert.deepEqual(liveTargetGroups(switched, svc).map(([, w]) => w), idle === "green" ? [0, 100] : [100, 0]);
  });

  it("the component refuses a canary weight to a color without pods (a caller that skips the config check)", async () => {
    const { error } = await settleProgram("staging", readStackConfig("staging"), async () => {
      const { BlueGreenService } = await import("../infra/apps/blueGreenService");
      const { AppNamespace } = await import("../infra/apps/appNamespace");
      const { normaliseService } = await import("../infra/config/schema/services");
      new BlueGreenService("x", {
        service: normaliseService({ name: "x", port: 8080, healthPath: "/health", paths: ["/"], active: "blue", blue: { image: "r/x:1" }, green: {}, canaryWeight: 10 }),
        namespace: new AppNamespace("x-apps", { name: "apps" }),
        liveHost: "example.com",
        previewHost: "preview.example.com",
        ingressGroupName: "g",
        ingressOrder: 10,
        ingressGroupAnnotations: {},
        nodeGroup: { name: "general", taints: [] },
      });
      return {};
    });
    assert.match(String(error), /service "x": canaryWeight 10 sends traffic to green, which has no image or is parked/);
  });
});
