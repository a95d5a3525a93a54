// Parking and re-staging while another field manager owns `spec.replicas`, as the HPA controller
// does once it has scaled a color, on the real provider (pulumi-kubernetes 4.25.0 applies
// server-side without force: pkg/await/await.go:565-584, 905-941). The Deployments declare
// ignoreChanges ["spec.replicas"]; with it the provider drops the field when another manager owns
// it (pkg/await/await.go:622-695). Assertions read the live API server.

import * as assert from "assert";
import { flip, rollback, up } from "../../automation/commands";
import { ExitCode } from "../../automation/exitCodes";
import { Json } from "../../automation/types";
import { assertExit } from "./assertions";
import { fixtureServices, Harness, image, startHarness } from "./harness";
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

  it("flip with idle: parked parks the old color (its Deployment, HPA, PDB deleted) while the new one keeps the HPA's replicas; rollback unparks it at the HPA minimum", async function () {
    const hh = h as Harness;
    const ns = hh.namespace("prod");
    await scaleAsHpa(hh, ns, "web-green", 3);
    await scaleAsHpa(hh, ns, "web-blue", 3);
    const flipped = await flip(hh.deps(), { stack: "prod", service: "web" });
    assertExit(flipped, ExitCode.Ok);
    assert.match(flipped.message, /parked web blue/);
    assert.strictEqual(await dep(hh, "web-blue"), undefined, "blue parked: no Deployment");
    assert.strictEqual(await hh.kube.find(`/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/web-blue`), undefined);
    assert.strictEqual(await hh.kube.find(`/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/web-blue`), undefined);
    assert.strictEqual((await dep(hh, "web-green"))?.spec.replicas, 3, "the live color keeps the HPA's replicas");

    const back = await rollback(hh.deps(), { stack: "prod", service: "web" });
    assertExit(back, ExitCode.Ok);
    const blue = await dep(hh, "web-blue");
    assert.strictEqual(blue?.spec.replicas, 2, "unparked at the HPA minimum");
    assert.ok(await hh.kube.find(`/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/web-blue`), "its HPA is back");
    assert.strictEqual(await dep(hh, "web-green"), undefined, "green parked after the rollback");
    assert.strictEqual((await dep(hh, "api-green"))?.spec.replicas, 3, "api untouched");
  });
});
