/**
 * The blue/green contract: changing one service's `active` color changes nothing but that
 * service's Ingress forward weights (and its preview backend) and its in-cluster Service selector.
 */
import { strict as assert } from "assert";
import type { DeclaredResource } from "../automation/offline/mocks";
import { diffEvaluations, flipDiff, resourceKey } from "../automation/offline/diff";
import { evaluateStack, Json, readStackConfig, settleProgram, settleStack } from "./stack";
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

  it("parking the idle color removes its Deployment, HPA and PDB (its Service and target group stay), nothing else", async () => {
    const warm = await evaluateStack("staging");
    const parked = await evaluateStack("staging", parking(other, otherIdle, true));
    const diff = diffEvaluations(warm, parked);
    assert.deepEqual(diff.added, []);
    assert.deepEqual(
      diff.removed,
      [
        `kubernetes:apps/v1:Deployment::${other}-${otherIdle}`,
        `kubernetes:autoscaling/v2:HorizontalPodAutoscaler::${other}-${otherIdle}`,
        `kubernetes:policy/v1:PodDisruptionBudget::${other}-${otherIdle}`,
      ].sort(),
    );
    assert.deepEqual([...diff.changed], []);
    assert.ok(parked.resources.some((r) => r.type === "kubernetes:core/v1:Service" && r.name === `${other}-${otherIdle}`), "the color's Service stays");
  });

  it("every color's Deployment leaves spec.replicas to its HPA after creation (ignoreChanges), so an update never conflicts with it", async () => {
    const ev = await evaluateStack("prod");
    const deployments = ev.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment" && r.parentType === "platform:apps:BlueGreenService");
    assert.ok(deployments.length >= 4);
    for (const d of deployments) {
      assert.deepEqual(ev.options.get(`${d.type}::${d.name}`)?.ignoreChanges, ["spec.replicas"], d.name);
      assert.ok(ev.resources.some((r) => r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler" && r.name === d.name), `${d.name} has an HPA`);
    }
  });
});

/** Sets `<color>.image` of `service` (undefined removes it). */
function imaging(service: string, color: "blue" | "green", image: string | undefined): (config: { [key: string]: Json }) => void {
  return (config) => {
    const entry = (config["platform:services"] as Obj[]).find((s) => s["name"] === service);
    assert.ok(entry !== undefined, `no service ${service}`);
    const spec = entry[color] as Obj;
    if (image === undefined) {
      delete spec["image"];
    } else {
      spec["image"] = image;
    }
  };
}

describe("a color without an image (staging)", () => {
  const services = readStackConfig("staging")["platform:services"] as Obj[];
  const svc = services[1];
  assert.ok(svc !== undefined, "staging declares a second service");
  const name = String(svc["name"]);
  const active = svc["active"] === "blue" ? "blue" : "green";
  const idle = active === "blue" ? "green" : "blue";
  const colorKeys = (kind: string): string => `kubernetes:${kind}::${name}-${idle}`;

  for (const [label, image] of [["without", undefined], ["with an empty", ""]] as const) {
    it(`the idle color ${label} image declares no Deployment, HPA or PDB, but keeps its Service and the weighted action`, async () => {
      const shipped = await evaluateStack("staging");
      const imageless = await evaluateStack("staging", imaging(name, idle, image));
      const diff = diffEvaluations(shipped, imageless);
      // An `image: ""` Deployment is rejected by the API server (kubernetes v1.35.4
      // pkg/apis/core/validation/validation.go:3889, templates included), so none is declared.
      assert.deepEqual(diff.removed, [colorKeys("apps/v1:Deployment"), colorKeys("autoscaling/v2:HorizontalPodAutoscaler"), colorKeys("policy/v1:PodDisruptionBudget")].sort());
      assert.deepEqual([diff.added, [...diff.changed.keys()]], [[], []], "the Service, Ingress and active Service are unchanged");
      const service = imageless.resources.find((r) => r.type === "kubernetes:core/v1:Service" && r.name === `${name}-${idle}`);
      assert.ok(service, "the idle color's Service (and so its target group) stays");
      const activeService = imageless.resources.find((r) => r.type === "kubernetes:core/v1:Service" && r.name === `${name}-active`);
      assert.equal(((activeService?.inputs["spec"] as Obj)["selector"] as Obj)["platform.io/color"], active, "the in-cluster Service selects the color that has pods");
      assert.ok(imageless.resources.some((r) => r.type === "kubernetes:apps/v1:Deployment" && r.name === `${name}-${active}`));
    });
  }

  it("giving the idle color an image later adds exactly its Deployment, HPA and PDB under their existing names", async () => {
    const imageless = await evaluateStack("staging", imaging(name, idle, undefined));
    const shipped = await evaluateStack("staging");
    const diff = diffEvaluations(imageless, shipped);
    assert.deepEqual(diff.added, [colorKeys("apps/v1:Deployment"), colorKeys("autoscaling/v2:HorizontalPodAutoscaler"), colorKeys("policy/v1:PodDisruptionBudget")].sort());
    assert.deepEqual([diff.removed, [...diff.changed.keys()]], [[], []]);
  });

  it("the component itself refuses an active color without an image (a caller that skips the config check)", async () => {
    const { error } = await settleProgram("staging", readStackConfig("staging"), async () => {
      const { BlueGreenService } = await import("../infra/apps/blueGreenService");
      const { AppNamespace } = await import("../infra/apps/appNamespace");
      const { normaliseService } = await import("../infra/config/schema/services");
      new BlueGreenService("x", {
        service: normaliseService({ name: "x", port: 8080, healthPath: "/health", paths: ["/"], active: "blue", blue: { image: "" }, green: { image: "r/x:1" } }),
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
    assert.match(String(error), /service "x": the active color blue has no image; set blue\.image, or make the color that has one active/);
  });

  for (const [label, image] of [["no", undefined], ["an empty", ""]] as const) {
    it(`rejects ${label} image on the active color in config, naming the key and the fix`, async () => {
      const { error } = await settleStack("staging", imaging(name, active, image));
      assert.ok(error instanceof Error, "the program refuses the config");
      assert.match(error.message, new RegExp(`platform:services\\[1\\]\\.${active}\\.image`));
      assert.match(error.message, new RegExp(`is empty but ${active} is the active color of service "${name}"`));
      assert.match(error.message, new RegExp(`Fix: set services\\[1\\]\\.${active}\\.image`));
    });
  }
});
