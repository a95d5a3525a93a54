/**
 * flip and rollback: exactly one targeted up on success, the fault matrix with the end state
 * asserted each time, and the refusals that keep traffic where it is.
 */
import { strict as assert } from "assert";
import { flip, rollback } from "../../automation/commands";
import { Interrupt } from "../../automation/errors";
import { ExitCode } from "../../automation/exitCodes";
import { Json } from "../../automation/types";
import { Harness } from "./harness";
import { image } from "./loopback";
import { Fault, MemoryStack } from "./memoryStack";

const A = image("student", "1.4.0");
const B = image("student", "1.5.0");

describe("automation: flip and rollback", function () {
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.start();
  });
  afterEach(async () => {
    await h.close();
  });

  function prod(opts: { faults?: Fault[]; upDelayMs?: number; green?: string } = {}): { stack: MemoryStack; raw: Json | undefined; deployed: Json } {
    const stack = h.add(
      new MemoryStack({
        name: "prod",
        environment: "prod",
        baseUrl: h.world.url,
        services: [
          { name: "student", active: "blue", blue: A, green: "green" in opts ? opts.green : B },
          { name: "subject", active: "blue", blue: image("subject", "2.0.0"), green: image("subject", "2.1.0") },
        ],
        faults: opts.faults,
        upDelayMs: opts.upDelayMs,
      }),
    );
    return { stack, raw: structuredClone(stack.config.get("platform:services")), deployed: structuredClone(stack.deployedServices) };
  }

  it("a flip is one targeted preview and one targeted up of the ingress and the active Service", async () => {
    const { stack } = prod();
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.Ok, out.message);
    assert.equal(stack.count("up"), 1);
    // The engine gives a target its full desired state, so the flip is checked before it runs.
    const previews = stack.calls.filter((c) => c.op === "preview");
    assert.equal(previews.length, 1);
    assert.deepEqual(previews[0]?.target, stack.ups()[0]?.target, "the check previews exactly the up's targets");
    assert.deepEqual(previews[0]?.policyPacks, ["/repo/policy"], "with the policy packs");
    assert.deepEqual(stack.ups()[0]?.policyPacks, ["/repo/policy"], "the up runs them too");
    // Not the root stack: the engine targets it implicitly.
    assert.deepEqual([...(stack.ups()[0]?.target ?? [])].sort(), [stack.ingressUrn("student"), stack.activeUrn("student")].sort());
    assert.equal(stack.configServices()[0]?.active, "green");
    assert.equal(stack.deployed()[0]?.active, "green");
    assert.equal(stack.deployed()[1]?.active, "blue", "the other service is untouched");
    assert.deepEqual(
      h.world.requests.map((r) => r.path),
      ["/prod/preview/student/health", "/prod/preview/student/health", "/prod/live/student/health", "/prod/live/student/health"],
      "idle color checked through the preview host before, live host after",
    );
    assert.equal(h.targetHealth.queries[0]?.color, "green");
    assert.equal(h.backups("prod").length, 1);
    assert.match(h.posts()[0]?.embeds[0]?.title ?? "", /flip prod: succeeded/);
    assert.equal(stack.config.get("platform:releases"), undefined, "a flip records nothing as verified");
  });

  it("rollback moves traffic back to the color that is still running", async () => {
    const { stack } = prod();
    assert.equal((await flip(h.deps(), { stack: "prod", service: "student" })).exitCode, ExitCode.Ok);
    const out = await rollback(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.Ok, out.message);
    assert.equal(stack.deployed()[0]?.active, "blue");
    assert.deepEqual(out.services[0], { service: "student", fromColor: "green", toColor: "blue", oldImage: B, newImage: A });
    assert.match(h.posts()[1]?.embeds[0]?.title ?? "", /rollback prod: succeeded/);
  });

  it("--to the active color is a no-op", async () => {
    const { stack } = prod();
    const out = await flip(h.deps(), { stack: "prod", service: "student", to: "blue" });
    assert.equal(out.exitCode, ExitCode.Ok);
    assert.equal(out.result, "no-op");
    assert.equal(stack.count("up"), 0);
  });

  it("refuses when the target color is unhealthy through the preview host, before any change", async () => {
    const { stack, raw } = prod();
    h.world.unhealthy.add(B);
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.Refused);
    assert.match(out.message, /green is not healthy through the preview host/);
    assert.equal(stack.count("up"), 0);
    assert.deepEqual(stack.config.get("platform:services"), raw);
    assert.equal(h.backups("prod").length, 0, "refused before the backup: nothing was about to change");
  });

  it("--force skips the preview-host check", async () => {
    const { stack } = prod();
    const out = await flip(h.deps(), { stack: "prod", service: "student", force: true });
    assert.equal(out.exitCode, ExitCode.Ok, out.message);
    assert.ok(!h.world.requests.some((r) => r.path.includes("/preview/")));
    assert.equal(stack.count("up"), 1);
  });

  it("refuses to flip to a color without an image", async () => {
    const { stack } = prod({ green: undefined });
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.Refused);
    assert.match(out.message, /green has no image/);
    assert.equal(stack.count("up"), 0);
  });

  it("refuses in the test environment (one color per service)", async () => {
    h.add(new MemoryStack({ name: "test", environment: "test", baseUrl: h.world.url, services: [{ name: "student", active: "blue", blue: A }] }));
    const out = await rollback(h.deps(), { stack: "test", service: "student" });
    assert.equal(out.exitCode, ExitCode.Error);
    assert.match(out.message, /nothing to rollback/);
  });

  it("refuses outputs that do not follow the output contract, naming the field, before any change", async () => {
    const stack = h.add(
      new MemoryStack({ name: "prod", environment: "prod", baseUrl: h.world.url, legacyOutputs: true, services: [{ name: "student", active: "blue", blue: A, green: B }] }),
    );
    const out = await flip(h.deps(), { stack: "prod", service: "student" });
    assert.equal(out.exitCode, ExitCode.Error, out.message);
    assert.match(out.message, /stack "prod": stack outputs do not follow the output contract: .*services\.0\.liveHealthUrl/);
    assert.equal(stack.count("up") + stack.count("setConfig"), 0);
    assert.equal(h.world.requests.length, 0, "no gate probed a guessed URL");
    assert.equal(h.backups("prod").length, 0);
  });

  describe("fault matrix", () => {
    const cases: ReadonlyArray<{
      name: string;
      faults?: Fault[];
      arrange?: (h: Harness) => void;
      code: ExitCode;
      ups: number;
      message: RegExp;
      restored: boolean;
    }> = [
      { name: "flip up fails", faults: [{ op: "up", kind: "error", on: (n) => n === 1, message: "admission webhook denied" }], code: ExitCode.RolledBack, ups: 2, message: /flip up failed.*admission webhook denied.*restored and verified/, restored: true },
      { name: "post-flip live health fails", arrange: (hh) => hh.world.unhealthyLive.add(B), code: ExitCode.RolledBack, ups: 2, message: /live health gate failed/, restored: true },
      {
        name: "post-flip target health fails",
        arrange: (hh) => {
          hh.targetHealth.verdict = () => ({ healthy: false, detail: "10.0.2.9:8080 draining" });
        },
        code: ExitCode.RolledBack,
        ups: 2,
        message: /student \(green\): 10\.0\.2\.9:8080 draining/,
        restored: true,
      },
      {
        name: "restore up fails",
        faults: [{ op: "up", kind: "error", times: 2, on: (n) => n <= 2, message: "API server unreachable" }],
        code: ExitCode.ManualIntervention,
        ups: 2,
        message: /restore up failed/,
        restored: false,
      },
      { name: "stack locked throughout", faults: [{ op: "up", kind: "concurrent", times: 99 }], code: ExitCode.Locked, ups: 4, message: /locked by another update/, restored: true },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const { stack, raw, deployed } = prod({ faults: c.faults });
        c.arrange?.(h);
        const out = await flip(h.deps(), { stack: "prod", service: "student" });
        assert.equal(out.exitCode, c.code, out.message);
        assert.match(out.message, c.message);
        assert.equal(stack.count("up"), c.ups);
        for (const u of stack.ups()) {
          assert.deepEqual([...(u.target ?? [])].sort(), [stack.ingressUrn("student"), stack.activeUrn("student")].sort(), "every flip/restore up is targeted at the flip's two resources");
        }
        if (c.restored) {
          assert.deepEqual(stack.config.get("platform:services"), raw);
          assert.deepEqual(stack.deployedServices, deployed);
        }
        assert.equal(h.posts().length, 1);
        assert.equal(h.backups("prod").length, 1);
      });
    }

    it("an interrupt during the flip up aborts it and exits 130", async () => {
      const { stack, raw } = prod({ upDelayMs: 2_000 });
      stack.onCall = (call) => {
        if (call.op === "up") {
          setTimeout(() => h.controller.abort(new Interrupt("SIGINT")), 20);
        }
      };
      const out = await flip(h.deps(), { stack: "prod", service: "student" });
      assert.equal(out.exitCode, ExitCode.Interrupted);
      assert.equal(stack.count("up"), 1);
      assert.deepEqual(stack.config.get("platform:services"), raw);
      assert.match(h.posts()[0]?.embeds[0]?.title ?? "", /interrupted/);
    });
  });
});
