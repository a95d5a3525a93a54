// Flips that must not be recorded as verified, on the real engine: a load balancer that never
// applies the new weights, one that applies them later than the routing gate waits, and a
// checkout whose targeted plan carries more than the flip. Assertions read the live API server
// and the double's routing, not the driver's view.

import * as assert from "assert";
import { flip, up } from "../../automation/commands";
import { ExitCode } from "../../automation/exitCodes";
import { Json } from "../../automation/types";
import { assertExit, liveColors } from "./assertions";
import { fixtureServices, Harness, hostsOf, startHarness } from "./harness";
import { colorsServing, diffSnapshots, sampleTraffic, snapshotNamespace } from "./observe";
import { timed } from "./timing";

const GATE = { timeoutMs: 3_000, intervalMs: 250 };

describe("integration: failed and refused flips (real engine, local API server)", function () {
  let h: Harness | undefined;
  let failed = false;
  timed(this);

  before(async function () {
    h = await startHarness({ stacks: ["staging"], lagMs: 200 });
    assertExit(await up(h.deps(), { stack: "staging" }), ExitCode.Ok);
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") failed = true;
  });

  after(async function () {
    await h?.stop(failed);
  });

  /** After a failed flip: the API server, the config and (once the double caught up) the traffic are back on blue. */
  async function assertRestored(hh: Harness): Promise<void> {
    assert.deepStrictEqual(await liveColors(hh, "staging", "web"), { selector: "blue", weights: { "web-blue": 100, "web-green": 0 }, preview: ["web-green"] });
    const services = (await hh.stacks.get("staging")?.getConfig("platform:services"))?.value ?? "[]";
    assert.deepStrictEqual(JSON.parse(services), fixtureServices(), "the config is back as it was");
    const double = hh.doubles.get("staging");
    assert.ok(double !== undefined);
    await double.converged(60_000);
    assert.deepStrictEqual(await colorsServing(double, hostsOf("staging").live, "/healthz"), { blue: 10 }, "the double routes the live host to blue");
  }

  it("a load balancer that never applies the weights: not verified, exit 3, the previous state restored", async function () {
    const hh = h as Harness;
    const double = hh.doubles.get("staging");
    assert.ok(double !== undefined);
    double.setMode("never");
    const o = await flip(hh.deps({ routingWait: GATE }), { stack: "staging", service: "web" });
    assertExit(o, ExitCode.RolledBack);
    assert.notStrictEqual(o.result, "succeeded");
    assert.ok(o.phases.some((p) => p.name === "routing" && !p.ok), `the routing gate failed: ${o.phases.map((p) => p.name).join(", ")}`);
    assert.match(o.message, /does not route to green/);
    // The controller comes back: it reconciles the Ingress as it is now (blue).
    double.setMode("apply");
    await assertRestored(hh);
  });

  it("weights applied later than the routing gate waits: not verified, exit 3, restored; live traffic never left blue", async function () {
    const hh = h as Harness;
    const double = hh.doubles.get("staging");
    assert.ok(double !== undefined);
    // The flip's Ingress change is applied 60 s after the double sees it, far beyond the flip's
    // up plus its 3 s gate. Once seen, the lag drops again, so the restore's change is applied
    // soon and supersedes the flip's still-scheduled one (the double, like the controller,
    // reconciles the newest state it has seen and skips an older one). 1 s rather than less: the
    // restore updates the Service and the Ingress separately, and a reconcile between the two would
    // route by the flip's Ingress for a moment (which a controller as slow as this one would too).
    double.setLag(60_000);
    const t0 = Date.now();
    const seen = (async () => {
      while (!double.history.some((e) => e.at >= t0 && e.type === "observed" && /^ingress [^/]+\/web modified/.test(e.detail))) {
        await new Promise((r) => setTimeout(r, 50));
      }
      double.setLag(1_000);
    })();
    const sampler = sampleTraffic(double, hostsOf("staging").live, "/healthz");
    const o = await flip(hh.deps({ routingWait: GATE }), { stack: "staging", service: "web" });
    await seen;
    assertExit(o, ExitCode.RolledBack);
    assert.ok(o.phases.some((p) => p.name === "routing" && !p.ok));
    await assertRestored(hh);
    const samples = await sampler.stop();
    assert.deepStrictEqual([...new Set(samples.map((x) => `${x.status} ${x.color}`))], ["200 blue"], "live traffic stayed on blue throughout");
  });

  it("a pending change to the service's own Ingress in the checkout: the flip is refused (exit 5) before any up; nothing changes on the API server", async function () {
    const hh = h as Harness;
    const stack = hh.stacks.get("staging");
    assert.ok(stack !== undefined);
    // The engine gives a targeted resource its full desired state (pulumi/pkg v3.276.0
    // resource/deploy/step_generator.go:1421-1447), so this extra path would ride along with the flip.
    const pending = (fixtureServices() as Json[]).map((s) => (s !== null && typeof s === "object" && !Array.isArray(s) && s["name"] === "web" ? { ...s, paths: ["/", "/web"] } : s));
    await stack.setConfig("platform:services", { value: JSON.stringify(pending) });
    const before = await snapshotNamespace(hh.kube, hh.namespace("staging"));
    const o = await flip(hh.deps({ routingWait: GATE }), { stack: "staging", service: "web" });
    assertExit(o, ExitCode.Refused);
    assert.match(o.message + o.remediation.join(" "), /full up/);
    assert.ok(!o.phases.some((p) => p.name === "flip"), `no up ran: ${o.phases.map((p) => p.name).join(", ")}`);
    const d = diffSnapshots(before, await snapshotNamespace(hh.kube, hh.namespace("staging")));
    assert.deepStrictEqual({ changed: d.changed, replaced: d.replaced, added: d.added, removed: d.removed }, { changed: [], replaced: [], added: [], removed: [] });
    assert.deepStrictEqual(d.statusOnly.filter((s) => / by pulumi/.test(s)), []);
    assert.deepStrictEqual(JSON.parse((await stack.getConfig("platform:services")).value), pending, "the checkout's config is left as it was");
    await stack.setConfig("platform:services", { value: JSON.stringify(fixtureServices()) });
  });
});
