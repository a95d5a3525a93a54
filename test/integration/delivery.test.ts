// Delivery on the real engine: `promote` staging -> prod by digest (the tag staging runs resolved
// through a loopback registry double standing in for ECR), with prod's `web` on a canary rollout
// judged on real traffic through the load-balancer double (its per-target-group counters are the
// metrics), then a bad build's canary aborted at its first step, then `release` of a freshly pushed
// tag into staging. Every assertion reads the live
// API server, the doubles or the stack's own config file, not the driver's report.

import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { RegistryImageResolver } from "../../automation/adapters/registry";
import { flip, promote, release, up } from "../../automation/commands";
import { DriverDeps } from "../../automation/deps";
import { ExitCode } from "../../automation/exitCodes";
import { Json } from "../../automation/types";
import { DoubleCanaryMetrics } from "./doubleMetrics";
import { fixtureServices, Harness, image, REGION, startHarness } from "./harness";
import { KubeObject } from "./kube";
import { assertExit, recordWeights, trafficTo } from "./moreHelpers";
import { RegistryDouble } from "./registryDouble";
import { timed } from "./timing";

type Deployment = KubeObject & { spec: { template: { spec: { containers: { image: string }[] } } }; status: { readyReplicas?: number } };
type Service = KubeObject & { spec: { selector: Record<string, string> } };
type Obj = Record<string, Json>;

const ECR = `123456789012.dkr.ecr.${REGION}.amazonaws.com`;
const SERVICES = ["web", "api"] as const;
/**
 * web's canary in prod. stepSeconds stays a whole minute (the config's rule); the test's windows
 * come from deps.canaryWindowMs. maxP99Ratio 100 (the schema's maximum): on loopback both colors
 * answer in about a millisecond, so their ratio is noise; the absolute bound still applies.
 */
const CANARY: Json = { strategy: "canary", steps: [20, 50], stepSeconds: 60, analysis: { max5xxRatio: 0.05, maxP99Ms: 2000, maxP99Ratio: 100, minRequests: 20, maxExtensions: 1 } };
const WINDOW_MS = 4_000;
describe("integration: promote by digest and canary steps (real engine, registry and load-balancer doubles)", function () {
  let h: Harness;
  let registry: RegistryDouble;
  let metrics: DoubleCanaryMetrics;
  let failed = false;
  const digests = new Map<string, string>();
  timed(this);

  const prodNs = (): string => h.namespace("prod");
  const config = async (stack: "staging" | "prod", key: string): Promise<Json> => JSON.parse((await h.stacks.get(stack)?.getConfig(key))?.value ?? "null") as Json;
  const service = async (name: string): Promise<Obj> => ((await config("prod", "platform:services")) as Obj[]).find((s) => s["name"] === name) as Obj;
  const liveHost = async (): Promise<string> => ((await h.stacks.get("prod")?.outputs())?.["hosts"]?.value as { live: string }).live;

  /** The harness's deps with the registry double (as ECR, behind a docker login), the double's metrics and seconds-long windows. */
  const deps = (): DriverDeps => {
    const dockerConfig = path.join(h.sandbox.dir, "docker-config.json");
    fs.writeFileSync(dockerConfig, JSON.stringify({ auths: { [ECR]: { auth: Buffer.from("AWS:ecr-token").toString("base64") } } }));
    return {
      ...h.deps(),
      resolver: new RegistryImageResolver({ dockerConfigPath: dockerConfig, connectTo: new Map([[`https://${ECR}`, `http://${registry.host}`]]) }),
      metrics,
      canaryWindowMs: WINDOW_MS,
    };
  };

  before(async function () {
    registry = await RegistryDouble.start({ auth: { username: "AWS", password: "ecr-token" } });
    h = await startHarness({ stacks: ["staging", "prod"] });
    metrics = new DoubleCanaryMetrics(h.doubles.get("prod") as NonNullable<ReturnType<typeof h.doubles.get>>);
    // staging runs 2.0.0 (by tag, as a hand-edited stack file may) and recorded its digest verified.
    const staging = fixtureServices() as Obj[];
    const releases: Obj = {};
    for (const s of staging) {
      const name = String(s["name"]);
      const digest = registry.push(name, "2.0.0");
      digests.set(name, digest);
      s["blue"] = { image: image(name, "2.0.0") };
      releases[name] = { image: `${ECR}/${name}@${digest}`, verifiedAt: "2026-01-01T00:00:00.000Z", source: "release 2.0.0" };
    }
    await h.stacks.get("staging")?.setAllConfig({ "platform:services": { value: JSON.stringify(staging) }, "platform:releases": { value: JSON.stringify(releases) } });
    const prod = (fixtureServices() as Obj[]).map((s) => (s["name"] === "web" ? { ...s, rollout: CANARY } : s));
    await h.stacks.get("prod")?.setConfig("platform:services", { value: JSON.stringify(prod) });
    // Two stacks, two namespaces, two CLIs: the ups run side by side.
    const [stagingUp, prodUp] = await Promise.all([up(h.deps(), { stack: "staging" }), up(h.deps(), { stack: "prod" })]);
    assertExit(stagingUp, ExitCode.Ok);
    assertExit(prodUp, ExitCode.Ok);
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") failed = true;
  });
  after(async function () {
    metrics?.stop();
    await h?.stop(failed);
    await registry?.close();
  });

  it("promote staging->prod: the tag resolved to its digest, staged, web stepped 20/50 on real traffic, switched, verified and recorded", async () => {
    const double = h.doubles.get("prod");
    assert.ok(double !== undefined);
    const traffic = trafficTo(double, await liveHost(), "/", 40);
    const weights = recordWeights(double, prodNs(), "web");
    const out = await promote(deps(), { from: "staging", to: "prod" }).finally(() => traffic.stop());
    const seen = weights.stop();
    assertExit(out, ExitCode.Ok);

    // The registry was asked for exactly the tags staging runs, with the docker login's credentials.
    const heads = registry.requests.filter((r) => r.method === "HEAD").map((r) => `${r.path} ${r.host ?? ""} ${r.authorized}`);
    assert.deepStrictEqual(heads.sort(), SERVICES.map((s) => `/v2/${s}/manifests/2.0.0 ${ECR} true`).sort());
    // web's live rule at the double: 20, then 50, then the switch; never anything else.
    assert.deepStrictEqual(seen, [
      { "web-blue": 100, "web-green": 0 },
      { "web-blue": 80, "web-green": 20 },
      { "web-blue": 50, "web-green": 50 },
      { "web-blue": 0, "web-green": 100 },
    ]);
    // Two windows judged, each on real requests the double counted for the new color, none failed.
    assert.strictEqual(metrics.windows.length, 2, JSON.stringify(metrics.windows.map((w) => w.result)));
    for (const w of metrics.windows) {
      assert.ok(w.result.green.requests >= 20 && w.result.green.target5xx === 0, JSON.stringify(w.result));
    }
    for (const name of SERVICES) {
      const pinned = `${ECR}/${name}@${digests.get(name) ?? "?"}`;
      const dep = await h.kube.get<Deployment>(`/apis/apps/v1/namespaces/${prodNs()}/deployments/${name}-green`);
      assert.deepStrictEqual(dep.spec.template.spec.containers.map((c) => c.image), [pinned], `${name}-green runs the digest`);
      assert.strictEqual(dep.status.readyReplicas, 2, `${name}-green Ready on kwok`);
      const active = await h.kube.get<Service>(`/api/v1/namespaces/${prodNs()}/services/${name}`);
      assert.strictEqual(active.spec.selector["platform.io/color"], "green", `${name} Service selects green`);
      const svc = await service(name);
      assert.strictEqual(svc["active"], "green");
      assert.strictEqual((svc["green"] as Obj)["image"], pinned, "Pulumi.prod.yaml pins the digest");
      assert.strictEqual(svc["canaryWeight"], undefined);
      const record = ((await config("prod", "platform:releases")) as Obj)[name] as Obj;
      assert.strictEqual(record["image"], pinned);
      assert.strictEqual(record["source"], "promote staging->prod");
    }
    assert.strictEqual(h.notifications[h.notifications.length - 1]?.result, "succeeded");
  });

  it("a bad build's canary (its targets answer 500) aborts at the first step: weights back to 100/0 on the stable color, exit 3, nothing recorded", async () => {
    const double = h.doubles.get("prod");
    assert.ok(double !== undefined);
    // blue still holds 1.0.0: make every target running it answer 500, then move web back to blue.
    double.setImageBehaviour(image("web", "1.0.0"), { status: 500 });
    const releasesBefore = await config("prod", "platform:releases");
    const windowsBefore = metrics.windows.length;
    const traffic = trafficTo(double, await liveHost(), "/", 40);
    const weights = recordWeights(double, prodNs(), "web");
    // force: the preview-host check would refuse the bad build before any traffic; the canary must catch it.
    const out = await flip(deps(), { stack: "prod", service: "web", force: true }).finally(() => traffic.stop());
    const seen = weights.stop();
    double.setImageBehaviour(image("web", "1.0.0"), undefined);
    assertExit(out, ExitCode.RolledBack);
    assert.match(out.message, /5xx ratio/);
    assert.deepStrictEqual(seen, [
      { "web-blue": 0, "web-green": 100 },
      { "web-blue": 20, "web-green": 80 },
      { "web-blue": 0, "web-green": 100 },
    ]);
    // The bad build's exposure: from receiving traffic (20/80 applied at the double) to the weights
    // back on the stable color. It is the rest of the step's own up (the controller applies the
    // weights while the provider's Ingress awaiter still runs), the analysis window, and one guarded
    // targeted update (its check preview and its up, until the double applied it): exactly those
    // three operations, and besides them and the window only the gaps between them (the double's
    // 500 ms lag, gate polls, config writes), together less than a second window would add.
    const [, exposedAt = 0, restoredAt = Infinity] = weights.at();
    const during = h.operations.filter((op) => (op.endedAt ?? Infinity) > exposedAt && op.startedAt < restoredAt);
    assert.strictEqual(during.length, 3, `the step's up, the restore's check and up: ${during.map((op) => op.label).join(", ")}`);
    const inOperations = during.reduce((sum, op) => sum + Math.min(op.endedAt ?? restoredAt, restoredAt) - Math.max(op.startedAt, exposedAt), 0);
    const exposure = restoredAt - exposedAt;
    const gaps = exposure - inOperations - WINDOW_MS;
    console.log(`      bad build exposed for ${(exposure / 1000).toFixed(1)} s: ${during.map((op) => op.label).join(", ")} ${(inOperations / 1000).toFixed(1)} s, window ${WINDOW_MS / 1000} s, gaps ${(gaps / 1000).toFixed(1)} s`);
    assert.ok(gaps >= 0, `the window was judged whole: exposed ${exposure} ms`);
    assert.ok(gaps < WINDOW_MS, `exposed ${exposure} ms: ${inOperations} ms in operations, ${WINDOW_MS} ms window and ${gaps} ms besides (a second window would be ${WINDOW_MS} ms)`);
    const judged = metrics.windows.slice(windowsBefore);
    assert.strictEqual(judged.length, 1, "judged once: the first step");
    assert.ok((judged[0]?.result.blue.target5xx ?? 0) > 0, JSON.stringify(judged[0]?.result));
    const active = await h.kube.get<Service>(`/api/v1/namespaces/${prodNs()}/services/web`);
    assert.strictEqual(active.spec.selector["platform.io/color"], "green");
    const svc = await service("web");
    assert.strictEqual(svc["active"], "green");
    assert.strictEqual(svc["canaryWeight"], undefined, "the step's weight is gone from Pulumi.prod.yaml");
    assert.deepStrictEqual(await config("prod", "platform:releases"), releasesBefore, "nothing recorded as verified");
    assert.strictEqual(h.notifications[h.notifications.length - 1]?.result, "rolled back");
  });

  // `release` is the CLI's first-stage command (the test stage: one EC2 host, no cluster, so nothing
  // here can run it); the CLI's stage check (`validate.releaseTarget`) is unit-tested. What runs on
  // the real engine here is the command itself: the same deploy path as promote, fed by pinning a
  // freshly pushed tag to its digest through the registry, recorded with source "release". The
  // test host's own mode (replace the active color, gate through the live host) runs only against
  // the in-memory stack (test/automation/promote.test.ts, "release into test").
  it("release into staging: a freshly pushed tag pinned to its digest through the registry, staged into the idle color, switched, recorded with source \"release\"", async () => {
    const stagingNs = h.namespace("staging");
    const digest = registry.push("web", "2.1.0");
    const headsBefore = registry.requests.length;
    const before = await h.kube.get<Service>(`/api/v1/namespaces/${stagingNs}/services/web`);
    const from = before.spec.selector["platform.io/color"];
    const to = from === "blue" ? "green" : "blue";
    const out = await release(deps(), { stack: "staging", items: [{ service: "web", image: image("web", "2.1.0") }] });
    assertExit(out, ExitCode.Ok);

    const asked = registry.requests.slice(headsBefore).map((r) => `${r.method} ${r.path} ${r.authorized}`);
    assert.ok(asked.includes("HEAD /v2/web/manifests/2.1.0 true"), JSON.stringify(asked));
    const pinned = `${ECR}/web@${digest}`;
    const dep = await h.kube.get<Deployment>(`/apis/apps/v1/namespaces/${stagingNs}/deployments/web-${to}`);
    assert.deepStrictEqual(dep.spec.template.spec.containers.map((c) => c.image), [pinned], `web-${to} runs the digest, not the tag`);
    const active = await h.kube.get<Service>(`/api/v1/namespaces/${stagingNs}/services/web`);
    assert.strictEqual(active.spec.selector["platform.io/color"], to, `web's Service moved ${from} -> ${to}`);
    const svc = ((await config("staging", "platform:services")) as Obj[]).find((s) => s["name"] === "web") as Obj;
    assert.strictEqual(svc["active"], to);
    assert.strictEqual((svc[to] as Obj)["image"], pinned, "Pulumi.staging.yaml pins the digest");
    const records = (await config("staging", "platform:releases")) as Obj;
    assert.strictEqual((records["web"] as Obj)["image"], pinned);
    assert.strictEqual((records["web"] as Obj)["source"], "release");
    assert.strictEqual(((records["api"] as Obj)["source"]), "release 2.0.0", "api untouched");
    const last = h.notifications[h.notifications.length - 1];
    assert.strictEqual(last?.result, "succeeded");
    assert.strictEqual(last?.kind, "release");
  });
});
