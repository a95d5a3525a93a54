/**
 * The schema validator itself. Every shipped stack's objects are validated by `plan`, whose
 * tests (test/automation/plan.test.ts) fail on any invalid object; that is the one place the
 * stacks' objects are checked.
 */
import { strict as assert } from "assert";
import { validateObject } from "../automation/offline/k8sSchema";

describe("Kubernetes schema validation", () => {
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
