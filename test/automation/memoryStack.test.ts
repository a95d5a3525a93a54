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
const SERVICE_KEYS = ["name", "active", "blue", "green", "healthPath", "liveHealthUrl", "previewHealthUrl", "namespace"];
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
