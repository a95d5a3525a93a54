// The driver's blue/green commands on the real engine: the fixture project (the platform's own
// AppNamespace and BlueGreenService) deployed by the driver's `up` into the local control plane,
// with the load-balancer double standing in for the AWS Load Balancer Controller and the ALB.
// Every assertion about the cluster reads the live API server.

import * as assert from "assert";
import { flip, preview, rollback, up } from "../../automation/commands";
import { ExitCode } from "../../automation/exitCodes";
import { assertExit, assertOnlySwitched, assertTrafficMovedAfterApply, liveColors, pendingOperations } from "./assertions";
import { Harness, hostsOf, image, startHarness } from "./harness";
import { KubeObject } from "./kube";
import { kwokNodeAnnotation } from "./controlPlane";
import { controlPlane } from "./fixture";
import { sampleTraffic, snapshotNamespace } from "./observe";
import { timed } from "./timing";

type Pod = KubeObject & { spec: { nodeName?: string; containers: { image: string }[] }; status: { phase?: string; conditions?: { type: string; status: string }[] } };
type Ingress = KubeObject & { status?: { loadBalancer?: { ingress?: { hostname?: string }[] } } };

describe("integration: the driver's up, flip and rollback on the fixture (real engine, local API server)", function () {
  let h: Harness | undefined;
  let failed = false;
  timed(this);

  before(async function () {
    h = await startHarness({ stacks: ["prod"] });
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") failed = true;
  });

  after(async function () {
    await h?.stop(failed);
  });

  it("up creates both services in the prod shape; pods run Ready on kwok nodes; the Ingresses carry the double's hostname; preview --expect-no-changes is clean", async function () {
    const hh = h as Harness;
    const ns = hh.namespace("prod");
    assertExit(await up(hh.deps(), { stack: "prod" }), ExitCode.Ok);

    const double = hh.doubles.get("prod");
    const dns = double?.applied?.loadBalancer.DNSName;
    assert.ok(dns !== undefined && dns !== "", "the double applied the group's ALB");
    for (const svc of ["web", "api"]) {
      const ing = await hh.kube.get<Ingress>(`/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/${svc}`);
      assert.deepStrictEqual(ing.status?.loadBalancer?.ingress, [{ hostname: dns }], `${svc} Ingress status`);
      for (const color of ["blue", "green"]) {
        const dep = await hh.kube.get<KubeObject & { spec: { replicas: number }; status: { readyReplicas?: number } }>(`/apis/apps/v1/namespaces/${ns}/deployments/${svc}-${color}`);
        assert.strictEqual(dep.spec.replicas, 2, `${svc}-${color} replicas`);
        assert.strictEqual(dep.status.readyReplicas, 2, `${svc}-${color} ready`);
        await hh.kube.get(`/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/${svc}-${color}`);
        await hh.kube.get(`/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/${svc}-${color}`);
        const selector = encodeURIComponent(`app.kubernetes.io/name=${svc},platform.io/color=${color}`);
        const pods = await hh.kube.list<Pod>(`/api/v1/namespaces/${ns}/pods?labelSelector=${selector}`);
        assert.strictEqual(pods.items.length, 2, `${svc}-${color} pods`);
        for (const pod of pods.items) {
          assert.strictEqual(pod.status.phase, "Running");
          assert.ok(pod.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"), `${pod.metadata?.name} Ready`);
          assert.ok(pod.spec.nodeName !== undefined && controlPlane().nodes.includes(pod.spec.nodeName), `${pod.metadata?.name} on a kwok node`);
          const node = await hh.kube.get(`/api/v1/nodes/${pod.spec.nodeName}`);
          assert.strictEqual((node.metadata as { annotations?: Record<string, string> }).annotations?.[kwokNodeAnnotation], "fake");
          assert.deepStrictEqual(pod.spec.containers.map((c) => c.image), [image(svc, color === "blue" ? "1.0.0" : "1.1.0")]);
        }
      }
      const active = await hh.kube.get<KubeObject & { spec: { selector: Record<string, string> } }>(`/api/v1/namespaces/${ns}/services/${svc}`);
      assert.strictEqual(active.spec.selector["platform.io/color"], "blue");
    }

    const pv = await preview(hh.deps(), { stack: "prod", expectNoChanges: true });
    assertExit(pv, ExitCode.Ok);
  });

  it("flip web: only its Ingress and Service change, in place; traffic moves to green only once the double applied the weights; verified; no pending operations", async function () {
    const hh = h as Harness;
    const double = hh.doubles.get("prod");
    assert.ok(double !== undefined);
    // A visible gap between the Ingress change and the load balancer applying it.
    double.setLag(3_000);
    const before = await snapshotNamespace(hh.kube, hh.namespace("prod"));
    const t0 = Date.now();
    const sampler = sampleTraffic(double, hostsOf("prod").live, "/healthz");
    const o = await flip(hh.deps(), { stack: "prod", service: "web" });
    const samples = await sampler.stop();
    assertExit(o, ExitCode.Ok);
    assert.ok(o.phases.some((p) => p.name === "routing" && p.ok), "the routing gate ran");

    assertOnlySwitched(before, await snapshotNamespace(hh.kube, hh.namespace("prod")), "web");
    assert.deepStrictEqual(await liveColors(hh, "prod", "web"), { selector: "green", weights: { "web-blue": 0, "web-green": 100 }, preview: ["web-blue"] });
    assert.deepStrictEqual(await liveColors(hh, "prod", "api"), { selector: "blue", weights: { "api-blue": 100, "api-green": 0 }, preview: ["api-green"] }, "api untouched");
    assert.deepStrictEqual(await pendingOperations(hh, "prod"), []);
    assertTrafficMovedAfterApply(double.history, samples, t0, "web", "blue", "green");
  });

  it("rollback web: back to blue the same way (only its Ingress and Service, in place), verified", async function () {
    const hh = h as Harness;
    const double = hh.doubles.get("prod");
    assert.ok(double !== undefined);
    const before = await snapshotNamespace(hh.kube, hh.namespace("prod"));
    const t0 = Date.now();
    const sampler = sampleTraffic(double, hostsOf("prod").live, "/healthz");
    const o = await rollback(hh.deps(), { stack: "prod", service: "web" });
    const samples = await sampler.stop();
    assertExit(o, ExitCode.Ok);
    assertOnlySwitched(before, await snapshotNamespace(hh.kube, hh.namespace("prod")), "web");
    assert.deepStrictEqual(await liveColors(hh, "prod", "web"), { selector: "blue", weights: { "web-blue": 100, "web-green": 0 }, preview: ["web-green"] });
    assert.deepStrictEqual(await pendingOperations(hh, "prod"), []);
    assertTrafficMovedAfterApply(double.history, samples, t0, "web", "green", "blue");
  });
});
