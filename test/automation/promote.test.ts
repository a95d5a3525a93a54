/**
 * promote and release against in-memory stacks, with the real HTTP health gates (loopback)
 * and the real Discord notifier (loopback webhook): the success path with its operation
 * counts, and the fault matrix with the end state asserted after every failure.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { promote, release } from "../../automation/commands";
import { Outcome } from "../../automation/outcome";
import { Interrupt } from "../../automation/errors";
import { ExitCode } from "../../automation/exitCodes";
import { Json } from "../../automation/types";
import { Harness } from "./harness";
import { FakeClock, image } from "./loopback";
import { Fault, MemoryStack } from "./memoryStack";

const S0 = image("student", "1.3.0");
const S1 = image("student", "1.4.0");
const S2 = image("student", "1.5.0");
const J3 = image("subject", "2.0.3");
const J4 = image("subject", "2.1.0");
const J5 = image("subject", "2.2.0");
const VERIFIED = "2025-01-01T00:00:00.000Z";

interface World {
  readonly test: MemoryStack;
  readonly staging: MemoryStack;
  /** platform:services of staging before the command, to assert "unchanged or restored". */
  readonly before: { readonly raw: Json | undefined; readonly deployed: Json };
}

function world(h: Harness, opts: { faults?: Fault[]; upDelayMs?: number; pending?: boolean; missingFlipTargets?: string[] } = {}): World {
  const test = h.add(
    new MemoryStack({
      name: "test",
      environment: "test",
      baseUrl: h.world.url,
      services: [
        { name: "student", active: "blue", blue: S2, healthPath: "/actuator/health" },
        { name: "subject", active: "blue", blue: J5, healthPath: "/actuator/health" },
      ],
      releases: {
        student: { image: S2, verifiedAt: VERIFIED, source: "release" },
        subject: { image: J5, verifiedAt: VERIFIED, source: "release" },
      },
    }),
  );
  const staging = h.add(
    new MemoryStack({
      name: "staging",
      environment: "staging",
      baseUrl: h.world.url,
      services: [
        { name: "student", active: "blue", blue: S1, green: S0, healthPath: "/actuator/health", extra: { replicas: 3, env: { LOG_LEVEL: "info" }, imageBucketAccess: true } },
        { name: "subject", active: "green", blue: J3, green: J4, healthPath: "/actuator/health" },
      ],
      faults: opts.faults,
      upDelayMs: opts.upDelayMs,
      pendingOperations: opts.pending === true ? [{ type: "creating", urn: "urn:pulumi:staging::platform::aws:rds/instance:Instance::db" }] : undefined,
      missingFlipTargets: opts.missingFlipTargets,
    }),
  );
  return { test, staging, before: { raw: structuredClone(staging.config.get("platform:services")), deployed: structuredClone(staging.deployedServices) } };
}

/** Colors and images in config and in the "cloud" are exactly what they were. */
function assertRestored(w: World): void {
  assert.deepEqual(w.staging.config.get("platform:services"), w.before.raw, "config restored byte for byte (extra fields included)");
  assert.deepEqual(w.staging.deployedServices, w.before.deployed, "deployed colors and images restored");
  assert.equal(w.staging.config.get("platform:releases"), undefined, "nothing recorded as verified");
}

function lastPost(h: Harness): { title: string; description?: string; fields: ReadonlyArray<{ name: string; value: string }> } {
  const posts = h.posts();
  assert.equal(posts.length, 1, "exactly one notification");
  const embed = posts[0]?.embeds[0];
  assert.ok(embed !== undefined);
  return embed;
}

describe("automation: promote", function () {
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.start();
  });
  afterEach(async () => {
    await h.close();
  });

  it("stages into the idle colors, gates, flips with one targeted up, records, notifies", async () => {
    const w = world(h);
    const clock = new FakeClock(Date.UTC(2026, 2, 4, 5, 6, 7, 89));
    const out = await promote(h.deps({ clock }), { from: "test", to: "staging" });
    assert.equal(out.exitCode, ExitCode.Ok, out.message);
    assert.equal(out.result, "succeeded");

    const [student, subject] = w.staging.configServices();
    assert.deepEqual(student, { name: "student", active: "green", blue: S1, green: S2, parked: [], healthPath: "/actuator/health", paths: ["/student"] });
    assert.deepEqual(subject, { name: "subject", active: "blue", blue: J5, green: J4, parked: [], healthPath: "/actuator/health", paths: ["/subject"] });
    assert.deepEqual(w.staging.deployed(), w.staging.configServices(), "the stack runs what the config says");

    // Unknown fields of a service survive the edit.
    const raw = w.staging.config.get("platform:services");
    assert.ok(Array.isArray(raw));
    assert.deepEqual(raw[0], {
      name: "student",
      port: 8080,
      healthPath: "/actuator/health",
      paths: ["/student"],
      active: "green",
      blue: { image: S1 },
      green: { image: S2 },
      replicas: 3,
      env: { LOG_LEVEL: "info" },
      imageBucketAccess: true,
    });

    // The injected clock never slept on this path, so the record carries exactly its time.
    assert.deepEqual(clock.sleeps, []);
    const verifiedAt = "2026-03-04T05:06:07.089Z";
    assert.deepEqual(w.staging.config.get("platform:releases"), {
      student: { image: S2, verifiedAt, source: "promote test->staging", runUrl: "https://github.com/acme/platform/actions/runs/42" },
      subject: { image: J5, verifiedAt, source: "promote test->staging", runUrl: "https://github.com/acme/platform/actions/runs/42" },
    });

    // Operation counts: the policy preview and the flip's targeted check, two ups (stage + targeted flip), nothing else mutating.
    assert.equal(w.staging.count("preview"), 2);
    assert.deepEqual(w.staging.calls.filter((c) => c.op === "preview").map((c) => c.policyPacks), [["/repo/policy"], ["/repo/policy"]]);
    const ups = w.staging.ups();
    assert.equal(ups.length, 2);
    assert.equal(ups[0]?.target, undefined, "staging is a full up");
    assert.deepEqual(
      [...(ups[1]?.target ?? [])].sort(),
      [w.staging.ingressUrn("student"), w.staging.activeUrn("student"), w.staging.ingressUrn("subject"), w.staging.activeUrn("subject")].sort(),
      "the flip targets exactly the ingress and active Service of each service (the engine adds the root stack itself)",
    );
    assert.match(ups[0]?.message ?? "", /promote test->staging: student .* -> green.*by ci-bot \(https:\/\/github.com\/acme\/platform\/actions\/runs\/42\)/);
    assert.equal(w.test.count("up") + w.test.count("preview") + w.test.count("setConfig"), 0, "the source stack is only read");

    // Gates ran against the right hosts, and the ALB check against the new colors.
    const paths = h.world.requests.map((r) => r.path);
    assert.ok(paths.includes("/staging/preview/student/actuator/health"));
    assert.ok(paths.includes("/staging/live/student/actuator/health"));
    assert.deepEqual(
      h.targetHealth.queries.map((q) => [q.service, q.color, q.serviceName, q.clusterName, q.region]),
      [
        ["student", "green", "student-green", "staging-cluster", "ap-northeast-2"],
        ["subject", "blue", "subject-blue", "staging-cluster", "ap-northeast-2"],
      ],
    );

    assert.equal(h.backups("staging").length, 1, "backup written before the first change");
    const embed = lastPost(h);
    assert.match(embed.title, /promote test → staging: succeeded/);
    assert.ok(embed.fields.some((f) => f.name === "student" && f.value.includes("blue → green") && f.value.includes("student@sha256:")));
    assert.deepEqual(out.phases.map((p) => p.name), [
      "verify-source",
      "load",
      "load-state",
      "backup",
      "stage-config",
      "policy",
      "stage",
      "preview-health",
      "flip-config",
      "flip-check",
      "flip",
      "routing",
      "live-health",
      "target-health",
      "record",
    ]);
  });

  it("promotes only the named services", async () => {
    const w = world(h);
    const out = await promote(h.deps(), { from: "test", to: "staging", services: ["subject"] });
    assert.equal(out.exitCode, ExitCode.Ok, out.message);
    assert.equal(w.staging.configServices()[0]?.active, "blue", "student untouched");
    assert.equal(w.staging.configServices()[1]?.active, "blue");
    assert.deepEqual(
      [...(w.staging.ups()[1]?.target ?? [])].sort(),
      [w.staging.ingressUrn("subject"), w.staging.activeUrn("subject")].sort(),
    );
  });

  it("is a no-op when the target already serves the digests", async () => {
    const w = world(h);
    assert.equal((await promote(h.deps(), { from: "test", to: "staging" })).exitCode, ExitCode.Ok);
    const second = await promote(h.deps(), { from: "test", to: "staging" });
    assert.equal(second.exitCode, ExitCode.Ok);
    assert.equal(second.result, "no-op");
    assert.equal(w.staging.count("up"), 2, "no further up");
    assert.equal(h.posts().length, 2, "still one notification per promotion");
  });

  describe("refuses before any change", () => {
    const cases: ReadonlyArray<{ name: string; setup: (h: Harness) => World; req?: { services?: string[] }; code: ExitCode; match: RegExp }> = [
      {
        name: "a live digest the source has not verified",
        setup: (hh) => {
          const w = world(hh);
          w.test.config.set("platform:releases", { student: { image: S1, verifiedAt: VERIFIED, source: "release" } });
          return w;
        },
        code: ExitCode.Refused,
        match: /unverified.*student: live student@sha256:\S+ differs from the verified.*subject: .*no release record/,
      },
      {
        name: "a source whose config and deployed state disagree",
        setup: (hh) => {
          const w = world(hh);
          const raw = w.test.config.get("platform:services");
          assert.ok(Array.isArray(raw));
          w.test.config.set("platform:services", raw.map((s, i) => (i === 0 && s !== null && typeof s === "object" && !Array.isArray(s) ? { ...s, blue: { image: S1 } } : s)));
          return w;
        },
        code: ExitCode.Refused,
        match: /config and deployed state disagree/,
      },
      { name: "pending operations in the target's state", setup: (hh) => world(hh, { pending: true }), code: ExitCode.Refused, match: /pending operation/ },
      { name: "flip targets missing from the state", setup: (hh) => world(hh, { missingFlipTargets: ["student"] }), code: ExitCode.Refused, match: /student-ingress.*not in state/ },
      {
        name: "a target config that disagrees with what serves traffic",
        setup: (hh) => {
          const w = world(hh);
          const raw = w.staging.config.get("platform:services");
          assert.ok(Array.isArray(raw));
          // Someone flipped in the file without an up: "idle" green would be the live color.
          w.staging.config.set("platform:services", raw.map((s, i) => (i === 0 && s !== null && typeof s === "object" && !Array.isArray(s) ? { ...s, active: "green" } : s)));
          return { ...w, before: { raw: structuredClone(w.staging.config.get("platform:services")), deployed: w.before.deployed } };
        },
        code: ExitCode.Refused,
        match: /config says green is active, the stack serves blue/,
      },
      { name: "an unknown service", setup: (hh) => world(hh), req: { services: ["nope"] }, code: ExitCode.Error, match: /no service named nope/ },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const w = c.setup(h);
        const out = await promote(h.deps(), { from: "test", to: "staging", services: c.req?.services });
        assert.equal(out.exitCode, c.code, out.message);
        assert.match(out.message, c.match);
        assert.equal(w.staging.count("up") + w.staging.count("preview") + w.staging.count("setConfig"), 0, "nothing changed");
        assert.deepEqual(w.staging.config.get("platform:services"), w.before.raw);
        assert.equal(h.posts().length, 1, "the refusal is notified");
      });
    }
  });

  describe("fault matrix", () => {
    interface Case {
      readonly name: string;
      readonly faults?: Fault[];
      readonly arrange?: (h: Harness, w: World) => void;
      readonly allowReplace?: boolean;
      readonly code: ExitCode;
      readonly result: string;
      readonly ups: number;
      readonly previews: number;
      readonly message: RegExp;
      /** false: the restore itself failed, so the end state is not asserted as restored. */
      readonly restored?: boolean;
    }
    const onUp = (n: number): ((k: number) => boolean) => (k) => k === n;
    const cases: Case[] = [
      { name: "mandatory policy violation", faults: [{ op: "preview", kind: "policy-mandatory" }], code: ExitCode.PolicyViolation, result: "policy violation", ups: 0, previews: 1, message: /mandatory policy violation.*images-pinned-by-digest/ },
      { name: "planned replace of a stateful resource", faults: [{ op: "preview", kind: "stateful-replace" }], code: ExitCode.Refused, result: "refused", ups: 0, previews: 1, message: /replace aws:rds\/instance:Instance staging-db/ },
      { name: "preview engine error", faults: [{ op: "preview", kind: "error", message: "TypeError in program" }], code: ExitCode.OperationFailed, result: "failed", ups: 0, previews: 1, message: /preview of "staging" failed: TypeError in program/ },
      { name: "staging up fails", faults: [{ op: "up", kind: "error", on: onUp(1), message: "ECR pull denied" }], code: ExitCode.RolledBack, result: "rolled back", ups: 2, previews: 2, message: /stage up failed \(update\): ECR pull denied.*restored and verified/ },
      { name: "readiness times out", faults: [{ op: "up", kind: "readiness", on: onUp(1) }], code: ExitCode.RolledBack, result: "rolled back", ups: 2, previews: 2, message: /stage up failed \(readiness\): .*timed out/ },
      { name: "preview health fails", arrange: (hh) => hh.world.unhealthy.add(S2), code: ExitCode.RolledBack, result: "rolled back", ups: 2, previews: 2, message: /preview health gate failed: student: 0\/2 consecutive.*HTTP 503/ },
      { name: "preview health too slow", arrange: (hh) => hh.world.slow.add(J5), code: ExitCode.RolledBack, result: "rolled back", ups: 2, previews: 2, message: /subject: .*latency bound/ },
      { name: "flip up fails", faults: [{ op: "up", kind: "error", on: onUp(2), message: "ingress webhook denied" }], code: ExitCode.RolledBack, result: "rolled back", ups: 3, previews: 3, message: /flip up failed.*ingress webhook denied/ },
      {
        name: "the staging up returns outputs that break the output contract",
        faults: [{ op: "up", kind: "legacy-outputs", on: onUp(1) }],
        code: ExitCode.RolledBack,
        result: "rolled back",
        ups: 2,
        previews: 2,
        message: /stack outputs do not follow the output contract: .*services\.0\.liveHealthUrl.*restored and verified/,
      },
      { name: "post-flip live health fails", arrange: (hh) => hh.world.unhealthyLive.add(S2), code: ExitCode.RolledBack, result: "rolled back", ups: 3, previews: 3, message: /live health gate failed: student/ },
      {
        name: "post-flip target health fails",
        arrange: (hh) => {
          hh.targetHealth.verdict = (q) => (q.color === "green" ? { healthy: false, detail: "10.0.1.7:8080 unhealthy (Target.ResponseCodeMismatch)" } : { healthy: true, detail: "ok" });
        },
        code: ExitCode.RolledBack,
        result: "rolled back",
        ups: 3,
        previews: 3,
        message: /student \(green\): 10\.0\.1\.7:8080 unhealthy/,
      },
      {
        name: "restore up fails",
        faults: [
          { op: "up", kind: "error", on: onUp(2), message: "flip broke" },
          { op: "up", kind: "error", on: onUp(3), message: "restore broke" },
        ],
        code: ExitCode.ManualIntervention,
        result: "manual intervention",
        ups: 3,
        previews: 3,
        message: /flip broke.*restore up failed.*restore broke/,
        restored: false,
      },
      {
        name: "restore cannot be verified",
        arrange: (hh) => {
          hh.world.liveDown = true;
        },
        code: ExitCode.ManualIntervention,
        result: "manual intervention",
        ups: 3,
        previews: 3,
        message: /live health gate failed.*restore not verified/,
      },
      {
        name: "stack locked for longer than the retries",
        faults: [{ op: "up", kind: "concurrent", times: 100 }],
        code: ExitCode.Locked,
        result: "locked",
        ups: 4,
        previews: 1,
        message: /locked by another update; gave up after 4 attempt\(s\)\. The other update was not cancelled/,
      },
    ];

    for (const c of cases) {
      it(c.name, async () => {
        const w = world(h, { faults: c.faults });
        c.arrange?.(h, w);
        const out = await promote(h.deps(), { from: "test", to: "staging", allowReplace: c.allowReplace });
        assert.equal(out.exitCode, c.code, out.message);
        assert.equal(out.result, c.result);
        assert.match(out.message, c.message);
        assert.equal(w.staging.count("up"), c.ups, "up count");
        assert.equal(w.staging.count("preview"), c.previews, "preview count");
        if (c.restored !== false) {
          assertRestored(w);
        }
        assert.equal(h.backups("staging").length, 1, "backup written");
        const embed = lastPost(h);
        assert.match(embed.title, new RegExp(`: ${c.result}$`));
        assert.ok((embed.description ?? "").length > 0, "the failure is described");
        if (c.code === ExitCode.ManualIntervention) {
          assert.ok(out.remediation.some((r) => r.includes("rollback staging --service")));
          assert.ok(out.remediation.some((r) => r.includes(h.backupDir)));
        }
      });
    }

    it("a planned stateful replace passes with allowReplace", async () => {
      const w = world(h, { faults: [{ op: "preview", kind: "stateful-replace" }] });
      const out = await promote(h.deps(), { from: "test", to: "staging", allowReplace: true });
      assert.equal(out.exitCode, ExitCode.Ok, out.message);
      assert.equal(w.staging.count("up"), 2);
    });

    it("waits out a short concurrent update with bounded backoff and never cancels it", async () => {
      const w = world(h, { faults: [{ op: "up", kind: "concurrent", times: 2, on: (n) => n <= 2 }] });
      const out = await promote(h.deps(), { from: "test", to: "staging" });
      assert.equal(out.exitCode, ExitCode.Ok, out.message);
      assert.deepEqual(h.clock.sleeps.slice(0, 2), [1_000, 2_000], "exponential backoff");
      assert.equal(w.staging.count("up"), 4, "two refused attempts, then stage and flip");
      assert.ok(h.logs.some((l) => /locked by another update \(attempt 1\/4\); waiting 1s\. Not cancelling it\./.test(l)));
    });

    it("interrupt (SIGTERM) during the staging up: aborts it, restores the config, exits 143", async () => {
      const w = world(h, { upDelayMs: 2_000 });
      w.staging.onCall = (call) => {
        if (call.op === "up") {
          setTimeout(() => h.controller.abort(new Interrupt("SIGTERM")), 20);
        }
      };
      const started = Date.now();
      const out = await promote(h.deps(), { from: "test", to: "staging" });
      assert.ok(Date.now() - started < 1_500, "did not wait for the whole up");
      assert.equal(out.exitCode, ExitCode.Terminated);
      assert.equal(out.result, "interrupted");
      assert.equal(w.staging.count("up"), 1, "no further up after an interrupt");
      // A cancelled update still applies its in-flight steps (the provider's PATCH was sent), so
      // the staged image is in the idle color; no traffic moved, and the config is back.
      assert.deepEqual(w.staging.config.get("platform:services"), w.before.raw, "config restored byte for byte");
      assert.deepEqual(w.staging.deployed().map((s) => s.active), ["blue", "green"], "traffic never moved");
      assert.equal(w.staging.config.get("platform:releases"), undefined, "nothing recorded as verified");
      assert.ok(out.remediation.some((r) => r.includes("npm run platform -- up staging")));
      assert.ok(out.remediation.some((r) => r.includes("no pending operations")), "the state is inspected after the abort");
      assert.equal(h.backups("staging").length, 1);
      assert.match(lastPost(h).title, /interrupted/);
    });

    it("interrupt (SIGINT) during the preview health gate exits 130", async () => {
      const w = world(h);
      h.world.unhealthy.add(S2);
      w.staging.onCall = (call) => {
        if (call.op === "up") {
          setTimeout(() => h.controller.abort(new Interrupt("SIGINT")), 30);
        }
      };
      const out = await promote(h.deps({ healthGate: { successes: 2, latencyMs: 200, timeoutMs: 5_000, intervalMs: 5 } }), { from: "test", to: "staging" });
      assert.equal(out.exitCode, ExitCode.Interrupted);
      assert.equal(w.staging.count("up"), 1);
      assert.deepEqual(w.staging.config.get("platform:services"), w.before.raw, "config restored");
      assert.ok(out.remediation.some((r) => /part-way/.test(r)));
    });
  });

  it("a failed notification is reported but does not change the result", async () => {
    world(h);
    h.webhookStatus = 500;
    const out = await promote(h.deps(), { from: "test", to: "staging" });
    assert.equal(out.exitCode, ExitCode.Ok);
    assert.equal(out.notification?.delivered, false);
    assert.match(out.notification?.detail ?? "", /HTTP 500/);
    assert.equal(h.posts().length, 2, "one retry");
    assert.ok(h.logs.some((l) => l.includes("notification failed")));
  });

  it("never sends secrets in the notification", async () => {
    world(h, { faults: [{ op: "up", kind: "error", on: (n) => n === 1, message: `auth failed for https://admin:hunter2-passphrase@db.internal and ${"https://discord.com/api/webhooks/1/abc"}` }] });
    const out = await promote(h.deps(), { from: "test", to: "staging" });
    assert.equal(out.exitCode, ExitCode.RolledBack);
    const body = h.webhook.requests[0]?.body ?? "";
    assert.ok(!body.includes("hunter2-passphrase"), body);
    assert.ok(!body.includes("secret-token"));
    assert.ok(!body.includes("discord.com/api/webhooks/1/abc"));
    assert.ok(body.includes("https://***@db.internal") || body.includes("***"));
  });

  it("writes backups owner-only under the backup directory", async () => {
    world(h);
    await promote(h.deps(), { from: "test", to: "staging" });
    const [file] = h.backups("staging");
    assert.ok(file !== undefined && /^\d{4}-\d{2}-\d{2}T.*-promote\.json$/.test(file), file);
    const full = path.join(h.backupDir, "staging", file);
    assert.equal(fs.statSync(full).mode & 0o777, 0o600);
    const state = JSON.parse(fs.readFileSync(full, "utf8")) as { deployment: { resources: Array<{ urn: string }> } };
    assert.ok(state.deployment.resources.some((r) => r.urn.endsWith("::student-ingress")));
  });
});

describe("automation: release into test (no blue/green)", function () {
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.start();
  });
  afterEach(async () => {
    await h.close();
  });

  function testStack(faults?: Fault[]): MemoryStack {
    return h.add(
      new MemoryStack({
        name: "test",
        environment: "test",
        baseUrl: h.world.url,
        services: [{ name: "student", active: "blue", blue: S1 }],
        faults,
      }),
    );
  }

  it("replaces the active color's image, gates the live host, records the digest", async () => {
    const t = testStack();
    h.resolver.tags.set(`${S2.split("@")[0] ?? ""}:1.5.0`, S2);
    const out: Outcome = await release(h.deps(), { stack: "test", items: [{ service: "student", image: `${S2.split("@")[0] ?? ""}:1.5.0` }] });
    assert.equal(out.exitCode, ExitCode.Ok, out.message);
    assert.deepEqual(t.configServices()[0], { name: "student", active: "blue", blue: S2, green: undefined, parked: [], healthPath: "/health", paths: ["/student"] });
    assert.equal(t.count("up"), 1, "one up, no flip");
    assert.equal(t.count("preview"), 1);
    const releases = t.config.get("platform:releases") as Record<string, { image: string; source: string }>;
    assert.equal(releases["student"]?.image, S2, "the digest, not the tag, is recorded");
    assert.equal(releases["student"]?.source, "release");
    assert.ok(h.world.requests.some((r) => r.path === "/test/live/student/health"));
    assert.equal(h.targetHealth.queries.length, 0, "no ALB target check on the single host");
    assert.match(lastPost(h).title, /release test: succeeded/);
  });

  it("restores the previous image when the live gate fails", async () => {
    const t = testStack();
    const before = structuredClone(t.config.get("platform:services"));
    h.world.unhealthy.add(S2);
    const out = await release(h.deps(), { stack: "test", items: [{ service: "student", image: S2 }] });
    assert.equal(out.exitCode, ExitCode.RolledBack, out.message);
    assert.deepEqual(t.config.get("platform:services"), before);
    assert.equal(t.deployed()[0]?.blue, S1);
    assert.equal(t.count("up"), 2);
    assert.equal(t.config.get("platform:releases"), undefined);
  });

  it("refuses a tag that cannot be resolved, before anything changes", async () => {
    const t = testStack();
    const out = await release(h.deps(), { stack: "test", items: [{ service: "student", image: "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/student:9.9.9" }] });
    assert.equal(out.exitCode, ExitCode.Error);
    assert.equal(t.calls.length, 0);
    assert.equal(h.posts().length, 1);
  });
});
