/**
 * The in-memory stack stands in for the program, so it must export exactly what the program
 * exports: its outputs parse with the program's output contract in every mode it has, and carry
 * no field the contract does not name (the contract's parser drops unknown keys, so a fake
 * with an extra field would pass the parse while the driver silently relied on it).
 */
import { strict as assert } from "assert";
import { parseStackOutputs } from "../../infra/outputs";
import { image } from "./loopback";
import { MemoryStack } from "./memoryStack";

const BASE = "http://127.0.0.1:9";
const SERVICE_KEYS = ["name", "active", "blue", "green", "healthPath", "paths", "liveHealthUrl", "previewHealthUrl", "namespace"];
const COLOR_KEYS = ["image", "parked", "serviceName"];

function stack(environment: "test" | "staging" | "prod"): MemoryStack {
  const blueGreen = environment !== "test";
  return new MemoryStack({
    name: environment,
    environment,
    baseUrl: BASE,
    services: [
      { name: "student", active: "blue", blue: image("student", "1"), green: blueGreen ? image("student", "2") : undefined, healthPath: "/actuator/health" },
      // A parked idle color, and (in test) a color without an image.
      { name: "subject", active: "green", blue: blueGreen ? image("subject", "1") : undefined, green: image("subject", "2"), parked: blueGreen ? "blue" : undefined },
    ],
  });
}

describe("automation: the in-memory stack follows the output contract", () => {
  for (const environment of ["test", "staging", "prod"] as const) {
    it(`${environment}: outputs() and up()'s outputs parse, with only the contract's fields`, async () => {
      const s = stack(environment);
      for (const raw of [await s.outputs(), (await s.up({})).outputs]) {
        const out = parseStackOutputs(raw);
        assert.equal(out.environment, environment);
        assert.deepEqual([...out.services.keys()], ["student", "subject"]);
        const services = raw["services"];
        assert.ok(Array.isArray(services));
        for (const entry of services as Array<Record<string, unknown>>) {
          assert.deepEqual(Object.keys(entry).filter((k) => !SERVICE_KEYS.includes(k)), [], `${String(entry["name"])}: no field outside the contract`);
          for (const c of ["blue", "green"]) {
            assert.deepEqual(Object.keys(entry[c] as object).filter((k) => !COLOR_KEYS.includes(k)), []);
          }
        }
        const student = out.services.get("student");
        const subject = out.services.get("subject");
        assert.ok(student !== undefined && subject !== undefined);
        assert.equal(student.liveHealthUrl, `${BASE}/${environment}/live/student/actuator/health`);
        if (environment === "test") {
          assert.equal(out.clusterName, undefined, "the test host has no cluster");
          assert.equal(student.previewHealthUrl, undefined, "nor a preview host");
          assert.equal(student.namespace, undefined);
          assert.equal(subject.blue.image, undefined, "a color without an image has none in the outputs");
        } else {
          assert.equal(out.clusterName, `${environment}-cluster`);
          assert.equal(student.previewHealthUrl, `${BASE}/${environment}/preview/student/actuator/health`);
          assert.equal(student.namespace, "apps");
          assert.equal(subject.blue.parked, true);
          assert.equal(subject.green.parked, undefined, "parked only where set");
        }
      }
    });
  }

  it("the legacy mode (an older program's outputs) does not parse", () => {
    const s = new MemoryStack({ name: "prod", environment: "prod", baseUrl: BASE, legacyOutputs: true, services: [{ name: "student", active: "blue", blue: image("student", "1") }] });
    assert.throws(() => parseStackOutputs(s.currentOutputs()), /services\.0\.liveHealthUrl/);
  });
});

describe("automation: the in-memory stack models the engine", () => {
  const A1 = image("student", "1");
  const A2 = image("student", "2");
  const J1 = image("subject", "1");
  const J2 = image("subject", "2");

  function prod(extra: Partial<ConstructorParameters<typeof MemoryStack>[0]> = {}): MemoryStack {
    return new MemoryStack({
      name: "prod",
      environment: "prod",
      baseUrl: BASE,
      services: [
        { name: "student", active: "blue", blue: A1, green: A2 },
        { name: "subject", active: "blue", blue: J1, green: J2 },
      ],
      ...extra,
    });
  }

  function setGreen(s: MemoryStack, service: string, img: string): void {
    const raw = s.config.get("platform:services");
    assert.ok(Array.isArray(raw));
    s.config.set(
      "platform:services",
      raw.map((e) => (e !== null && typeof e === "object" && !Array.isArray(e) && e["name"] === service ? { ...e, green: { image: img } } : e)),
    );
  }

  it("an EKS stack reports what the cluster runs after a targeted up; config-derived outputs would report the config it ran with", async () => {
    const s = prod();
    setGreen(s, "subject", image("subject", "3"));
    await s.up({ target: [s.ingressUrn("student"), s.activeUrn("student")] });
    assert.equal(s.deployed()[1]?.green, J2, "subject's Deployment was not a target");
    assert.equal(parseStackOutputs(s.currentOutputs()).services.get("subject")?.green.image, J2, "outputs from the resources report what runs");
    // The root stack is in every update, so outputs computed from config are re-registered from
    // whatever config the (targeted) up ran with: what the program did before it read the resources.
    const fromConfig = prod({ outputsFrom: "config" });
    setGreen(fromConfig, "subject", image("subject", "3"));
    await fromConfig.up({ target: [fromConfig.ingressUrn("student"), fromConfig.activeUrn("student")] });
    assert.equal(parseStackOutputs(fromConfig.currentOutputs()).services.get("subject")?.green.image, image("subject", "3"), "config-derived outputs say otherwise");
  });

  it("a failed up re-registers config-derived outputs too; resource-derived ones keep what runs", async () => {
    const s = prod({ faults: [{ op: "up", kind: "error" }], outputsFrom: "config" });
    setGreen(s, "student", image("student", "3"));
    await assert.rejects(s.up({}));
    assert.equal(s.deployed()[0]?.green, A2);
    assert.equal(parseStackOutputs(s.currentOutputs()).services.get("student")?.green.image, image("student", "3"));
    const honest = prod({ faults: [{ op: "up", kind: "error" }] });
    setGreen(honest, "student", image("student", "3"));
    await assert.rejects(honest.up({}));
    assert.equal(parseStackOutputs(honest.currentOutputs()).services.get("student")?.green.image, A2);
  });

  it("a target that depends on a resource not created yet fails with diagnostic 2013; a full up creates it", async () => {
    const s = prod({ programChanges: { uncreated: ["student"] } });
    const events: string[] = [];
    await assert.rejects(s.up({ target: [s.ingressUrn("student")], onEvent: (e) => e.diagnosticEvent !== undefined && events.push(e.diagnosticEvent.message) }));
    assert.match(events[0] ?? "", /^Resource '.*student-ingress' depends on '.*student-cert' which was was not specified in --target list\.$/);
    await s.up({});
    await s.up({ target: [s.ingressUrn("student")] });
  });

  it("parking a color the HPA scaled deletes its Deployment, HPA and PDB: no replicas apply, so no conflict with kube-controller-manager", async () => {
    const s = prod({ scaledByHpa: ["student-blue"] });
    const raw = s.config.get("platform:services");
    assert.ok(Array.isArray(raw));
    s.config.set("platform:services", raw.map((e, i) => (i === 0 && e !== null && typeof e === "object" && !Array.isArray(e) ? { ...e, active: "green", blue: { image: A1, parked: true } } : e)));
    const steps: Array<[string, string]> = [];
    await s.up({ onEvent: (e) => e.resourcePreEvent !== undefined && steps.push([e.resourcePreEvent.metadata.op, e.resourcePreEvent.metadata.urn]) });
    const blue = [s.deploymentUrn("student", "blue"), s.hpaUrn("student", "blue"), s.pdbUrn("student", "blue")];
    assert.deepEqual(steps.filter(([, urn]) => blue.includes(urn)).map(([op]) => op), ["delete", "delete", "delete"]);
    assert.deepEqual(s.deployed()[0]?.parked, ["blue"]);
  });

  it("previews take no lock; an update holds one while it runs", async () => {
    const s = prod({ upDelayMs: 50 });
    setGreen(s, "student", image("student", "3"));
    await s.preview({ onEvent: () => undefined });
    assert.deepEqual((await s.updateLocks()).locks, []);
    const running = s.up({});
    await new Promise((r) => setTimeout(r, 10));
    assert.equal((await s.updateLocks()).locks.length, 1);
    await running;
    assert.deepEqual((await s.updateLocks()).locks, []);
  });

  it("one signal cancels (in-flight steps applied, no pending operations); a second terminates (pending operations left)", async () => {
    for (const signals of [1, 2]) {
      const s = prod({ upDelayMs: 500 });
      setGreen(s, "student", image("student", "3"));
      const running = s.up({});
      await new Promise((r) => setTimeout(r, 5));
      for (let i = 0; i < signals; i++) {
        s.terminalInterrupt();
      }
      await assert.rejects(running, signals === 1 ? /update canceled/ : /terminating/);
      if (signals === 1) {
        assert.equal(s.deployed()[0]?.green, image("student", "3"));
        assert.deepEqual(s.pending, []);
      } else {
        assert.deepEqual(s.pending.map((p) => p.type), ["updating"]);
      }
    }
  });
});
