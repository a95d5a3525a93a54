/**
 * preview (policy gate, change summary, drift, step summary), up (stateful guard, pending
 * operations, failures) and status, against the in-memory stack.
 */
import { strict as assert } from "assert";
import { preview, status, up } from "../../automation/commands";
import { Interrupt } from "../../automation/errors";
import { ExitCode } from "../../automation/exitCodes";
import { Harness } from "./harness";
import { image } from "./loopback";
import { Fault, MemoryStack } from "./memoryStack";

const A = image("student", "1.4.0");
const B = image("student", "1.5.0");

describe("automation: preview, up, status", function () {
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.start();
  });
  afterEach(async () => {
    await h.close();
  });

  function staging(opts: { faults?: Fault[]; pending?: boolean; upDelayMs?: number } = {}): MemoryStack {
    return h.add(
      new MemoryStack({
        name: "staging",
        environment: "staging",
        baseUrl: h.world.url,
        services: [{ name: "student", active: "blue", blue: A, green: B }],
        faults: opts.faults,
        upDelayMs: opts.upDelayMs,
        pendingOperations: opts.pending === true ? [{ type: "updating", urn: "urn:pulumi:staging::platform::aws:rds/instance:Instance::db" }] : undefined,
      }),
    );
  }

  /** Edits the stack file as a developer would (no up). */
  function editGreen(s: MemoryStack, img: string): void {
    const raw = s.config.get("platform:services");
    assert.ok(Array.isArray(raw) && raw[0] !== null && typeof raw[0] === "object" && !Array.isArray(raw[0]));
    s.config.set("platform:services", [{ ...raw[0], green: { image: img } }]);
  }

  describe("preview", () => {
    it("reports no changes and writes the step summary", async () => {
      const s = staging();
      const out = await preview(h.deps(), { stack: "staging", expectNoChanges: true });
      assert.equal(out.exitCode, ExitCode.Ok, out.message);
      assert.deepEqual(out.changes, { creates: 0, updates: 0, replaces: 0, deletes: 0, unchanged: out.changes?.unchanged ?? -1 });
      assert.equal(s.count("preview"), 1);
      assert.deepEqual(s.calls.find((c) => c.op === "preview")?.policyPacks, ["/repo/policy"]);
      assert.equal(s.count("up"), 0);
      assert.match(h.summaries[0] ?? "", /### Pulumi preview: `staging`[\s\S]*No changes/);
    });

    it("--expect-no-changes exits 6 on drift", async () => {
      const s = staging();
      editGreen(s, image("student", "9.9.9"));
      const out = await preview(h.deps(), { stack: "staging", expectNoChanges: true });
      assert.equal(out.exitCode, ExitCode.Drift);
      assert.equal(out.changes?.updates, 1);
      assert.match(h.summaries[0] ?? "", /drift[\s\S]*\| update \| `kubernetes:apps\/v1:Deployment` \| student-green \|/);
    });

    // The provider's own text for a field another manager changed (pulumi-kubernetes v4.25.0
    // pkg/await/await.go:700-716, seen on the real engine in test/integration/operations.test.ts).
    const CONFLICT =
      'the Kubernetes API server reported that "apps/student-blue" failed to fully initialize or become live: Server-Side Apply field conflict detected. See https://www.pulumi.com/registry/packages/kubernetes/how-to-guides/managing-resources-with-server-side-apply/#handle-field-conflicts-on-existing-resources for troubleshooting help. The resource managed by field manager "pulumi-kubernetes-2695f6f1" had an apply conflict: Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.template.spec.containers[name="student"].image';

    it("--expect-no-changes: a field changed by another manager (the dry-run apply conflicts) is drift, exit 6, with the manager and field", async () => {
      staging({ faults: [{ op: "preview", kind: "error", message: CONFLICT }] });
      const out = await preview(h.deps(), { stack: "staging", expectNoChanges: true });
      assert.equal(out.exitCode, ExitCode.Drift, out.message);
      assert.equal(out.result, "drift");
      assert.match(out.message, /drift\): "apps\/student-blue" was changed outside Pulumi by another field manager \(conflict with "kubectl-edit" using apps\/v1: \.spec\.template\.spec\.containers\[name="student"\]\.image\)/);
      assert.match(out.remediation.join("\n"), /would fail on the same conflict/);
    });

    it("a plain preview failing on the same conflict stays a failed preview (exit 8)", async () => {
      staging({ faults: [{ op: "preview", kind: "error", message: CONFLICT }] });
      const out = await preview(h.deps(), { stack: "staging" });
      assert.equal(out.exitCode, ExitCode.OperationFailed, out.message);
    });

    it("a mandatory policy violation exits 2 and lists the violation", async () => {
      staging({ faults: [{ op: "preview", kind: "policy-mandatory", message: "image must be pinned | by digest" }] });
      const out = await preview(h.deps(), { stack: "staging" });
      assert.equal(out.exitCode, ExitCode.PolicyViolation);
      assert.deepEqual(
        out.violations?.map((v) => [v.enforcement, v.policyPack, v.policy, v.message]),
        [["mandatory", "platform-policies", "images-pinned-by-digest", "image must be pinned | by digest"]],
      );
      assert.match(h.summaries[0] ?? "", /image must be pinned \\\| by digest/, "pipes escaped in the Markdown table");
    });

    it("advisory violations are reported without failing", async () => {
      staging({ faults: [{ op: "preview", kind: "policy-advisory" }] });
      const out = await preview(h.deps(), { stack: "staging" });
      assert.equal(out.exitCode, ExitCode.Ok);
      assert.equal(out.violations?.[0]?.enforcement, "advisory");
    });

    it("flags planned replaces of stateful resources", async () => {
      staging({ faults: [{ op: "preview", kind: "stateful-replace" }] });
      const out = await preview(h.deps(), { stack: "staging" });
      assert.equal(out.exitCode, ExitCode.Ok, "preview only reports; up refuses");
      assert.deepEqual(out.hazards?.map((x) => [x.op, x.type]), [["replace", "aws:rds/instance:Instance"]]);
      assert.match(h.summaries[0] ?? "", /Stateful resources to be replaced or deleted[\s\S]*staging-db/);
    });

    // A DIY backend locks updates, never previews (pulumi/pkg v3.276.0 backend/diy/backend.go:1212-1216):
    // the in-memory stack refuses to model a locked preview, and a preview runs while an update holds the lock.
    it("takes no lock: runs while another update holds the stack, without waiting", async () => {
      assert.throws(() => staging({ faults: [{ op: "preview", kind: "concurrent" }] }), /previews take no lock/);
      const s = h.add(
        new MemoryStack({ name: "staging", environment: "staging", baseUrl: h.world.url, services: [{ name: "student", active: "blue", blue: A, green: B }], foreignLock: { pid: 4242, hostname: "ci-runner-7" } }),
      );
      const out = await preview(h.deps(), { stack: "staging" });
      assert.equal(out.exitCode, ExitCode.Ok, out.message);
      assert.equal(s.count("preview"), 1);
      assert.deepEqual(h.clock.sleeps, []);
    });
  });

  describe("up", () => {
    it("gates, backs up, then runs one up with a message", async () => {
      const s = staging();
      editGreen(s, image("student", "1.6.0"));
      const out = await up(h.deps(), { stack: "staging", message: "bump student green" });
      assert.equal(out.exitCode, ExitCode.Ok, out.message);
      assert.equal(s.count("preview"), 1);
      assert.equal(s.count("up"), 1);
      assert.match(s.ups()[0]?.message ?? "", /^up staging: bump student green by ci-bot \(https:\/\/github\.com\/acme\/platform\/actions\/runs\/42\)$/);
      assert.equal(h.backups("staging").length, 1);
      assert.equal(s.deployed()[0]?.green, image("student", "1.6.0"));
      assert.equal(out.changes?.updates, 1);
    });

    it("does not run up when the preview has no changes", async () => {
      const s = staging();
      const out = await up(h.deps(), { stack: "staging" });
      assert.equal(out.result, "no-op");
      assert.equal(s.count("up"), 0);
    });

    it("refuses a planned stateful replace without --allow-replace", async () => {
      const s = staging({ faults: [{ op: "preview", kind: "stateful-replace", times: 2 }] });
      editGreen(s, image("student", "1.6.0"));
      const refused = await up(h.deps(), { stack: "staging" });
      assert.equal(refused.exitCode, ExitCode.Refused);
      assert.match(refused.message, /replace aws:rds\/instance:Instance staging-db/);
      assert.equal(s.count("up"), 0);
      const allowed = await up(h.deps(), { stack: "staging", allowReplace: true });
      assert.equal(allowed.exitCode, ExitCode.Ok, allowed.message);
      assert.equal(s.count("up"), 1);
    });

    it("refuses with the remediation when the state has pending operations", async () => {
      const s = staging({ pending: true });
      const out = await up(h.deps(), { stack: "staging" });
      assert.equal(out.exitCode, ExitCode.Refused);
      assert.equal(s.count("preview"), 0);
      assert.ok(out.remediation.some((r) => r.includes("pending updating: urn:pulumi:staging::platform::aws:rds/instance:Instance::db")));
      assert.ok(out.remediation.some((r) => r.includes("no update holds the stack's lock")));
      assert.ok(out.remediation.some((r) => r.includes("`pulumi refresh --stack staging` records what the cloud holds and clears them")));
    });

    it("a mandatory violation stops before the up", async () => {
      const s = staging({ faults: [{ op: "preview", kind: "policy-mandatory" }] });
      editGreen(s, image("student", "1.6.0"));
      const out = await up(h.deps(), { stack: "staging" });
      assert.equal(out.exitCode, ExitCode.PolicyViolation);
      assert.equal(s.count("up"), 0);
    });

    it("a failed up exits 8 with the engine's error, no automatic restore", async () => {
      const s = staging({ faults: [{ op: "up", kind: "error", message: "InvalidParameterValue: subnet group" }] });
      editGreen(s, image("student", "1.6.0"));
      const out = await up(h.deps(), { stack: "staging" });
      assert.equal(out.exitCode, ExitCode.OperationFailed);
      assert.match(out.message, /InvalidParameterValue: subnet group/);
      assert.equal(s.count("up"), 1);
      assert.ok(out.remediation.some((r) => r.includes("state backup")));
    });

    it("SIGTERM during up aborts it and exits 143", async () => {
      const s = staging({ upDelayMs: 2_000 });
      editGreen(s, image("student", "1.6.0"));
      s.onCall = (c) => {
        if (c.op === "up") {
          setTimeout(() => h.controller.abort(new Interrupt("SIGTERM")), 20);
        }
      };
      const out = await up(h.deps(), { stack: "staging" });
      assert.equal(out.exitCode, ExitCode.Terminated);
      assert.ok(out.remediation.some((r) => r.includes("interrupted part-way")));
    });
  });

  describe("status", () => {
    it("lists colors, images and the last verified release; flags config the stack does not run", async () => {
      const s = staging();
      s.config.set("platform:releases", { student: { image: A, verifiedAt: "2025-02-03T04:05:06.000Z", source: "promote test->staging" } });
      let out = await status(h.deps(), { stack: "staging" });
      assert.equal(out.exitCode, ExitCode.Ok);
      assert.deepEqual(out.status?.map((r) => [r.service, r.active, r.deployedActive, r.blue, r.green, r.converged, r.release?.source]), [
        ["student", "blue", "blue", A, B, true, "promote test->staging"],
      ]);
      editGreen(s, image("student", "1.6.0"));
      out = await status(h.deps(), { stack: "staging" });
      assert.equal(out.status?.[0]?.converged, false);
      assert.match(out.message, /differs from the last update for student/);
      assert.equal(s.count("up") + s.count("preview") + s.count("setConfig"), 0, "status changes nothing");
    });

    it("an unknown stack is a usage error", async () => {
      const out = await status(h.deps(), { stack: "nope" });
      assert.equal(out.exitCode, ExitCode.Error);
    });

    it("shows the health URLs the gates probe, as the program exports them", async () => {
      staging();
      const out = await status(h.deps(), { stack: "staging" });
      assert.deepEqual(
        out.status?.map((r) => [r.liveHealthUrl, r.previewHealthUrl]),
        [[`${h.world.url}/staging/live/student/health`, `${h.world.url}/staging/preview/student/health`]],
      );
    });

    it("outputs that break the output contract are an error, not an empty table", async () => {
      h.add(new MemoryStack({ name: "prod", environment: "prod", baseUrl: h.world.url, legacyOutputs: true, services: [{ name: "student", active: "blue", blue: A }] }));
      const out = await status(h.deps(), { stack: "prod" });
      assert.equal(out.exitCode, ExitCode.Error);
      assert.match(out.message, /do not follow the output contract/);
    });
  });
});
