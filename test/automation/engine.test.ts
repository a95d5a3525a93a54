/**
 * How the driver reads the engine: success from the engine's own summary event (not from the
 * SDK's reads after the CLI exited), drift counted as the engine counts it, after a refresh, and
 * a preview without a summary treated as an error.
 */
import { strict as assert } from "assert";
import { flip, preview, up } from "../../automation/commands";
import { hasChanges, summarize } from "../../automation/changes";
import { engineChanges } from "../../automation/engine";
import { ExitCode } from "../../automation/exitCodes";
import { Harness } from "./harness";
import { image } from "./loopback";
import { Fault, MemoryStack } from "./memoryStack";

const A = image("student", "1.4.0");
const B = image("student", "1.5.0");

describe("automation: the engine's word", function () {
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.start();
  });
  afterEach(async () => {
    await h.close();
  });

  function stack(opts: { faults?: Fault[]; outOfBand?: string[] } = {}): MemoryStack {
    return h.add(
      new MemoryStack({ name: "prod", environment: "prod", baseUrl: h.world.url, services: [{ name: "student", active: "blue", blue: A, green: B }], faults: opts.faults, outOfBand: opts.outOfBand }),
    );
  }

  describe("success is success", () => {
    it("an update that succeeded is not restored when reading its results fails; the outputs are re-read", async () => {
      const s = stack({ faults: [{ op: "up", kind: "read-after-success" }, { op: "outputs", kind: "error", times: 2, on: (n) => n > 1 }] });
      const out = await flip(h.deps(), { stack: "prod", service: "student" });
      assert.equal(out.exitCode, ExitCode.Ok, out.message);
      assert.equal(s.count("up"), 1, "no restore");
      assert.equal(s.deployed()[0]?.active, "green");
      assert.equal(s.count("outputs"), 1 + 3, "the load, then two failed reads and a good one");
      assert.ok(h.logs.some((l) => /prod flip: the update succeeded, but reading its results failed .*could not read stack history/.test(l)));
    });

    it("outputs that stay unreadable: the gates use the URLs read before; still no restore", async () => {
      const s = stack({ faults: [{ op: "up", kind: "read-after-success" }, { op: "outputs", kind: "error", times: 99, on: (n) => n > 1 }] });
      const out = await flip(h.deps(), { stack: "prod", service: "student" });
      assert.equal(out.exitCode, ExitCode.Ok, out.message);
      assert.equal(s.count("up"), 1);
      assert.ok(h.logs.some((l) => /outputs could not be read after 4 attempts/.test(l)));
    });

    it("a failed update (summary result failed) is still a failure", async () => {
      const s = stack({ faults: [{ op: "up", kind: "error", on: (n) => n === 1, message: "admission webhook denied" }] });
      const out = await flip(h.deps(), { stack: "prod", service: "student" });
      assert.equal(out.exitCode, ExitCode.RolledBack, out.message);
      assert.equal(s.count("up"), 2);
    });
  });

  describe("drift means drift", () => {
    it("--expect-no-changes refreshes, so a change made in the cluster is drift (exit 6)", async () => {
      const s = stack({ outOfBand: ["student-green"] });
      const out = await preview(h.deps(), { stack: "prod", expectNoChanges: true });
      assert.equal(out.exitCode, ExitCode.Drift, out.message);
      assert.equal(s.calls.find((c) => c.op === "preview")?.refresh, true);
      const plain = await preview(h.deps(), { stack: "prod" });
      assert.equal(plain.exitCode, ExitCode.Ok, "a plain preview diffs state against the program and does not refresh");
      assert.equal(s.calls.filter((c) => c.op === "preview")[1]?.refresh, false);
    });

    it("the drift report names the object and its paths; a plain up does not see drift, `up --refresh` re-applies it and the next check is clean", async () => {
      const s = stack({ outOfBand: ["student-green"] });
      const found = await preview(h.deps(), { stack: "prod", expectNoChanges: true });
      assert.equal(found.exitCode, ExitCode.Drift, found.message);
      assert.match(found.message, / 1 to update, .*; update kubernetes:apps\/v1:Deployment student-green: spec\.template\.spec\.containers\[0\]\.image$/);
      assert.match(found.remediation.join("\n"), /`npm run platform -- up prod --refresh`/);

      const plain = await up(h.deps(), { stack: "prod" });
      assert.equal(plain.result, "no-op", plain.message);
      assert.equal(s.count("up"), 0, "the guard preview diffs the recorded state: nothing to do");
      assert.equal((await preview(h.deps(), { stack: "prod", expectNoChanges: true })).exitCode, ExitCode.Drift, "a plain up leaves the drift");

      const refreshed = await up(h.deps(), { stack: "prod", refresh: true });
      assert.equal(refreshed.exitCode, ExitCode.Ok, refreshed.message);
      assert.equal(refreshed.changes?.updates, 1);
      assert.deepEqual(
        s.calls.filter((c) => c.op === "up").map((c) => c.refresh),
        [true],
        "the update itself refreshes, not only its guard preview",
      );
      const clean = await preview(h.deps(), { stack: "prod", expectNoChanges: true });
      assert.equal(clean.exitCode, ExitCode.Ok, clean.message);
    });

    it("a preview that ends without the engine's summary is an error, not 'no changes'", async () => {
      stack({ faults: [{ op: "preview", kind: "no-summary" }] });
      const out = await preview(h.deps(), { stack: "prod", expectNoChanges: true });
      assert.equal(out.exitCode, ExitCode.OperationFailed, out.message);
      assert.match(out.message, /ended without the engine's summary of changes/);
    });

    it("up does not run on a preview without a summary either", async () => {
      const s = stack({ faults: [{ op: "preview", kind: "no-summary" }] });
      const out = await up(h.deps(), { stack: "prod" });
      assert.equal(out.exitCode, ExitCode.OperationFailed, out.message);
      assert.equal(s.count("up"), 0);
    });

    const counts: ReadonlyArray<[Record<string, number>, number]> = [
      [{ same: 40, read: 2, discard: 1, "read-replacement": 1 }, 0],
      [{ same: 40, update: 1 }, 1],
      [{ same: 40, import: 2 }, 2],
      [{ same: 40, "create-replacement": 1, "delete-replaced": 1, replace: 1 }, 3],
      [{ "remove-pending-replace": 1 }, 1],
    ];
    for (const [ops, n] of counts) {
      it(`counts ${JSON.stringify(ops)} as ${n} change(s), as the engine's --expect-no-changes does`, () => {
        assert.equal(engineChanges(ops), n);
      });
    }
    it("the old create/update/replace/delete count missed imports", () => {
      assert.equal(hasChanges(summarize({ import: 2 })), false);
      assert.equal(engineChanges({ import: 2 }), 2);
    });
  });
});
