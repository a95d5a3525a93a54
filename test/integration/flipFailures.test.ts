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
    // The controller is slow: a change it sees is reconciled 60 s later, far beyond the flip's up
    // plus its 3 s gate. It catches up (lag 200 ms and a resync) only once it has seen both writes
    // of both objects, the flip's and the restore's, so what it reconciles then is the restored
    // state and the flip's still-scheduled reconcile finds nothing newer to apply (the double, like
    // the controller, builds from the newest state it has seen). Catching up as soon as the flip's
    // Ingress was seen would let any later event (the flip's Service write) reconcile the flip at
    // once: the flip applied within the gate, not late.
    double.setLag(60_000);
    const t0 = Date.now();
    const writes = (kind: string): number => double.history.filter((e) => e.at >= t0 && e.type === "observed" && new RegExp(`^${kind} [^/]+/web modified`).test(e.detail)).length;
    const caughtUp = (async (): Promise<boolean> => {
      while (writes("ingress") < 2 || writes("service") < 2) {
        if (Date.now() - t0 > 180_000) return false;
        await new Promise((r) => setTimeout(r, 50));
      }
      double.setLag(200);
      double.resync("caught up");
      return true;
    })();
    const sampler = sampleTraffic(double, hostsOf("staging").live, "/healthz");
    try {
      const o = await flip(hh.deps({ routingWait: GATE }), { stack: "staging", service: "web" });
      assertExit(o, ExitCode.RolledBack);
      assert.ok(await caughtUp, `the double saw the flip's and the restore's writes: ${JSON.stringify(double.history.filter((e) => e.at >= t0))}`);
      assert.ok(o.phases.some((p) => p.name === "routing" && !p.ok));
      await assertRestored(hh);
    } finally {
      await sampler.stop();
    }
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
