/**
 * The blue/green contract: changing one service's `active` color changes nothing but that
 * service's Ingress forward weights (and its preview backend) and its in-cluster Service selector.
 */
import { strict as assert } from "assert";
import type { DeclaredResource } from "./mocks";
import { evaluateStack, Evaluation, Json, readStackConfig } from "./stack";
import { normalise } from "./summary";

type Obj = { [key: string]: Json };

function byKey(ev: Evaluation): Map<string, DeclaredResource> {
  return new Map(ev.resources.map((r) => [`${r.type}::${r.name}`, r]));
}

/** Paths (a.b[0].c) at which two JSON values differ. */
function differences(a: unknown, b: unknown, path = ""): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) {
    return [];
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) =>
      differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], Array.isArray(a) ? `${path}[${k}]` : path === "" ? k : `${path}.${k}`),
    );
  }
  return [path];
}

for (const stack of ["staging", "prod"] as const) {
  const serviceNames = (readStackConfig(stack)["platform:services"] as Obj[]).map((s) => String(s["name"]));
  describe(`flip diff (${stack})`, () => {
    for (const svc of serviceNames) {
      it(`flipping ${svc} changes only ${svc}-ingress (weights, preview backend) and ${svc}-active (selector)`, async () => {
        const withColor = (color: string) =>
          evaluateStack(stack, (c) => {
            for (const s of c["platform:services"] as Obj[]) {
              if (s["name"] === svc) {
                s["active"] = color;
              }
            }
          });
        const blue = byKey(await withColor("blue"));
        const green = byKey(await withColor("green"));
        assert.deepEqual([...blue.keys()].sort(), [...green.keys()].sort(), "a flip must not create or delete resources");

        const changed = new Map<string, string[]>();
        for (const [key, b] of blue) {
          const g = green.get(key);
          assert.ok(g);
          const diff = differences(normalise(b.inputs), normalise(g.inputs));
          if (diff.length > 0) {
            changed.set(key, diff);
          }
        }
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
