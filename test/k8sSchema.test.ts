import { strict as assert } from "assert";
import { NOT_OBJECTS, validateObject } from "../automation/offline/k8sSchema";
import { shippedStack, STACKS } from "./stack";

describe("Kubernetes objects validate against the upstream schemas", () => {
  for (const stack of STACKS) {
    it(`${stack}: every object the stack declares is schema-valid`, async () => {
      const ev = await shippedStack(stack);
      const objects = ev.resources.filter((r) => r.type.startsWith("kubernetes:") && !NOT_OBJECTS.has(r.type));
      for (const r of objects) {
        validateObject(r.type, r.name, r.inputs);
      }
      if (stack !== "test") {
        assert.ok(objects.length > 0, "EKS stacks declare Kubernetes objects");
      }
    });
  }

  it("fails on the first invalid field and names the object", () => {
    assert.throws(
      () =>
        validateObject("kubernetes:apps/v1:Deployment", "student-blue", {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "student-blue" },
          spec: { selector: {}, template: { spec: { containers: [{ name: "a", image: "b", ports: [{ containerPort: "http" }] }] } } },
        }),
      /kubernetes:apps\/v1:Deployment "student-blue" is invalid: .*containerPort must be integer/,
    );
  });

  it("refuses a type it has no schema for instead of skipping it", () => {
    assert.throws(() => validateObject("kubernetes:example.com/v1:Widget", "w", {}), /no upstream schema for kubernetes:example.com\/v1:Widget/);
  });
});
