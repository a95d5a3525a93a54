// Parking and re-staging while another field manager owns `spec.replicas`, as the HPA controller
// does once it has scaled a color, on the real provider (pulumi-kubernetes 4.25.0 applies
// server-side without force: pkg/await/await.go:565-584, 905-941). The Deployments declare
// ignoreChanges ["spec.replicas"]; with it the provider drops the field when another manager owns
// it (pkg/await/await.go:622-695). Assertions read the live API server.

import * as assert from "assert";
import { flip, rollback, up } from "../../automation/commands";
import { ExitCode } from "../../automation/exitCodes";
import { Json } from "../../automation/types";
import { assertExit, guardedUps } from "./assertions";
import { fixtureServices, Harness, image, startHarness, withImage } from "./harness";
import { KubeObject } from "./kube";
import { timed } from "./timing";

type Deployment = KubeObject & {
  spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
  metadata: { managedFields?: { manager: string; subresource?: string; fieldsV1?: { "f:spec"?: Record<string, unknown> } }[] };
};

/** Scales like the HPA controller: an update of the scale subresource as kube-controller-manager. */
async function scaleAsHpa(h: Harness, ns: string, name: string, replicas: number): Promise<void> {
  const path = `/apis/apps/v1/namespaces/${ns}/deployments/${name}/scale`;
  const scale = await h.kube.get<KubeObject & { spec: { replicas: number } }>(path);
  const res = await h.kube.request("PUT", `${path}?fieldManager=kube-controller-manager`, { ...scale, spec: { replicas } });
  assert.strictEqual(res.status, 200, res.body);
}

/** Who owns `spec.replicas` of the Deployment, by its managedFields. */
function replicasOwners(d: Deployment): string[] {
  return (d.metadata.managedFields ?? []).filter((m) => m.fieldsV1?.["f:spec"]?.["f:replicas"] !== undefined).map((m) => `${m.manager}${m.subresource !== undefined ? `/${m.subresource}` : ""}`);
}

describe("integration: park, unpark and re-stage while the HPA's field manager owns replicas (real provider)", function () {
  let h: Harness | undefined;
  let failed = false;
  timed(this);
  const services = fixtureServices({ idle: "parked" });

  before(async function () {
    h = await startHarness({ stacks: ["prod"], services });
    assertExit(await up(h.deps(), { stack: "prod" }), ExitCode.Ok);
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") failed = true;
  });

  after(async function () {
    await h?.stop(failed);
  });

  const dep = (hh: Harness, name: string): Promise<Deployment | undefined> => hh.kube.find<Deployment>(`/apis/apps/v1/namespaces/${hh.namespace("prod")}/deployments/${name}`);

  it("re-staging an image into a color the HPA scaled: no conflict, the image changes, the HPA's replicas stay", async function () {
    const hh = h as Harness;
    const ns = hh.namespace("prod");
    await scaleAsHpa(hh, ns, "api-green", 3);
    const scaled = await dep(hh, "api-green");
    assert.ok(scaled !== undefined);
    assert.ok(replicasOwners(scaled).includes("kube-controller-manager/scale"), replicasOwners(scaled).join(", "));
    const restaged = (services as Json[]).map((s) => (s !== null && typeof s === "object" && !Array.isArray(s) && s["name"] === "api" ? { ...s, green: { image: image("api", "1.2.0") } } : s));
    await hh.stacks.get("prod")?.setConfig("platform:services", { value: JSON.stringify(restaged) });
    assertExit(await up(hh.deps(), { stack: "prod" }), ExitCode.Ok);
    const after = await dep(hh, "api-green");
    assert.deepStrictEqual(after?.spec.template.spec.containers.map((c) => c.image), [image("api", "1.2.0")]);
    assert.strictEqual(after?.spec.replicas, 3, "the HPA's replicas are kept");
    assert.ok(after !== undefined && !replicasOwners(after).some((o) => o.startsWith("pulumi")), `Pulumi does not own replicas: ${after === undefined ? "" : replicasOwners(after).join(", ")}`);
  });

  it("flip with idle: parked parks the old color (its Deployment, HPA, PDB deleted) while the new one keeps the HPA's replicas; rollback unparks it at the HPA minimum; every park and unpark up is targeted at the color and preceded by its preview, so a pending change elsewhere stays pending", async function () {
    const hh = h as Harness;
    const ns = hh.namespace("prod");
    const stack = hh.stacks.get("prod");
    assert.ok(stack !== undefined);
    await scaleAsHpa(hh, ns, "web-green", 3);
    await scaleAsHpa(hh, ns, "web-blue", 3);
    // A checkout carrying another pending program change (api's green image; the stand-in for an RDS
    // change): a full up would apply it, a targeted one leaves it alone.
    const pending = withImage(JSON.parse((await stack.getConfig("platform:services")).value) as Json, "api", "green", image("api", "1.3.0"));
    await stack.setConfig("platform:services", { value: JSON.stringify(pending) });
    const first = hh.operations.length;
    const flipped = await flip(hh.deps(), { stack: "prod", service: "web" });
    assertExit(flipped, ExitCode.Ok);
    assert.match(flipped.message, /parked web blue/);
    assert.strictEqual(await dep(hh, "web-blue"), undefined, "blue parked: no Deployment");
    assert.strictEqual(await hh.kube.find(`/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/web-blue`), undefined);
    assert.strictEqual(await hh.kube.find(`/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/web-blue`), undefined);
    assert.strictEqual((await dep(hh, "web-green"))?.spec.replicas, 3, "the live color keeps the HPA's replicas");
    // From the engine's own events: the park up changed exactly blue's Deployment, HPA and PDB, and
    // its targeted preview (same config, same steps) ran right before it.
    const colorSteps = (op: string, color: string): string[] => [
      `${op} kubernetes:apps/v1:Deployment::web-${color}`,
      `${op} kubernetes:autoscaling/v2:HorizontalPodAutoscaler::web-${color}`,
      `${op} kubernetes:policy/v1:PodDisruptionBudget::web-${color}`,
    ];
    const switchSteps = ["update kubernetes:core/v1:Service::web-active", "update kubernetes:networking.k8s.io/v1:Ingress::web-ingress"];
    const flipOps = hh.operations.slice(first);
    assert.deepStrictEqual(guardedUps(flipOps, "prod flip"), [switchSteps]);
    assert.deepStrictEqual(guardedUps(flipOps, "prod park"), [colorSteps("delete", "blue")]);
    assert.deepStrictEqual(flipOps.map((o) => o.label), ["prod flip check", "prod flip", "prod park check", "prod park"], "no other Pulumi operation, no full up");

    const middle = hh.operations.length;
    const back = await rollback(hh.deps(), { stack: "prod", service: "web" });
    assertExit(back, ExitCode.Ok);
    const blue = await dep(hh, "web-blue");
    assert.strictEqual(blue?.spec.replicas, 2, "unparked at the HPA minimum");
    assert.ok(await hh.kube.find(`/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/web-blue`), "its HPA is back");
    assert.strictEqual(await dep(hh, "web-green"), undefined, "green parked after the rollback");
    assert.strictEqual((await dep(hh, "api-green"))?.spec.replicas, 3, "api untouched");
    const backOps = hh.operations.slice(middle);
    assert.deepStrictEqual(guardedUps(backOps, "prod unpark"), [colorSteps("create", "blue")]);
    assert.deepStrictEqual(guardedUps(backOps, "prod flip"), [switchSteps]);
    assert.deepStrictEqual(guardedUps(backOps, "prod park"), [colorSteps("delete", "green")]);
    assert.deepStrictEqual(backOps.map((o) => o.label), ["prod unpark check", "prod unpark", "prod flip check", "prod flip", "prod park check", "prod park"], "no other Pulumi operation, no full up");
    // Five targeted ups later the pending change is still pending: in the checkout, not on the cluster.
    assert.deepStrictEqual((await dep(hh, "api-green"))?.spec.template.spec.containers.map((c) => c.image), [image("api", "1.2.0")], "api green still runs what its last full up deployed");
    const api = (JSON.parse((await stack.getConfig("platform:services")).value) as { name: string; green: { image: string } }[]).find((x) => x.name === "api");
    assert.strictEqual(api?.green.image, image("api", "1.3.0"), "the pending change is still in the checkout");
  });
});
