/**
 * The blue/green contract: changing one service's `active` color changes nothing but that
 * service's Ingress forward weights (and its preview backend) and its in-cluster Service selector.
 */
import { strict as assert } from "assert";
import type { DeclaredResource } from "../automation/offline/mocks";
import { diffEvaluations, flipDiff, resourceKey } from "../automation/offline/diff";
import { evaluateStack, Json, readStackConfig } from "./stack";
import { normalise } from "../automation/offline/summary";

type Obj = { [key: string]: Json };

for (const stack of ["staging", "prod"] as const) {
  const serviceNames = (readStackConfig(stack)["platform:services"] as Obj[]).map((s) => String(s["name"]));
  describe(`flip diff (${stack})`, () => {
    for (const svc of serviceNames) {
      it(`flipping ${svc} changes only ${svc}-ingress (weights, preview backend) and ${svc}-active (selector)`, async () => {
        const { blue: blueEv, green: greenEv, diff } = await flipDiff(stack, svc);
        assert.deepEqual([diff.added, diff.removed], [[], []], "a flip must not create or delete resources");
        const blue = new Map(blueEv.resources.map((r) => [resourceKey(r), r]));
        const green = new Map(greenEv.resources.map((r) => [resourceKey(r), r]));
        const changed = diff.changed;
        const ingressKey = `kubernetes:networking.k8s.io/v1:Ingress::${svc}-ingress`;
        const activeKey = `kubernetes:core/v1:Service::${svc}-active`;
        assert.deepEqual([...changed.keys()].sort(), [ingressKey, activeKey].sort(), `changed: ${JSON.stringify([...changed])}`);

        const actionKey = `metadata.annotations.alb.ingress.kubernetes.io/actions.${svc}-live`;
        for (const path of changed.get(ingressKey) ?? []) {
          assert.ok(
            path.startsWith(`${actionKey}.ForwardConfig.TargetGroups[`) && path.endsWith("].Weight") ||
              /^spec\.rules\[1\]\.http\.paths\[\d+\]\.backend\.service\.name$/.test(path),
            `unexpected Ingress change at ${path}`,
          );
        }
        assert.deepEqual(changed.get(activeKey), ["spec.selector.platform.io/color"]);

        // And the weights really are 100/0 and 0/100.
        const weights = (m: Map<string, DeclaredResource>): number[] => {
          const ingress = m.get(ingressKey);
          assert.ok(ingress);
          const ann = (normalise(ingress.inputs) as { metadata: { annotations: Record<string, { ForwardConfig: { TargetGroups: Array<{ Weight: number }> } }> } })
            .metadata.annotations[`alb.ingress.kubernetes.io/actions.${svc}-live`];
          return ann.ForwardConfig.TargetGroups.map((t) => t.Weight);
        };
        assert.deepEqual(weights(blue), [100, 0]);
        assert.deepEqual(weights(green), [0, 100]);
      });
    }
  });
}

/** Sets `<color>.parked` of `service` in the stack config. */
function parking(service: string, color: "blue" | "green", parked: boolean): (config: { [key: string]: Json }) => void {
  return (config) => {
    const entry = (config["platform:services"] as Obj[]).find((s) => s["name"] === service);
    assert.ok(entry !== undefined, `no service ${service}`);
    const spec = entry[color] as Obj;
    if (parked) {
      spec["parked"] = true;
    } else {
      delete spec["parked"];
    }
  };
}

describe("parked colors (staging)", () => {
  const services = readStackConfig("staging")["platform:services"] as Obj[];
  const [first, second] = services;
  assert.ok(first !== undefined && second !== undefined, "staging declares two services");
  const other = String(second["name"]);
  const otherIdle = second["active"] === "blue" ? "green" : "blue";

  it("a parked color stays parked when another service flips: the flip still changes only the Ingress and the active Service", async () => {
    const svc = String(first["name"]);
    const { diff } = await flipDiff("staging", svc, parking(other, otherIdle, true));
    assert.deepEqual([diff.added, diff.removed], [[], []]);
    assert.deepEqual(
      [...diff.changed.keys()].sort(),
      [`kubernetes:core/v1:Service::${svc}-active`, `kubernetes:networking.k8s.io/v1:Ingress::${svc}-ingress`].sort(),
    );
  });

  it("parking the idle color scales its Deployment to 0 and removes its HPA, nothing else", async () => {
    const warm = await evaluateStack("staging");
    const parked = await evaluateStack("staging", parking(other, otherIdle, true));
    const diff = diffEvaluations(warm, parked);
    assert.deepEqual(diff.added, []);
    assert.deepEqual(diff.removed, [`kubernetes:autoscaling/v2:HorizontalPodAutoscaler::${other}-${otherIdle}`]);
    assert.deepEqual([...diff.changed], [[`kubernetes:apps/v1:Deployment::${other}-${otherIdle}`, ["spec.replicas"]]]);
    const deployment = parked.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment" && r.name === `${other}-${otherIdle}`);
    assert.equal((deployment?.inputs["spec"] as Obj | undefined)?.["replicas"], 0);
  });
});
