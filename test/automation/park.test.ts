/**
 * The optional park step (`services[].idle: parked`): a promotion stages into a parked color
 * by unparking it in the same `up`, and parks the color it left idle with one more `up`; a
 * flip or rollback to a parked color scales it up and gates it before traffic moves; a failed
 * park never undoes a verified switch.
 */
import { strict as assert } from "assert";
import { flip, promote, rollback } from "../../automation/commands";
import { ExitCode } from "../../automation/exitCodes";
import { Json } from "../../automation/types";
import { Harness } from "./harness";
import { image } from "./loopback";
import { Fault, MemoryStack } from "./memoryStack";

const S1 = image("student", "1.4.0");
const S2 = image("student", "1.5.0");
const VERIFIED = "2025-01-01T00:00:00.000Z";

describe("automation: parked idle colors", function () {
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.start();
  });
  afterEach(async () => {
    await h.close();
  });

  /** staging: student live on blue (S1), green parked (S0 left from the last release). */
  function staging(opts: { idle?: "warm" | "parked"; faults?: Fault[]; parked?: "blue" | "green"; scaledByHpa?: string[] } = {}): { stack: MemoryStack; raw: Json | undefined; deployed: Json } {
    h.add(
      new MemoryStack({
        name: "test",
        environment: "test",
        baseUrl: h.world.url,
        services: [{ name: "student", active: "blue", blue: S2 }],
        releases: { student: { image: S2, verifiedAt: VERIFIED, source: "release" } },
      }),
    );
    const stack = h.add(
      new MemoryStack({
        name: "staging",
        environment: "staging",
        baseUrl: h.world.url,
        services: [
          {
            name: "student",
            active: "blue",
            blue: S1,
            green: image("student", "1.3.0"),
            parked: "parked" in opts ? opts.parked : "green",
            extra: { idle: opts.idle ?? "parked", replicas: 3 },
          },
          { name: "subject", active: "blue", blue: image("subject", "2.0.0"), green: image("subject", "2.1.0") },
        ],
        faults: opts.faults,
        scaledByHpa: opts.scaledByHpa,
      }),
    );
    return { stack, raw: structuredClone(stack.config.get("platform:services")), deployed: structuredClone(stack.deployedServices) };
  }

  function student(stack: MemoryStack, where: "config" | "deployed"): { active: string; parked: readonly string[]; blue?: string; green?: string } {
    const s = (where === "config" ? stack.configServices() : stack.deployed()).find((x) => x.name === "student");
    assert.ok(s !== undefined);
    return { active: s.active, parked: s.parked, blue: s.blue, green: s.green };
  }

  describe("promote", () => {
    it("unparks the idle color in the staging up, flips, then parks the old color with one more up", async () => {
      const { stack } = staging();
      const phases: string[][] = [];
      stack.onCall = (c) => {
        if (c.op === "up") {
          phases.push([c.message ?? "", c.target === undefined ? "full" : "targeted"]);
        }
      };
      const out = await promote(h.deps(), { from: "test", to: "staging", services: ["student"] });
      assert.equal(out.exitCode, ExitCode.Ok, out.message);
      assert.equal(stack.count("preview"), 3, "the stage's policy preview, the flip's and the park's targeted checks");
      assert.equal(stack.count("up"), 3, "stage, flip, park");
      assert.deepEqual(
        phases.map(([, kind]) => kind),
        ["full", "targeted", "targeted"],
        "the stage is a guarded full up; the flip and the park are targeted",
      );
      assert.deepEqual([...(stack.ups()[2]?.target ?? [])].sort(), [stack.deploymentUrn("student", "blue"), stack.hpaUrn("student", "blue"), stack.pdbUrn("student", "blue")].sort(), "the park targets the old color's Deployment, HPA and PDB");
      assert.match(phases[2]?.[0] ?? "", /park idle student blue/);
      assert.deepEqual(student(stack, "deployed"), { active: "green", parked: ["blue"], blue: S1, green: S2 });
      assert.deepEqual(student(stack, "config"), student(stack, "deployed"), "config and cloud agree");
      assert.match(out.message, /parked student blue/);
      assert.deepEqual(
        out.phases.map((p) => p.name).filter((n) => ["stage", "flip", "record", "park"].includes(n)),
        ["stage", "flip", "record", "park"],
        "the digest is recorded as verified before the park: parking is housekeeping",
      );
      assert.equal((stack.config.get("platform:services") as Array<Record<string, Json>>)[0]?.["replicas"], 3, "other fields preserved");
    });

    it("with idle: warm, nothing is parked and a promotion stays at two ups (the slot is still unparked)", async () => {
      const { stack } = staging({ idle: "warm" });
      const out = await promote(h.deps(), { from: "test", to: "staging", services: ["student"] });
      assert.equal(out.exitCode, ExitCode.Ok, out.message);
      assert.equal(stack.count("up"), 2);
      assert.deepEqual(student(stack, "deployed"), { active: "green", parked: [], blue: S1, green: S2 });
      assert.ok(!out.phases.some((p) => p.name === "park"));
    });

    it("a failed park keeps the verified switch, leaves the idle color warm in config and exits 8", async () => {
      const { stack } = staging({ faults: [{ op: "up", kind: "error", on: (n) => n === 3, message: "admission webhook denied deleting the HPA" }] });
      const out = await promote(h.deps(), { from: "test", to: "staging", services: ["student"] });
      assert.equal(out.exitCode, ExitCode.OperationFailed, out.message);
      assert.equal(out.result, "failed");
      assert.match(out.message, /verified and recorded; parking student blue failed: park up failed \(update\): admission webhook denied/);
      assert.equal(stack.count("up"), 3, "no restore: traffic is on the verified color");
      assert.deepEqual(student(stack, "deployed"), { active: "green", parked: [], blue: S1, green: S2 });
      assert.deepEqual(student(stack, "config"), { active: "green", parked: [], blue: S1, green: S2 }, "config back to the warm idle color");
      assert.ok(stack.config.get("platform:releases") !== undefined, "the verified digest stays recorded");
      assert.match(h.posts()[0]?.embeds[0]?.title ?? "", /failed/);
    });

    it("parking a color the HPA scaled deletes its workload instead of applying replicas against the HPA: no server-side-apply conflict", async () => {
      const { stack } = staging({ scaledByHpa: ["student-blue"] });
      const out = await promote(h.deps(), { from: "test", to: "staging", services: ["student"] });
      assert.equal(out.exitCode, ExitCode.Ok, out.message);
      assert.match(out.message, /parked student blue/);
      assert.deepEqual(student(stack, "deployed"), { active: "green", parked: ["blue"], blue: S1, green: S2 });
    });

    it("a failed preview gate after unparking restores the slot parked, with its old image", async () => {
      const { stack, raw, deployed } = staging();
      h.world.unhealthy.add(S2);
      const out = await promote(h.deps(), { from: "test", to: "staging", services: ["student"] });
      assert.equal(out.exitCode, ExitCode.RolledBack, out.message);
      assert.deepEqual(stack.config.get("platform:services"), raw);
      assert.deepEqual(stack.deployedServices, deployed, "green parked again, blue still live");
    });
  });

  describe("flip and rollback", () => {
    it("a flip to a parked color: a targeted up scales it up, the preview host gates it, one targeted up flips, a targeted up parks the old color", async () => {
      const { stack } = staging();
      const out = await flip(h.deps(), { stack: "staging", service: "student" });
      assert.equal(out.exitCode, ExitCode.Ok, out.message);
      const ups = stack.ups();
      assert.equal(ups.length, 3);
      const color = (c: "blue" | "green"): string[] => [stack.deploymentUrn("student", c), stack.hpaUrn("student", c), stack.pdbUrn("student", c)].sort();
      assert.deepEqual([...(ups[0]?.target ?? [])].sort(), color("green"), "the unpark targets the color's Deployment, HPA (created) and PDB");
      assert.deepEqual([...(ups[1]?.target ?? [])].sort(), [stack.ingressUrn("student"), stack.activeUrn("student")].sort());
      assert.deepEqual([...(ups[2]?.target ?? [])].sort(), color("blue"));
      assert.equal(stack.count("preview"), 3, "each targeted up is checked by a targeted preview first");
      assert.deepEqual(
        h.world.requests.map((r) => r.path.split("/")[2]),
        ["preview", "preview", "live", "live"],
        "no probe of the parked color before it has pods; gated through the preview host once it has",
      );
      assert.deepEqual(student(stack, "deployed"), { active: "green", parked: ["blue"], blue: S1, green: image("student", "1.3.0") });
      assert.deepEqual(student(stack, "config"), student(stack, "deployed"));
    });

    it("rollback to a parked color brings it back first (slower than a warm rollback, and says so)", async () => {
      const { stack } = staging({ idle: "warm" });
      const out = await rollback(h.deps(), { stack: "staging", service: "student" });
      assert.equal(out.exitCode, ExitCode.Ok, out.message);
      assert.equal(stack.count("up"), 2, "unpark + flip; idle: warm parks nothing afterwards");
      assert.deepEqual(student(stack, "deployed"), { active: "green", parked: [], blue: S1, green: image("student", "1.3.0") });
      assert.ok(h.logs.some((l) => /green is parked; it is scaled up and gated before traffic moves/.test(l)));
    });

    it("an unhealthy unparked color: restored parked with a full up, traffic never moved, exit 3", async () => {
      const { stack, raw, deployed } = staging();
      h.world.unhealthy.add(image("student", "1.3.0"));
      const out = await flip(h.deps(), { stack: "staging", service: "student" });
      assert.equal(out.exitCode, ExitCode.RolledBack, out.message);
      assert.match(out.message, /preview health gate failed: student/);
      const ups = stack.ups();
      assert.equal(ups.length, 2, "unpark, restore");
      assert.deepEqual(
        [...(ups[1]?.target ?? [])].sort(),
        [stack.ingressUrn("student"), stack.activeUrn("student"), stack.deploymentUrn("student", "green"), stack.hpaUrn("student", "green"), stack.pdbUrn("student", "green")].sort(),
        "the restore parks the color again (its Deployment, HPA, PDB) and undoes any flip, nothing else",
      );
      assert.deepEqual(stack.config.get("platform:services"), raw);
      assert.deepEqual(stack.deployedServices, deployed);
    });

    it("refuses when the stack has a color parked that the config says is running", async () => {
      const { stack } = staging({ parked: undefined });
      // The cloud has green parked (an earlier run), the config file was reverted by hand.
      const deployed = stack.deployedServices as Array<Record<string, Json>>;
      const first = deployed[0];
      assert.ok(first !== undefined);
      first["green"] = { image: image("student", "1.3.0"), parked: true };
      const out = await flip(h.deps(), { stack: "staging", service: "student" });
      assert.equal(out.exitCode, ExitCode.Refused, out.message);
      assert.match(out.message, /student: green is running in config but parked in the stack/);
      assert.equal(stack.count("up"), 0);
    });
  });
});
