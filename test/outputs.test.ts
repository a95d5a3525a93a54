/**
 * The output contract binds the program to the driver: every shipped stack's evaluated outputs
 * parse with the driver's parser, and carry what the driver reads for each configured service.
 */
import { strict as assert } from "assert";
import { OutputContractError, parseStackOutputs } from "../infra/outputs";
import { readStackConfig, shippedStack, STACKS } from "./stack";

describe("output contract", () => {
  for (const stack of STACKS) {
    it(`${stack}: the program's outputs parse with the driver's parser, one entry per configured service`, async () => {
      const ev = await shippedStack(stack);
      const out = parseStackOutputs(ev.outputs);
      assert.equal(out.environment, stack);
      const configured = readStackConfig(stack)["platform:services"];
      const names = Array.isArray(configured) ? configured.map((s) => (s as { name: string }).name) : [];
      assert.deepEqual([...out.services.keys()], names);
      for (const s of out.services.values()) {
        assert.ok(s.liveHealthUrl.startsWith("https://"), `${s.name}: live health URL ${s.liveHealthUrl}`);
        if (stack === "test") {
          assert.equal(s.previewHealthUrl, undefined, "the test host has no preview host");
          assert.equal(out.clusterName, undefined);
        } else {
          assert.ok(s.previewHealthUrl?.startsWith("https://preview."), `${s.name}: preview health URL ${s.previewHealthUrl}`);
          assert.equal(s.namespace, "apps");
        }
      }
    });
  }

  it("rejects outputs that use other field names, naming each bad field", () => {
    const bad = {
      environment: "prod",
      services: [{ name: "a", active: "blue", blue: {}, green: {}, healthPath: "/h", liveUrl: "https://x.example.com" }],
    };
    assert.throws(() => parseStackOutputs(bad), (err: unknown) => err instanceof OutputContractError && /services\.0\.liveHealthUrl/.test(err.message));
  });

  it("rejects a service listed twice and an unknown environment", () => {
    const svc = { name: "a", active: "blue", blue: {}, green: {}, healthPath: "/h", paths: ["/a"], liveHealthUrl: "https://x.example.com/h" };
    assert.throws(() => parseStackOutputs({ environment: "prod", services: [svc, svc] }), /"a" appears twice/);
    assert.throws(() => parseStackOutputs({ environment: "dev", services: [] }), /environment/);
  });
});
