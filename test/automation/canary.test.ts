/**
 * The driver's canary path against the in-memory stack, the fake load balancer (weights applied
 * after the controller's lag) and fake metrics counted from the weights it applied: every step
 * and every abort point, with operation counts (n steps = n targeted updates + the final switch,
 * one targeted preview before each), and the time a bad build gets traffic (fake clock).
 */
import { strict as assert } from "assert";
import { flip, promote, rollback, status } from "../../automation/commands";
import { Interrupt } from "../../automation/errors";
import { renderOutcome, trafficOf } from "../../automation/cli/render";
import { ExitCode } from "../../automation/exitCodes";
import { Json, JsonObject } from "../../automation/types";
import { Harness } from "./harness";
import { FakeClock, image } from "./loopback";
import { Fault, MemoryStack } from "./memoryStack";
import { REHEARSAL, REHEARSED_CANARY, rehearse } from "./rehearsal";

const A = image("student", "1.4.0");
const B = image("student", "1.5.0");
const J = image("subject", "2.0.0");
const K = image("subject", "2.1.0");
const VERIFIED = "2025-01-01T00:00:00.000Z";

/** A quick canary: two steps, one-minute windows, 50 requests to judge, one extension. */
const CANARY: JsonObject = { strategy: "canary", steps: [10, 50], stepSeconds: 60, analysis: { max5xxRatio: 0.01, maxP99Ms: 1000, maxP99Ratio: 2, minRequests: 50, maxExtensions: 1 } };

describe("automation: canary rollouts", function () {
  let h: Harness;
  beforeEach(async () => {
    // A frozen clock that only the driver's sleeps move. On the wall-clock default, a window is
    // [now(), now() after the sleep], so any real millisecond between those two readings (a loaded
    // machine) lengthens it: 60_001 ms instead of 60_000, and the requests counted in it with it.
    h = await Harness.start({ clock: new FakeClock(Date.UTC(2026, 0, 5, 9, 0, 0)) });
    // 10 requests per second: a 10% step gets ~60 requests a minute, above minRequests.
    h.metrics.requestsPerSecond = 10;
  });
  afterEach(async () => {
    await h.close();
  });

  function prod(opts: { rollout?: JsonObject; faults?: Fault[]; upDelayMs?: number; canaryWeight?: number; programChanges?: { ingress?: string[] } } = {}): { stack: MemoryStack; raw: Json | undefined; deployed: Json } {
    const extra: JsonObject = { ...(opts.rollout !== undefined ? { rollout: opts.rollout } : {}), ...(opts.canaryWeight !== undefined ? { canaryWeight: opts.canaryWeight } : {}) };
    const stack = h.add(
      new MemoryStack({
        name: "prod",
        environment: "prod",
        baseUrl: h.world.url,
        services: [
          { name: "student", active: "blue", blue: A, green: B, extra },
          { name: "subject", active: "blue", blue: J, green: K },
        ],
        faults: opts.faults,
        upDelayMs: opts.upDelayMs,
        programChanges: opts.programChanges,
      }),
    );
    return { stack, raw: structuredClone(stack.config.get("platform:services")), deployed: structuredClone(stack.deployedServices) };
  }

  /** The live rule's applied weights over time, as `green` percentages. */
  const greenShares = (stack = "prod", service = "student"): number[] => h.lb.timeline(stack, service).map((c) => c.weights.green);

  it("steps 10% and 50% (each one targeted update of the Ingress alone, checked, verified at the load balancer, judged), then the switch", async () => {
    const { stack } = prod({ rollout: CANARY });
    h.lb.lagMs = 7_000;
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.Ok, out.message);
    assert.match(out.message, /flip student blue->green \(.*\) after canary steps 10\/50%: verified/);
    // n steps = n targeted updates + the final switch; one targeted preview before each.
    const ups = stack.ups();
    assert.equal(ups.length, 3);
    assert.deepEqual(ups[0]?.target, [stack.ingressUrn("student")], "a step targets the Ingress alone");
    assert.deepEqual(ups[1]?.target, [stack.ingressUrn("student")]);
    assert.deepEqual([...(ups[2]?.target ?? [])].sort(), [stack.ingressUrn("student"), stack.activeUrn("student")].sort(), "the switch: Ingress and in-cluster Service");
    const previews = stack.calls.filter((c) => c.op === "preview");
    assert.equal(previews.length, 3);
    previews.forEach((p, i) => assert.deepEqual(p.target, ups[i]?.target, `preview ${i + 1} checks exactly the up's targets`));
    assert.deepEqual(greenShares(), [0, 10, 50, 100], "the load balancer applied each step, then the switch");
    // Each step judged once, on the window after its weights were seen applied.
    assert.equal(h.metrics.queries.length, 2);
    for (const q of h.metrics.queries) {
      assert.equal(q.to - q.from, 60_000, "one stepSeconds window");
      assert.deepEqual(Object.keys(q.targetGroupArns).sort(), ["blue", "green"]);
    }
    assert.ok(h.logs.some((l) => /canary: student step 1\/2 \(green 10%\) passed: within every threshold \(new color: 60 requests/.test(l)), h.logs.join(""));
    assert.deepEqual(
      out.phases.map((p) => p.name).filter((n) => n.startsWith("canary") || n.startsWith("flip") || n === "routing"),
      [
        ...["canary-1-config", "canary-1-check", "canary-1", "canary-1-routing", "canary-1-analysis"],
        ...["canary-2-config", "canary-2-check", "canary-2", "canary-2-routing", "canary-2-analysis"],
        ...["flip-config", "flip-check", "flip", "routing"],
      ],
    );
    assert.equal(stack.configServices()[0]?.active, "green");
    assert.equal(stack.configServices()[0]?.canaryWeight, undefined, "the switch removes the step's weight");
    assert.deepEqual([stack.deployed()[0]?.active, stack.deployed()[0]?.canaryWeight], ["green", undefined]);
    assert.equal(stack.deployed()[1]?.active, "blue", "the other service is untouched");
    assert.match(h.posts()[0]?.embeds[0]?.title ?? "", /flip prod: succeeded/);
  });

  it("deps.canaryWindowMs replaces the stepSeconds window (the integration tier's seconds-long windows), the config unchanged", async () => {
    const { stack } = prod({ rollout: { ...CANARY, analysis: { ...(CANARY["analysis"] as JsonObject), minRequests: 1 } } });
    const out = await flip(h.deps({ canaryWindowMs: 5_000 }), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.Ok, out.message);
    assert.equal(h.metrics.queries.length, 2);
    for (const q of h.metrics.queries) {
      assert.equal(q.to - q.from, 5_000, "the injected window, not stepSeconds");
    }
    const student = (stack.config.get("platform:services") as JsonObject[]).find((sv) => sv["name"] === "student");
    assert.equal((student?.["rollout"] as JsonObject | undefined)?.["stepSeconds"], 60, "the service's config still says 60");
  });

  it("a bad build fails the first step: the weights go back to 100/0 with one restore, verified at the load balancer; the numbers are in the outcome and on Discord (exit 3)", async () => {
    const { stack, raw, deployed } = prod({ rollout: CANARY });
    h.metrics.profiles.set(B, { errorRatio: 0.2 });
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.RolledBack, out.message);
    assert.equal(out.result, "rolled back");
    assert.match(out.message, /student: canary green at 10% failed its analysis \(student step 1\/2\): 5xx ratio 20\.00% above the maximum 1\.00% \(new color: 60 requests, 12 5xx \(20\.00%\)/);
    assert.match(out.message, /restored and verified: student on blue, live host healthy/);
    assert.equal(stack.count("up"), 2, "one step, one restore; never the second step or the switch");
    assert.deepEqual(greenShares(), [0, 10, 0]);
    assert.deepEqual(stack.config.get("platform:services"), raw, "the config is back byte for byte");
    assert.deepEqual(stack.deployedServices, deployed);
    assert.ok(out.phases.some((p) => p.name === "restore-check" && p.ok) && out.phases.some((p) => p.name === "verify-restore" && p.ok));
    const post = h.posts()[0]?.embeds[0];
    assert.match(post?.title ?? "", /flip prod: rolled back/);
    assert.match(post?.description ?? "", /5xx ratio 20\.00% above the maximum 1\.00% \(new color: 60 requests, 12 5xx/);
  });

  it("a failure at the last step (50%) restores from there", async () => {
    const { stack, raw } = prod({ rollout: CANARY });
    // Latency that only shows under load: fine at 10%, too slow at 50%.
    h.metrics.onWindow = () => {
      if (h.metrics.queries.length === 2) {
        h.metrics.profiles.set(B, { p99Ms: 1_500 });
      }
    };
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.RolledBack, out.message);
    assert.match(out.message, /canary green at 50% failed its analysis \(student step 2\/2\): p99 1500 ms above the maximum 1000 ms/);
    assert.equal(stack.count("up"), 3);
    assert.deepEqual(greenShares(), [0, 10, 50, 0]);
    assert.deepEqual(stack.config.get("platform:services"), raw);
  });

  it("too little traffic extends the window up to maxExtensions, then fails and restores", async () => {
    const { stack } = prod({ rollout: CANARY });
    h.metrics.requestsPerSecond = 2;
    const started = h.clock.now();
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.RolledBack, out.message);
    assert.match(out.message, /too little traffic to judge: 24 of 50 requests after 1 extension\(s\)/);
    assert.equal(h.metrics.queries.length, 2, "the window and one extension");
    assert.deepEqual(
      h.metrics.queries.map((q) => q.to - q.from),
      [60_000, 120_000],
      "an extension judges everything since the step applied",
    );
    assert.ok(h.logs.some((l) => /too little traffic to judge: 12 of 50 requests; extending the window \(1 of 1\)/.test(l)));
    assert.ok(h.clock.now() - started >= 120_000);
    assert.equal(stack.count("up"), 2);
  });

  it("an unhealthy target of the new color fails the step even before enough traffic", async () => {
    prod({ rollout: CANARY });
    h.metrics.profiles.set(B, { unhealthyHosts: 1 });
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.RolledBack);
    assert.match(out.message, /1 target\(s\) of the new color unhealthy at the load balancer/);
  });

  it("metrics that cannot be read abort the rollout (an error is an abort, not a pass)", async () => {
    const { stack } = prod({ rollout: CANARY });
    h.metrics.failFrom = 2;
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.RolledBack, out.message);
    assert.match(out.message, /CloudWatch GetMetricData failed: Throttling/);
    assert.deepEqual(greenShares(), [0, 10, 50, 0]);
    assert.equal(stack.count("up"), 3);
  });

  it("a routing reading without the load balancer's ARNs cannot be judged: abort", async () => {
    prod({ rollout: CANARY });
    h.lb.withoutArns = true;
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.RolledBack);
    assert.match(out.message, /the load-balancer reading names no load balancer or target groups/);
    assert.equal(h.metrics.queries.length, 0);
  });

  it("the final switch's live gate failing after passed steps restores too (exit 3)", async () => {
    const { stack, raw } = prod({ rollout: CANARY });
    h.world.unhealthyLive.add(B);
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.RolledBack, out.message);
    assert.equal(stack.count("up"), 4, "two steps, the switch, the restore");
    assert.deepEqual(greenShares(), [0, 10, 50, 100, 0]);
    assert.deepEqual(stack.config.get("platform:services"), raw);
  });

  it("a step's targeted check refuses a checkout carrying another Ingress change (exit 5, nothing ran)", async () => {
    const { stack, raw } = prod({ rollout: CANARY, programChanges: { ingress: ["student"] } });
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.Refused, out.message);
    assert.match(out.message, /the targeted canary step would do more than it is for \(run a full up first\): student-ingress: metadata\.annotations\["alb\.ingress\.kubernetes\.io\/load-balancer-attributes"\] changes \(a canary step changes only the live forward action's weights\)/);
    assert.equal(stack.count("up"), 0);
    assert.deepEqual(stack.config.get("platform:services"), raw);
  });

  it("an interrupt during an analysis window restores the stable weights (guarded, verified) and exits 3", async () => {
    const { stack, raw } = prod({ rollout: CANARY });
    h.metrics.onWindow = () => h.controller.abort(new Interrupt("SIGTERM"));
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.RolledBack, out.message);
    assert.match(out.message, /^interrupted by SIGTERM during a canary; restored and verified: student on blue/);
    assert.equal(stack.count("up"), 2, "the step and the restore");
    assert.deepEqual(greenShares(), [0, 10, 0]);
    assert.deepEqual(stack.config.get("platform:services"), raw);
    assert.equal(h.posts().length, 1);
  });

  it("an interrupt during a step's update (the CLI cancels, the step is applied) restores after the cancel", async () => {
    const { stack } = prod({ rollout: CANARY, upDelayMs: 200 });
    stack.onCall = (c) => {
      if (c.op === "up" && stack.count("up") === 1) {
        setTimeout(() => h.controller.abort(new Interrupt("SIGTERM")), 20);
      }
    };
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.RolledBack, out.message);
    assert.deepEqual(stack.pending, [], "cancelled, not terminated");
    assert.equal(stack.count("up"), 2);
    assert.deepEqual(greenShares(), [0, 10, 0], "the cancelled step had been applied; the restore took it back");
  });

  it("a blue/green flip interrupted mid-way still does not restore (only a canary has traffic to protect)", async () => {
    const { stack } = prod({ upDelayMs: 200 });
    stack.onCall = (c) => {
      if (c.op === "up") {
        setTimeout(() => h.controller.abort(new Interrupt("SIGTERM")), 20);
      }
    };
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.Terminated, out.message);
    assert.equal(stack.count("up"), 1);
  });

  it("flip --steps runs a canary for a blue/green service with the default window and thresholds", async () => {
    const { stack } = prod();
    h.metrics.requestsPerSecond = 50;
    const out = await flip(h.deps(), { stack: "prod", service: "student", steps: [25] });
    assert.equal(out.exitCode, ExitCode.Ok, out.message);
    assert.equal(stack.count("up"), 2);
    assert.deepEqual(greenShares(), [0, 25, 100]);
    assert.equal((h.metrics.queries[0]?.to ?? 0) - (h.metrics.queries[0]?.from ?? 0), 300_000, "the default 300 s window");
  });

  it("flip --steps overrides a canary service's steps for this run", async () => {
    const { stack } = prod({ rollout: CANARY });
    const out = await flip(h.deps(), { stack: "prod", service: "student", steps: [5, 20, 60] });
    assert.equal(out.exitCode, ExitCode.Ok, out.message);
    assert.deepEqual(greenShares(), [0, 5, 20, 60, 100]);
    assert.equal(stack.count("up"), 4);
    assert.deepEqual((stack.config.get("platform:services") as JsonObject[])[0]?.["rollout"], CANARY, "the configured rollout is left as it was");
  });

  it("bad --steps are refused before anything changes (exit 1)", async () => {
    const { stack } = prod();
    const out = await flip(h.deps(), { stack: "prod", service: "student", steps: [50, 10] });
    assert.equal(out.exitCode, ExitCode.Error);
    assert.match(out.message, /student: canary steps 50,10: step 2 \(10\) is not above step 1 \(50\)/);
    assert.equal(stack.count("up") + stack.count("setConfig"), 0);
    assert.equal(h.backups("prod").length, 0);
  });

  it("a parked target color is unparked (and gated) before the first step, and stays unparked through the steps", async () => {
    const stack = h.add(
      new MemoryStack({ name: "prod", environment: "prod", baseUrl: h.world.url, services: [{ name: "student", active: "blue", blue: A, green: B, parked: "green", extra: { rollout: CANARY } }] }),
    );
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.Ok, out.message);
    const ups = stack.ups();
    assert.equal(ups.length, 4, "unpark, two steps, the switch");
    assert.ok(ups[0]?.target?.includes(stack.deploymentUrn("student", "green")));
    assert.deepEqual(ups[1]?.target, [stack.ingressUrn("student")], "the steps target the Ingress alone: the unpark is not undone");
    assert.deepEqual(stack.deployed()[0]?.parked, []);
    assert.deepEqual(greenShares(), [0, 10, 50, 100]);
  });

  it("rollback is immediate, never stepped", async () => {
    const { stack } = prod({ rollout: CANARY });
    assert.equal((await flip(h.deps(), { stack: "prod", service: "student" })).exitCode, ExitCode.Ok);
    const upsBefore = stack.count("up");
    const out = await rollback(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.Ok, out.message);
    assert.equal(stack.count("up") - upsBefore, 1);
    assert.deepEqual(greenShares().slice(-2), [100, 0]);
  });

  describe("a service left mid-rollout (canaryWeight in the stack file and deployed, e.g. a killed driver)", () => {
    function midway(): MemoryStack {
      const { stack } = prod({ rollout: CANARY, canaryWeight: 25 });
      h.lb.desireWeights("prod", "student", { blue: 75, green: 25 });
      return stack;
    }

    it("status shows the weights and the step", async () => {
      midway();
      const out = await status(h.deps(), { stack: "prod" });
      const row = out.status?.find((r) => r.service === "student");
      assert.deepEqual(row?.canary, { weights: { blue: 75, green: 25 }, deployedWeights: { blue: 75, green: 25 }, step: undefined, steps: [10, 50] });
      const other = out.status?.find((r) => r.service === "subject");
      assert.equal(other?.canary, undefined);
      assert.ok(row !== undefined && other !== undefined);
      assert.equal(trafficOf(row), "blue 75 / green 25, canary (not one of the steps 10/50: a per-run schedule)");
      assert.equal(trafficOf(other), "blue 100");
      assert.equal(trafficOf({ ...row, canary: { weights: { blue: 90, green: 10 }, deployedWeights: { blue: 100, green: 0 }, step: 1, steps: [10, 50] } }), "blue 90 / green 10, canary step 1 of 2 (deployed: blue 100 / green 0)");
      assert.match(renderOutcome(out), /TRAFFIC[\s\S]*student +blue +\S+ +\S+ +blue 75 \/ green 25, canary/);
      assert.match(out.message, /student is mid canary rollout/);
    });

    it("rollback returns all traffic to the stable color with one targeted update of the Ingress, verified", async () => {
      const stack = midway();
      const out = await rollback(h.deps(), { stack: "prod", service: "student" });
      assert.equal(out.exitCode, ExitCode.Ok, out.message);
      assert.match(out.message, /rollback student: end the canary \(25% on green\), all traffic to blue: verified/);
      assert.equal(stack.count("up"), 1);
      assert.deepEqual(greenShares().slice(-1), [0]);
      assert.equal(stack.configServices()[0]?.canaryWeight, undefined);
      assert.equal(stack.configServices()[0]?.active, "blue");
    });

    it("a flip refuses to start another rollout on top (exit 5)", async () => {
      const stack = midway();
      const out = await flip(h.deps(), { stack: "prod", service: "student" });
      assert.equal(out.exitCode, ExitCode.Refused);
      assert.match(out.message, /student is mid canary rollout \(25% to green in Pulumi\.prod\.yaml\)/);
      assert.ok(out.remediation.some((r) => r.includes("rollback prod --service student")));
      assert.equal(stack.count("up"), 0);
    });
  });

  describe("promote", () => {
    function stagingToProd(opts: { studentRollout?: JsonObject; subjectRollout?: JsonObject } = {}): { staging: MemoryStack; prod: MemoryStack; raw: Json | undefined } {
      const S = image("student", "1.6.0");
      const T = image("subject", "2.2.0");
      const staging = h.add(
        new MemoryStack({
          name: "staging",
          environment: "staging",
          baseUrl: h.world.url,
          services: [
            { name: "student", active: "green", blue: A, green: S },
            { name: "subject", active: "green", blue: J, green: T },
          ],
          releases: { student: { image: S, verifiedAt: VERIFIED, source: "release" }, subject: { image: T, verifiedAt: VERIFIED, source: "release" } },
        }),
      );
      const prodStack = h.add(
        new MemoryStack({
          name: "prod",
          environment: "prod",
          baseUrl: h.world.url,
          services: [
            { name: "student", active: "blue", blue: A, green: B, extra: opts.studentRollout !== undefined ? { rollout: opts.studentRollout } : {} },
            { name: "subject", active: "blue", blue: J, green: K, extra: opts.subjectRollout !== undefined ? { rollout: opts.subjectRollout } : {} },
          ],
        }),
      );
      return { staging, prod: prodStack, raw: structuredClone(prodStack.config.get("platform:services")) };
    }

    it("stages both, steps the canary service, then switches both in one targeted update; records them verified", async () => {
      const w = stagingToProd({ studentRollout: CANARY });
      const out = await promote(h.deps(), { from: "staging", to: "prod" });
      assert.equal(out.exitCode, ExitCode.Ok, out.message);
      assert.match(out.message, /traffic flipped after canary steps \(student 10\/50%\); verified and recorded/);
      const ups = w.prod.ups();
      assert.equal(ups.length, 4, "stage (full), two steps, one switch of both services");
      assert.equal(ups[0]?.target, undefined);
      assert.deepEqual(ups[1]?.target, [w.prod.ingressUrn("student")]);
      assert.deepEqual(ups[2]?.target, [w.prod.ingressUrn("student")]);
      assert.equal(ups[3]?.target?.length, 4);
      assert.equal(w.prod.calls.filter((c) => c.op === "preview").length, 4, "the policy preview, a check per step, the switch's check");
      assert.deepEqual(greenShares("prod", "student"), [0, 10, 50, 100]);
      assert.deepEqual(greenShares("prod", "subject"), [0, 100], "the blue/green service switches at once");
      assert.deepEqual(Object.keys((w.prod.config.get("platform:releases") ?? {}) as JsonObject).sort(), ["student", "subject"]);
    });

    it("a failing canary restores everything staged and records nothing as verified", async () => {
      const w = stagingToProd({ studentRollout: CANARY });
      h.metrics.profiles.set(image("student", "1.6.0"), { errorRatio: 0.5 });
      const out = await promote(h.deps(), { from: "staging", to: "prod" });
      assert.equal(out.exitCode, ExitCode.RolledBack, out.message);
      assert.match(out.message, /canary green at 10% failed its analysis/);
      assert.equal(w.prod.config.get("platform:releases"), undefined, "nothing recorded as verified");
      assert.deepEqual(w.prod.config.get("platform:services"), w.raw);
      assert.deepEqual(greenShares("prod", "student"), [0, 10, 0]);
      assert.equal(w.prod.deployed()[0]?.green, B, "the staged image is taken back out of green");
    });

    it("refuses to stage into a service mid-rollout (its idle color has live traffic)", async () => {
      const w = stagingToProd({ studentRollout: CANARY });
      const entries = w.prod.config.get("platform:services") as JsonObject[];
      (entries[0] as JsonObject)["canaryWeight"] = 10;
      const out = await promote(h.deps(), { from: "staging", to: "prod" });
      assert.equal(out.exitCode, ExitCode.Refused, out.message);
      assert.match(out.message, /student is mid canary rollout \(10% on its idle color\): not staging into it/);
      assert.equal(w.prod.count("up"), 0);
    });
  });

  it("the time a bad build gets traffic is bounded by one analysis window plus one targeted update (and one routing poll)", async () => {
    prod({ rollout: CANARY });
    const lagMs = 7_000;
    const intervalMs = 5_000;
    h.lb.lagMs = lagMs;
    h.metrics.profiles.set(B, { errorRatio: 0.5 });
    const out = await flip(h.deps({ routingWait: { timeoutMs: 60_000, intervalMs } }), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.RolledBack, out.message);
    const timeline = h.lb.timeline("prod", "student");
    const bad = timeline.find((c) => c.weights.green > 0);
    const back = timeline.find((c) => bad !== undefined && c.at > bad.at && c.weights.green === 0);
    assert.ok(bad !== undefined && back !== undefined, JSON.stringify(timeline));
    const exposedMs = back.at - bad.at;
    const windowMs = 60_000;
    // The window starts when the driver sees the step applied (at most one poll after it was);
    // the restore is one targeted update, applied by the controller after its lag.
    assert.ok(exposedMs >= windowMs, `exposed ${exposedMs} ms: the window is judged in full`);
    assert.ok(exposedMs <= windowMs + intervalMs + lagMs, `exposed ${exposedMs} ms > ${windowMs} + ${intervalMs} + ${lagMs}`);
  });

  it("operation counts (what `npm run bench` prints): n steps = n targeted updates + the switch, a targeted preview before each, one analysis window per step", async () => {
    const rows = new Map((await rehearse()).map((r) => [r.label, r] as const));
    const n = (REHEARSED_CANARY["steps"] as number[]).length;
    const pollsPerUpdate = Math.ceil(REHEARSAL.lagMs / REHEARSAL.intervalMs) + 1;
    const bg = rows.get("flip, blue/green");
    const canary = rows.get("flip, canary 10/50%");
    assert.deepEqual([bg?.previews, bg?.ups, bg?.targetedUps, bg?.routingReads, bg?.metricsWindows], [1, 1, 1, pollsPerUpdate, 0]);
    assert.deepEqual([canary?.previews, canary?.ups, canary?.targetedUps, canary?.routingReads, canary?.metricsWindows], [n + 1, n + 1, n + 1, (n + 1) * pollsPerUpdate, n]);
    const windows = n * 300_000;
    assert.ok((canary?.waitedMs ?? 0) >= windows, "every window is waited out");
    const promoteBg = rows.get("promote, blue/green");
    const promoteCanary = rows.get("promote, canary 10/50%");
    // A promotion adds the staging preview and its full up.
    assert.deepEqual([promoteBg?.previews, promoteBg?.ups, promoteBg?.targetedUps], [2, 2, 1]);
    assert.deepEqual([promoteCanary?.previews, promoteCanary?.ups, promoteCanary?.targetedUps, promoteCanary?.metricsWindows], [n + 2, n + 2, n + 1, n]);
  });
});
